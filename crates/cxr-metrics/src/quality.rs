//! Image quality of synthetic images against references, and distribution distances of feature sets.
//!
//! * MSE, MAE, PSNR `10·log10(R²/MSE)` with an explicit data range R.
//! * SSIM (Wang et al. 2004) in two named settings of scikit-image's `structural_similarity`:
//!   [`SsimVariant::SkimageDefault`] — uniform 7×7 window, sample covariance (×49/48), K1 0.01, K2 0.03;
//!   [`SsimVariant::Wang2004`] — Gaussian window σ = 1.5 truncated at 3.5σ (11 taps), population covariance.
//!   The map is averaged after cropping the window's half-width at every edge, so only windows inside the
//!   image count and the filters' border modes never matter. The two settings differ in the second decimal:
//!   always report which one.
//! * SSIM and MS-SSIM as torchmetrics computes them by default ([`ssim_torchmetrics`],
//!   [`ms_ssim_torchmetrics`]): the SSIM mean runs over the whole reflect-padded image, so it differs from
//!   both scikit-image settings.
//! * FID `‖μ1−μ2‖² + Tr C1 + Tr C2 − 2 Tr √(C1 C2)` (covariances with ddof 1), the trace term computed as
//!   `Σ √λ(√C1 · C2 · √C1)` with a symmetric eigensolver (cyclic Jacobi).
//! * KID: the unbiased MMD² with the polynomial kernel `k(x, y) = (x·y/d + 1)³` on the full sets.

use serde::Serialize;

/// A grey image, row major.
#[derive(Debug, Clone, Copy)]
pub struct Image<'a> {
    pub width: usize,
    pub height: usize,
    pub pixels: &'a [f64],
}

pub fn mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64
}

pub fn mae(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

/// PSNR in dB for data range `r` (∞ for identical images).
pub fn psnr(a: &[f64], b: &[f64], r: f64) -> f64 {
    10.0 * (r * r / mse(a, b)).log10()
}

/// SSIM settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SsimVariant {
    SkimageDefault,
    Wang2004,
}

/// Separable window weights (summing to 1) and whether covariances use the sample correction.
fn window(v: SsimVariant) -> (Vec<f64>, bool) {
    match v {
        SsimVariant::SkimageDefault => (vec![1.0 / 7.0; 7], true),
        SsimVariant::Wang2004 => {
            let (sigma, truncate) = (1.5f64, 3.5f64);
            let radius = (truncate * sigma + 0.5) as i64;
            let w: Vec<f64> = (-radius..=radius).map(|x| (-0.5 * (x * x) as f64 / (sigma * sigma)).exp()).collect();
            let s: f64 = w.iter().sum();
            (w.into_iter().map(|x| x / s).collect(), false)
        }
    }
}

/// Mean SSIM of two images with data range `r`; `None` if an image is smaller than the window.
pub fn ssim(a: Image<'_>, b: Image<'_>, r: f64, variant: SsimVariant) -> Option<f64> {
    let (w, sample) = window(variant);
    let k = w.len();
    let half = k / 2;
    let (nx, ny) = (a.width, a.height);
    if nx < k || ny < k || b.width != nx || b.height != ny {
        return None;
    }
    let np = (k * k) as f64;
    let cov_norm = if sample { np / (np - 1.0) } else { 1.0 };
    let (c1, c2) = ((0.01 * r).powi(2), (0.03 * r).powi(2));
    // Separable filtering: rows first, then columns, for the five moment images, valid region only.
    let moments = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut rows = vec![0.0; ny * (nx - 2 * half)];
        for y in 0..ny {
            for x in half..nx - half {
                rows[y * (nx - 2 * half) + x - half] = (0..k).map(|t| w[t] * f(y * nx + x + t - half)).sum();
            }
        }
        let cw = nx - 2 * half;
        let mut out = vec![0.0; (ny - 2 * half) * cw];
        for y in half..ny - half {
            for x in 0..cw {
                out[(y - half) * cw + x] = (0..k).map(|t| w[t] * rows[(y + t - half) * cw + x]).sum();
            }
        }
        out
    };
    let (pa, pb) = (a.pixels, b.pixels);
    let ux = moments(&|i| pa[i]);
    let uy = moments(&|i| pb[i]);
    let uxx = moments(&|i| pa[i] * pa[i]);
    let uyy = moments(&|i| pb[i] * pb[i]);
    let uxy = moments(&|i| pa[i] * pb[i]);
    let n = ux.len();
    let mut total = 0.0;
    for i in 0..n {
        let vx = cov_norm * (uxx[i] - ux[i] * ux[i]);
        let vy = cov_norm * (uyy[i] - uy[i] * uy[i]);
        let vxy = cov_norm * (uxy[i] - ux[i] * uy[i]);
        let num = (2.0 * ux[i] * uy[i] + c1) * (2.0 * vxy + c2);
        let den = (ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2);
        total += num / den;
    }
    Some(total / n as f64)
}

