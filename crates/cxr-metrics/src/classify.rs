//! Binary classification metrics for one finding: scores against 0/1 labels, with confidence intervals.
//!
//! Definitions (shared/reference/eval/NOTES.md §2.2; each agrees with the named implementation):
//! * AUROC — Mann–Whitney with ties counted ½, `(Σ_pos (#neg below + ½ #neg tied)) / (m·n)` computed on exact
//!   integers and halves and divided once (= scikit-learn `roc_auc_score` to ~1e-16). Undefined (`None`), not
//!   0.5, when only one class is present.
//! * DeLong — the fast algorithm of Sun & Xu (2014) with midranks: placements `V10_i = (r_all(x_i) −
//!   r_pos(x_i))/n`, `V01_j = 1 − (r_all(y_j) − r_neg(y_j))/m`; `Var = var(V10)/m + var(V01)/n` (ddof 1);
//!   CI `AUC ± 1.959963984540054·√Var`, not clipped to [0, 1]. The paired test between two scores on the same
//!   cases uses the 2×2 covariance of the placements; two-sided normal p-value.
//! * Percentile bootstrap of AUROC — resample b, draw j takes row `splitmix64(seed, b·N + j + 1) % N`
//!   ([`crate::stats`]); each resample's AUROC is the weighted Mann–Whitney statistic on the multiplicities,
//!   exact; CI = type-7 quantiles. A resample with one class only is skipped.
//! * Average precision — scikit-learn `average_precision_score`: `Σ (R_n − R_{n−1}) P_n` over distinct
//!   thresholds in descending order, no interpolation. Adjusted AUPRC `1 − ln(AP)/ln(prevalence)`.
//! * Threshold metrics — predicted positive ⇔ `score ≥ t`.
//! * Youden point — the first maximum of TPR − FPR over the ROC points (distinct thresholds, descending).
//! * Calibration — `n` equal-width bins, bin `min(⌊n·p⌋, n−1)`; ECE = Σ (|B|/N)·|acc − conf|, MCE = max over
//!   non-empty bins (positive-class reliability, = torchmetrics `binary_calibration_error`); Brier = mean
//!   (p − y)².

use crate::stats::{percentile_interval, resample, Interval};
use serde::Serialize;

/// Indices sorted by score, ascending (NaN scores must be rejected by the caller).
fn order(scores: &[f64]) -> Vec<usize> {
    let mut o: Vec<usize> = (0..scores.len()).collect();
    o.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    o
}

/// Weighted Mann–Whitney AUROC over rows sorted by score; `w(i)` is row i's multiplicity.
fn auroc_sorted(scores: &[f64], labels: &[bool], sorted: &[usize], w: impl Fn(usize) -> f64) -> Option<f64> {
    let (mut neg_below, mut num, mut pos_total) = (0.0f64, 0.0f64, 0.0f64);
    let mut g = 0;
    while g < sorted.len() {
        let s = scores[sorted[g]];
        let mut end = g;
        let (mut pos_g, mut neg_g) = (0.0, 0.0);
        while end < sorted.len() && scores[sorted[end]] == s {
            let i = sorted[end];
            if labels[i] {
                pos_g += w(i);
            } else {
                neg_g += w(i);
            }
            end += 1;
        }
        num += pos_g * (neg_below + 0.5 * neg_g);
        neg_below += neg_g;
        pos_total += pos_g;
        g = end;
    }
    (pos_total > 0.0 && neg_below > 0.0).then(|| num / (pos_total * neg_below))
}

/// AUROC; `None` when only one class is present.
pub fn auroc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    auroc_sorted(scores, labels, &order(scores), |_| 1.0)
}

/// Midranks (1-based, ties share the mean rank) of `values`.
fn midranks(values: &[f64]) -> Vec<f64> {
    let o = order(values);
    let mut r = vec![0.0; values.len()];
    let mut i = 0;
    while i < o.len() {
        let mut j = i;
        while j < o.len() && values[o[j]] == values[o[i]] {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        for &k in &o[i..j] {
            r[k] = mid;
        }
        i = j;
    }
    r
}

/// DeLong's AUROC, variance and 95% CI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DeLong {
    pub auc: f64,
    pub var: f64,
    pub se: f64,
    pub ci95: [f64; 2],
}

