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
//!   exactly; block means are the reproducible stand-in (`block = 32` matches its scale). Mass present in
//!   both maps stays put (the ground distance is a metric), and the rest is moved by an exact transportation
//!   solver (network simplex, in `transport.rs`).
//!
//! [`evaluate`] computes every metric of one map pair, sharing the passes they have in common (extremes,
//! sums, moments, the fixated pixels); the single-metric functions give the same numbers.

mod kernels;
mod transport;

use crate::stats::splitmix64;
use kernels::{centred_squares, extremes, pair_sums, sum_by, sums_of_pairs, Extremes, PairSums};
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

/// Every metric of one saliency map against one gaze recording (module notes give the definitions).
/// `None` where a metric is undefined for these maps (no fixations, a constant map, sizes that `emd_block` does
/// not divide) or, for the density metrics, when no density map was given or its size differs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SaliencyScores {
    pub nss_matlab: Option<f64>,
    pub nss_pysaliency: Option<f64>,
    pub auc_judd: Option<f64>,
    pub auc_borji: Option<f64>,
    pub cc: Option<f64>,
    pub kld: Option<f64>,
    pub sim_matlab: Option<f64>,
    pub sim_pysaliency: Option<f64>,
    pub emd: Option<f64>,
}

/// Settings of the sampled and reduced metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaliencyOptions {
    /// AUC-Borji: number of random splits, threshold step and sampler seed.
    pub borji_splits: usize,
    pub borji_step: f64,
    pub seed: u64,
    /// EMD: side of the blocks the maps are averaged over first (32 = the MIT benchmark's 1/32 scale).
    pub emd_block: usize,
}

impl Default for SaliencyOptions {
    fn default() -> Self {
        SaliencyOptions { borji_splits: 100, borji_step: 0.1, seed: 7, emd_block: 32 }
    }
}

/// All metrics of one pair: `s` the model's map and `fixations` the fixated pixels (both `width × height`,
/// row major), and optionally the fixation density `density` for CC, KLD, SIM and EMD. Each map is summarised
/// once (extremes, sum, moments) and the fixated pixels are listed once, instead of once per metric.
pub fn evaluate(
    s: &[f64],
    fixations: &[bool],
    density: Option<&[f64]>,
    width: usize,
    height: usize,
    options: &SaliencyOptions,
) -> SaliencyScores {
    let es = extremes(s);
    let fix = fixated(fixations, s.len());
    let scale = MinMaxScale::of(&es);
    let density = density.filter(|g| g.len() == s.len());
    // With a density map, the map's centred squares come out of the pass over both maps.
    let pair = density.map(|g| {
        let eg = extremes(g);
        (g, eg, pair_sums::<true>(s, g, &es, &eg))
    });
    let squares = pair.as_ref().map_or_else(|| centred_squares(s, &es), |p| p.2.squares_s);
    let mut out = SaliencyScores {
        nss_matlab: nss_with(s, &es, squares, &fix, StdDdof::Matlab),
        nss_pysaliency: nss_with(s, &es, squares, &fix, StdDdof::Pysaliency),
        auc_judd: auc_judd_with(s, scale, &fix),
        auc_borji: auc_borji_with(s, scale, &fix, options.borji_splits, options.borji_step, options.seed)
            .map(|(mean, _)| mean),
        cc: None,
        kld: None,
        sim_matlab: None,
        sim_pysaliency: None,
        emd: None,
    };
    if let Some((g, eg, sums)) = pair {
        let [sim_matlab, sim_pysaliency] = sims_with(s, g, &es, &eg, &sums);
        out.cc = Some(cc_with(&sums));
        out.kld = Some(sums.kld);
        out.sim_matlab = Some(sim_matlab);
        out.sim_pysaliency = Some(sim_pysaliency);
        out.emd = emd(s, g, width, height, options.emd_block);
    }
    out
}

/// Indices of the fixated pixels among the first `len`.
fn fixated(fixations: &[bool], len: usize) -> Vec<usize> {
    fixations.iter().take(len).enumerate().filter(|(_, &f)| f).map(|(i, _)| i).collect()
}

/// MATLAB's `mat2gray`-style scaling `(x − min)/(max − min)` (0 for a constant map), computed the same way
/// wherever a normalised value is needed, so comparisons between normalised values are exact.
#[derive(Clone, Copy)]
struct MinMaxScale {
    lo: f64,
    range: f64,
}

impl MinMaxScale {
    fn of(m: &Extremes) -> Self {
        MinMaxScale { lo: m.lo, range: if m.hi > m.lo { m.hi - m.lo } else { 0.0 } }
    }

