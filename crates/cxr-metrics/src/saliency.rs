//! Saliency maps against eye-tracking data (radiologist gaze), with the MIT saliency benchmark
//! (`cvzoya/saliency/code_forMetrics/*.m`) and pysaliency variants named where they differ.
//!
//! `S` is the model's map, `F` the binary fixation map, `G` the fixation density (F blurred). Maps are row
//! major and of equal size.
//! * NSS: `S` standardised over all pixels, averaged over fixated pixels; [`StdDdof`] 1 (MATLAB `NSS.m`) or 0
//!   (pysaliency).
//! * CC: Pearson correlation of S and G (`CC.m`).
//! * KLD: `Σ G' log(ε + G'/(S' + ε))` with S', G' normalised to sum 1, ε = 2.220446049250313e-16 (`KLdiv.m`;
//!   pysaliency's `MIT_KLDiv` gives the same here).
//! * SIM: `Σ min(S', G')` after normalising each map to sum 1; [`SimVariant::Matlab`] min-max scales to [0, 1]
//!   first (`similarity.m`), [`SimVariant::Pysaliency`] does not.
//! * AUC-Judd (`AUC_Judd.m` with jitter off): S min-max normalised; thresholds are the fixated values in
//!   descending order; `tp_i = i/N_f`, `fp_i = (#{S ≥ t_i} − i)/(N_p − N_f)`; the curve is padded with (0,0)
//!   and (1,1) and integrated by the trapezoid rule.
//! * AUC-Borji (`AUC_Borji.m` with a seedable sampler): for each of `splits` splits, `N_f` random pixels
//!   `splitmix64(seed, s·N_f + f + 1) % N_p`; thresholds `k·step` for k = ⌊max/step + 1e-9⌋ down to 0;
//!   `tp = #(S_fix ≥ t)/N_f`, `fp = #(S_rand ≥ t)/N_f`; padded; trapezoid; mean over splits.
//! * EMD: both maps reduced to `block × block` block means, each normalised to sum 1, then the exact
//!   Wasserstein-1 distance with the Euclidean distance between bin centres in (reduced) pixels — what
//!   `EMD.m`'s `emd_hat_gd_metric_mex(…, extra_mass_penalty = 0)` computes on equal masses. `EMD.m` itself
//!   shrinks the maps by 1/32 with MATLAB's `imresize` (antialiased bicubic), which cannot be reproduced
//!   exactly; block means are the reproducible stand-in (`block = 32` matches its scale). Solved exactly as a
//!   transportation problem by successive shortest paths with potentials.

use crate::stats::splitmix64;
use serde::Serialize;

/// Standard deviation convention for NSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StdDdof {
    /// MATLAB `std` (sample, ddof 1).
    Matlab,
    /// numpy default (population, ddof 0).
    Pysaliency,
}

/// SIM normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SimVariant {
    Matlab,
    Pysaliency,
}

/// MATLAB's eps.
pub const EPS: f64 = 2.220446049250313e-16;

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn minmax(v: &[f64]) -> Vec<f64> {
    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
    v.iter().map(|&x| if hi > lo { (x - lo) / (hi - lo) } else { 0.0 }).collect()
}

fn sum_normalise(v: &[f64]) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    v.iter().map(|&x| x / s).collect()
}

/// Normalised scanpath saliency; `None` without fixations or with a constant map.
pub fn nss(s: &[f64], fixations: &[bool], ddof: StdDdof) -> Option<f64> {
    let m = mean(s);
    let n = s.len() as f64;
    let ss: f64 = s.iter().map(|&x| (x - m) * (x - m)).sum();
    let sd = (ss / if ddof == StdDdof::Matlab { n - 1.0 } else { n }).sqrt();
    let fixated: Vec<f64> = s.iter().zip(fixations).filter(|(_, &f)| f).map(|(&x, _)| (x - m) / sd).collect();
    (!fixated.is_empty() && sd > 0.0).then(|| mean(&fixated))
}

