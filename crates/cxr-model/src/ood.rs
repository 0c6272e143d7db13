//! An out-of-distribution / quality gate that needs nothing from the model: it compares an image's
//! statistics with those of reference images the model is meant for, and flags images far from them.
//!
//! Features, on the display image (values in [0, 1]) centre-cropped and resized to 256²:
//! * intensity statistics: mean, standard deviation, skewness, histogram entropy (32 bins), fractions of
//!   near-black (< 0.05) and near-white (> 0.95) pixels (square roots);
//! * layout a frontal chest radiograph has: left–right mirror correlation, top-minus-bottom brightness, and the
//!   mediastinum-minus-lungs brightness (central columns against lateral ones, rows 20–70 %);
//! * frequency content of random patches, after AdverX-Ray (the spectrum of small patches separates real
//!   radiographs from shifted or synthetic ones): 16 seeded 32² patches, the fractions of their mean-removed
//!   2-D power spectrum in the middle (radius 4–10) and high (≥ 10) bands.
//!
//! The score is the root-mean-square robust z-score over the features (median and 1.4826·MAD of the
//! reference set, the MAD floored per feature, each z clipped to ±8); the threshold is a quantile (default 0.95) of the reference images' leave-one-out scores.

use cxr_core::image::Image2;
use cxr_image::pipeline::{prepare, Fit, Prep};
use serde::{Deserialize, Serialize};

/// Feature names, in order.
pub const FEATURES: [&str; 11] = [
    "mean",
    "std",
    "skewness",
    "entropy",
    "dark_fraction",
    "bright_fraction",
    "mirror_correlation",
    "top_minus_bottom",
    "mediastinum_minus_lungs",
    "patch_mid_band",
    "patch_high_band",
];

/// The smallest spread each feature's scale may have (in the feature's units), so that a feature nearly
/// constant across the references — near-black fraction of clean radiographs, say — cannot dominate.
const SCALE_FLOOR: [f64; 11] = [0.02, 0.01, 0.1, 0.1, 0.01, 0.01, 0.02, 0.02, 0.02, 0.005, 0.005];

const SIDE: usize = 256;
const PATCH: usize = 32;
const PATCHES: usize = 16;

/// The gate's features of one display image.
pub fn features(display: &Image2<f32>, seed: u64) -> Vec<f64> {
    let img = prepare(display, &Prep { size: Some(SIDE), fit: Fit::Crop, ..Default::default() }).image;
    let px: Vec<f64> = img.pixels.iter().map(|&v| f64::from(v.clamp(0.0, 1.0))).collect();
    let n = px.len() as f64;
    let mean = px.iter().sum::<f64>() / n;
    let var = px.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let std = var.sqrt();
    let skew = if std > 1e-9 { px.iter().map(|v| ((v - mean) / std).powi(3)).sum::<f64>() / n } else { 0.0 };
    let mut hist = [0f64; 32];
    for v in &px {
        hist[((v * 32.0) as usize).min(31)] += 1.0;
    }
    let entropy = -hist.iter().filter(|&&c| c > 0.0).map(|c| (c / n) * (c / n).log2()).sum::<f64>();
    // Square roots stabilise the spread of the fractions (they are heavy-tailed across exposures).
    let dark = (px.iter().filter(|&&v| v < 0.05).count() as f64 / n).sqrt();
    let bright = (px.iter().filter(|&&v| v > 0.95).count() as f64 / n).sqrt();
    let at = |r: usize, c: usize| px[r * SIDE + c];
    // Mirror correlation.
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for r in 0..SIDE {
        for c in 0..SIDE {
            let (a, b) = (at(r, c) - mean, at(r, SIDE - 1 - c) - mean);
            sxy += a * b;
            sxx += a * a;
        }
    }
    let mirror = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let region = |r0: f64, r1: f64, c0: f64, c1: f64| {
        let (r0, r1) = ((r0 * SIDE as f64) as usize, (r1 * SIDE as f64) as usize);
        let (c0, c1) = ((c0 * SIDE as f64) as usize, (c1 * SIDE as f64) as usize);
        let mut s = 0.0;
        for r in r0..r1 {
            for c in c0..c1 {
                s += at(r, c);
            }
        }
        s / ((r1 - r0) * (c1 - c0)).max(1) as f64
    };
    let top_bottom = region(0.0, 1.0 / 3.0, 0.0, 1.0) - region(2.0 / 3.0, 1.0, 0.0, 1.0);
    let lungs = (region(0.2, 0.7, 0.15, 0.35) + region(0.2, 0.7, 0.65, 0.85)) / 2.0;
    let mediastinum = region(0.2, 0.7, 0.42, 0.58) - lungs;
    let (mid, high) = patch_bands(&px, seed);
    vec![mean, std, skew, entropy, dark, bright, mirror, top_bottom, mediastinum, mid, high]
}

