//! Clinical efficacy: precision, recall and F1 of CheXpert labels of generated reports against those of
//! the reference reports, with the conventions that change the numbers made explicit.
//!
//! Definitions follow scikit-learn's `classification_report` / `precision_recall_fscore_support` for
//! multi-label indicator matrices (per label, micro, macro, weighted and samples averages), which is what
//! RadEval's `f1chexbert` and R2Gen's `compute_ce.py` call:
//! * per label: `P = tp/(tp+fp)`, `R = tp/(tp+fn)`, `F1 = 2·tp/(2·tp+fp+fn)`; a zero denominator gives
//!   `zero_division` (sklearn's default `'warn'` behaves as 0);
//! * micro: the same on counts summed over labels; macro: the unweighted mean over labels; weighted: the
//!   mean weighted by support (positives in the reference); samples (example-based): the same per report
//!   over its labels, then the mean over reports — here `zero_division` decides reports where both sides are
//!   empty, which on IU X-Ray moves samples-F1 from 0.02 to 0.60, so it is a required parameter.
//!
//! Conventions ([`Conventions`]): uncertain (−1) as positive (RadEval / f1chexbert "rrg") or negative
//! (R2Gen); blank (not mentioned) is always negative, as in both; label order CheXbert (13 conditions, No
//! Finding last, RadEval's order) or CheXpert. "14" means all observations, "5" the common five
//! (Cardiomegaly, Edema, Consolidation, Atelectasis, Pleural Effusion).

use cxr_core::{Finding, FindingLabels, Label};
use serde::Serialize;

/// How an uncertain (−1) label counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UncertainAs {
    /// RadEval / f1chexbert "rrg" mode: {1, −1} → 1.
    Positive,
    /// R2Gen `compute_ce.py`: −1 → 0.
    Negative,
}

/// The conventions of a clinical-efficacy computation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Conventions {
    pub uncertain: UncertainAs,
    /// Value for 0/0 (sklearn `zero_division`): 0 (the default 'warn') or 1.
    pub zero_division: f64,
}

impl Default for Conventions {
    /// RadEval's: uncertain as positive, zero division 0.
    fn default() -> Self {
        Conventions { uncertain: UncertainAs::Positive, zero_division: 0.0 }
    }
}

/// Binarizes a label (blank and 0 are negative).
pub fn is_positive(l: Label, u: UncertainAs) -> bool {
    match l {
        Label::Positive => true,
        Label::Uncertain => u == UncertainAs::Positive,
        Label::Negative | Label::NotMentioned => false,
    }
}

/// Precision, recall, F1 and support.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Positives in the reference.
    pub support: u64,
}

/// A multi-label classification report, sklearn style.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub labels: Vec<Finding>,
    pub per_label: Vec<Scores>,
    pub micro: Scores,
    pub macro_avg: Scores,
    pub weighted: Scores,
    pub samples: Scores,
    /// Fraction of reports whose label sets are identical.
    pub subset_accuracy: f64,
    /// Mean over reports of the fraction of labels that agree.
    pub mean_label_accuracy: f64,
    /// Reports with no positive label on either side.
    pub both_empty: u64,
}

fn div(num: f64, den: f64, zd: f64) -> f64 {
    if den == 0.0 {
        zd
    } else {
        num / den
    }
}

fn prf(tp: u64, true_n: u64, pred_n: u64, zd: f64) -> Scores {
    Scores {
        precision: div(tp as f64, pred_n as f64, zd),
        recall: div(tp as f64, true_n as f64, zd),
        f1: div(2.0 * tp as f64, (true_n + pred_n) as f64, zd),
        support: true_n,
    }
}