/// Pearson correlation of two maps.
pub fn cc(s: &[f64], g: &[f64]) -> f64 {
    let (ms, mg) = (mean(s), mean(g));
    let (mut num, mut vs, mut vg) = (0.0, 0.0, 0.0);
    for (&a, &b) in s.iter().zip(g) {
        num += (a - ms) * (b - mg);
        vs += (a - ms) * (a - ms);
        vg += (b - mg) * (b - mg);
    }
    num / (vs * vg).sqrt()
}

/// KL divergence of the gaze density from the saliency map, KL(G‖S).
pub fn kld(s: &[f64], g: &[f64]) -> f64 {
    let (sn, gn) = (sum_normalise(s), sum_normalise(g));
    sn.iter().zip(&gn).map(|(&a, &b)| b * (EPS + b / (a + EPS)).ln()).sum()
}

/// Histogram intersection of the two maps.
pub fn sim(s: &[f64], g: &[f64], v: SimVariant) -> f64 {
    let (s1, g1) = match v {
        SimVariant::Matlab => (minmax(s), minmax(g)),
        SimVariant::Pysaliency => (s.to_vec(), g.to_vec()),
    };
    let (sn, gn) = (sum_normalise(&s1), sum_normalise(&g1));
    sn.iter().zip(&gn).map(|(a, b)| a.min(*b)).sum()
}

fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2).zip(y.windows(2)).map(|(xw, yw)| (xw[1] - xw[0]) * (yw[0] + yw[1]) / 2.0).sum()
}

/// AUC-Judd without jitter; `None` without fixations or when every pixel is fixated.
pub fn auc_judd(s: &[f64], fixations: &[bool]) -> Option<f64> {
    let sn = minmax(s);
    let mut th: Vec<f64> = sn.iter().zip(fixations).filter(|(_, &f)| f).map(|(&x, _)| x).collect();
    let (nf, np) = (th.len(), sn.len());
    if nf == 0 || nf == np {
        return None;
    }
    th.sort_by(|a, b| b.total_cmp(a));
    // #{S ≥ t} for every threshold in one pass: each pixel counts towards the thresholds it reaches
    // (binary search in the descending thresholds), then a running sum — no sort of all pixels.
    let mut reach = vec![0usize; nf + 1];
    for &x in &sn {
        // thresholds th[0] ≥ th[1] ≥ …: x ≥ th[k] for k ≥ first index with th[k] ≤ x.
        let k = th.partition_point(|&t| t > x);
        reach[k] += 1;
    }
    let mut counts = vec![0usize; nf];
    let mut run = 0;
    for k in 0..nf {
        run += reach[k];
        counts[k] = run;
    }
    let (mut tp, mut fp) = (vec![0.0], vec![0.0]);
    for (i, _) in th.iter().enumerate() {
        let above = counts[i];
        tp.push((i + 1) as f64 / nf as f64);
        fp.push((above - (i + 1)) as f64 / (np - nf) as f64);
    }
    tp.push(1.0);
    fp.push(1.0);
    Some(trapezoid(&fp, &tp))
}

