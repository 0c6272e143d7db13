//! Grey PNG writing (8- and 16-bit), and RGB for overlays.

use crate::IoError;
use std::path::Path;

fn encode(
    width: usize,
    height: usize,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
        enc.set_color(color);
        enc.set_depth(depth);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(data).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Writes a 16-bit grey PNG (row-major `width × height`) atomically.
pub fn write_png16(path: &Path, width: usize, height: usize, pixels: &[u16]) -> Result<(), IoError> {
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| p.to_be_bytes()).collect();
    let png = encode(width, height, png::ColorType::Grayscale, png::BitDepth::Sixteen, &bytes)
        .map_err(|e| IoError::format(path, e))?;
    crate::write_atomic(path, &png)
}

/// Writes an 8-bit grey PNG (row-major `width × height`) atomically.
pub fn write_png8(path: &Path, width: usize, height: usize, pixels: &[u8]) -> Result<(), IoError> {
    let png = encode(width, height, png::ColorType::Grayscale, png::BitDepth::Eight, pixels)
        .map_err(|e| IoError::format(path, e))?;
    crate::write_atomic(path, &png)
}

/// Writes an 8-bit RGB PNG atomically.
pub fn write_png_rgb8(path: &Path, width: usize, height: usize, rgb: &[u8]) -> Result<(), IoError> {
    let png =
        encode(width, height, png::ColorType::Rgb, png::BitDepth::Eight, rgb).map_err(|e| IoError::format(path, e))?;
    crate::write_atomic(path, &png)
}

/// Encodes an 8-bit RGBA PNG in memory (e.g. a heatmap overlay with transparency, served over HTTP).
pub fn encode_png_rgba8(width: usize, height: usize, rgba: &[u8]) -> Result<Vec<u8>, String> {
    if rgba.len() != width * height * 4 {
        return Err(format!("{} bytes are not {width} × {height} RGBA pixels", rgba.len()));
    }
    encode(width, height, png::ColorType::Rgba, png::BitDepth::Eight, rgba)
}

/// Min–max scales values to 16 bits (a constant image maps to 0).
pub fn to_u16_minmax(values: &[f32]) -> Vec<u16> {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    let span = hi - lo;
    values.iter().map(|&v| if span > 0.0 { ((v - lo) / span * 65535.0).round() as u16 } else { 0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_writes() {
        assert_eq!(to_u16_minmax(&[0.0, 0.5, 1.0]), [0, 32768, 65535]);
        assert_eq!(to_u16_minmax(&[2.0, 2.0]), [0, 0]);
        let p = std::env::temp_dir().join(format!("cxr-png-{}.png", std::process::id()));
        write_png16(&p, 2, 1, &[0, 65535]).unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(&b[1..4], b"PNG");
        let _ = std::fs::remove_file(&p);
    }
}