/// torchmetrics' SSIM statistics of one scale: the mean SSIM over the **whole** image (windows at the border
/// see torch's `reflect` padding, which does not repeat the edge pixel) and the mean contrast-sensitivity term
/// `(2σxy + C2)/(σx² + σy² + C2)` over the image cropped by the window's half-width; variances clamped at 0.
/// Gaussian window of 11 taps, σ = 1.5 (`int(3.5σ + 0.5)·2 + 1`), K1 0.01, K2 0.03.
fn torchmetrics_scale(a: &[f64], b: &[f64], nx: usize, ny: usize, r: f64) -> Option<(f64, f64)> {
    let sigma = 1.5f64;
    let k = (3.5 * sigma + 0.5) as usize * 2 + 1;
    let half = k / 2;
    if nx <= half || ny <= half {
        return None;
    }
    let w: Vec<f64> = {
        let raw: Vec<f64> = (0..k).map(|t| (t as f64 - half as f64) / sigma).map(|d| (-(d * d) / 2.0).exp()).collect();
        let s: f64 = raw.iter().sum();
        raw.into_iter().map(|x| x / s).collect()
    };
    // torch `reflect`: index −1 → 1, n → n − 2.
    let refl = |i: isize, n: usize| -> usize {
        let n = n as isize;
        let mut i = i;
        if i < 0 {
            i = -i;
        }
        if i >= n {
            i = 2 * (n - 1) - i;
        }
        i.clamp(0, n - 1) as usize
    };
    let blur = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut rows = vec![0.0; nx * ny];
        for y in 0..ny {
            for x in 0..nx {
                rows[y * nx + x] =
                    (0..k).map(|t| w[t] * f(y * nx + refl(x as isize + t as isize - half as isize, nx))).sum();
            }
        }
        let mut out = vec![0.0; nx * ny];
        for y in 0..ny {
            for x in 0..nx {
                out[y * nx + x] =
                    (0..k).map(|t| w[t] * rows[refl(y as isize + t as isize - half as isize, ny) * nx + x]).sum();
            }
        }
        out
    };
    let ux = blur(&|i| a[i]);
    let uy = blur(&|i| b[i]);
    let uxx = blur(&|i| a[i] * a[i]);
    let uyy = blur(&|i| b[i] * b[i]);
    let uxy = blur(&|i| a[i] * b[i]);
    let (c1, c2) = ((0.01 * r).powi(2), (0.03 * r).powi(2));
    let (mut sim, mut cs, mut n_cs) = (0.0, 0.0, 0usize);
    for y in 0..ny {
        for x in 0..nx {
            let i = y * nx + x;
            let (mx, my) = (ux[i], uy[i]);
            let vx = (uxx[i] - mx * mx).max(0.0);
            let vy = (uyy[i] - my * my).max(0.0);
            let vxy = uxy[i] - mx * my;
            let upper = 2.0 * vxy + c2;
            let lower = vx + vy + c2;
            sim += (2.0 * mx * my + c1) * upper / ((mx * mx + my * my + c1) * lower);
            if (half..ny.saturating_sub(half)).contains(&y) && (half..nx.saturating_sub(half)).contains(&x) {
                cs += upper / lower;
                n_cs += 1;
            }
        }
    }
    Some((sim / (nx * ny) as f64, cs / n_cs.max(1) as f64))
}

/// SSIM as torchmetrics' `structural_similarity_index_measure` computes it by default (Gaussian 11-tap
/// window, σ 1.5, reflect padding, the mean over the whole image — not cropped, unlike scikit-image).
pub fn ssim_torchmetrics(a: Image<'_>, b: Image<'_>, r: f64) -> Option<f64> {
    if a.width != b.width || a.height != b.height {
        return None;
    }
    torchmetrics_scale(a.pixels, b.pixels, a.width, a.height, r).map(|(s, _)| s)
}

/// MS-SSIM as torchmetrics' `multiscale_structural_similarity_index_measure` computes it by default:
/// 5 scales with β = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2×2 average pooling between scales (an odd
/// last row/column dropped), `Π_{l<5} cs_l^β_l · ssim_5^β_5` where `cs_l` is the cropped mean
/// contrast-sensitivity and `ssim_5` the full-image SSIM of the coarsest scale (`normalize=None`).
/// `None` when the image is too small for 5 scales (torchmetrics requires each side > 160 px for 11-tap
/// windows) or a term is negative (the fractional power would be NaN).
pub fn ms_ssim_torchmetrics(a: Image<'_>, b: Image<'_>, r: f64) -> Option<f64> {
    const BETAS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
    if a.width != b.width || a.height != b.height || a.width / 16 <= 10 || a.height / 16 <= 10 {
        return None;
    }
    let (mut pa, mut pb, mut nx, mut ny) = (a.pixels.to_vec(), b.pixels.to_vec(), a.width, a.height);
    let mut result = 1.0;
    for (l, beta) in BETAS.iter().enumerate() {
        let (sim, cs) = torchmetrics_scale(&pa, &pb, nx, ny, r)?;
        let term = if l + 1 == BETAS.len() { sim } else { cs };
        if term < 0.0 {
            return None;
        }
        result *= term.powf(*beta);
        let (hx, hy) = (nx / 2, ny / 2);
        let pool = |v: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; hx * hy];
            for y in 0..hy {
                for x in 0..hx {
                    let i = 2 * y * nx + 2 * x;
                    out[y * hx + x] = (v[i] + v[i + 1] + v[i + nx] + v[i + nx + 1]) / 4.0;
                }
            }
            out
        };
        pa = pool(&pa);
        pb = pool(&pb);
        nx = hx;
        ny = hy;
    }
    Some(result)
}