/// AUC-Borji with a seeded SplitMix64 sampler; returns the mean and the per-split values.
pub fn auc_borji(s: &[f64], fixations: &[bool], splits: usize, step: f64, seed: u64) -> Option<(f64, Vec<f64>)> {
    let sn = minmax(s);
    let fix: Vec<f64> = sn.iter().zip(fixations).filter(|(_, &f)| f).map(|(&x, _)| x).collect();
    let (nf, np) = (fix.len(), sn.len());
    if nf == 0 || splits == 0 {
        return None;
    }
    let mut per = Vec::with_capacity(splits);
    for sp in 0..splits {
        let rnd: Vec<f64> =
            (0..nf).map(|f| sn[(splitmix64(seed, (sp * nf + f + 1) as u64) % np as u64) as usize]).collect();
        let max = fix.iter().chain(&rnd).fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        let kmax = (max / step + 1e-9).floor() as i64;
        let (mut tp, mut fp) = (vec![0.0], vec![0.0]);
        for k in (0..=kmax).rev() {
            let t = k as f64 * step;
            tp.push(fix.iter().filter(|&&x| x >= t).count() as f64 / nf as f64);
            fp.push(rnd.iter().filter(|&&x| x >= t).count() as f64 / nf as f64);
        }
        tp.push(1.0);
        fp.push(1.0);
        per.push(trapezoid(&fp, &tp));
    }
    Some((mean(&per), per))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_constant_maps() {
        let s = [0.0, 0.1, 0.9, 0.2];
        let f = [false, false, true, false];
        assert!(auc_judd(&s, &f).unwrap() > 0.99);
        assert!(nss(&[1.0; 4], &f, StdDdof::Matlab).is_none());
        assert!((cc(&s, &s) - 1.0).abs() < 1e-12);
        assert!(kld(&s, &s).abs() < 1e-12);
        assert!((sim(&s, &s, SimVariant::Pysaliency) - 1.0).abs() < 1e-12);
        assert!(auc_judd(&s, &[false; 4]).is_none());
    }
}

/// Block means of a `width × height` map (`None` unless both sides are multiples of `block`).
fn block_means(v: &[f64], width: usize, height: usize, block: usize) -> Option<Vec<f64>> {
    if block == 0 || !width.is_multiple_of(block) || !height.is_multiple_of(block) || v.len() != width * height {
        return None;
    }
    let (w, h) = (width / block, height / block);
    let mut out = vec![0.0; w * h];
    for y in 0..height {
        for x in 0..width {
            out[(y / block) * w + x / block] += v[y * width + x];
        }
    }
    let n = (block * block) as f64;
    Some(out.into_iter().map(|s| s / n).collect())
}

