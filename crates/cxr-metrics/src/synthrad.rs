//! The SynthRAD2025 challenge's 3-D image metrics for synthetic CT, as its evaluation code
//! (`SynthRAD2025/evaluation/image_metrics.py`, `score_patient`) computes them — quirks included, because
//! leaderboard numbers depend on them:
//!
//! * voxels outside the mask are set to −1024 HU in both volumes first;
//! * **MAE** = `Σ|gt·m − pred·m| / Σm` (HU);
//! * **PSNR**: both clipped to the dynamic range [−1024, 3071], voxels inside the mask, data range 4095;
//! * **masked MS-SSIM**: values clipped and shifted to [0, 4095]; volumes (and mask) edge-padded to at least
//!   97 voxels per axis; 5 levels; per level a 3-D SSIM map with a uniform 7³ window (scipy `uniform_filter`,
//!   `reflect` borders), sample covariance (×343/342), K1 0.01, K2 0.03, C3 = C2/2, the luminance, contrast
//!   and structure terms each clipped at 0 and **all three raised to the level's weight** β_l =
//!   (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) (the upstream luminance-weight vector is dead code);
//!   the level's value is the map's mean over the mask after cropping 3 voxels per side; between levels each
//!   volume is convolved with a 2×2×2 box ('same' mode, so the first plane of each axis is halved against the
//!   zero border) and subsampled by 2, the mask only subsampled; the result is `Π clip(value_l, 0, 1)`.
//!   [`ms_ssim`] also returns the unmasked product (mean over the whole cropped map).

/// A volume in C order: `data[(z · ny + y) · nx + x]`, `dims = [nz, ny, nx]`.
#[derive(Debug, Clone)]
pub struct Vol {
    pub dims: [usize; 3],
    pub data: Vec<f64>,
}

impl Vol {
    fn idx(&self, z: usize, y: usize, x: usize) -> usize {
        (z * self.dims[1] + y) * self.dims[2] + x
    }
}

/// The challenge's dynamic range (HU).
pub const DYNAMIC_RANGE: (f64, f64) = (-1024.0, 3071.0);
const BETAS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/// Sets voxels outside the mask to −1024 (what `score_patient` does before every metric).
pub fn mask_outside(v: &[f64], mask: &[f64]) -> Vec<f64> {
    v.iter().zip(mask).map(|(&x, &m)| if m > 0.0 { x } else { DYNAMIC_RANGE.0 }).collect()
}

/// MAE in HU inside the mask.
pub fn mae(gt: &[f64], pred: &[f64], mask: &[f64]) -> f64 {
    let (gt, pred) = (mask_outside(gt, mask), mask_outside(pred, mask));
    let m: Vec<f64> = mask.iter().map(|&m| if m > 0.0 { 1.0 } else { 0.0 }).collect();
    let num: f64 = gt.iter().zip(&pred).zip(&m).map(|((g, p), m)| (g * m - p * m).abs()).sum();
    num / m.iter().sum::<f64>()
}

/// PSNR (dB) inside the mask, values clipped to the dynamic range, data range 4095.
pub fn psnr(gt: &[f64], pred: &[f64], mask: &[f64]) -> f64 {
    let (gt, pred) = (mask_outside(gt, mask), mask_outside(pred, mask));
    let clip = |v: f64| v.clamp(DYNAMIC_RANGE.0, DYNAMIC_RANGE.1);
    let (mut se, mut n) = (0.0, 0usize);
    for ((g, p), m) in gt.iter().zip(&pred).zip(mask) {
        if *m > 0.0 {
            let d = clip(*g) - clip(*p);
            se += d * d;
            n += 1;
        }
    }
    let r = DYNAMIC_RANGE.1 - DYNAMIC_RANGE.0;
    10.0 * (r * r / (se / n as f64)).log10()
}

/// scipy's `reflect` border (half-sample symmetric: `d c b a | a b c d | d c b a`).
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * n;
    let mut j = i.rem_euclid(period);
    if j >= n {
        j = period - 1 - j;
    }
    j as usize
}