    #[inline]
    fn apply(self, x: f64) -> f64 {
        if self.range > 0.0 {
            (x - self.lo) / self.range
        } else {
            0.0
        }
    }
}

/// Normalised scanpath saliency; `None` without fixations or with a constant map.
pub fn nss(s: &[f64], fixations: &[bool], ddof: StdDdof) -> Option<f64> {
    let e = extremes(s);
    nss_with(s, &e, centred_squares(s, &e), &fixated(fixations, s.len()), ddof)
}

fn nss_with(s: &[f64], e: &Extremes, centred_squares: f64, fix: &[usize], ddof: StdDdof) -> Option<f64> {
    let (n, mean) = (e.len as f64, e.mean());
    let sd = (centred_squares / if ddof == StdDdof::Matlab { n - 1.0 } else { n }).sqrt();
    let total: f64 = fix.iter().map(|&i| (s[i] - mean) / sd).sum();
    (!fix.is_empty() && sd > 0.0).then(|| total / fix.len() as f64)
}

/// Pearson correlation of two maps.
pub fn cc(s: &[f64], g: &[f64]) -> f64 {
    cc_with(&pair_sums::<false>(s, g, &extremes(s), &extremes(g)))
}

fn cc_with(p: &PairSums) -> f64 {
    p.cross / (p.squares_s * p.squares_g).sqrt()
}

/// KL divergence of the gaze density from the saliency map, KL(G‖S).
pub fn kld(s: &[f64], g: &[f64]) -> f64 {
    pair_sums::<true>(s, g, &extremes(s), &extremes(g)).kld
}

/// Histogram intersection of the two maps.
pub fn sim(s: &[f64], g: &[f64], v: SimVariant) -> f64 {
    let (es, eg) = (extremes(s), extremes(g));
    let both = sims_with(s, g, &es, &eg, &pair_sums::<false>(s, g, &es, &eg));
    match v {
        SimVariant::Matlab => both[0],
        SimVariant::Pysaliency => both[1],
    }
}

/// SIM in both variants, in one pass.
fn sims_with(s: &[f64], g: &[f64], es: &Extremes, eg: &Extremes, p: &PairSums) -> [f64; 2] {
    // MATLAB's (x − min)/(max − min) followed by division by the sum is (x − min)/Σ(x − min): the range
    // cancels, so no pixel is divided. A constant map gives 0·∞ = NaN, which `f64::min` skips as MATLAB's
    // `min` does.
    let (ls, lg) = (es.lo, eg.lo);
    let (rs_m, rg_m) = (1.0 / p.above_min_s, 1.0 / p.above_min_g);
    let (rs_p, rg_p) = (1.0 / es.sum, 1.0 / eg.sum);
    sums_of_pairs(s, g, |a, b| [((a - ls) * rs_m).min((b - lg) * rg_m), (a * rs_p).min(b * rg_p)])
}

/// Adds one trapezoid to a running area (the curve's points are visited in order).
#[inline]
fn trapezoid_step(area: &mut f64, from: (f64, f64), to: (f64, f64)) {
    *area += (to.0 - from.0) * (from.1 + to.1) / 2.0;
}

/// Maps doubles to integers in the same order (the order of `f64::total_cmp`), and back.
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