/// sklearn's report for indicator rows `y_true[i][l]`, `y_pred[i][l]`.
pub fn classification_report<T: AsRef<[bool]>>(
    y_true: &[T],
    y_pred: &[T],
    labels: &[Finding],
    zero_division: f64,
) -> Report {
    let l = labels.len();
    let (mut tp, mut tn_true, mut tn_pred) = (vec![0u64; l], vec![0u64; l], vec![0u64; l]);
    let (mut samples, mut subset, mut label_acc, mut both_empty) = ([0.0f64; 3], 0u64, 0.0f64, 0u64);
    let n = y_true.len();
    for (t, p) in y_true.iter().zip(y_pred) {
        let (t, p) = (t.as_ref(), p.as_ref());
        let (mut s_tp, mut s_t, mut s_p, mut agree) = (0u64, 0u64, 0u64, 0usize);
        for k in 0..l {
            let (a, b) = (t[k], p[k]);
            tp[k] += u64::from(a && b);
            tn_true[k] += u64::from(a);
            tn_pred[k] += u64::from(b);
            s_tp += u64::from(a && b);
            s_t += u64::from(a);
            s_p += u64::from(b);
            agree += usize::from(a == b);
        }
        let s = prf(s_tp, s_t, s_p, zero_division);
        samples[0] += s.precision;
        samples[1] += s.recall;
        samples[2] += s.f1;
        subset += u64::from(agree == l);
        label_acc += agree as f64 / l as f64;
        both_empty += u64::from(s_t == 0 && s_p == 0);
    }
    let per_label: Vec<Scores> = (0..l).map(|k| prf(tp[k], tn_true[k], tn_pred[k], zero_division)).collect();
    let support: u64 = tn_true.iter().sum();
    let micro = prf(tp.iter().sum(), support, tn_pred.iter().sum(), zero_division);
    let mean = |f: fn(&Scores) -> f64| per_label.iter().map(f).sum::<f64>() / l as f64;
    let macro_avg =
        Scores { precision: mean(|s| s.precision), recall: mean(|s| s.recall), f1: mean(|s| s.f1), support };
    let weighted = if support == 0 {
        Scores { precision: zero_division, recall: zero_division, f1: zero_division, support }
    } else {
        let w = |f: fn(&Scores) -> f64| per_label.iter().map(|s| f(s) * s.support as f64).sum::<f64>() / support as f64;
        Scores { precision: w(|s| s.precision), recall: w(|s| s.recall), f1: w(|s| s.f1), support }
    };
    let nf = n.max(1) as f64;
    Report {
        labels: labels.to_vec(),
        per_label,
        micro,
        macro_avg,
        weighted,
        samples: Scores { precision: samples[0] / nf, recall: samples[1] / nf, f1: samples[2] / nf, support },
        subset_accuracy: subset as f64 / nf,
        mean_label_accuracy: label_acc / nf,
        both_empty,
    }
}

/// Clinical efficacy over all 14 observations and over the common five.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinicalEfficacy {
    pub conventions: Conventions,
    pub all14: Report,
    pub top5: Report,
}

/// Clinical efficacy of hypothesis labels against reference labels (pairwise, same order).
/// Labels are reported in CheXbert order (RadEval's).
pub fn clinical_efficacy(refs: &[FindingLabels], hyps: &[FindingLabels], conv: Conventions) -> ClinicalEfficacy {
    let rows = |ls: &[FindingLabels], order: &[Finding]| -> Vec<Vec<bool>> {
        ls.iter().map(|r| order.iter().map(|f| is_positive(r.get(*f), conv.uncertain)).collect()).collect()
    };
    let report =
        |order: &[Finding]| classification_report(&rows(refs, order), &rows(hyps, order), order, conv.zero_division);
    ClinicalEfficacy { conventions: conv, all14: report(&Finding::CHEXBERT_ORDER), top5: report(&Finding::COMMON_FIVE) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sklearn_small_example() {
        // y_true = [[1,0],[1,1],[0,0]], y_pred = [[1,1],[0,1],[0,0]]
        let t = vec![vec![true, false], vec![true, true], vec![false, false]];
        let p = vec![vec![true, true], vec![false, true], vec![false, false]];
        let r = classification_report(&t, &p, &[Finding::Edema, Finding::Cardiomegaly], 0.0);
        // label 0: tp 1, true 2, pred 1; label 1: tp 1, true 1, pred 2
        assert_eq!(r.per_label[0], Scores { precision: 1.0, recall: 0.5, f1: 2.0 / 3.0, support: 2 });
        assert_eq!(r.micro.f1, 4.0 / 6.0);
        assert!((r.macro_avg.f1 - 2.0 / 3.0).abs() < 1e-15);
        // samples: row0 P .5 R 1 F 2/3; row1 P 1 R .5 F 2/3; row2 all zero_division (0)
        assert!((r.samples.f1 - (4.0 / 3.0) / 3.0).abs() < 1e-15);
        assert_eq!(r.both_empty, 1);
        let r1 = classification_report(&t, &p, &[Finding::Edema, Finding::Cardiomegaly], 1.0);
        assert!((r1.samples.f1 - (4.0 / 3.0 + 1.0) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn uncertain_convention() {
        assert!(is_positive(Label::Uncertain, UncertainAs::Positive));
        assert!(!is_positive(Label::Uncertain, UncertainAs::Negative));
        assert!(!is_positive(Label::NotMentioned, UncertainAs::Positive));
    }
}