/// `scipy.ndimage.uniform_filter(v, 7)`: the mean over a 7-voxel window per axis, reflect borders.
fn uniform7(v: &Vol) -> Vol {
    let mut cur = v.clone();
    for axis in 0..3 {
        let mut out = cur.clone();
        let [nz, ny, nx] = cur.dims;
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let mut s = 0.0;
                    for o in -3isize..=3 {
                        let (zz, yy, xx) = match axis {
                            0 => (reflect(z as isize + o, nz), y, x),
                            1 => (z, reflect(y as isize + o, ny), x),
                            _ => (z, y, reflect(x as isize + o, nx)),
                        };
                        s += cur.data[cur.idx(zz, yy, xx)];
                    }
                    let i = out.idx(z, y, x);
                    out.data[i] = s / 7.0;
                }
            }
        }
        cur = out;
    }
    cur
}

/// Edge-pads every axis to at least 97 voxels (`numpy.pad(mode="edge")`, the extra voxel after).
fn pad97(v: &Vol) -> Vol {
    let pads: Vec<(usize, usize)> =
        v.dims.iter().map(|&d| if d >= 97 { (0, 0) } else { ((97 - d) / 2, 97 - d - (97 - d) / 2) }).collect();
    let dims =
        [v.dims[0] + pads[0].0 + pads[0].1, v.dims[1] + pads[1].0 + pads[1].1, v.dims[2] + pads[2].0 + pads[2].1];
    let mut out = Vol { dims, data: vec![0.0; dims[0] * dims[1] * dims[2]] };
    let src = |i: usize, axis: usize| i.saturating_sub(pads[axis].0).min(v.dims[axis] - 1);
    for z in 0..dims[0] {
        for y in 0..dims[1] {
            for x in 0..dims[2] {
                let i = out.idx(z, y, x);
                out.data[i] = v.data[v.idx(src(z, 0), src(y, 1), src(x, 2))];
            }
        }
    }
    out
}

/// `fftconvolve(v, ones(2,2,2)/8, "same")[::2, ::2, ::2]`: per axis `(v[i] + v[i−1]) / 2` with a zero before
/// the first plane, every second plane kept.
fn downsample(v: &Vol) -> Vol {
    let dims = v.dims.map(|d| d.div_ceil(2));
    let mut out = Vol { dims, data: vec![0.0; dims[0] * dims[1] * dims[2]] };
    for z in 0..dims[0] {
        for y in 0..dims[1] {
            for x in 0..dims[2] {
                let (z2, y2, x2) = (2 * z, 2 * y, 2 * x);
                let mut s = 0.0;
                for dz in 0..2 {
                    for dy in 0..2 {
                        for dx in 0..2 {
                            if z2 >= dz && y2 >= dy && x2 >= dx {
                                s += v.data[v.idx(z2 - dz, y2 - dy, x2 - dx)];
                            }
                        }
                    }
                }
                let i = out.idx(z, y, x);
                out.data[i] = s / 8.0;
            }
        }
    }
    out
}

fn subsample(v: &Vol) -> Vol {
    let dims = v.dims.map(|d| d.div_ceil(2));
    let mut out = Vol { dims, data: Vec::with_capacity(dims[0] * dims[1] * dims[2]) };
    for z in 0..dims[0] {
        for y in 0..dims[1] {
            for x in 0..dims[2] {
                out.data.push(v.data[v.idx(2 * z, 2 * y, 2 * x)]);
            }
        }
    }
    out
}

fn product(a: &Vol, b: &Vol) -> Vol {
    Vol { dims: a.dims, data: a.data.iter().zip(&b.data).map(|(x, y)| x * y).collect() }
}

