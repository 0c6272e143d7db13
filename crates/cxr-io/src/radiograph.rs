//! One entry point for radiographs in any format: DICOM, PNG (8/16-bit, grey or colour), JPEG, `.npy`.
//!
//! Every reader returns stored values plus the transforms that display them ([`Radiograph`]), so the rest
//! of the pipeline (`cxr-image`) treats all formats alike:
//! * DICOM — see [`crate::dicom`].
//! * PNG/JPEG — the stored values are the file's grey levels (colour reduced by ITU-R 601 luma exactly as
//!   Pillow's `convert("L")`: `(19595 R + 38470 G + 7471 B + 2¹⁵) >> 16`; alpha ignored) and the display is the full bit range: a LINEAR_EXACT window with centre `max/2` and width `max`,
//!   i.e. `y = v / max`, where `max` is 255 or 65535.
//! * `.npy` — a 2-D array (`[rows, cols]`). Integer arrays are stored as they are and displayed min–max;
//!   floating-point arrays are quantised to 16 bits over their range, with a Rescale (slope, intercept)
//!   that restores the original values to 1/65535 of the range.

use crate::dicom::{self, DicomInfo, ReadOptions};
use crate::IoError;
use cxr_core::image::{Image2, ModalityLut, PixelTransforms, Window, WindowFunction};
use std::path::Path;

/// The file formats of radiographs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Dicom,
    Png,
    Jpeg,
    Npy,
}

/// A radiograph read from any format.
#[derive(Debug, Clone)]
pub struct Radiograph {
    pub format: Format,
    pub stored: Image2<i32>,
    pub transforms: PixelTransforms,
    /// Header facts for DICOM; for the other formats only the size and bit depth are filled in.
    pub info: DicomInfo,
}

/// The format of a file from its first bytes, else its extension; `None` when it is none of them.
pub fn detect_format(path: &Path) -> Option<Format> {
    use std::io::Read;
    let mut head = [0u8; 132];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    if n == 132 && &head[128..132] == b"DICM" {
        return Some(Format::Dicom);
    }
    if n >= 8 && head[..8] == [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a] {
        return Some(Format::Png);
    }
    if n >= 3 && head[..3] == [0xff, 0xd8, 0xff] {
        return Some(Format::Jpeg);
    }
    if n >= 6 && &head[..6] == b"\x93NUMPY" {
        return Some(Format::Npy);
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "dcm" | "dicom" => Some(Format::Dicom),
        _ => None,
    }
}

/// Whether a path names a file [`read_radiograph`] accepts (by content, else by extension).
pub fn is_radiograph_file(path: &Path) -> bool {
    path.is_file() && detect_format(path).is_some()
}

/// Reads a radiograph, choosing the reader by content.
pub fn read_radiograph(path: &Path, opts: &ReadOptions) -> Result<Radiograph, IoError> {
    let meta = std::fs::metadata(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    if meta.is_dir() {
        return Err(IoError::format(path, "is a folder; give an image file"));
    }
    match detect_format(path) {
        Some(Format::Dicom) => {
            let d = dicom::read_dicom(path, opts)?;
            Ok(Radiograph { format: Format::Dicom, stored: d.stored, transforms: d.transforms, info: d.info })
        }
        Some(Format::Png) => read_png(path, opts),
        Some(Format::Jpeg) => read_jpeg(path, opts),
        Some(Format::Npy) => read_npy_image(path, opts),
        None => Err(IoError::format(
            path,
            "is not a DICOM, PNG, JPEG or .npy file (checked its first bytes); give a radiograph in one of those",
        )),
    }
}

fn check_size(path: &Path, w: u64, h: u64, opts: &ReadOptions) -> Result<(), IoError> {
    if w == 0 || h == 0 {
        return Err(IoError::format(path, format!("is an empty image ({w} × {h})")));
    }
    if w * h > opts.max_pixels {
        return Err(IoError::format(
            path,
            format!(
                "is {w} × {h} = {} pixels, more than the limit of {}; refusing to decode (raise --max-pixels if genuine)",
                w * h,
                opts.max_pixels
            ),
        ));
    }
    Ok(())
}

fn full_range(format: Format, width: usize, height: usize, bits: u16, pixels: Vec<i32>, spp: u16) -> Radiograph {
    let max = ((1u32 << bits) - 1) as f64;
    let what = match format {
        Format::Png => "PNG",
        _ => "JPEG",
    };
    let window = Window {
        center: max / 2.0,
        width: max,
        function: WindowFunction::LinearExact,
        explanation: Some(format!("full range of a {bits}-bit {what}")),
    };
    let info = DicomInfo {
        rows: height as u32,
        columns: width as u32,
        frames: 1,
        samples_per_pixel: spp,
        photometric_interpretation: if spp == 1 { "MONOCHROME2".into() } else { "RGB".into() },
        bits_allocated: bits,
        bits_stored: bits,
        ..DicomInfo::default()
    };
    Radiograph {
        format,
        stored: Image2 { width, height, pixels },
        transforms: PixelTransforms {
            modality: ModalityLut::IDENTITY,
            windows: vec![window],
            voi_luts: vec![],
            invert: false,
            modality_range: (0.0, max),
        },
        info,
    }
}

/// ITU-R 601 luma exactly as Pillow's `convert("L")` computes it: `(19595 R + 38470 G + 7471 B + 2¹⁵) >> 16`
/// (the 0.299/0.587/0.114 weights in 16-bit fixed point, rounded).
pub(crate) fn luma(r: i64, g: i64, b: i64) -> i64 {
    (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
}

fn read_png(path: &Path, opts: &ReadOptions) -> Result<Radiograph, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().map_err(|e| IoError::format(path, format!("is not a readable PNG ({e})")))?;
    let (w, h) = (reader.info().width as u64, reader.info().height as u64);
    check_size(path, w, h, opts)?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| IoError::format(path, format!("has corrupt or truncated PNG data ({e})")))?;
    let (w, h) = (w as usize, h as usize);
    let sixteen = frame.bit_depth == png::BitDepth::Sixteen;
    let channels = frame.color_type.samples();
    let n = w * h;
    let at = |i: usize| -> i32 {
        if sixteen {
            u16::from_be_bytes([buf[2 * i], buf[2 * i + 1]]) as i32
        } else {
            buf[i] as i32
        }
    };
    let pixels: Vec<i32> = match channels {
        1 | 2 => (0..n).map(|p| at(p * channels)).collect(),
        _ => (0..n)
            .map(|p| luma(at(p * channels) as i64, at(p * channels + 1) as i64, at(p * channels + 2) as i64) as i32)
            .collect(),
    };
    let spp = if channels >= 3 { 3 } else { 1 };
    Ok(full_range(Format::Png, w, h, if sixteen { 16 } else { 8 }, pixels, spp))
}

