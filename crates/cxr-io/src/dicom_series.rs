//! CT volumes from a folder of DICOM slices (one series).
//!
//! Slices are grouped by Series Instance UID (a folder with several series needs one chosen), sorted along
//! the slice normal (row direction × column direction of Image Orientation (Patient)) by the projection of
//! Image Position (Patient) — never by file name or Instance Number — and each slice's own Modality LUT
//! (Rescale Slope/Intercept) gives Hounsfield units. Geometry follows PS3.3 §C.7.6.2.1.1: voxel `(i, j, k)`
//! (column, row, slice) sits at `IPP₀ + i·Δc·r + j·Δr·c + k·d` in LPS millimetres, converted to cxrkit's RAS+
//! affine by negating x and y.
//!
//! What is detected and done, reported in [`SeriesReport::notes`]:
//! * **gantry tilt** — the step `d` between slice positions is not along the normal: the volume keeps the
//!   sheared affine (exact, no resampling) and the tilt angle is reported;
//! * **uneven slice spacing** (steps differing by more than 1 % or 0.01 mm, or missing slices) — the volume
//!   is resampled to the median step by linear interpolation between neighbouring slices along the normal;
//! * duplicate positions, mixed sizes or orientations — errors naming the files.

use crate::dicom::{looks_like_dicom, read_dicom, read_dicom_info, ReadOptions};
use crate::IoError;
use cxr_core::{Affine, Volume};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What [`read_dicom_series`] found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeriesReport {
    pub series_uid: String,
    pub slices: usize,
    /// Angle (degrees) between the slice step and the slice normal; 0 for an untilted series.
    pub tilt_degrees: f64,
    /// Smallest and largest step between neighbouring slices (mm, along the normal).
    pub step_range_mm: [f64; 2],
    pub notes: Vec<String>,
}

struct Slice {
    path: PathBuf,
    position: [f64; 3],
    orientation: [f64; 6],
    spacing: [f64; 2],
    rows: usize,
    cols: usize,
    hu: Vec<f32>,
}

/// DICOM files under a folder (recursively, name order, hidden entries skipped; see [`crate::files_under`]).
pub fn dicom_files(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    Ok(crate::files_under(dir, None)?.into_iter().filter(|p| looks_like_dicom(p)).collect())
}

