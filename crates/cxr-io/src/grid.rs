//! Reading 2-D maps and 3-D masks for evaluation: one reader for every format users keep them in.
//!
//! `.npy` (2-D `[rows, cols]` or 3-D `[depth, rows, cols]`, C order), grey PNG (8 or 16 bit), numeric CSV
//! (one row of the image per line), and volumes (`.nii`, `.nii.gz`, `.mha`, `.mhd`, with their voxel
//! spacing). Values come back as `f64`, x fastest.

use crate::IoError;
use std::path::Path;

/// A grid of values, x fastest: `data[x + nx·(y + ny·z)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// `[nx, ny, nz]` (nz = 1 for 2-D).
    pub dims: [usize; 3],
    /// Millimetres per step along x, y, z (1 for formats without geometry).
    pub spacing: [f64; 3],
    pub data: Vec<f64>,
}

/// Reads a map or mask by file name.
pub fn read_grid(path: &Path) -> Result<Grid, IoError> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if crate::is_volume_file(path) {
        let v = crate::read_volume(path)?;
        return Ok(Grid { dims: v.dims, spacing: v.spacing(), data: v.data.iter().map(|&x| f64::from(x)).collect() });
    }
    if name.ends_with(".npy") {
        let a = crate::npy::read_npy(path)?;
        let dims = match a.shape.as_slice() {
            [r, c] => [*c, *r, 1],
            [d, r, c] => [*c, *r, *d],
            s => return Err(IoError::format(path, format!("shape {s:?}: expected a 2-D or 3-D array"))),
        };
        return Ok(Grid { dims, spacing: [1.0; 3], data: a.data.iter().map(|&x| f64::from(x)).collect() });
    }
    if name.ends_with(".png") {
        let bytes = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
        let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
        dec.set_transformations(png::Transformations::EXPAND);
        let mut reader = dec.read_info().map_err(|e| IoError::format(path, format!("not a readable PNG ({e})")))?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).map_err(|e| IoError::format(path, format!("corrupt PNG data ({e})")))?;
        let (w, h) = (info.width as usize, info.height as usize);
        let data: Vec<f64> = match (info.color_type, info.bit_depth) {
            (png::ColorType::Grayscale, png::BitDepth::Sixteen) => {
                buf[..w * h * 2].chunks_exact(2).map(|c| f64::from(u16::from_be_bytes([c[0], c[1]]))).collect()
            }
            (png::ColorType::Grayscale, _) => buf[..w * h].iter().map(|&v| f64::from(v)).collect(),
            (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => {
                buf[..w * h * 2].chunks_exact(2).map(|c| f64::from(c[0])).collect()
            }
            (c, d) => return Err(IoError::format(path, format!("{c:?} {d:?} PNG: save maps and masks as grey PNGs"))),
        };
        return Ok(Grid { dims: [w, h, 1], spacing: [1.0; 3], data });
    }
    if name.ends_with(".csv") || name.ends_with(".txt") {
        let text = String::from_utf8_lossy(&crate::read_bytes(path)?).into_owned();
        let mut data = Vec::new();
        let mut width = None;
        let mut rows = 0;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let row: Vec<f64> = line
                .split([',', ' ', '\t'])
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .map_err(|_| IoError::format(path, format!("line {}: {v:?} is not a number", i + 1)))
                })
                .collect::<Result<_, _>>()?;
            match width {
                None => width = Some(row.len()),
                Some(w) if w != row.len() => {
                    return Err(IoError::format(
                        path,
                        format!("line {}: {} values where the first line has {w}", i + 1, row.len()),
                    ))
                }
                _ => {}
            }
            data.extend(row);
            rows += 1;
        }
        let w = width.ok_or_else(|| IoError::format(path, "no numbers".to_string()))?;
        return Ok(Grid { dims: [w, rows, 1], spacing: [1.0; 3], data });
    }
    Err(IoError::format(path, "unknown map format: use .npy, .png, .csv, .nii(.gz), .mha or .mhd".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_npy_and_png() {
        let d = std::env::temp_dir().join(format!("cxr-grid-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("m.csv"), "0,1,2\n3,4,5\n").unwrap();
        let g = read_grid(&d.join("m.csv")).unwrap();
        assert_eq!((g.dims, g.data[4]), ([3, 2, 1], 4.0));
        std::fs::write(d.join("bad.csv"), "0,1\n2\n").unwrap();
        assert!(read_grid(&d.join("bad.csv")).unwrap_err().to_string().contains("line 2"));
        crate::npy::write_npy_f32(&d.join("m.npy"), &[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(read_grid(&d.join("m.npy")).unwrap().dims, [3, 2, 1]);
        crate::png16::write_png16(&d.join("m.png"), 3, 2, &[0, 1, 2, 3, 4, 65535]).unwrap();
        let p = read_grid(&d.join("m.png")).unwrap();
        assert_eq!((p.dims, p.data[5]), ([3, 2, 1], 65535.0));
        let _ = std::fs::remove_dir_all(&d);
    }
}