/// Eigenvalues and eigenvectors (columns of `v`) of a symmetric matrix, by cyclic Jacobi rotations.
pub fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let scale: f64 = (0..n).map(|i| a[i][i] * a[i][i]).sum::<f64>().max(1e-300);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

fn mean_cov(x: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (n, d) = (x.len(), x[0].len());
    let mu: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64).collect();
    let cov = (0..d)
        .map(|i| {
            (0..d).map(|j| x.iter().map(|r| (r[i] - mu[i]) * (r[j] - mu[j])).sum::<f64>() / (n as f64 - 1.0)).collect()
        })
        .collect();
    (mu, cov)
}

fn matmul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    (0..n).map(|i| (0..n).map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum()).collect()).collect()
}

/// Fréchet distance between two feature sets (rows = samples); `None` with fewer than 2 rows or
/// mismatched dimensions.
pub fn fid(real: &[Vec<f64>], fake: &[Vec<f64>]) -> Option<f64> {
    if real.len() < 2 || fake.len() < 2 || real[0].len() != fake[0].len() {
        return None;
    }
    let (m1, c1) = mean_cov(real);
    let (m2, c2) = mean_cov(fake);
    let (l1, v1) = symmetric_eigen(c1.clone());
    let d = l1.len();
    // √C1 = V diag(√λ) Vᵀ
    let sq1: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| (0..d).map(|k| v1[i][k] * l1[k].max(0.0).sqrt() * v1[j][k]).sum()).collect())
        .collect();
    let mut m = matmul(&matmul(&sq1, &c2), &sq1);
    for i in 0..d {
        for j in i + 1..d {
            let s = 0.5 * (m[i][j] + m[j][i]);
            m[i][j] = s;
            m[j][i] = s;
        }
    }
    let (lm, _) = symmetric_eigen(m);
    let tr_sqrt: f64 = lm.iter().map(|&l| l.max(0.0).sqrt()).sum();
    let diff: f64 = m1.iter().zip(&m2).map(|(a, b)| (a - b) * (a - b)).sum();
    let tr1: f64 = (0..d).map(|i| c1[i][i]).sum();
    let tr2: f64 = (0..d).map(|i| c2[i][i]).sum();
    Some(diff + tr1 + tr2 - 2.0 * tr_sqrt)
}

/// Unbiased KID (MMD² with the cubic polynomial kernel) on the full sets; `None` with fewer than 2 rows.
pub fn kid(real: &[Vec<f64>], fake: &[Vec<f64>]) -> Option<f64> {
    let (m, n) = (real.len(), fake.len());
    if m < 2 || n < 2 || real[0].len() != fake[0].len() {
        return None;
    }
    let d = real[0].len() as f64;
    let k = |x: &[f64], y: &[f64]| (x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / d + 1.0).powi(3);
    let within = |s: &[Vec<f64>]| -> f64 {
        let mut t = 0.0;
        for i in 0..s.len() {
            for j in 0..s.len() {
                if i != j {
                    t += k(&s[i], &s[j]);
                }
            }
        }
        t / (s.len() * (s.len() - 1)) as f64
    };
    let cross: f64 = real.iter().flat_map(|x| fake.iter().map(move |y| k(x, y))).sum::<f64>() / (m * n) as f64;
    Some(within(real) + within(fake) - 2.0 * cross)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images() {
        let px: Vec<f64> = (0..400).map(|i| (i * 37 % 255) as f64).collect();
        let img = Image { width: 20, height: 20, pixels: &px };
        for v in [SsimVariant::SkimageDefault, SsimVariant::Wang2004] {
            assert!((ssim(img, img, 255.0, v).unwrap() - 1.0).abs() < 1e-12);
        }
        assert_eq!(mse(&px, &px), 0.0);
        assert!(psnr(&px, &px, 255.0).is_infinite());
        assert!(ssim(
            Image { width: 5, height: 5, pixels: &px[..25] },
            Image { width: 5, height: 5, pixels: &px[..25] },
            255.0,
            SsimVariant::SkimageDefault
        )
        .is_none());
    }

    #[test]
    fn eigen_and_identical_distributions() {
        let (l, _) = symmetric_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        let mut l = l;
        l.sort_by(f64::total_cmp);
        assert!((l[0] - 1.0).abs() < 1e-12 && (l[1] - 3.0).abs() < 1e-12);
        let x: Vec<Vec<f64>> = (0..50).map(|i| vec![(i % 7) as f64, (i % 5) as f64 * 0.5, (i % 3) as f64]).collect();
        assert!(fid(&x, &x).unwrap().abs() < 1e-9);
    }
}
