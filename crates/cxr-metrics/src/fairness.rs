//! Subgroup performance and gaps (fairlearn's definitions).
//!
//! At a threshold (positive ⇔ score ≥ t): per group TPR, FPR and AUROC; the TPR gap is max − min over groups
//! with at least `min_positives` positives (fairlearn `MetricFrame(...).difference(method="between_groups")`
//! with the default `min_positives = 1`), the FPR gap over groups with at least one negative, and the
//! equalized-odds difference is the larger of the two (fairlearn `equalized_odds_difference`). Small groups
//! dominate gaps, which is why `min_positives` is a parameter. The underdiagnosis rate (Seyyed-Kalantari et
//! al. 2021) is the FPR of "No Finding": among patients with a finding, the share predicted to have none.

use crate::classify::auroc;
use serde::Serialize;
use std::collections::BTreeMap;

/// One group's rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRates {
    pub n: usize,
    pub n_pos: usize,
    pub tpr: Option<f64>,
    pub fpr: Option<f64>,
    pub auroc: Option<f64>,
}

/// Rates per group and the gaps between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupReport {
    pub groups: BTreeMap<String, GroupRates>,
    pub tpr_gap: Option<f64>,
    pub fpr_gap: Option<f64>,
    pub equalized_odds_difference: Option<f64>,
    pub min_positives: usize,
}

fn gap(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
    Some(hi - lo)
}

/// Per-group rates of `scores` against `labels` for the group of each row (`None` = no group: left out).
pub fn group_report(
    scores: &[f64],
    labels: &[bool],
    groups: &[Option<String>],
    threshold: f64,
    min_positives: usize,
) -> GroupReport {
    let mut rows: BTreeMap<String, (Vec<f64>, Vec<bool>)> = BTreeMap::new();
    for ((&s, &y), g) in scores.iter().zip(labels).zip(groups) {
        if let Some(g) = g {
            let e = rows.entry(g.clone()).or_default();
            e.0.push(s);
            e.1.push(y);
        }
    }
    let mut out = BTreeMap::new();
    for (g, (s, y)) in rows {
        let (mut tp, mut fp, mut pos, mut neg) = (0usize, 0usize, 0usize, 0usize);
        for (&si, &yi) in s.iter().zip(&y) {
            let pred = si >= threshold;
            if yi {
                pos += 1;
                tp += usize::from(pred);
            } else {
                neg += 1;
                fp += usize::from(pred);
            }
        }
        out.insert(
            g,
            GroupRates {
                n: s.len(),
                n_pos: pos,
                tpr: (pos > 0).then(|| tp as f64 / pos as f64),
                fpr: (neg > 0).then(|| fp as f64 / neg as f64),
                auroc: auroc(&s, &y),
            },
        );
    }
    let tpr_gap = gap(out.values().filter(|r| r.n_pos >= min_positives.max(1)).filter_map(|r| r.tpr));
    let fpr_gap = gap(out.values().filter_map(|r| r.fpr));
    let eod = match (tpr_gap, fpr_gap) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    GroupReport { groups: out, tpr_gap, fpr_gap, equalized_odds_difference: eod, min_positives }
}

/// Age bands from edges: `[e0, e1)`, …, `[e_last, ∞)`, named "e0-(e1−1)" … "e_last+" (integer ages); ages below
/// the first edge are left out.
pub fn age_band(age: f64, edges: &[f64]) -> Option<String> {
    if !age.is_finite() || edges.is_empty() || age < edges[0] {
        return None;
    }
    let i = edges.partition_point(|&e| e <= age) - 1;
    Some(match edges.get(i + 1) {
        Some(&next) => format!("{}-{}", edges[i], next - 1.0),
        None => format!("{}+", edges[i]),
    })
}

/// Underdiagnosis: per group, the share of patients with at least one finding for whom every score is below
/// the threshold (predicted "No Finding").
pub fn underdiagnosis(
    any_finding: &[bool],
    all_below: &[bool],
    groups: &[Option<String>],
) -> (Option<f64>, BTreeMap<String, f64>) {
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut num, mut den) = (0usize, 0usize);
    for ((&f, &b), g) in any_finding.iter().zip(all_below).zip(groups) {
        if !f {
            continue;
        }
        den += 1;
        num += usize::from(b);
        if let Some(g) = g {
            let e = per.entry(g.clone()).or_default();
            e.0 += usize::from(b);
            e.1 += 1;
        }
    }
    ((den > 0).then(|| num as f64 / den as f64), per.into_iter().map(|(g, (a, b))| (g, a as f64 / b as f64)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_small_groups() {
        let s = [0.9, 0.2, 0.8, 0.7, 0.1, 0.6];
        let y = [true, true, false, true, false, true];
        let g: Vec<Option<String>> = ["a", "a", "a", "b", "b", "c"].iter().map(|x| Some(x.to_string())).collect();
        let r = group_report(&s, &y, &g, 0.5, 1);
        assert_eq!(r.groups["a"].tpr, Some(0.5));
        assert_eq!(r.groups["b"].tpr, Some(1.0));
        assert_eq!(r.tpr_gap, Some(0.5));
        // With min_positives 2, only group a has enough positives: no gap between one group.
        assert_eq!(group_report(&s, &y, &g, 0.5, 2).tpr_gap, Some(0.0));
        assert_eq!(r.groups["c"].auroc, None, "one class only");
    }

    #[test]
    fn age_bands() {
        let e = [0.0, 20.0, 40.0, 60.0, 80.0];
        assert_eq!(age_band(19.0, &e).as_deref(), Some("0-19"));
        assert_eq!(age_band(20.0, &e).as_deref(), Some("20-39"));
        assert_eq!(age_band(95.0, &e).as_deref(), Some("80+"));
        assert_eq!(age_band(-1.0, &e), None);
    }
}
