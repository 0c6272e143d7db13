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
    let mut sorted = sn.clone();
    sorted.sort_by(f64::total_cmp);
    let (mut tp, mut fp) = (vec![0.0], vec![0.0]);
    for (i, &t) in th.iter().enumerate() {
        let above = sorted.len() - sorted.partition_point(|&x| x < t);
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
