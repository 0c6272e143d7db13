//! MetaImage volumes (`.mha` with the data inline, `.mhd` with a separate data file), as ITK/SimpleITK
//! write them — the format SynthRAD2025 ships. Written from the MetaIO documentation and checked against
//! SimpleITK's readings (tests/data, PROVENANCE.md):
//!
//! * `key = value` header lines up to `ElementDataFile` (`LOCAL` = data follows; else a file name relative
//!   to the header; `LIST` and multi-file patterns are not supported);
//! * `NDims = 3`, `DimSize`, `ElementSpacing` (or `ElementSize`), `Offset` (or `Position`/`Origin`),
//!   `TransformMatrix` (or `Rotation`/`Orientation`): the direction matrix listed column by column (the first
//!   three numbers are the direction of the i axis);
//! * `ElementType` MET_(U)CHAR/(U)SHORT/(U)INT/FLOAT/DOUBLE, `ElementNumberOfChannels` 1,
//!   `BinaryDataByteOrderMSB`/`ElementByteOrderMSB`, `CompressedData` (zlib), `HeaderSize` for raw files;
//! * geometry is ITK's LPS; it is converted to the RAS+ affine cxrkit uses (x and y negated).

use crate::IoError;
use cxr_core::{Affine, Volume};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

fn numbers(path: &Path, key: &str, v: &str) -> Result<Vec<f64>, IoError> {
    v.split_whitespace()
        .map(|x| x.parse::<f64>().map_err(|_| IoError::format(path, format!("{key} = {v}: not a list of numbers"))))
        .collect()
}

