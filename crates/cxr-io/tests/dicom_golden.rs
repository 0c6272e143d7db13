//! DICOM pixels against pydicom 3.0.2 (+ pylibjpeg): stored values, Modality LUT and the displayed
//! fraction (VOI LUT or window, MONOCHROME1 inverted), on the fixtures in `tests/data/dicom`
//! (expected values from `make_expected.py`; provenance in `PROVENANCE.md`).
//! Lossless syntaxes must agree exactly; the one lossy colour JPEG within 1 grey level.

use cxr_core::image::VoiChoice;
use cxr_io::dicom::{read_dicom, read_dicom_info, ReadOptions};
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

/// Compares checksums and strided samples of `got` with a pydicom summary.
fn check(name: &str, what: &str, got: &[f64], exp: &Value, tol: f64) {
    let sum: f64 = got.iter().sum();
    let wsum: f64 = got.iter().enumerate().map(|(i, v)| v * ((i % 1009) + 1) as f64).sum();
    let n = got.len() as f64;
    let close = |a: f64, b: f64, t: f64| (a - b).abs() <= t * (1.0 + b.abs().max(1.0) * 1e-12);
    assert!(close(sum, exp["sum"].as_f64().unwrap(), tol * n), "{name} {what}: sum {sum} vs {}", exp["sum"]);
    assert!(
        close(wsum, exp["weighted_sum"].as_f64().unwrap(), tol * n * 1009.0),
        "{name} {what}: weighted sum {wsum} vs {}",
        exp["weighted_sum"]
    );
    let step = exp["step"].as_u64().unwrap() as usize;
    for (k, e) in exp["samples"].as_array().unwrap().iter().enumerate() {
        let (i, e) = (k * step, e.as_f64().unwrap());
        assert!((got[i] - e).abs() <= tol.max(1e-6), "{name} {what}[{i}]: {} vs {e}", got[i]);
    }
}