/// Masked and unmasked MS-SSIM of two volumes (`dims = [nz, ny, nx]`), as the challenge computes them.
/// `None` when the shapes differ or the mask is empty.
pub fn ms_ssim(dims: [usize; 3], gt: &[f64], pred: &[f64], mask: &[f64]) -> Option<(f64, f64)> {
    let n = dims[0] * dims[1] * dims[2];
    if gt.len() != n || pred.len() != n || mask.len() != n || !mask.iter().any(|&m| m > 0.0) {
        return None;
    }
    let prep = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(mask)
            .map(|(&x, &m)| {
                let c = x.clamp(DYNAMIC_RANGE.0, DYNAMIC_RANGE.1);
                (if m > 0.0 { c } else { DYNAMIC_RANGE.0 }) - DYNAMIC_RANGE.0
            })
            .collect()
    };
    let mut g = pad97(&Vol { dims, data: prep(gt) });
    let mut p = pad97(&Vol { dims, data: prep(pred) });
    let mut m = pad97(&Vol { dims, data: mask.iter().map(|&x| if x > 0.0 { 1.0 } else { 0.0 }).collect() });
    let r = DYNAMIC_RANGE.1 - DYNAMIC_RANGE.0;
    let (c1, c2) = ((0.01 * r).powi(2), (0.03 * r).powi(2));
    let c3 = c2 / 2.0;
    let cn = 343.0 / 342.0;
    let (mut full, mut masked) = (1.0f64, 1.0f64);
    for beta in BETAS {
        let (ux, uy) = (uniform7(&g), uniform7(&p));
        let (uxx, uyy, uxy) = (uniform7(&product(&g, &g)), uniform7(&product(&p, &p)), uniform7(&product(&g, &p)));
        let [nz, ny, nx] = g.dims;
        let (mut sum_all, mut n_all, mut sum_m, mut n_m) = (0.0, 0usize, 0.0, 0usize);
        for z in 3..nz.saturating_sub(3) {
            for y in 3..ny.saturating_sub(3) {
                for x in 3..nx.saturating_sub(3) {
                    let i = g.idx(z, y, x);
                    let (mx, my) = (ux.data[i], uy.data[i]);
                    let vx = cn * (uxx.data[i] - mx * mx);
                    let vy = cn * (uyy.data[i] - my * my);
                    let vxy = cn * (uxy.data[i] - mx * my);
                    let (sx, sy) = (vx.max(0.0).sqrt(), vy.max(0.0).sqrt());
                    let l = ((2.0 * mx * my + c1) / (mx * mx + my * my + c1)).max(0.0);
                    let c = ((2.0 * sx * sy + c2) / (vx + vy + c2)).max(0.0);
                    let s = ((vxy + c3) / (sx * sy + c3)).max(0.0);
                    let v = l.powf(beta) * c.powf(beta) * s.powf(beta);
                    sum_all += v;
                    n_all += 1;
                    if m.data[i] != 0.0 {
                        sum_m += v;
                        n_m += 1;
                    }
                }
            }
        }
        full *= (sum_all / n_all as f64).clamp(0.0, 1.0);
        masked *= (sum_m / n_m as f64).clamp(0.0, 1.0);
        g = downsample(&g);
        p = downsample(&p);
        m = subsample(&m);
    }
    Some((masked, full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borders_and_downsampling_follow_scipy() {
        // reflect: d c b a | a b c d | d c b a
        assert_eq!((reflect(-1, 4), reflect(-4, 4), reflect(4, 4), reflect(7, 4)), (0, 3, 3, 0));
        let v = Vol { dims: [1, 1, 4], data: vec![2.0, 4.0, 6.0, 8.0] };
        // 'same' box: (v[i] + v[i−1]) / 2 per axis, ×¼ from the two axes of length 1 (zero before).
        assert_eq!(downsample(&v).data, vec![2.0 / 8.0, (6.0 + 4.0) / 8.0]);
        let identical: Vec<f64> = (0..10 * 11 * 12).map(|i| (i % 97) as f64 * 10.0 - 500.0).collect();
        let mask = vec![1.0; identical.len()];
        let (m, f) = ms_ssim([10, 11, 12], &identical, &identical, &mask).unwrap();
        assert!((m - 1.0).abs() < 1e-12 && (f - 1.0).abs() < 1e-12);
        assert_eq!(mae(&identical, &identical, &mask), 0.0);
    }
}