/// Whether a folder holds DICOM files (so it is read as a series rather than as a folder of volumes).
pub fn is_dicom_series_dir(dir: &Path) -> bool {
    dir.is_dir() && dicom_files(dir).is_ok_and(|f| !f.is_empty())
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Reads one CT series from a folder (`series`: which Series Instance UID when the folder holds several).
pub fn read_dicom_series(dir: &Path, series: Option<&str>) -> Result<(Volume<f32>, SeriesReport), IoError> {
    let files = dicom_files(dir)?;
    if files.is_empty() {
        return Err(IoError::format(dir, "holds no DICOM files (looked for the 'DICM' preamble, recursively)"));
    }
    // Group by series from the headers alone; only the chosen series' pixels are decoded.
    let opts = ReadOptions::default();
    let mut by_series: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in files {
        let uid = read_dicom_info(&f, &opts).ok().and_then(|(info, _)| info.series_uid).unwrap_or_default();
        by_series.entry(uid).or_default().push(f);
    }
    let (uid, files) = match series {
        Some(s) => by_series
            .remove_entry(s)
            .ok_or_else(|| IoError::format(dir, format!("has no series {s}; it holds {}", list_series(&by_series))))?,
        None if by_series.len() == 1 => by_series.into_iter().next().unwrap_or_default(),
        None => {
            return Err(IoError::format(
                dir,
                format!("holds {} series: {}; choose one with --series UID", by_series.len(), list_series(&by_series)),
            ))
        }
    };
    if files.len() < 2 {
        return Err(IoError::format(dir, format!("series {uid} has {} slice; a volume needs at least 2", files.len())));
    }
    let mut slices = Vec::with_capacity(files.len());
    let missing = |f: &Path, name: &str| {
        IoError::format(f, format!("has no valid {name}; a CT slice needs it to be placed in a volume"))
    };
    for f in files {
        let img = read_dicom(&f, &opts)?;
        let position = img.info.image_position.ok_or_else(|| missing(&f, "Image Position (Patient)"))?;
        let orientation = img.info.image_orientation.ok_or_else(|| missing(&f, "Image Orientation (Patient)"))?;
        let spacing = img.info.pixel_spacing.ok_or_else(|| missing(&f, "Pixel Spacing"))?;
        let hu = img.stored.pixels.iter().map(|&v| img.transforms.modality.apply(v as f64) as f32).collect();
        slices.push(Slice {
            path: f,
            position,
            orientation,
            spacing,
            rows: img.stored.height,
            cols: img.stored.width,
            hu,
        });
    }
    let first = &slices[0];
    for s in &slices[1..] {
        if (s.rows, s.cols) != (first.rows, first.cols) {
            return Err(IoError::format(
                &s.path,
                format!(
                    "is {}×{} but {} is {}×{}: one series must have one slice size",
                    s.cols,
                    s.rows,
                    first.path.display(),
                    first.cols,
                    first.rows
                ),
            ));
        }
        let same = s.orientation.iter().zip(&first.orientation).all(|(a, b)| (a - b).abs() < 1e-4)
            && s.spacing.iter().zip(&first.spacing).all(|(a, b)| (a - b).abs() < 1e-4);
        if !same {
            return Err(IoError::format(
                &s.path,
                format!(
                    "has another orientation or pixel spacing than {}; is it the same series?",
                    first.path.display()
                ),
            ));
        }
    }
    let o = first.orientation;
    let (rows, cols, pixel_spacing) = (first.rows, first.cols, first.spacing);
    let (row_dir, col_dir) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
    let normal = cross(row_dir, col_dir);
    let along = |s: &Slice| dot(s.position, normal);
    slices.sort_by(|a, b| along(a).total_cmp(&along(b)));
    let steps: Vec<f64> = slices.windows(2).map(|w| along(&w[1]) - along(&w[0])).collect();
    if let Some(k) = steps.iter().position(|&d| d.abs() < 1e-3) {
        return Err(IoError::format(
            &slices[k + 1].path,
            format!("has the same position as {}: duplicate slice (or two series mixed)", slices[k].path.display()),
        ));
    }
    let mut sorted = steps.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let (min_step, max_step) = (sorted[0], sorted[sorted.len() - 1]);
    // Mean displacement between consecutive slices: along the normal unless the gantry was tilted.
    let n = slices.len();
    let last = &slices[n - 1];
    let d: [f64; 3] = std::array::from_fn(|a| (last.position[a] - slices[0].position[a]) / (n - 1) as f64);
    let cos = (dot(d, normal) / (dot(d, d).sqrt() * dot(normal, normal).sqrt())).clamp(-1.0, 1.0);
    let tilt = cos.acos().to_degrees();
    let mut notes = Vec::new();
    let plane = rows * cols;
    let uneven = max_step - min_step > (0.01 * median).max(0.01);
    let (data, k_count, step_vec) = if uneven {
        // Resample to the median step along the normal, linearly between the bracketing slices.
        let start = along(&slices[0]);
        let span = along(last) - start;
        let count = (span / median).round() as usize + 1;
        let mut data = Vec::with_capacity(count * plane);
        let mut lo = 0;
        for k in 0..count {
            let z = start + k as f64 * median;
            while lo + 2 < n && along(&slices[lo + 1]) < z {
                lo += 1;
            }
            let (a, b) = (&slices[lo], &slices[(lo + 1).min(n - 1)]);
            let t = ((z - along(a)) / (along(b) - along(a))).clamp(0.0, 1.0) as f32;
            data.extend(a.hu.iter().zip(&b.hu).map(|(&x, &y)| x + t * (y - x)));
        }
        notes.push(format!(
            "uneven slice spacing ({min_step:.3}–{max_step:.3} mm): resampled to {count} slices {median:.3} mm apart \
             by linear interpolation along the normal"
        ));
        let dir = d.map(|x| x / dot(d, normal) * median);
        (data, count, dir)
    } else {
        let mut data = Vec::with_capacity(n * plane);
        for s in &slices {
            data.extend_from_slice(&s.hu);
        }
        (data, n, d)
    };
    if tilt > 0.01 {
        notes.push(format!("gantry tilt of {tilt:.2}°: kept as a sheared affine (slices not resampled)"));
    }
    let (dr, dc) = (pixel_spacing[0], pixel_spacing[1]);
    let p0 = slices[0].position;
    // LPS columns: i → Δc·row_dir, j → Δr·col_dir, k → slice step; RAS negates x and y.
    let mut affine: Affine = [[0.0; 4]; 4];
    for r in 0..3 {
        let sign = if r < 2 { -1.0 } else { 1.0 };
        affine[r][0] = sign * dc * row_dir[r];
        affine[r][1] = sign * dr * col_dir[r];
        affine[r][2] = sign * step_vec[r];
        affine[r][3] = sign * p0[r];
    }
    affine[3][3] = 1.0;
    let volume = Volume { dims: [cols, rows, k_count], data, affine, source: Some(dir.display().to_string()) };
    let report =
        SeriesReport { series_uid: uid, slices: n, tilt_degrees: tilt, step_range_mm: [min_step, max_step], notes };
    Ok((volume, report))
}

fn list_series(m: &BTreeMap<String, Vec<PathBuf>>) -> String {
    m.iter()
        .map(|(k, v)| format!("{} ({} files)", if k.is_empty() { "(no UID)" } else { k }, v.len()))
        .collect::<Vec<_>>()
        .join(", ")
}
