//! NIfTI-1 volumes (`.nii`, `.nii.gz`), written from the NIfTI-1 header specification
//! (nifti.nimh.nih.gov, `nifti1.h`).
//!
//! * Header: 348 bytes, little or big endian (detected from `sizeof_hdr`), magic `n+1` (single file).
//! * Data: at `vox_offset`, i fastest; uint8, int8, int16, uint16, int32, uint32, float32, float64.
//! * Scaling: `value = scl_slope · stored + scl_inter` when `scl_slope ≠ 0` (as nibabel).
//! * Geometry: the sform when `sform_code > 0`, else the qform (quaternion, `qfac` from `pixdim[0]`) when
//!   `qform_code > 0`, else `diag(pixdim)` — nibabel's order.
//!
//! Bad input is reported, never a panic: a 2-D or 4-D (with more than one volume) file, zero or negative
//! dimensions, non-finite or zero spacing, a singular orientation, truncated data or gzip.

use crate::IoError;
use cxr_core::{Affine, Volume};
use std::io::Read;
use std::path::Path;

/// What the header says, for `cxr inspect`-style summaries and sidecars.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiHeader {
    pub dims: [usize; 3],
    pub datatype: i16,
    pub pixdim: [f32; 8],
    pub scl_slope: f32,
    pub scl_inter: f32,
    pub qform_code: i16,
    pub sform_code: i16,
    /// Which geometry was used: "sform", "qform" or "pixdim".
    pub geometry_from: &'static str,
}