/// 1.959963984540054 = Φ⁻¹(0.975).
pub const Z975: f64 = 1.959963984540054;

/// Placements (V10 over positives, V01 over negatives).
fn placements(scores: &[f64], labels: &[bool]) -> Option<(Vec<f64>, Vec<f64>)> {
    let pos: Vec<f64> = scores.iter().zip(labels).filter(|(_, &l)| l).map(|(s, _)| *s).collect();
    let neg: Vec<f64> = scores.iter().zip(labels).filter(|(_, &l)| !l).map(|(s, _)| *s).collect();
    let (m, n) = (pos.len() as f64, neg.len() as f64);
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let (r_all, r_pos, r_neg) = (midranks(&all), midranks(&pos), midranks(&neg));
    let v10 = (0..pos.len()).map(|i| (r_all[i] - r_pos[i]) / n).collect();
    let v01 = (0..neg.len()).map(|j| 1.0 - (r_all[pos.len() + j] - r_neg[j]) / m).collect();
    Some((v10, v01))
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn cov(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / (a.len() as f64 - 1.0)
}

/// DeLong AUROC with variance and CI; `None` with one class only.
pub fn delong(scores: &[f64], labels: &[bool]) -> Option<DeLong> {
    let (v10, v01) = placements(scores, labels)?;
    let (m, n) = (v10.len() as f64, v01.len() as f64);
    let auc = mean(&v10);
    let var = cov(&v10, &v10) / m + cov(&v01, &v01) / n;
    let se = var.sqrt();
    Some(DeLong { auc, var, se, ci95: [auc - Z975 * se, auc + Z975 * se] })
}

/// The paired DeLong test of two scores on the same cases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedDeLong {
    pub auc1: f64,
    pub auc2: f64,
    pub var1: f64,
    pub var2: f64,
    pub cov12: f64,
    pub z: f64,
    pub p_value: f64,
}

/// Paired DeLong test; `None` with one class only or zero variance of the difference.
pub fn paired_delong(s1: &[f64], s2: &[f64], labels: &[bool]) -> Option<PairedDeLong> {
    let (a10, a01) = placements(s1, labels)?;
    let (b10, b01) = placements(s2, labels)?;
    let (m, n) = (a10.len() as f64, a01.len() as f64);
    let var1 = cov(&a10, &a10) / m + cov(&a01, &a01) / n;
    let var2 = cov(&b10, &b10) / m + cov(&b01, &b01) / n;
    let cov12 = cov(&a10, &b10) / m + cov(&a01, &b01) / n;
    let (auc1, auc2) = (mean(&a10), mean(&b10));
    let d = var1 + var2 - 2.0 * cov12;
    if d <= 0.0 {
        return None;
    }
    let z = (auc1 - auc2) / d.sqrt();
    Some(PairedDeLong { auc1, auc2, var1, var2, cov12, z, p_value: erfc(z.abs() / std::f64::consts::SQRT_2) })
}

/// The complementary error function: Maclaurin series of erf below 2, Laplace's continued fraction above
/// (relative accuracy ~1e-14 over the range used for p-values, including the far tail).
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // erf(x) = 2/√π Σ (−1)^k x^(2k+1) / (k! (2k+1))
        let (mut term, mut sum, x2) = (x, x, x * x);
        for k in 1..200 {
            term *= -x2 / k as f64;
            let t = term / (2 * k + 1) as f64;
            sum += t;
            if t.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated backwards.
    let mut f = x;
    for k in (1..120).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / f
}