/// Mean fractions of patch spectral power in the middle and high radial bands.
fn patch_bands(px: &[f64], seed: u64) -> (f64, f64) {
    let (mut mid, mut high) = (0.0, 0.0);
    let mut twiddle = vec![(0.0, 0.0); PATCH];
    for (k, t) in twiddle.iter_mut().enumerate() {
        let a = -2.0 * std::f64::consts::PI * k as f64 / PATCH as f64;
        *t = (a.cos(), a.sin());
    }
    for p in 0..PATCHES {
        let r0 = (cxr_core::rng::splitmix64(seed, 2 * p as u64) % (SIDE - PATCH) as u64) as usize;
        let c0 = (cxr_core::rng::splitmix64(seed, 2 * p as u64 + 1) % (SIDE - PATCH) as u64) as usize;
        let mut patch = vec![0.0; PATCH * PATCH];
        for r in 0..PATCH {
            patch[r * PATCH..(r + 1) * PATCH].copy_from_slice(&px[(r0 + r) * SIDE + c0..(r0 + r) * SIDE + c0 + PATCH]);
        }
        let m = patch.iter().sum::<f64>() / patch.len() as f64;
        patch.iter_mut().for_each(|v| *v -= m);
        // Separable DFT: rows, then columns.
        let mut rows = vec![(0.0, 0.0); PATCH * PATCH];
        for r in 0..PATCH {
            for k in 0..PATCH {
                let (mut re, mut im) = (0.0, 0.0);
                for x in 0..PATCH {
                    let (c, s) = twiddle[(k * x) % PATCH];
                    re += patch[r * PATCH + x] * c;
                    im += patch[r * PATCH + x] * s;
                }
                rows[r * PATCH + k] = (re, im);
            }
        }
        let (mut total, mut pm, mut ph) = (0.0, 0.0, 0.0);
        for k in 0..PATCH {
            for l in 0..PATCH {
                let (mut re, mut im) = (0.0, 0.0);
                for y in 0..PATCH {
                    let (c, s) = twiddle[(l * y) % PATCH];
                    let (a, b) = rows[y * PATCH + k];
                    re += a * c - b * s;
                    im += a * s + b * c;
                }
                let power = re * re + im * im;
                let fk = if k > PATCH / 2 { PATCH - k } else { k } as f64;
                let fl = if l > PATCH / 2 { PATCH - l } else { l } as f64;
                let radius = (fk * fk + fl * fl).sqrt();
                total += power;
                if radius >= 10.0 {
                    ph += power;
                } else if radius >= 4.0 {
                    pm += power;
                }
            }
        }
        if total > 0.0 {
            mid += pm / total;
            high += ph / total;
        }
    }
    (mid / PATCHES as f64, high / PATCHES as f64)
}

