//! Post-hoc recalibration fitted on one split and applied to another, and split-conformal prediction sets.
//!
//! Definitions (shared/reference/eval/NOTES.md §2.4):
//! * Platt scaling (Platt 1999): feature `f = logit(p)`, model `P = 1/(1 + exp(A·f + B))`, targets
//!   `t₊ = (N₊+1)/(N₊+2)`, `t₋ = 1/(N₋+2)`, fitted by Newton's method with a backtracking line search to
//!   |gradient| < 1e-10 from Platt's start (A = 0, B = ln((N₋+1)/(N₊+1))). The optimum is unique, so any
//!   correct solver (scikit-learn's `_sigmoid_calibration` uses L-BFGS) agrees to ~1e-8.
//! * Isotonic regression (scikit-learn `IsotonicRegression(increasing=True, out_of_bounds="clip")`): equal
//!   inputs pooled into their weighted mean, pool-adjacent-violators, prediction by linear interpolation
//!   between the fitted points, clipped outside their range.
//! * Split-conformal LAC for one binary label (Sadinle et al. 2019; MAPIE `conformity_score="lac"`):
//!   scores `s(x,1) = 1 − p`, `s(x,0) = p`; `q̂` = the k-th smallest calibration score of the true label,
//!   `k = ⌈(n+1)(1−α)⌉`; the set holds every label with `s − q̂ ≤ 1e-8` (MAPIE's EPSILON).

use serde::Serialize;

/// Logit with probabilities clamped to [1e-15, 1 − 1e-15] (0 and 1 have no finite logit).
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    (p / (1.0 - p)).ln()
}

/// A fitted Platt model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
    pub iterations: usize,
}

impl Platt {
    pub fn apply(&self, p: f64) -> f64 {
        1.0 / (1.0 + (self.a * logit(p) + self.b).exp())
    }
}

/// Negative log-likelihood with Platt's targets, written to stay finite for large |z|.
fn platt_nll(f: &[f64], t: &[f64], a: f64, b: f64) -> f64 {
    f.iter()
        .zip(t)
        .map(|(&x, &ti)| {
            let z = a * x + b;
            // −[t log p + (1−t) log(1−p)] with p = σ(−z): = t·softplus(z) + (1−t)·softplus(−z)
            let sp = |u: f64| if u > 0.0 { u + (-u).exp().ln_1p() } else { u.exp().ln_1p() };
            ti * sp(z) + (1.0 - ti) * sp(-z)
        })
        .sum()
}

/// Fits Platt scaling on probabilities `p` and labels `y`; `None` with one class only.
pub fn fit_platt(p: &[f64], y: &[bool]) -> Option<Platt> {
    let n_pos = y.iter().filter(|&&v| v).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    let (t_pos, t_neg) = ((n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0));
    let f: Vec<f64> = p.iter().map(|&v| logit(v)).collect();
    let t: Vec<f64> = y.iter().map(|&v| if v { t_pos } else { t_neg }).collect();
    let (mut a, mut b) = (0.0, ((n_neg + 1.0) / (n_pos + 1.0)).ln());
    let mut nll = platt_nll(&f, &t, a, b);
    for iter in 0..200 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&x, &ti) in f.iter().zip(&t) {
            let pi = 1.0 / (1.0 + (a * x + b).exp());
            let d = ti - pi;
            ga += d * x;
            gb += d;
            let w = pi * (1.0 - pi);
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        if ga.abs() < 1e-10 && gb.abs() < 1e-10 {
            return Some(Platt { a, b, iterations: iter });
        }
        let det = haa * hbb - hab * hab;
        if det <= 0.0 || !det.is_finite() {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        // Backtracking: halve the step until the objective does not increase.
        let mut step = 1.0;
        loop {
            let (na, nb) = (a - step * da, b - step * db);
            let nn = platt_nll(&f, &t, na, nb);
            if nn <= nll + 1e-12 * nll.abs() || step < 1e-10 {
                a = na;
                b = nb;
                nll = nn;
                break;
            }
            step /= 2.0;
        }
    }
    Some(Platt { a, b, iterations: 200 })
}

/// A fitted isotonic regression: increasing points `(x, y)`, interpolated linearly, clipped outside.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Isotonic {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl Isotonic {
    /// The number of thresholds scikit-learn keeps (interior points of constant runs dropped).
    pub fn n_thresholds(&self) -> usize {
        let n = self.y.len();
        if n <= 2 {
            return n;
        }
        2 + (1..n - 1).filter(|&i| self.y[i] != self.y[i - 1] || self.y[i] != self.y[i + 1]).count()
    }

    pub fn apply(&self, v: f64) -> f64 {
        let (x, y) = (&self.x, &self.y);
        if v <= x[0] {
            return y[0];
        }
        if v >= x[x.len() - 1] {
            return y[y.len() - 1];
        }
        let i = x.partition_point(|&t| t <= v); // x[i-1] <= v < x[i]
        let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
        y0 + (v - x0) * (y1 - y0) / (x1 - x0)
    }
}