/// Percentile bootstrap of AUROC: the interval and every resample's value (resamples with one class only
/// are skipped). Sorts once; a resample counts its draws straight into sorted positions and makes one
/// sequential pass over tie groups. Resamples run in parallel; each value is stored at its resample's
/// index, so the result does not depend on the thread count.
pub fn bootstrap_auroc(
    scores: &[f64],
    labels: &[bool],
    resamples: usize,
    level: f64,
    seed: u64,
) -> (Interval, Vec<f64>) {
    use rayon::prelude::*;
    let n = scores.len();
    let sorted = order(scores);
    let mut rank = vec![0u32; n];
    for (r, &i) in sorted.iter().enumerate() {
        rank[i] = r as u32;
    }
    let pos_sorted: Vec<bool> = sorted.iter().map(|&i| labels[i]).collect();
    // Tie groups as [start, end) ranges over sorted positions.
    let mut groups = Vec::new();
    let mut g = 0;
    while g < n {
        let mut e = g + 1;
        while e < n && scores[sorted[e]] == scores[sorted[g]] {
            e += 1;
        }
        groups.push((g as u32, e as u32));
        g = e;
    }
    let per: Vec<Option<f64>> = (0..resamples)
        .into_par_iter()
        .map_init(
            || (Vec::with_capacity(n), vec![0u32; n]),
            |(idx, counts), b| {
                resample(n, b, seed, idx);
                counts.iter_mut().for_each(|c| *c = 0);
                for &i in idx.iter() {
                    counts[rank[i] as usize] += 1;
                }
                let (mut neg_below, mut num, mut pos_total) = (0.0f64, 0.0f64, 0.0f64);
                for &(s, e) in &groups {
                    let (mut pg, mut ng) = (0u64, 0u64);
                    for k in s as usize..e as usize {
                        let c = u64::from(counts[k]);
                        if pos_sorted[k] {
                            pg += c;
                        } else {
                            ng += c;
                        }
                    }
                    num += pg as f64 * (neg_below + 0.5 * ng as f64);
                    neg_below += ng as f64;
                    pos_total += pg as f64;
                }
                (pos_total > 0.0 && neg_below > 0.0).then(|| num / (pos_total * neg_below))
            },
        )
        .collect();
    let values: Vec<f64> = per.into_iter().flatten().collect();
    let (low, high) = percentile_interval(values.clone(), level);
    (Interval { low, high, level, resamples, seed }, values)
}

/// The ROC/PR points: for each distinct score in descending order, the threshold and the cumulative true
/// and false positives at `score ≥ threshold` (scikit-learn's `_binary_clf_curve`, without the dropping of
/// collinear points).
pub fn curve_points(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64, f64)> {
    let mut o = order(scores);
    o.reverse();
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < o.len() {
        let s = scores[o[i]];
        while i < o.len() && scores[o[i]] == s {
            if labels[o[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        out.push((s, tp, fp));
    }
    out
}

/// Average precision (scikit-learn's definition); `None` without positives.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let total_pos = labels.iter().filter(|&&l| l).count() as f64;
    if total_pos == 0.0 {
        return None;
    }
    let (mut ap, mut prev_recall) = (0.0, 0.0);
    for (_, tp, fp) in curve_points(scores, labels) {
        let recall = tp / total_pos;
        ap += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
    }
    Some(ap)
}

/// Confusion counts and rates at a threshold (positive ⇔ score ≥ threshold). Rates with a zero denominator
/// are NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtThreshold {
    pub threshold: f64,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
    pub sensitivity: f64,
    pub specificity: f64,
    pub ppv: f64,
    pub npv: f64,
    pub f1: f64,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Metrics at `threshold`.
pub fn at_threshold(scores: &[f64], labels: &[bool], threshold: f64) -> AtThreshold {
    let (mut tp, mut fp, mut tn, mut fn_) = (0u64, 0u64, 0u64, 0u64);
    for (&s, &l) in scores.iter().zip(labels) {
        match (s >= threshold, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fn_ += 1,
        }
    }
    let sensitivity = ratio(tp, tp + fn_);
    let specificity = ratio(tn, tn + fp);
    AtThreshold {
        threshold,
        tp,
        fp,
        tn,
        fn_,
        sensitivity,
        specificity,
        ppv: ratio(tp, tp + fp),
        npv: ratio(tn, tn + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
        accuracy: ratio(tp + tn, tp + tn + fp + fn_),
        balanced_accuracy: (sensitivity + specificity) / 2.0,
    }
}

/// The Youden operating point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Youden {
    pub threshold: f64,
    pub sensitivity: f64,
    pub specificity: f64,
    pub j: f64,
}

/// The first maximum of TPR − FPR over ROC points (thresholds = distinct scores, descending).
pub fn youden(scores: &[f64], labels: &[bool]) -> Option<Youden> {
    let p = labels.iter().filter(|&&l| l).count() as f64;
    let n = labels.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return None;
    }
    let mut best: Option<Youden> = None;
    for (s, tp, fp) in curve_points(scores, labels) {
        let (tpr, fpr) = (tp / p, fp / n);
        if best.is_none_or(|b| tpr - fpr > b.j) {
            best = Some(Youden { threshold: s, sensitivity: tpr, specificity: 1.0 - fpr, j: tpr - fpr });
        }
    }
    best
}

/// Reliability of probabilities in equal-width bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub bins: usize,
    pub ece: f64,
    pub mce: f64,
    pub brier: f64,
    pub bin_count: Vec<u64>,
    pub bin_mean_confidence: Vec<f64>,
    pub bin_mean_accuracy: Vec<f64>,
}