/// Reads a MetaImage file into `f32` voxels (stored values; MetaImage has no rescaling).
pub fn read_metaimage(path: &Path) -> Result<Volume<f32>, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let bad = |p: String| IoError::format(path, p);
    // Header: lines until (and including) ElementDataFile.
    let mut hdr: HashMap<String, String> = HashMap::new();
    let mut pos = 0;
    let mut data_file = None;
    while pos < bytes.len() {
        let end = bytes[pos..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |e| pos + e);
        let line = String::from_utf8_lossy(&bytes[pos..end]).trim_end_matches('\r').to_string();
        pos = (end + 1).min(bytes.len());
        if let Some((k, v)) = line.split_once('=') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("ElementDataFile") {
                data_file = Some(v);
                break;
            }
            hdr.insert(k.to_ascii_lowercase(), v);
        } else if pos > 4096 {
            break;
        }
    }
    let Some(data_file) = data_file else {
        return Err(bad("no ElementDataFile line: not a MetaImage header".into()));
    };
    let get = |k: &str| hdr.get(&k.to_ascii_lowercase()).map(String::as_str);
    let get_any = |ks: &[&str]| ks.iter().find_map(|k| get(k));
    let truthy = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let ndims = get("NDims").unwrap_or("3").trim().parse::<usize>().map_err(|_| bad("NDims is not a number".into()))?;
    if ndims != 3 {
        return Err(bad(format!("NDims = {ndims}: a CT volume has 3 dimensions")));
    }
    if get("ElementNumberOfChannels").is_some_and(|c| c.trim() != "1") {
        return Err(bad("multi-channel images are not supported (ElementNumberOfChannels > 1)".into()));
    }
    let dims_f = numbers(path, "DimSize", get("DimSize").ok_or_else(|| bad("no DimSize".into()))?)?;
    if dims_f.len() != 3 || dims_f.iter().any(|&d| d < 1.0 || d.fract() != 0.0) {
        return Err(bad(format!("DimSize {dims_f:?} is not three positive integers")));
    }
    let dims = [dims_f[0] as usize, dims_f[1] as usize, dims_f[2] as usize];
    let spacing = match get_any(&["ElementSpacing", "ElementSize"]) {
        Some(v) => numbers(path, "ElementSpacing", v)?,
        None => vec![1.0; 3],
    };
    if spacing.len() != 3 || spacing.iter().any(|&s| s.is_nan() || s <= 0.0 || s.is_infinite()) {
        return Err(bad(format!("ElementSpacing {spacing:?} is not three positive numbers")));
    }
    let offset = match get_any(&["Offset", "Position", "Origin"]) {
        Some(v) => numbers(path, "Offset", v)?,
        None => vec![0.0; 3],
    };
    let tm = match get_any(&["TransformMatrix", "Rotation", "Orientation"]) {
        Some(v) => numbers(path, "TransformMatrix", v)?,
        None => vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    };
    if offset.len() != 3 || tm.len() != 9 {
        return Err(bad("Offset needs 3 numbers and TransformMatrix 9".into()));
    }
    let (width, kind) = match get("ElementType").unwrap_or("") {
        "MET_UCHAR" => (1, 'B'),
        "MET_CHAR" => (1, 'b'),
        "MET_USHORT" => (2, 'H'),
        "MET_SHORT" => (2, 'h'),
        "MET_UINT" => (4, 'I'),
        "MET_INT" => (4, 'i'),
        "MET_FLOAT" => (4, 'f'),
        "MET_DOUBLE" => (8, 'd'),
        other => return Err(bad(format!("ElementType {other:?} is not supported"))),
    };
    let msb = truthy("BinaryDataByteOrderMSB") || truthy("ElementByteOrderMSB");
    let raw: Vec<u8> = if data_file.eq_ignore_ascii_case("LOCAL") {
        bytes[pos..].to_vec()
    } else if data_file.starts_with("LIST") || data_file.contains('%') {
        return Err(bad("multi-file MetaImage data (LIST or a pattern) is not supported; save as one .mha".into()));
    } else {
        let f = path.parent().unwrap_or(Path::new(".")).join(&data_file);
        let mut d = std::fs::read(&f).map_err(|source| IoError::Read { path: f.clone(), source })?;
        let skip = get("HeaderSize").and_then(|h| h.trim().parse::<i64>().ok()).unwrap_or(0);
        let n = dims[0] * dims[1] * dims[2] * width;
        let start = if skip == -1 { d.len().saturating_sub(n) } else { skip.max(0) as usize };
        d.drain(..start.min(d.len()));
        d
    };
    let n = dims[0] * dims[1] * dims[2];
    let data = if truthy("CompressedData") {
        let mut out = Vec::with_capacity(n * width);
        flate2::read::ZlibDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("the zlib data is truncated or corrupt ({e})")))?;
        out
    } else {
        raw
    };
    if data.len() < n * width {
        return Err(bad(format!("data is truncated: {} bytes where DimSize {dims:?} needs {}", data.len(), n * width)));
    }
    let values: Vec<f32> = data[..n * width]
        .chunks_exact(width)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..width].copy_from_slice(c);
            if msb {
                b[..width].reverse();
            }
            match kind {
                'B' => f32::from(b[0]),
                'b' => f32::from(b[0] as i8),
                'H' => f32::from(u16::from_le_bytes([b[0], b[1]])),
                'h' => f32::from(i16::from_le_bytes([b[0], b[1]])),
                'I' => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                'i' => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                'f' => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                _ => f64::from_le_bytes(b) as f32,
            }
        })
        .collect();
    // LPS world = offset + D·diag(spacing)·ijk with D[r][k] = tm[3k + r]; RAS negates rows x and y.
    let mut affine: Affine = [[0.0; 4]; 4];
    for r in 0..3 {
        let sign = if r < 2 { -1.0 } else { 1.0 };
        for k in 0..3 {
            affine[r][k] = sign * tm[3 * k + r] * spacing[k];
        }
        affine[r][3] = sign * offset[r];
    }
    affine[3][3] = 1.0;
    if cxr_core::volume::invert_affine(&affine).is_none() {
        return Err(bad("the TransformMatrix is singular; fix the header".into()));
    }
    Ok(Volume { dims, data: values, affine, source: Some(path.display().to_string()) })
}