fn read_jpeg(path: &Path, opts: &ReadOptions) -> Result<Radiograph, IoError> {
    let file = std::fs::File::open(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let mut dec = jpeg_decoder::Decoder::new(std::io::BufReader::new(file));
    dec.read_info().map_err(|e| IoError::format(path, format!("is not a readable JPEG ({e})")))?;
    let info = dec.info().ok_or_else(|| IoError::format(path, "JPEG without a frame header"))?;
    check_size(path, info.width as u64, info.height as u64, opts)?;
    let data = dec.decode().map_err(|e| IoError::format(path, format!("has corrupt or truncated JPEG data ({e})")))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let n = w * h;
    use jpeg_decoder::PixelFormat;
    let (pixels, bits, spp): (Vec<i32>, u16, u16) = match info.pixel_format {
        PixelFormat::L8 => (data[..n].iter().map(|&v| v as i32).collect(), 8, 1),
        PixelFormat::L16 => {
            (data[..2 * n].chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]]) as i32).collect(), 16, 1)
        }
        PixelFormat::RGB24 => {
            (data[..3 * n].chunks_exact(3).map(|c| luma(c[0] as i64, c[1] as i64, c[2] as i64) as i32).collect(), 8, 3)
        }
        PixelFormat::CMYK32 => {
            return Err(IoError::format(path, "is a CMYK JPEG; save radiographs as grey or RGB"));
        }
    };
    Ok(full_range(Format::Jpeg, w, h, bits, pixels, spp))
}

fn read_npy_image(path: &Path, opts: &ReadOptions) -> Result<Radiograph, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let header = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_string();
    let is_float = header.contains("'<f") || header.contains("'|f") || header.contains("\"<f");
    let a = crate::npy::read_npy(path)?;
    let (h, w) = match a.shape.as_slice() {
        [r, c] => (*r, *c),
        [r, c, 1] | [1, r, c] => (*r, *c),
        s => {
            return Err(IoError::format(
                path,
                format!("has shape {s:?}; a radiograph must be a 2-D [rows, cols] array"),
            ))
        }
    };
    check_size(path, w as u64, h as u64, opts)?;
    let (lo, hi) = a
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, u), &v| (l.min(v), u.max(v)));
    let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo as f64, hi as f64) };
    let (pixels, modality): (Vec<i32>, ModalityLut) = if is_float {
        let span = hi - lo;
        let slope = if span > 0.0 { span / 65535.0 } else { 1.0 };
        let q = a
            .data
            .iter()
            .map(|&v| if v.is_finite() { ((v as f64 - lo) / slope).round().clamp(0.0, 65535.0) as i32 } else { 0 })
            .collect();
        (q, ModalityLut::Rescale { slope, intercept: lo })
    } else {
        (a.data.iter().map(|&v| v as i32).collect(), ModalityLut::IDENTITY)
    };
    let info = DicomInfo {
        rows: h as u32,
        columns: w as u32,
        frames: 1,
        samples_per_pixel: 1,
        photometric_interpretation: "MONOCHROME2".into(),
        ..DicomInfo::default()
    };
    Ok(Radiograph {
        format: Format::Npy,
        stored: Image2 { width: w, height: h, pixels },
        transforms: PixelTransforms {
            modality,
            windows: vec![],
            voi_luts: vec![],
            invert: false,
            modality_range: (lo, hi),
        },
        info,
    })
}

/// Writes an 8-bit grey baseline JPEG (quality 1–100; MIMIC-CXR-JPG used 95) atomically.
pub fn write_jpeg_grey(path: &Path, width: usize, height: usize, pixels: &[u8], quality: u8) -> Result<(), IoError> {
    let (w, h) = (u16::try_from(width), u16::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(IoError::format(path, format!("{width} × {height} is larger than JPEG allows (65535)")));
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
        .encode(pixels, w, h, jpeg_encoder::ColorType::Luma)
        .map_err(|e| IoError::format(path, format!("JPEG encoding failed ({e})")))?;
    crate::write_atomic(path, &out)
}

/// The size (width, height) of a PNG or JPEG from its header, without decoding the pixels.
pub fn image_size(path: &Path) -> Option<(usize, usize)> {
    match detect_format(path)? {
        Format::Png => {
            let file = std::fs::File::open(path).ok()?;
            let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().ok()?;
            Some((reader.info().width as usize, reader.info().height as usize))
        }
        Format::Jpeg => {
            let file = std::fs::File::open(path).ok()?;
            let mut dec = jpeg_decoder::Decoder::new(std::io::BufReader::new(file));
            dec.read_info().ok()?;
            dec.info().map(|i| (i.width as usize, i.height as usize))
        }
        _ => None,
    }
}