fn decompress(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, IoError> {
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        let mut out = Vec::with_capacity(raw.len() * 3);
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| {
            IoError::format(
                path,
                format!("the gzip stream is truncated or corrupt ({e}); re-export or re-download the file"),
            )
        })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads a NIfTI-1 file into `f32` voxels with scaling applied.
pub fn read_nifti(path: &Path) -> Result<(Volume<f32>, NiftiHeader), IoError> {
    let raw = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    read_nifti_bytes(path, raw)
}

/// Parses NIfTI-1 bytes (gzipped or not) held in memory; `name` is used in messages and provenance.
pub fn read_nifti_bytes(name: &Path, raw: Vec<u8>) -> Result<(Volume<f32>, NiftiHeader), IoError> {
    let bytes = decompress(name, raw)?;
    parse(name, &bytes)
}

fn parse(path: &Path, b: &[u8]) -> Result<(Volume<f32>, NiftiHeader), IoError> {
    let bad = |p: String| IoError::format(path, p);
    if b.len() < 348 {
        return Err(bad(format!(
            "only {} bytes: too short for a NIfTI-1 header (348 bytes); is this a NIfTI file?",
            b.len()
        )));
    }
    let le = match (i32::from_le_bytes(b[0..4].try_into().unwrap()), i32::from_be_bytes(b[0..4].try_into().unwrap())) {
        (348, _) => true,
        (_, 348) => false,
        (540, _) | (_, 540) => {
            return Err(bad("NIfTI-2 is not supported yet; convert to NIfTI-1 (e.g. nibabel's Nifti1Image)".into()))
        }
        _ => return Err(bad("not a NIfTI-1 file (sizeof_hdr is not 348)".into())),
    };
    let i16_at =
        |o: usize| if le { i16::from_le_bytes([b[o], b[o + 1]]) } else { i16::from_be_bytes([b[o], b[o + 1]]) };
    let f32_at = |o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            f32::from_le_bytes(a)
        } else {
            f32::from_be_bytes(a)
        }
    };
    let magic = &b[344..348];
    if magic != b"n+1\0" {
        return Err(bad(if magic == b"ni1\0" {
            "a two-file NIfTI (.hdr/.img) is not supported; save it as a single .nii or .nii.gz".into()
        } else {
            "bad magic: not a NIfTI-1 single-file image".into()
        }));
    }
    let dim: [i16; 8] = std::array::from_fn(|k| i16_at(40 + 2 * k));
    let ndim = dim[0];
    if ndim < 3 {
        return Err(bad(format!("{ndim}-D image: a CT volume has 3 dimensions (this looks like a 2-D image)")));
    }
    if ndim > 3 && dim[4..(ndim as usize + 1).min(8)].iter().any(|&d| d > 1) {
        return Err(bad(format!("{ndim}-D image with {} volumes: pass a single 3-D volume", dim[4])));
    }
    if dim[1..4].iter().any(|&d| d <= 0) {
        return Err(bad(format!("dimensions {:?} are not all positive", &dim[1..4])));
    }
    let dims = [dim[1] as usize, dim[2] as usize, dim[3] as usize];
    let datatype = i16_at(70);
    let pixdim: [f32; 8] = std::array::from_fn(|k| f32_at(76 + 4 * k));
    let vox_offset = f32_at(108);
    let (scl_slope, scl_inter) = (f32_at(112), f32_at(116));
    let (qform_code, sform_code) = (i16_at(252), i16_at(254));
    let width = match datatype {
        2 | 256 => 1,
        4 | 512 => 2,
        8 | 16 | 768 => 4,
        64 => 8,
        t => {
            return Err(bad(format!(
            "datatype {t} is not supported (supported: uint8, int8, int16, uint16, int32, uint32, float32, float64)"
        )))
        }
    };
    let n = dims[0] * dims[1] * dims[2];
    let start = if vox_offset.is_finite() && vox_offset >= 348.0 { vox_offset as usize } else { 352 };
    let need = start + n * width;
    if b.len() < need {
        return Err(bad(format!("data is truncated: {} bytes where dimensions {dims:?} need {need}", b.len())));
    }
    let d = &b[start..need];
    let mut data: Vec<f32> = match datatype {
        2 => d.iter().map(|&x| f32::from(x)).collect(),
        256 => d.iter().map(|&x| f32::from(x as i8)).collect(),
        4 => d
            .chunks_exact(2)
            .map(|c| f32::from(if le { i16::from_le_bytes([c[0], c[1]]) } else { i16::from_be_bytes([c[0], c[1]]) }))
            .collect(),
        512 => d
            .chunks_exact(2)
            .map(|c| f32::from(if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }))
            .collect(),
        8 => d
            .chunks_exact(4)
            .map(|c| {
                let a = [c[0], c[1], c[2], c[3]];
                (if le { i32::from_le_bytes(a) } else { i32::from_be_bytes(a) }) as f32
            })
            .collect(),
        768 => d
            .chunks_exact(4)
            .map(|c| {
                let a = [c[0], c[1], c[2], c[3]];
                (if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }) as f32
            })
            .collect(),
        16 => d
            .chunks_exact(4)
            .map(|c| {
                let a = [c[0], c[1], c[2], c[3]];
                if le {
                    f32::from_le_bytes(a)
                } else {
                    f32::from_be_bytes(a)
                }
            })
            .collect(),
        _ => d
            .chunks_exact(8)
            .map(|c| {
                let a: [u8; 8] = c.try_into().unwrap();
                (if le { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) }) as f32
            })
            .collect(),
    };
    if scl_slope != 0.0 && scl_slope.is_finite() && scl_inter.is_finite() && (scl_slope != 1.0 || scl_inter != 0.0) {
        for v in &mut data {
            *v = *v * scl_slope + scl_inter;
        }
    }
    let (affine, geometry_from) = if sform_code > 0 {
        let row = |o: usize| [f32_at(o) as f64, f32_at(o + 4) as f64, f32_at(o + 8) as f64, f32_at(o + 12) as f64];
        ([row(280), row(296), row(312), [0.0, 0.0, 0.0, 1.0]], "sform")
    } else if qform_code > 0 {
        (
            qform_affine(&pixdim, [f32_at(256), f32_at(260), f32_at(264)], [f32_at(268), f32_at(272), f32_at(276)]),
            "qform",
        )
    } else {
        let s = |k: usize| f64::from(pixdim[k]);
        ([[s(1), 0.0, 0.0, 0.0], [0.0, s(2), 0.0, 0.0], [0.0, 0.0, s(3), 0.0], [0.0, 0.0, 0.0, 1.0]], "pixdim")
    };
    if affine.iter().flatten().any(|x| !x.is_finite()) {
        return Err(bad("the orientation matrix has non-finite entries".into()));
    }
    if cxr_core::volume::invert_affine(&affine).is_none() {
        return Err(bad(format!(
            "the {geometry_from} orientation matrix is singular (zero spacing or degenerate axes); fix the header"
        )));
    }
    let vol = Volume { dims, data, affine, source: Some(path.display().to_string()) };
    if vol.spacing().iter().any(|s| *s <= 0.0 || !s.is_finite()) {
        return Err(bad(format!("voxel spacing {:?} is not positive", vol.spacing())));
    }
    let header = NiftiHeader { dims, datatype, pixdim, scl_slope, scl_inter, qform_code, sform_code, geometry_from };
    Ok((vol, header))
}