fn from_ordered_bits(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// The lowest raw value `y ≥ lo` whose normalised value reaches that of `x`: for every pixel `p`,
/// `k(x) > k(p)` exactly when `p < y`. Rounding in `k` can merge neighbouring raw values, so `y` is found by
/// bisection over the doubles between the minimum and `x` rather than assumed to be `x`.
fn lowest_raw_reaching(k: MinMaxScale, x: f64) -> f64 {
    if k.range == 0.0 || !x.is_finite() || x < k.lo {
        // A constant map: every pixel reaches every threshold.
        return if k.range == 0.0 { f64::NEG_INFINITY } else { x };
    }
    let t = k.apply(x);
    if k.apply(k.lo) >= t {
        return k.lo;
    }
    // Invariant: k(below) < t ≤ k(reach).
    let (mut below, mut reach) = (ordered_bits(k.lo), ordered_bits(x));
    while reach - below > 1 {
        let mid = below + (reach - below) / 2;
        if k.apply(from_ordered_bits(mid)) >= t {
            reach = mid;
        } else {
            below = mid;
        }
    }
    from_ordered_bits(reach)
}

/// Buckets over the map's range for counting pixels against the AUC-Judd thresholds: the bucket index is
/// monotone in the value, so a threshold in a lower bucket is certainly not above the pixel and only
/// same-bucket thresholds are compared.
const JUDD_BUCKETS: usize = 4096;

/// AUC-Judd without jitter; `None` without fixations or when every pixel is fixated.
pub fn auc_judd(s: &[f64], fixations: &[bool]) -> Option<f64> {
    auc_judd_with(s, MinMaxScale::of(&extremes(s)), &fixated(fixations, s.len()))
}

fn auc_judd_with(s: &[f64], k: MinMaxScale, fix: &[usize]) -> Option<f64> {
    // Thresholds in raw units (see `lowest_raw_reaching`), so the pass over the pixels divides nothing.
    let mut th: Vec<f64> = fix.iter().map(|&i| lowest_raw_reaching(k, s[i])).collect();
    let (nf, np) = (th.len(), s.len());
    if nf == 0 || nf == np {
        return None;
    }
    th.sort_by(|a, b| b.total_cmp(a));
    let scale = if k.range > 0.0 { JUDD_BUCKETS as f64 / k.range } else { 0.0 };
    // Round-to-nearest through the mantissa of 2^52 + v (v in [0, B − 1] after the `min`): monotone like a
    // floor, without the saturating float-to-integer conversion; a NaN lands in some bucket, never outside.
    let top = (JUDD_BUCKETS - 1) as f64;
    let bucket = |x: f64| {
        let v = ((x - k.lo) * scale).min(top).max(0.0);
        ((v + 4_503_599_627_370_496.0).to_bits() as usize) & (JUDD_BUCKETS - 1)
    };
    // above[b]: thresholds in buckets above b; they come first in the descending list, followed by the
    // thresholds in bucket b itself.
    let mut above = vec![0u32; JUDD_BUCKETS];
    for &t in &th {
        above[bucket(t)] += 1;
    }
    let mut run = 0u32;
    for b in (0..JUDD_BUCKETS).rev() {
        let here = above[b];
        above[b] = run;
        run += here;
    }
    // reach[i]: pixels below exactly the first i thresholds (so at or above th[i..]). Four counters per
    // entry, one per lane, so that neighbouring pixels (often in the same bucket) do not wait on each
    // other's increments.
    let mut lanes = vec![[0u32; 4]; nf + 1];
    let first_below = |x: f64| {
        let mut i = above[bucket(x)] as usize;
        while i < nf && x < th[i] {
            i += 1;
        }
        i
    };
    let chunks = s.chunks_exact(4);
    for &x in chunks.remainder() {
        lanes[first_below(x)][0] += 1;
    }
    for c in chunks {
        for (lane, &x) in c.iter().enumerate() {
            lanes[first_below(x)][lane] += 1;
        }
    }
    let reach: Vec<u32> = lanes.iter().map(|l| l.iter().sum()).collect();
    let (mut area, mut last, mut at_or_above) = (0.0, (0.0, 0.0), 0usize);
    for (i, &r) in reach[..nf].iter().enumerate() {
        at_or_above += r as usize;
        let point = (at_or_above.saturating_sub(i + 1) as f64 / (np - nf) as f64, (i + 1) as f64 / nf as f64);
        trapezoid_step(&mut area, last, point);
        last = point;
    }
    trapezoid_step(&mut area, last, (1.0, 1.0));
    Some(area)
}

/// AUC-Borji with a seeded SplitMix64 sampler; returns the mean and the per-split values (`None` without
/// fixations, without splits, or for a step that is not a positive number).
pub fn auc_borji(s: &[f64], fixations: &[bool], splits: usize, step: f64, seed: u64) -> Option<(f64, Vec<f64>)> {
    auc_borji_with(s, MinMaxScale::of(&extremes(s)), &fixated(fixations, s.len()), splits, step, seed)
}

fn auc_borji_with(
    s: &[f64],
    k: MinMaxScale,
    fix: &[usize],
    splits: usize,
    step: f64,
    seed: u64,
) -> Option<(f64, Vec<f64>)> {
    let fix: Vec<f64> = fix.iter().map(|&i| k.apply(s[i])).collect();
    let (nf, np) = (fix.len(), s.len());
    // A step that is not a positive number has no thresholds to walk.
    if nf == 0 || splits == 0 || !(step > 0.0 && step.is_finite()) {
        return None;
    }
    let fix_max = fix.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    let mut rnd = vec![0.0; nf];
    let mut per = Vec::with_capacity(splits);
    for sp in 0..splits {
        for (f, r) in rnd.iter_mut().enumerate() {
            *r = k.apply(s[(splitmix64(seed, (sp * nf + f + 1) as u64) % np as u64) as usize]);
        }
        let max = rnd.iter().fold(fix_max, |m, &x| m.max(x));
        let kmax = (max / step + 1e-9).floor() as i64;
        let (mut area, mut last) = (0.0, (0.0, 0.0));
        for kk in (0..=kmax).rev() {
            let t = kk as f64 * step;
            let tp = fix.iter().filter(|&&x| x >= t).count() as f64 / nf as f64;
            let fp = rnd.iter().filter(|&&x| x >= t).count() as f64 / nf as f64;
            trapezoid_step(&mut area, last, (fp, tp));
            last = (fp, tp);
        }
        trapezoid_step(&mut area, last, (1.0, 1.0));
        per.push(area);
    }
    Some((sum_by(&per, |x| x) / per.len() as f64, per))
}

/// Block means of a `width × height` map (`None` unless both sides are multiples of `block`).
fn block_means(v: &[f64], width: usize, height: usize, block: usize) -> Option<Vec<f64>> {
    if block == 0 || !width.is_multiple_of(block) || !height.is_multiple_of(block) || v.len() != width * height {
        return None;
    }
    let w = width / block;
    let mut out = vec![0.0; w * (height / block)];
    for (y, row) in v.chunks_exact(width).enumerate() {
        let cells = &mut out[(y / block) * w..][..w];
        for (cell, run) in cells.iter_mut().zip(row.chunks_exact(block)) {
            *cell += sum_by(run, |x| x);
        }
    }
    let n = (block * block) as f64;
    out.iter_mut().for_each(|c| *c /= n);
    Some(out)
}

/// Earth mover's distance between a saliency map and a fixation density (see the module notes); `None` when
/// the sizes are not multiples of `block` or a map sums to zero.
pub fn emd(s: &[f64], g: &[f64], width: usize, height: usize, block: usize) -> Option<f64> {
    let (a, b) = (block_means(s, width, height, block)?, block_means(g, width, height, block)?);
    let (sa, sb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if !(sa > 0.0 && sb > 0.0) || a.iter().chain(&b).any(|v| *v < 0.0 || !v.is_finite()) {
        return None;
    }
    // Mass present in both maps stays where it is: with a metric ground distance, moving shared mass never
    // lowers the cost, so only the excess of one map over the other travels. Same optimum, half the nodes.
    let (mut from, mut to) = (Vec::new(), Vec::new());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let d = x / sa - y / sb;
        if d > 0.0 {
            from.push((i, d));
        } else if d < 0.0 {
            to.push((i, -d));
        }
    }
    let w = width / block;
    let centre = |i: usize| ((i / w) as f64, (i % w) as f64);
    let mut cost = Vec::with_capacity(from.len() * to.len());
    for &(i, _) in &from {
        let (yi, xi) = centre(i);
        cost.extend(to.iter().map(|&(j, _)| {
            let (yj, xj) = centre(j);
            ((yi - yj).powi(2) + (xi - xj).powi(2)).sqrt()
        }));
    }
    let supply: Vec<f64> = from.iter().map(|p| p.1).collect();
    let demand: Vec<f64> = to.iter().map(|p| p.1).collect();
    Some(transport::min_cost(&supply, &demand, &cost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluate_gives_the_numbers_of_the_single_metrics() {
        let (w, h) = (24, 16);
        let s: Vec<f64> = (0..w * h).map(|i| ((i * 7919) % 257) as f64 / 257.0 + 0.01).collect();
        let g: Vec<f64> = (0..w * h).map(|i| ((i * 104_729) % 131) as f64 / 131.0 + 1e-9).collect();
        let f: Vec<bool> = (0..w * h).map(|i| i % 17 == 3).collect();
        let o = SaliencyOptions { emd_block: 8, ..SaliencyOptions::default() };
        let e = evaluate(&s, &f, Some(&g), w, h, &o);
        assert_eq!(e.nss_matlab, nss(&s, &f, StdDdof::Matlab));
        assert_eq!(e.nss_pysaliency, nss(&s, &f, StdDdof::Pysaliency));
        assert_eq!(e.auc_judd, auc_judd(&s, &f));
        assert_eq!(e.auc_borji, auc_borji(&s, &f, 100, 0.1, 7).map(|x| x.0));
        assert_eq!(e.cc, Some(cc(&s, &g)));
        assert_eq!(e.kld, Some(kld(&s, &g)));
        assert_eq!(e.sim_matlab, Some(sim(&s, &g, SimVariant::Matlab)));
        assert_eq!(e.sim_pysaliency, Some(sim(&s, &g, SimVariant::Pysaliency)));
        assert_eq!(e.emd, emd(&s, &g, w, h, 8));
        assert!(e.emd.is_some() && e.cc.unwrap() > -1.0);
        // Without a density, or with one of another size, the density metrics are left out.
        let alone = evaluate(&s, &f, None, w, h, &o);
        assert_eq!((alone.cc, alone.emd, alone.auc_judd), (None, None, e.auc_judd));
        assert_eq!(evaluate(&s, &f, Some(&g[1..]), w, h, &o).kld, None);
    }

    /// AUC-Judd straight from the definition: normalise every pixel, sort, count.
    fn auc_judd_by_definition(s: &[f64], f: &[bool]) -> f64 {
        let k = MinMaxScale::of(&extremes(s));
        let sn: Vec<f64> = s.iter().map(|&x| k.apply(x)).collect();
        let mut th: Vec<f64> = sn.iter().zip(f).filter(|(_, &f)| f).map(|(&x, _)| x).collect();
        th.sort_by(|a, b| b.total_cmp(a));
        let (nf, np) = (th.len() as f64, sn.len() as f64);
        let (mut xs, mut ys) = (vec![0.0], vec![0.0]);
        for (i, t) in th.iter().enumerate() {
            let above = sn.iter().filter(|&&x| x >= *t).count() as f64;
            xs.push((above - (i + 1) as f64) / (np - nf));
            ys.push((i + 1) as f64 / nf);
        }
        xs.push(1.0);
        ys.push(1.0);
        xs.windows(2).zip(ys.windows(2)).map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0).sum()
    }

    #[test]
    fn auc_judd_counts_like_the_definition_even_when_rounding_merges_values() {
        let mut state = 99u64;
        let mut next = || {
            state = splitmix64(state, 1);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        // Offsets and scales where (x − min)/(max − min) maps many raw values onto one, plus plain maps with
        // ties and a map whose fixations sit on its minimum and maximum.
        for (offset, scale, levels) in [(0.0, 1.0, 0.0), (-1e10, 1.0, 0.0), (3e7, 1e-3, 0.0), (0.0, 1.0, 16.0)] {
            for case in 0..20 {
                let n = 400 + case * 37;
                let s: Vec<f64> = (0..n)
                    .map(|_| {
                        let v = next();
                        offset + scale * if levels > 0.0 { (v * levels).floor() } else { v }
                    })
                    .collect();
                let mut f: Vec<bool> = (0..n).map(|_| next() < 0.1).collect();
                f[case] = true;
                let (got, want) = (auc_judd(&s, &f).unwrap(), auc_judd_by_definition(&s, &f));
                assert!((got - want).abs() <= 1e-12, "offset {offset} case {case}: {got} vs {want}");
            }
        }
        let s = [0.0, 1.0, 0.5, 0.5];
        assert_eq!(
            auc_judd(&s, &[true, true, false, false]),
            Some(auc_judd_by_definition(&s, &[true, true, false, false]))
        );
        assert!(auc_judd(&[2.0; 6], &[true, false, false, false, false, false]).is_some());
    }

    #[test]
    fn raw_thresholds_are_the_lowest_values_that_reach_the_normalised_one() {
        let mut merged = 0;
        for (lo, range) in [(0.0, 3.0), (-7.3, 0.1), (1e-3, 1e6), (-1e10, 12.5)] {
            let k = MinMaxScale { lo, range };
            for i in 0..2000 {
                let x = lo + range * (i as f64 / 1999.0).powi(3);
                let y = lowest_raw_reaching(k, x);
                assert!(y <= x && k.apply(y) >= k.apply(x), "{lo} {range} {x}: {y}");
                assert!(y == lo || k.apply(y.next_down()) < k.apply(x), "{lo} {range} {x}: {y} is not the lowest");
                merged += usize::from(y < x);
            }
        }
        // Rounding does merge raw values in these ranges, so the bisection is exercised.
        assert!(merged > 0);
        assert_eq!(lowest_raw_reaching(MinMaxScale { lo: 1.0, range: 0.0 }, 1.0), f64::NEG_INFINITY);
    }

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
        assert!(auc_borji(&s, &f, 10, 0.0, 1).is_none() && auc_borji(&s, &f, 10, f64::NAN, 1).is_none());
    }
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