/// ECE, MCE, Brier and the reliability table; probabilities must lie in [0, 1].
pub fn calibration(probs: &[f64], labels: &[bool], bins: usize) -> Calibration {
    let mut count = vec![0u64; bins];
    let mut conf = vec![0.0; bins];
    let mut acc = vec![0.0; bins];
    let mut brier = 0.0;
    for (&p, &l) in probs.iter().zip(labels) {
        let b = ((p * bins as f64).floor() as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += p;
        let y = if l { 1.0 } else { 0.0 };
        acc[b] += y;
        brier += (p - y) * (p - y);
    }
    let n = probs.len() as f64;
    let (mut ece, mut mce) = (0.0f64, 0.0f64);
    for b in 0..bins {
        if count[b] > 0 {
            conf[b] /= count[b] as f64;
            acc[b] /= count[b] as f64;
            let gap = (acc[b] - conf[b]).abs();
            ece += count[b] as f64 / n * gap;
            mce = mce.max(gap);
        } else {
            conf[b] = f64::NAN;
            acc[b] = f64::NAN;
        }
    }
    Calibration {
        bins,
        ece,
        mce,
        brier: brier / n,
        bin_count: count,
        bin_mean_confidence: conf,
        bin_mean_accuracy: acc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference notes' ten-sample fixture (ties included): AUROC exactly 34/50.
    fn tiny() -> (Vec<f64>, Vec<bool>) {
        let y = [1, 1, 0, 0, 1, 0, 1, 0, 0, 1];
        let s = [0.9, 0.8, 0.8, 0.3, 0.5, 0.5, 0.2, 0.1, 0.6, 0.7];
        (s.to_vec(), y.iter().map(|&v| v == 1).collect())
    }

    #[test]
    fn tiny_fixture() {
        let (s, y) = tiny();
        assert_eq!(auroc(&s, &y), Some(34.0 / 50.0));
        let d = delong(&s, &y).unwrap();
        assert!((d.var - 0.034800000000000005).abs() < 1e-15);
        let (v10, v01) = placements(&s, &y).unwrap();
        assert_eq!(v10, [1.0, 0.9, 0.5, 0.2, 0.8]);
        for (a, b) in v01.iter().zip([0.3, 0.8, 0.7, 1.0, 0.6]) {
            assert!((a - b).abs() < 1e-15);
        }
        assert!((average_precision(&s, &y).unwrap() - 0.7087301587301588).abs() < 1e-15);
    }

    #[test]
    fn undefined_with_one_class() {
        assert_eq!(auroc(&[0.1, 0.9], &[true, true]), None);
        assert!(delong(&[0.1, 0.9], &[false, false]).is_none());
        assert_eq!(average_precision(&[0.2], &[false]), None);
        assert!(youden(&[0.2], &[true]).is_none());
    }

    #[test]
    fn erfc_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-16);
        assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-15);
        assert!((erfc(3.0) / 2.209_049_699_858_544e-5 - 1.0).abs() < 1e-13);
        // Far tail: erfc(20) = 5.395865611607901e-176
        assert!((erfc(20.0) / 5.395_865_611_607_901e-176 - 1.0).abs() < 1e-13);
    }

    #[test]
    fn threshold_and_calibration() {
        let (s, y) = tiny();
        let t = at_threshold(&s, &y, 0.5);
        assert_eq!((t.tp, t.fp, t.tn, t.fn_), (4, 3, 2, 1));
        let c = calibration(&s, &y, 10);
        assert_eq!(c.bin_count.iter().sum::<u64>(), 10);
        assert!(c.ece >= 0.0 && c.mce >= c.ece);
    }
}
