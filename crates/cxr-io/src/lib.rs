//! # cxr-io — readers and writers
//!
//! * [`radiograph`] — radiographs from DICOM ([`dicom`]), PNG, JPEG or `.npy`: stored values + display transforms.
//! * [`dicom_series`] — CT volumes from a folder of DICOM slices (sorted along the normal, tilt and uneven spacing handled).
//! * [`nifti`] — NIfTI-1 volumes (`.nii`, `.nii.gz`): header, scaling, sform/qform geometry.
//! * [`metaimage`] — MetaImage volumes (`.mha`, `.mhd` + raw), ITK's LPS geometry converted to RAS.
//! * [`read_volume`] — either, chosen by file name.
//! * [`grid`] — 2-D maps and 3-D masks from .npy, grey PNG, CSV or volumes, for evaluation.
//! * [`npy`] — NumPy `.npy` arrays (read and write float32/float64/integers, C order).
//! * [`png16`] — 16-bit and 8-bit grey PNG writing.
//! * [`write_atomic`] — every writer here goes through it: a temporary file, then a rename.
//!
//! Readers return [`IoError`], which names the file, the problem and what to do about it.

pub mod dicom;
pub mod dicom_series;
pub mod grid;
pub mod metaimage;
pub mod nifti;
pub mod npy;
pub mod png16;
pub mod radiograph;

use std::path::{Path, PathBuf};

/// Errors of reading and writing files.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {problem}")]
    Format { path: PathBuf, problem: String },
}

impl IoError {
    pub(crate) fn format(path: &Path, problem: impl Into<String>) -> Self {
        IoError::Format { path: path.to_path_buf(), problem: problem.into() }
    }
}

/// Reads a file, decompressing it when it is gzip (by its magic bytes, whatever its name).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, IoError> {
    use std::io::Read;
    let raw = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| IoError::format(path, format!("the gzip stream is truncated or corrupt ({e})")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The files under a folder, recursively, in name order: hidden entries (`.name`) and the folder `exclude`
/// (compared canonically) are skipped, symlinked files are kept and symlinked folders not followed.
pub fn files_under(dir: &Path, exclude: Option<&Path>) -> Result<Vec<PathBuf>, IoError> {
    fn visit(dir: &Path, exclude: Option<&Path>, out: &mut Vec<PathBuf>) -> Result<(), IoError> {
        let read_err = |source| IoError::Read { path: dir.to_path_buf(), source };
        let mut entries: Vec<_> = std::fs::read_dir(dir).map_err(read_err)?.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with('.')
                || exclude.is_some_and(|x| p.canonicalize().ok().as_deref() == Some(x))
            {
                continue;
            }
            let ft = e.file_type().map_err(|source| IoError::Read { path: p.clone(), source })?;
            if ft.is_dir() {
                visit(&p, exclude, out)?;
            } else if ft.is_file() || (ft.is_symlink() && p.is_file()) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(dir, exclude, &mut out)?;
    Ok(out)
}

/// Whether a file name is a volume format cxrkit reads (`.nii`, `.nii.gz`, `.mha`, `.mhd`).
pub fn is_volume_file(path: &Path) -> bool {
    let n = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    [".nii", ".nii.gz", ".mha", ".mhd"].iter().any(|e| n.ends_with(e))
}

/// Reads a CT or label volume: NIfTI-1 (`.nii`, `.nii.gz`) or MetaImage (`.mha`, `.mhd`), by file name, or a
/// folder of DICOM slices of one series (its notes — tilt, uneven spacing — are dropped here; call
/// [`dicom_series::read_dicom_series`] to get them).
pub fn read_volume(path: &Path) -> Result<cxr_core::Volume<f32>, IoError> {
    if path.is_dir() {
        return dicom_series::read_dicom_series(path, None).map(|(v, _)| v);
    }
    let n = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if n.ends_with(".mha") || n.ends_with(".mhd") {
        metaimage::read_metaimage(path)
    } else {
        nifti::read_nifti(path).map(|(v, _)| v)
    }
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    cxr_core::atomic::write_atomic(path, &[bytes]).map_err(|source| IoError::Write { path: path.to_path_buf(), source })
}