/// A fitted gate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OodGate {
    pub features: Vec<String>,
    pub median: Vec<f64>,
    pub scale: Vec<f64>,
    pub threshold: f64,
    pub quantile: f64,
    pub references: usize,
    pub seed: u64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn robust_fit(rows: &[&Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let k = rows[0].len();
    let mut center = Vec::with_capacity(k);
    let mut scale = Vec::with_capacity(k);
    for j in 0..k {
        let mut col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
        let m = median(&mut col);
        let mut dev: Vec<f64> = col.iter().map(|v| (v - m).abs()).collect();
        let mad = median(&mut dev) * 1.4826;
        center.push(m);
        scale.push(mad.max(SCALE_FLOOR.get(j).copied().unwrap_or(1e-3)));
    }
    (center, scale)
}

/// Root-mean-square of the robust z-scores, each clipped to ±[`Z_CLIP`] so one feature cannot decide alone.
fn rms_z(f: &[f64], center: &[f64], scale: &[f64]) -> f64 {
    let z2 = f.iter().zip(center).zip(scale).map(|((v, c), s)| ((v - c) / s).clamp(-Z_CLIP, Z_CLIP).powi(2));
    (z2.sum::<f64>() / f.len() as f64).sqrt()
}

const Z_CLIP: f64 = 8.0;

impl OodGate {
    /// Fits the gate to the features of in-distribution reference images (at least 5).
    pub fn fit(reference: &[Vec<f64>], quantile: f64, seed: u64) -> Result<OodGate, String> {
        if reference.len() < 5 {
            return Err(format!("{} reference images: give at least 5 in-distribution images", reference.len()));
        }
        if !(0.5..=1.0).contains(&quantile) {
            return Err(format!("quantile {quantile} is not between 0.5 and 1"));
        }
        let all: Vec<&Vec<f64>> = reference.iter().collect();
        let (median, scale) = robust_fit(&all);
        let mut loo: Vec<f64> = (0..reference.len())
            .map(|i| {
                let rest: Vec<&Vec<f64>> =
                    reference.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, r)| r).collect();
                let (c, s) = robust_fit(&rest);
                rms_z(&reference[i], &c, &s)
            })
            .collect();
        loo.sort_by(|a, b| a.total_cmp(b));
        let at = ((loo.len() - 1) as f64 * quantile).round() as usize;
        Ok(OodGate {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            median,
            scale,
            threshold: loo[at.min(loo.len() - 1)],
            quantile,
            references: reference.len(),
            seed,
        })
    }

    /// The gate's score of an image's features (larger = further from the references).
    pub fn score(&self, f: &[f64]) -> f64 {
        rms_z(f, &self.median, &self.scale)
    }

    /// Score and verdict of a display image.
    pub fn check(&self, display: &Image2<f32>) -> OodResult {
        let score = self.score(&features(display, self.seed));
        OodResult { score, threshold: self.threshold, flagged: score > self.threshold }
    }
}

/// The gate's verdict on one image.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct OodResult {
    pub score: f64,
    pub threshold: f64,
    /// Out of distribution: the image's predictions should not be trusted.
    pub flagged: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chest-like synthetic image: bright mediastinum and border, darker lungs, a soft gradient.
    fn chest(w: usize, h: usize, jitter: f32) -> Image2<f32> {
        let mut px = Vec::with_capacity(w * h);
        for r in 0..h {
            for c in 0..w {
                let (y, x) = (r as f32 / h as f32, c as f32 / w as f32);
                let lung = (-(((x - 0.3) / 0.12).powi(2) + ((y - 0.45) / 0.25).powi(2))).exp()
                    + (-(((x - 0.7) / 0.12).powi(2) + ((y - 0.45) / 0.25).powi(2))).exp();
                let ribs = 0.05 * ((y * 40.0 + jitter * 3.0).sin());
                px.push((0.75 - 0.5 * lung + ribs + 0.1 * y + jitter * 0.05).clamp(0.0, 1.0));
            }
        }
        Image2::new(w, h, px).unwrap()
    }

    #[test]
    fn flags_noise_and_inversion_but_not_variants_of_the_references() {
        let refs: Vec<Vec<f64>> = (0..12).map(|i| features(&chest(300 + i * 7, 300, i as f32 / 12.0), 7)).collect();
        let gate = OodGate::fit(&refs, 0.95, 7).unwrap();
        assert!(!gate.check(&chest(330, 300, 0.43)).flagged);
        let inverted = chest(300, 300, 0.2).map(|v| 1.0 - v);
        assert!(gate.check(&inverted).flagged);
        let noise: Vec<f32> =
            (0..300 * 300).map(|i| (cxr_core::rng::splitmix64(3, i) % 1000) as f32 / 1000.0).collect();
        assert!(gate.check(&Image2::new(300, 300, noise).unwrap()).flagged);
        assert!(OodGate::fit(&refs[..3], 0.95, 7).is_err());
    }
}
