//! Seeded resampling, portable across languages.
//!
//! * [`splitmix64`] — counter-mode SplitMix64: output k (k = 1, 2, …) of the standard generator seeded with
//!   `seed`, computed directly from k, so any language reproduces the same draws (the definition in the
//!   reference notes, `shared/reference/eval/NOTES.md` §2.1).
//! * [`quantile`] — numpy's default (type 7, linear interpolation) quantile.
//! * [`bootstrap_ci`] — percentile bootstrap: resample b, draw j uses index `splitmix64(seed, b·N + j + 1) % N`.
//! * [`approximate_randomization`] — the paired test RadEval's `compare_systems` runs: in each trial every
//!   item's two system outputs are swapped with probability ½ and the corpus metric is recomputed;
//!   `p = #(|Δ_trial| ≥ |Δ_observed|) / trials` (no +1 correction, as RadEval). Swaps use bit 63 of
//!   `splitmix64(seed, t·N + i + 1)` (RadEval uses Python's `random.Random(12345)`, so p-values agree in
//!   distribution, not draw for draw).

pub use cxr_core::rng::splitmix64;

/// numpy's default quantile (type 7) of sorted data, `q` in [0, 1].
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub level: f64,
    pub resamples: usize,
    pub seed: u64,
}

/// Fills `out` with the item indices of bootstrap resample `b` (0-based) of `n` items:
/// draw j is `splitmix64(seed, b·n + j + 1) % n`.
pub fn resample(n: usize, b: usize, seed: u64, out: &mut Vec<usize>) {
    out.clear();
    out.extend((0..n).map(|j| (splitmix64(seed, (b * n + j + 1) as u64) % n.max(1) as u64) as usize));
}

/// The central `level` percentile interval of `values` (NaNs dropped), type-7 quantiles.
pub fn percentile_interval(mut values: Vec<f64>, level: f64) -> (f64, f64) {
    values.retain(|v| !v.is_nan());
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    (quantile(&values, alpha), quantile(&values, 1.0 - alpha))
}

/// Percentile bootstrap CI of a statistic over `n` items. `stat(indices)` computes the statistic on a
/// resample given as item indices (with repetition). Resamples that give NaN are skipped.
pub fn bootstrap_ci(
    n: usize,
    resamples: usize,
    level: f64,
    seed: u64,
    mut stat: impl FnMut(&[usize]) -> f64,
) -> Interval {
    let mut idx = Vec::with_capacity(n);
    let values = (0..resamples)
        .map(|b| {
            resample(n, b, seed, &mut idx);
            stat(&idx)
        })
        .collect();
    let (low, high) = percentile_interval(values, level);
    Interval { low, high, level, resamples, seed }
}

/// Bootstrap CI of a mean of per-item scores.
pub fn bootstrap_mean_ci(scores: &[f64], resamples: usize, level: f64, seed: u64) -> Interval {
    bootstrap_ci(scores.len(), resamples, level, seed, |idx| {
        idx.iter().map(|&i| scores[i]).sum::<f64>() / idx.len().max(1) as f64
    })
}

/// The outcome of a paired approximate randomization test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RandomizationTest {
    /// metric(B) − metric(A) on the real assignment.
    pub observed_delta: f64,
    pub p_value: f64,
    pub trials: usize,
    pub seed: u64,
}

/// Paired approximate randomization. `metric(take_b)` computes the corpus metric of a system whose item
/// `i` is system B's output when `take_b[i]` and system A's otherwise.
pub fn approximate_randomization(
    n: usize,
    trials: usize,
    seed: u64,
    mut metric: impl FnMut(&[bool]) -> f64,
) -> RandomizationTest {
    let a = metric(&vec![false; n]);
    let b = metric(&vec![true; n]);
    let observed = b - a;
    let mut hits = 0usize;
    let mut swap = vec![false; n];
    let mut swap_inv = vec![false; n];
    for t in 0..trials {
        for i in 0..n {
            let s = splitmix64(seed, (t * n + i + 1) as u64) >> 63 == 1;
            swap[i] = s;
            swap_inv[i] = !s;
        }
        // "A" side takes B's output where swapped, the "B" side the opposite.
        let delta = metric(&swap_inv) - metric(&swap);
        if delta.abs() >= observed.abs() {
            hits += 1;
        }
    }
    RandomizationTest { observed_delta: observed, p_value: hits as f64 / trials.max(1) as f64, trials, seed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_vector() {
        // The standard splitmix64 seeded with 0: first output 0xE220A8397B1DCDAF (reference fixtures).
        assert_eq!(splitmix64(0, 1), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn quantile_matches_numpy_type7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.025), 1.075);
        assert_eq!(quantile(&v, 1.0), 4.0);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_mean() {
        let scores: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
        let a = bootstrap_mean_ci(&scores, 500, 0.95, 7);
        assert_eq!(a, bootstrap_mean_ci(&scores, 500, 0.95, 7));
        assert!(a.low < 4.5 && 4.5 < a.high, "{a:?}");
        assert_ne!(a, bootstrap_mean_ci(&scores, 500, 0.95, 8));
    }

    #[test]
    fn randomization_separates_different_systems_only() {
        let a: Vec<f64> = (0..100).map(|i| (i % 7) as f64 / 7.0).collect();
        let better: Vec<f64> = a.iter().map(|x| x + 0.3).collect();
        let mean = |take_b: &[bool], b: &[f64]| {
            take_b.iter().enumerate().map(|(i, &t)| if t { b[i] } else { a[i] }).sum::<f64>() / a.len() as f64
        };
        let t = approximate_randomization(100, 1000, 1, |tb| mean(tb, &better));
        assert!(t.p_value < 0.01, "{t:?}");
        assert!((t.observed_delta - 0.3).abs() < 1e-12);
        let same = approximate_randomization(100, 1000, 1, |tb| mean(tb, &a));
        assert_eq!(same.p_value, 1.0);
    }
}