/// Fits an increasing isotonic regression of `y` on `p`; `None` for empty input.
pub fn fit_isotonic(p: &[f64], y: &[bool]) -> Option<Isotonic> {
    if p.is_empty() {
        return None;
    }
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Pool equal inputs: (x, weighted mean y, weight).
    let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
    for &i in &idx {
        let yi = if y[i] { 1.0 } else { 0.0 };
        match blocks.last_mut() {
            Some(last) if last.0 == p[i] => {
                last.1 = (last.1 * last.2 + yi) / (last.2 + 1.0);
                last.2 += 1.0;
            }
            _ => blocks.push((p[i], yi, 1.0)),
        }
    }
    let xs: Vec<f64> = blocks.iter().map(|b| b.0).collect();
    // Pool adjacent violators over (mean, weight, count of inputs covered).
    let mut stack: Vec<(f64, f64, usize)> = Vec::with_capacity(blocks.len());
    for &(_, m, w) in &blocks {
        let mut cur = (m, w, 1usize);
        while let Some(&(pm, pw, pc)) = stack.last() {
            if pm <= cur.0 {
                break;
            }
            stack.pop();
            cur = ((pm * pw + cur.0 * cur.1) / (pw + cur.1), pw + cur.1, pc + cur.2);
        }
        stack.push(cur);
    }
    let ys: Vec<f64> = stack.iter().flat_map(|&(m, _, c)| std::iter::repeat_n(m, c)).collect();
    Some(Isotonic { x: xs, y: ys })
}

/// Split-conformal LAC for one binary label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Conformal {
    pub alpha: f64,
    pub n_cal: usize,
    pub k: usize,
    pub qhat: f64,
    pub coverage: f64,
    pub mean_set_size: f64,
    pub frac_empty: f64,
    pub frac_singleton: f64,
    pub frac_both: f64,
}

/// MAPIE's inclusion tolerance.
pub const CONFORMAL_EPSILON: f64 = 1e-8;

/// Calibrates on `(p_cal, y_cal)` at level `alpha` and evaluates the sets on `(p_test, y_test)`; `None` when
/// `k` exceeds the calibration size (α too small for n).
pub fn conformal_lac(p_cal: &[f64], y_cal: &[bool], p_test: &[f64], y_test: &[bool], alpha: f64) -> Option<Conformal> {
    let n = p_cal.len();
    let k = ((n as f64 + 1.0) * (1.0 - alpha)).ceil() as usize;
    if k == 0 || k > n {
        return None;
    }
    let mut scores: Vec<f64> = p_cal.iter().zip(y_cal).map(|(&p, &y)| if y { 1.0 - p } else { p }).collect();
    scores.sort_by(f64::total_cmp);
    let qhat = scores[k - 1];
    let (mut covered, mut size, mut empty, mut single, mut both) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for (&p, &y) in p_test.iter().zip(y_test) {
        let has1 = (1.0 - p) - qhat <= CONFORMAL_EPSILON;
        let has0 = p - qhat <= CONFORMAL_EPSILON;
        let s = usize::from(has1) + usize::from(has0);
        size += s;
        covered += usize::from(if y { has1 } else { has0 });
        match s {
            0 => empty += 1,
            1 => single += 1,
            _ => both += 1,
        }
    }
    let nt = p_test.len().max(1) as f64;
    Some(Conformal {
        alpha,
        n_cal: n,
        k,
        qhat,
        coverage: covered as f64 / nt,
        mean_set_size: size as f64 / nt,
        frac_empty: empty as f64 / nt,
        frac_singleton: single as f64 / nt,
        frac_both: both as f64 / nt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_with_ties_matches_the_reference_fixture() {
        // shared/reference/eval small_fixtures.json "isotonic_ties".
        let x = [0.1, 0.2, 0.2, 0.3, 0.4, 0.4, 0.4, 0.7, 0.9];
        let y = [0, 1, 0, 0, 1, 0, 0, 1, 1].map(|v| v == 1);
        let iso = fit_isotonic(&x, &y).unwrap();
        let grid = [0.0, 0.1, 0.15, 0.2, 0.25, 0.35, 0.4, 0.55, 0.7, 0.8, 1.0];
        let want = [
            0.0,
            0.0,
            0.1666666666666666,
            0.3333333333333333,
            0.3333333333333333,
            0.3333333333333333,
            0.3333333333333333,
            0.6666666666666667,
            1.0,
            1.0,
            1.0,
        ];
        for (g, w) in grid.iter().zip(want) {
            assert!((iso.apply(*g) - w).abs() < 1e-12, "{g}: {} vs {w}", iso.apply(*g));
        }
        assert_eq!(iso.n_thresholds(), 5);
    }

    #[test]
    fn conformal_order_statistic() {
        // small_fixtures.json "conformal_qhat": k = ceil(12 · 0.8) = 10, q̂ = 0.8 (scores used directly).
        let scores = [0.05, 0.9, 0.3, 0.3, 0.6, 0.1, 0.2, 0.8, 0.45, 0.7, 0.33];
        // With all labels positive, s = 1 − p: pass p = 1 − score.
        let p: Vec<f64> = scores.iter().map(|s| 1.0 - s).collect();
        let c = conformal_lac(&p, &[true; 11], &p, &[true; 11], 0.2).unwrap();
        assert_eq!(c.k, 10);
        assert!((c.qhat - 0.8).abs() < 1e-15);
    }

    #[test]
    fn platt_recovers_a_known_sigmoid() {
        // Labels drawn deterministically from P = 1/(1 + exp(-2 f + 0.5)): the fit lands near A = -2, B = 0.5.
        let mut p = Vec::new();
        let mut y = Vec::new();
        for i in 0..4000 {
            let f = -4.0 + 8.0 * (i as f64 + 0.5) / 4000.0;
            let prob = 1.0 / (1.0 + (-2.0 * f + 0.5).exp());
            let u = crate::stats::splitmix64(9, i as u64 + 1) as f64 / u64::MAX as f64;
            p.push(1.0 / (1.0 + (-f).exp()));
            y.push(u < prob);
        }
        let m = fit_platt(&p, &y).unwrap();
        assert!((m.a + 2.0).abs() < 0.25 && (m.b - 0.5).abs() < 0.2, "{m:?}");
        assert!(fit_platt(&[0.2, 0.3], &[true, true]).is_none());
    }
}
