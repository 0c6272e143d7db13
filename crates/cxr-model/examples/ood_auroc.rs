//! AUROC of the out-of-distribution gate (bench/ood.sh): fitted to augmented copies of the one real chest
//! radiograph bundled with the tests (pydicom-data RG1, PA CR), then asked to tell new augmented copies of it
//! from shifted images: rotated, inverted (wrong MONOCHROME), heavy noise, another body part (RG3 CR), CT and
//! MR slices. Augmentations (seeded): crop 75–100 % of each side, gamma 0.8–1.25, contrast ×0.9–1.1, brightness
//! ±0.05, Gaussian noise σ ≤ 0.01.
//!
//!     cargo run --release -p cxr-model --example ood_auroc -- crates/cxr-io/tests/data/dicom
use cxr_core::image::{Image2, VoiChoice};
use cxr_model::ood::{features, OodGate};

fn load(dir: &str, name: &str) -> Image2<f32> {
    let r = cxr_io::radiograph::read_radiograph(&std::path::Path::new(dir).join(name), &Default::default()).unwrap();
    cxr_image::display(&r.stored, &r.transforms, &VoiChoice::Default).unwrap().image
}

fn uniform(seed: u64, k: u64) -> f32 {
    (cxr_core::rng::splitmix64(seed, k) >> 11) as f32 / (1u64 << 53) as f32
}

fn augment(img: &Image2<f32>, seed: u64, noise_sigma: f32) -> Image2<f32> {
    let u = |k| uniform(seed, k);
    let (cw, ch) =
        (((0.75 + 0.25 * u(0)) * img.width as f32) as usize, ((0.75 + 0.25 * u(1)) * img.height as f32) as usize);
    let (x0, y0) = ((u(2) * (img.width - cw) as f32) as usize, (u(3) * (img.height - ch) as f32) as usize);
    let (g, a, b, s) = (0.8 + 0.45 * u(4), 0.9 + 0.2 * u(5), -0.05 + 0.1 * u(6), 0.01 * u(7) + noise_sigma);
    let mut px = Vec::with_capacity(cw * ch);
    for r in 0..ch {
        for c in 0..cw {
            let k = (r * cw + c) as u64;
            // Box–Muller from two uniforms.
            let (u1, u2) = (uniform(seed ^ 0x9e37, 2 * k).max(1e-7), uniform(seed ^ 0x9e37, 2 * k + 1));
            let n = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos();
            let v = img.get(y0 + r, x0 + c).clamp(0.0, 1.0).powf(g) * a + b + s * n;
            px.push(v.clamp(0.0, 1.0));
        }
    }
    Image2::new(cw, ch, px).unwrap()
}

fn rotate90(img: &Image2<f32>) -> Image2<f32> {
    let mut px = Vec::with_capacity(img.pixels.len());
    for r in 0..img.width {
        for c in 0..img.height {
            px.push(img.get(img.height - 1 - c, r));
        }
    }
    Image2::new(img.height, img.width, px).unwrap()
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "crates/cxr-io/tests/data/dicom".into());
    let chest = load(&dir, "RG1_J2KI.dcm");
    let n = 25;
    let seed = 42;
    let fit: Vec<Vec<f64>> = (0..n).map(|i| features(&augment(&chest, 1000 + i, 0.0), seed)).collect();
    let gate = OodGate::fit(&fit, 0.95, seed).unwrap();
    let score = |img: &Image2<f32>| gate.score(&features(img, seed));
    let inside: Vec<f64> = (0..n).map(|i| score(&augment(&chest, 5000 + i, 0.0))).collect();
    let rot = rotate90(&chest);
    let shifts: Vec<(&str, Image2<f32>, f32)> = vec![
        ("rotated 90°", rot.clone(), 0.0),
        ("rotated 180°", rotate90(&rot), 0.0),
        ("inverted (wrong MONOCHROME)", chest.map(|v| 1.0 - v), 0.0),
        ("heavy noise (σ 0.15)", chest.clone(), 0.15),
        ("other body part (RG3 CR)", load(&dir, "RG3_J2KI.dcm"), 0.0),
        ("CT slice (CT_small)", load(&dir, "CT_small.dcm"), 0.0),
        ("CT slice (693)", load(&dir, "693_J2KR.dcm"), 0.0),
        ("MR slice (MR_small)", load(&dir, "MR_small_RLE.dcm"), 0.0),
    ];
    let flagged_in = inside.iter().filter(|&&s| s > gate.threshold).count();
    println!(
        "gate: {n} augmented RG1 copies, threshold {:.3}; held-out RG1 copies flagged: {flagged_in}/{n}",
        gate.threshold
    );
    println!("{:<30} {:>7} {:>9}", "shift", "AUROC", "flagged");
    let mut all_out = Vec::new();
    for (name, img, noise) in &shifts {
        let out: Vec<f64> = (0..n).map(|i| score(&augment(img, 9000 + i, *noise))).collect();
        let scores: Vec<f64> = inside.iter().chain(&out).copied().collect();
        let labels: Vec<bool> =
            std::iter::repeat_n(false, n as usize).chain(std::iter::repeat_n(true, n as usize)).collect();
        let auc = cxr_metrics::classify::auroc(&scores, &labels).unwrap();
        let flagged = out.iter().filter(|&&s| s > gate.threshold).count();
        println!("{name:<30} {auc:>7.3} {flagged:>6}/{n}");
        all_out.extend(out);
    }
    let scores: Vec<f64> = inside.iter().chain(&all_out).copied().collect();
    let labels: Vec<bool> =
        std::iter::repeat_n(false, inside.len()).chain(std::iter::repeat_n(true, all_out.len())).collect();
    println!("{:<30} {:>7.3}", "all shifts", cxr_metrics::classify::auroc(&scores, &labels).unwrap());
}
