//! Image quality and feature-distribution distances against the reference values (tests/data/eval;
//! definitions in cxr_metrics::quality). Tolerances: 1e-9 (MSE, MAE, PSNR, SSIM), 1e-8 (FID, KID).

use cxr_metrics::quality::{fid, kid, mae, mse, psnr, ssim, Image, SsimVariant};

fn csv_rows(name: &str) -> Vec<Vec<f64>> {
    std::fs::read_to_string(format!("tests/data/eval/{name}"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect()
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("tests/data/eval/{name}")).unwrap()).unwrap()
}

#[test]
fn image_quality_matches_skimage() {
    let r = json("image_quality_reference.json");
    let a: Vec<f64> = csv_rows("iq_img1_192x192_uint8.csv").concat();
    let b: Vec<f64> = csv_rows("iq_img2_192x192_uint8.csv").concat();
    assert_eq!(a.len(), 192 * 192);
    let close = |got: f64, want: f64, what: &str| {
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{what}: {got} vs {want}")
    };
    close(mse(&a, &b), r["mse"].as_f64().unwrap(), "MSE");
    close(mae(&a, &b), r["mae"].as_f64().unwrap(), "MAE");
    close(psnr(&a, &b, 255.0), r["psnr_data_range_255"].as_f64().unwrap(), "PSNR");
    let (ia, ib) = (Image { width: 192, height: 192, pixels: &a }, Image { width: 192, height: 192, pixels: &b });
    close(
        ssim(ia, ib, 255.0, SsimVariant::SkimageDefault).unwrap(),
        r["ssim_skimage_defaults"]["value"].as_f64().unwrap(),
        "SSIM skimage",
    );
    close(
        ssim(ia, ib, 255.0, SsimVariant::Wang2004).unwrap(),
        r["ssim_skimage_wang2004"]["value"].as_f64().unwrap(),
        "SSIM Wang 2004",
    );
    let tm = |got: f64, want: f64, what: &str| assert!((got - want).abs() <= 1e-6, "{what}: {got} vs {want}");
    tm(
        cxr_metrics::quality::ssim_torchmetrics(ia, ib, 255.0).unwrap(),
        r["ssim_torchmetrics_default"]["value"].as_f64().unwrap(),
        "SSIM torchmetrics",
    );
    tm(
        cxr_metrics::quality::ms_ssim_torchmetrics(ia, ib, 255.0).unwrap(),
        r["msssim_torchmetrics_default"]["value"].as_f64().unwrap(),
        "MS-SSIM torchmetrics",
    );
}

#[test]
fn fid_and_kid_match_the_reference() {
    let r = json("fid_kid_reference.json");
    let (real, fake) = (csv_rows("feat_real_300x32.csv"), csv_rows("feat_fake_300x32.csv"));
    assert_eq!((real.len(), real[0].len()), (300, 32));
    let f = fid(&real, &fake).unwrap();
    assert!((f - r["fid"].as_f64().unwrap()).abs() < 1e-8, "FID {f}");
    let k = kid(&real, &fake).unwrap();
    assert!((k - r["kid_unbiased_full_set"].as_f64().unwrap()).abs() < 1e-8, "KID {k}");
}

#[test]
fn synthrad2025_metrics_match_the_challenge_code() {
    use std::io::Read;
    let r = json("image_quality_reference.json");
    let s = &r["synthrad2025"];
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open("tests/data/eval/synthrad_ct_gt_pred_mask_40x48x48.csv.gz").unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let (mut gt, mut pred, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        gt.push(v[3]);
        pred.push(v[4]);
        mask.push(v[5]);
    }
    assert_eq!(gt.len(), 40 * 48 * 48);
    use cxr_metrics::synthrad;
    let close = |got: f64, want: f64, tol: f64, what: &str| {
        assert!((got - want).abs() <= tol * want.abs().max(1.0), "{what}: {got} vs {want}")
    };
    close(synthrad::mae(&gt, &pred, &mask), s["mae_hu"].as_f64().unwrap(), 1e-9, "MAE");
    close(synthrad::psnr(&gt, &pred, &mask), s["psnr"].as_f64().unwrap(), 1e-9, "PSNR");
    let (masked, full) = synthrad::ms_ssim([40, 48, 48], &gt, &pred, &mask).unwrap();
    close(masked, s["ms_ssim_masked"].as_f64().unwrap(), 1e-7, "masked MS-SSIM");
    close(full, s["ms_ssim_unmasked_product"].as_f64().unwrap(), 1e-7, "unmasked MS-SSIM");
}
