//! NumPy `.npy` arrays (format versions 1 and 2, C order), written from the NumPy format specification
//! (`numpy/lib/format.py` docs): magic `\x93NUMPY`, a version, a header length, a Python-dict header with
//! `descr`, `fortran_order` and `shape`, then the data.

use crate::IoError;
use std::path::Path;

/// An array read from `.npy`, converted to `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Reads a little-endian `.npy` of float32/float64/int/uint/bool, C order, into `f32`.
pub fn read_npy(path: &Path) -> Result<NpyArray, IoError> {
    let b = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    parse_npy(path, &b)
}

fn parse_npy(path: &Path, b: &[u8]) -> Result<NpyArray, IoError> {
    let bad = |p: &str| IoError::format(path, p.to_string());
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (magic \\x93NUMPY missing)"));
    }
    let (hlen, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 | 3 if b.len() >= 12 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        _ => return Err(bad("unsupported .npy version")),
    };
    let header = b.get(start..start + hlen).ok_or_else(|| bad("truncated .npy header"))?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Option<String> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr")
        .and_then(|r| r.split('\'').nth(1).map(str::to_string))
        .ok_or_else(|| bad("no descr in header"))?;
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(bad("Fortran-order arrays are not supported; save with np.ascontiguousarray"));
    }
    let shape_src = field("shape").ok_or_else(|| bad("no shape in header"))?;
    let inner = shape_src.trim_start_matches('(').split(')').next().unwrap_or("");
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape in header")))
        .collect::<Result<_, _>>()?;
    let n: usize = shape.iter().product();
    let d = &b[start + hlen..];
    let (width, conv): (usize, fn(&[u8]) -> f32) = match descr.as_str() {
        "<f4" => (4, |c| f32::from_le_bytes(c.try_into().unwrap())),
        "<f8" => (8, |c| f64::from_le_bytes(c.try_into().unwrap()) as f32),
        "<i2" => (2, |c| f32::from(i16::from_le_bytes(c.try_into().unwrap()))),
        "<u2" => (2, |c| f32::from(u16::from_le_bytes(c.try_into().unwrap()))),
        "<i4" => (4, |c| i32::from_le_bytes(c.try_into().unwrap()) as f32),
        "<i8" => (8, |c| i64::from_le_bytes(c.try_into().unwrap()) as f32),
        "|u1" | "|b1" => (1, |c| f32::from(c[0])),
        "|i1" => (1, |c| f32::from(c[0] as i8)),
        other => return Err(IoError::format(path, format!("dtype {other:?} is not supported"))),
    };
    if d.len() < n * width {
        return Err(bad("data is truncated"));
    }
    Ok(NpyArray { shape, data: d[..n * width].chunks_exact(width).map(conv).collect() })
}

/// Serializes a float32 array as `.npy` (version 1, C order).
pub fn npy_f32_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let shape_s = match shape {
        [one] => format!("({one},)"),
        s => format!("({})", s.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_s}, }}");
    // Pad so that the data starts on a 64-byte boundary, ending with '\n'.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes a float32 `.npy` atomically.
pub fn write_npy_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), IoError> {
    crate::write_atomic(path, &npy_f32_bytes(shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let b = npy_f32_bytes(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        assert_eq!((b.len() - 6 * 4) % 64, 0);
        let a = parse_npy(Path::new("x.npy"), &b).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data[5], -6.5);
        assert!(parse_npy(Path::new("x.npy"), b"nope").is_err());
        assert!(parse_npy(Path::new("x.npy"), &b[..b.len() - 3]).unwrap_err().to_string().contains("truncated"));
    }
}