#[test]
fn pixels_equal_pydicom_for_every_fixture() {
    let exp = expected();
    let files = exp.as_object().unwrap();
    assert_eq!(files.len(), 12);
    for (name, e) in files {
        let img = read_dicom(&dir().join(format!("{name}.dcm")), &ReadOptions::default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(img.stored.height as u64, e["rows"].as_u64().unwrap(), "{name}");
        assert_eq!(img.stored.width as u64, e["columns"].as_u64().unwrap(), "{name}");
        assert_eq!(img.info.transfer_syntax_uid, e["transfer_syntax"].as_str().unwrap(), "{name}");
        // Only the baseline colour JPEG is lossy *and* colour-converted (YBR → RGB rounding differs by 1).
        let tol = if name == "SC_rgb_jpeg_dcmtk" { 1.0 } else { 0.0 };
        let stored: Vec<f64> = img.stored.pixels.iter().map(|&v| v as f64).collect();
        check(name, "stored", &stored, &e["stored"], tol);
        if let Some(m) = e.get("modality") {
            let values = cxr_image::lut::modality(&img.stored, &img.transforms.modality);
            let values: Vec<f64> = values.pixels.iter().map(|&v| v as f64).collect();
            check(name, "modality", &values, m, 1e-4);
        }
        if let Some(d) = e.get("display") {
            let shown = cxr_image::display(&img.stored, &img.transforms, &VoiChoice::Default).unwrap();
            let values: Vec<f64> = shown.image.pixels.iter().map(|&v| v as f64).collect();
            check(name, "display", &values, d, 2e-6);
        }
    }
}

#[test]
fn header_facts_of_the_chest_radiograph() {
    let (info, t) = read_dicom_info(&dir().join("RG1_J2KI.dcm"), &ReadOptions::default()).unwrap();
    assert_eq!(info.modality.as_deref(), Some("CR"));
    assert_eq!(info.photometric_interpretation, "MONOCHROME1");
    assert!(t.invert);
    assert_eq!((info.rows, info.columns, info.bits_stored), (1955, 1841, 15));
    assert_eq!(info.transfer_syntax, "JPEG 2000 Image Compression");
    assert!(info.patient_id.is_none(), "identifiers are read only when asked");
    assert!(!t.windows.is_empty());
    let with_ids = ReadOptions { identifiers: true, ..ReadOptions::default() };
    let (info, _) = read_dicom_info(&dir().join("CT_small.dcm"), &with_ids).unwrap();
    assert!(info.patient_id.is_some());
}

#[test]
fn modality_lut_sequence_and_signed_bits_stored() {
    // mlut_18: 12 of 16 bits stored, signed, with a Modality LUT Sequence (dicom-rs ignores both).
    let img = read_dicom(&dir().join("mlut_18.dcm"), &ReadOptions::default()).unwrap();
    assert!(matches!(img.transforms.modality, cxr_core::image::ModalityLut::Table(_)));
    assert!(img.stored.pixels.iter().all(|&v| (-2048..=2047).contains(&v)));
}

#[test]
fn unsupported_syntaxes_bad_files_and_limits_fail_with_clear_errors() {
    let opts = ReadOptions::default();
    let msg = |f: &str| read_dicom(&dir().join(f), &opts).unwrap_err().to_string();
    let e = msg("JPGExtended.dcm");
    assert!(e.contains("1.2.840.10008.1.2.4.51") && e.contains("JPGExtended.dcm"), "{e}");
    let e = msg("MR_small_jpeg_ls_lossless.dcm");
    assert!(e.contains("JPEG-LS") || e.contains("1.2.840.10008.1.2.4.80"), "{e}");
    let e = msg("MR_truncated.dcm");
    assert!(e.contains("MR_truncated.dcm") && (e.contains("truncated") || e.contains("bytes")), "{e}");
    let e = msg("PYDICOM_TEST_FILES_README.txt");
    assert!(e.contains("not a readable DICOM"), "{e}");
    let tiny = ReadOptions { max_pixels: 1000, ..ReadOptions::default() };
    let e = read_dicom(&dir().join("RG1_J2KI.dcm"), &tiny).unwrap_err().to_string();
    assert!(e.contains("refusing to decode"), "{e}");
    let frame9 = ReadOptions { frame: 9, ..ReadOptions::default() };
    let e = read_dicom(&dir().join("CT_small.dcm"), &frame9).unwrap_err().to_string();
    assert!(e.contains("frame 9"), "{e}");
}

#[test]
fn resampling_agrees_with_pillow() {
    use cxr_image::resize::{fit_longer_side, resize, resize_u8_pillow, Filter};
    use cxr_io::radiograph::read_radiograph;
    let img = read_dicom(&dir().join("RG1_J2KI.dcm"), &ReadOptions::default()).unwrap();
    let shown = cxr_image::display(&img.stored, &img.transforms, &VoiChoice::Default).unwrap();
    // Pillow resizes the 8-bit image, so quantise first as it does.
    let y8 = cxr_image::lut::to_u8(&shown.image).map(|v| v as f32);
    let (w, h) = fit_longer_side(y8.width, y8.height, 256);
    for (name, filter) in [("box", Filter::Box), ("bilinear", Filter::Bilinear), ("lanczos", Filter::Lanczos3)] {
        let ours = resize(&y8, w, h, filter);
        let pillow = read_radiograph(&dir().join(format!("RG1_J2KI_pillow_{name}_256.png")), &ReadOptions::default())
            .unwrap()
            .stored;
        assert_eq!((pillow.width, pillow.height), (w, h), "{name}");
        let diffs: Vec<i32> = ours
            .pixels
            .iter()
            .zip(&pillow.pixels)
            .map(|(a, &b)| (a.round().clamp(0.0, 255.0) as i32 - b).abs())
            .collect();
        let max = *diffs.iter().max().unwrap();
        let off = diffs.iter().filter(|&&d| d > 0).count() as f64 / diffs.len() as f64;
        assert!(max <= 1 && off < 0.15, "{name}: max |Δ| {max}, {:.1}% of pixels differ", off * 100.0);
        // The fixed-point 8-bit path reproduces Pillow.
        let exact = resize_u8_pillow(&cxr_image::lut::to_u8(&shown.image), w, h, filter);
        let differ = exact.pixels.iter().zip(&pillow.pixels).filter(|(&a, &b)| a as i32 != b).count();
        assert_eq!(differ, 0, "{name}: {differ} pixels differ from Pillow");
    }
}

#[test]
fn equalisation_and_clahe_agree_with_opencv() {
    use cxr_core::image::Image2;
    use cxr_io::radiograph::read_radiograph;
    let load = |name: &str| {
        let r = read_radiograph(&dir().join(name), &ReadOptions::default()).unwrap().stored;
        Image2::new(r.width, r.height, r.pixels.iter().map(|&v| v as u8).collect()).unwrap()
    };
    let src = load("RG1_J2KI_pillow_lanczos_256.png");
    let eq = cxr_image::prep::equalize_hist(&src);
    let cv_eq = load("RG1_J2KI_pillow_lanczos_256_equalize_cv2.png");
    let diff = |a: &Image2<u8>, b: &Image2<u8>| {
        a.pixels.iter().zip(&b.pixels).map(|(x, y)| (*x as i32 - *y as i32).abs()).max().unwrap()
    };
    assert_eq!(diff(&eq, &cv_eq), 0, "equalizeHist");
    let cl = cxr_image::prep::clahe(&src, 2.0, 8);
    let cv_cl = load("RG1_J2KI_pillow_lanczos_256_clahe_cv2.png");
    let d = diff(&cl, &cv_cl);
    let off = cl.pixels.iter().zip(&cv_cl.pixels).filter(|(x, y)| x != y).count();
    assert!(d <= 1 && off * 100 < cl.pixels.len(), "CLAHE: max |Δ| {d}, {off} pixels differ");
}