/// Earth mover's distance between a saliency map and a fixation density (see the module notes); `None` when
/// the sizes are not multiples of `block` or a map sums to zero.
pub fn emd(s: &[f64], g: &[f64], width: usize, height: usize, block: usize) -> Option<f64> {
    let (a, b) = (block_means(s, width, height, block)?, block_means(g, width, height, block)?);
    let (sa, sb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if !(sa > 0.0 && sb > 0.0) || a.iter().chain(&b).any(|v| *v < 0.0 || !v.is_finite()) {
        return None;
    }
    let w = width / block;
    let coords: Vec<(f64, f64)> = (0..a.len()).map(|i| ((i / w) as f64, (i % w) as f64)).collect();
    let dist = |i: usize, j: usize| ((coords[i].0 - coords[j].0).powi(2) + (coords[i].1 - coords[j].1).powi(2)).sqrt();
    Some(transport(&a.iter().map(|v| v / sa).collect::<Vec<_>>(), &b.iter().map(|v| v / sb).collect::<Vec<_>>(), dist))
}

/// Minimum cost of moving `supply` onto `demand` (equal totals) with ground cost `cost(i, j)` ≥ 0: successive
/// shortest augmenting paths (Dijkstra on reduced costs, dense) in the residual bipartite graph.
fn transport(supply: &[f64], demand: &[f64], cost: impl Fn(usize, usize) -> f64) -> f64 {
    let (n, m) = (supply.len(), demand.len());
    let tiny = 1e-15;
    let c: Vec<f64> = (0..n * m).map(|k| cost(k / m, k % m)).collect();
    let mut flow = vec![0.0f64; n * m];
    let (mut sup, mut dem) = (supply.to_vec(), demand.to_vec());
    // Potentials keep reduced costs non-negative: pi_s for sources, pi_t for sinks.
    let (mut pi_s, mut pi_t) = (vec![0.0f64; n], vec![0.0f64; m]);
    loop {
        if sup.iter().all(|&v| v <= tiny) || dem.iter().all(|&v| v <= tiny) {
            break;
        }
        // Dijkstra from every source with supply left.
        let (mut ds, mut dt) = (vec![f64::INFINITY; n], vec![f64::INFINITY; m]);
        let (mut done_s, mut done_t) = (vec![false; n], vec![false; m]);
        let mut prev_t = vec![usize::MAX; m]; // source that reached sink j
        let mut prev_s = vec![usize::MAX; n]; // sink whose reverse edge reached source i
        for i in 0..n {
            if sup[i] > tiny {
                ds[i] = 0.0;
            }
        }
        let mut stop_at: Option<(usize, f64)> = None;
        loop {
            // The closest unfinished node on either side.
            let (mut best, mut side, mut at) = (f64::INFINITY, 0u8, usize::MAX);
            for i in 0..n {
                if !done_s[i] && ds[i] < best {
                    (best, side, at) = (ds[i], 0, i);
                }
            }
            for j in 0..m {
                if !done_t[j] && dt[j] < best {
                    (best, side, at) = (dt[j], 1, j);
                }
            }
            if at == usize::MAX {
                break;
            }
            if side == 1 && dem[at] > tiny {
                // The nearest sink with demand left: stop here (the usual early exit; potentials below are
                // capped at this distance so reduced costs stay non-negative).
                done_t[at] = true;
                stop_at = Some((at, best));
                break;
            }
            if side == 0 {
                done_s[at] = true;
                for j in 0..m {
                    if done_t[j] {
                        continue;
                    }
                    // Reduced costs are ≥ 0 up to rounding; clamp so that rounding cannot reorder the search.
                    let nd = best + (c[at * m + j] + pi_s[at] - pi_t[j]).max(0.0);
                    if nd < dt[j] {
                        dt[j] = nd;
                        prev_t[j] = at;
                    }
                }
            } else {
                done_t[at] = true;
                for i in 0..n {
                    if !done_s[i] && flow[i * m + at] > tiny {
                        let nd = best + (-c[i * m + at] + pi_t[at] - pi_s[i]).max(0.0);
                        if nd < ds[i] {
                            ds[i] = nd;
                            prev_s[i] = at;
                        }
                    }
                }
            }
        }
        let Some((end, cap)) = stop_at else {
            break;
        };
        // Potentials: finalised nodes by their distance, all others by the path's length.
        for i in 0..n {
            pi_s[i] += if done_s[i] { ds[i] } else { cap };
        }
        for j in 0..m {
            pi_t[j] += if done_t[j] { dt[j] } else { cap };
        }
        // Walk back to find the bottleneck, then augment.
        let mut amount = dem[end];
        let mut j = end;
        let start = loop {
            let i = prev_t[j];
            if prev_s[i] == usize::MAX {
                break i;
            }
            let back = prev_s[i];
            amount = amount.min(flow[i * m + back]);
            j = back;
        };
        amount = amount.min(sup[start]);
        let mut j = end;
        loop {
            let i = prev_t[j];
            flow[i * m + j] += amount;
            if prev_s[i] == usize::MAX {
                break;
            }
            let back = prev_s[i];
            flow[i * m + back] -= amount;
            j = back;
        }
        sup[start] -= amount;
        dem[end] -= amount;
    }
    flow.iter().zip(&c).map(|(f, c)| f * c).sum()
}

#[cfg(test)]
mod emd_tests {
    use super::*;

    #[test]
    fn emd_of_simple_shifts() {
        // All mass one pixel to the right: distance 1; split mass: average distance.
        let a = [1.0, 0.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0, 0.0];
        assert!((emd(&a, &b, 4, 1, 1).unwrap() - 1.0).abs() < 1e-12);
        let c = [0.0, 0.0, 0.0, 1.0];
        assert!((emd(&a, &c, 2, 2, 1).unwrap() - 2f64.sqrt()).abs() < 1e-12);
        let d = [0.5, 0.0, 0.0, 0.5];
        let e = [0.0, 0.5, 0.5, 0.0];
        assert!((emd(&d, &e, 2, 2, 1).unwrap() - 1.0).abs() < 1e-12);
        assert!(emd(&a, &b, 3, 1, 2).is_none());
        assert_eq!(emd(&a, &a, 4, 1, 1).unwrap(), 0.0);
    }
}