/// The qform affine from the quaternion (b, c, d), offsets and `pixdim` (with `qfac = pixdim[0]`).
fn qform_affine(pixdim: &[f32; 8], q: [f32; 3], offset: [f32; 3]) -> Affine {
    let (b, c, d) = (f64::from(q[0]), f64::from(q[1]), f64::from(q[2]));
    let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
    let r = [
        [a * a + b * b - c * c - d * d, 2.0 * (b * c - a * d), 2.0 * (b * d + a * c)],
        [2.0 * (b * c + a * d), a * a + c * c - b * b - d * d, 2.0 * (c * d - a * b)],
        [2.0 * (b * d - a * c), 2.0 * (c * d + a * b), a * a + d * d - b * b - c * c],
    ];
    let qfac = if pixdim[0] < 0.0 { -1.0 } else { 1.0 };
    let s = [f64::from(pixdim[1]), f64::from(pixdim[2]), f64::from(pixdim[3]) * qfac];
    let mut m = [[0.0; 4]; 4];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = r[i][j] * s[j];
        }
        m[i][3] = f64::from(offset[i]);
    }
    m[3][3] = 1.0;
    m
}

/// Writes a float32 NIfTI-1 volume (`.nii`, or `.nii.gz` when the name ends so) with the affine as sform
/// and qform codes 1 (scanner). For test fixtures and exports.
pub fn write_nifti_f32(path: &Path, vol: &Volume<f32>) -> Result<(), IoError> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    let dim: [i16; 8] = [3, vol.dims[0] as i16, vol.dims[1] as i16, vol.dims[2] as i16, 1, 1, 1, 1];
    for (k, d) in dim.iter().enumerate() {
        h[40 + 2 * k..42 + 2 * k].copy_from_slice(&d.to_le_bytes());
    }
    h[70..72].copy_from_slice(&16i16.to_le_bytes());
    h[72..74].copy_from_slice(&32i16.to_le_bytes());
    let sp = vol.spacing();
    let pixdim = [1.0f32, sp[0] as f32, sp[1] as f32, sp[2] as f32, 0.0, 0.0, 0.0, 0.0];
    for (k, p) in pixdim.iter().enumerate() {
        h[76 + 4 * k..80 + 4 * k].copy_from_slice(&p.to_le_bytes());
    }
    h[108..112].copy_from_slice(&352f32.to_le_bytes());
    h[112..116].copy_from_slice(&1f32.to_le_bytes());
    h[254..256].copy_from_slice(&1i16.to_le_bytes());
    for (r, o) in [(0, 280), (1, 296), (2, 312)] {
        for c in 0..4 {
            h[o + 4 * c..o + 4 * c + 4].copy_from_slice(&(vol.affine[r][c] as f32).to_le_bytes());
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    for v in &vol.data {
        h.extend_from_slice(&v.to_le_bytes());
    }
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&h).map_err(|source| IoError::Write { path: path.to_path_buf(), source })?;
        enc.finish().map_err(|source| IoError::Write { path: path.to_path_buf(), source })?
    } else {
        h
    };
    crate::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("cxr-io-{}-{name}", std::process::id()))
    }

    #[test]
    fn round_trip_and_errors() {
        let vol = Volume {
            dims: [3, 2, 2],
            data: (0..12).map(|x| x as f32 - 5.0).collect(),
            affine: [[-2.0, 0.0, 0.0, 10.0], [0.0, 2.0, 0.0, -3.0], [0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 0.0, 1.0]],
            source: None,
        };
        let p = tmp("rt.nii.gz");
        write_nifti_f32(&p, &vol).unwrap();
        let (back, h) = read_nifti(&p).unwrap();
        assert_eq!(back.data, vol.data);
        assert_eq!(back.affine, vol.affine);
        assert_eq!(h.geometry_from, "sform");
        // Truncated gzip.
        let bytes = std::fs::read(&p).unwrap();
        let t = tmp("trunc.nii.gz");
        std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
        let e = read_nifti(&t).unwrap_err().to_string();
        assert!(e.contains("truncated or corrupt"), "{e}");
        // Not NIfTI.
        std::fs::write(&t, b"hello").unwrap();
        assert!(read_nifti(&t).unwrap_err().to_string().contains("too short"));
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_file(&t);
    }

    #[test]
    fn qform_identity_and_flip() {
        let m = qform_affine(&[-1.0, 0.5, 0.5, 2.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]);
        assert_eq!(m[0][0], 0.5);
        assert_eq!(m[2][2], -2.0);
        assert_eq!(m[1][3], 2.0);
    }
}
