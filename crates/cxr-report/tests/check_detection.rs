//! `check` against injected errors on real IU X-Ray dev reports (see tests/data/PROVENANCE.md): the
//! P8 acceptance bar is recall >= 0.9 for negation flips and laterality swaps with few false alarms on
//! uncorrupted reports (asserted here on 300 reports, with some slack for laterality swaps, which are few).
//! The full per-type table is printed by `cargo run --release -p cxr-report --example check_detection`.
use cxr_core::Laterality;
use cxr_report::{check, findings_from_report, inject, ErrorType, Labeler};

fn dev_reports(l: &Labeler, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/iu-xray-dev.csv");
    for rec in csv::Reader::from_path(path).unwrap().records() {
        let rec = rec.unwrap();
        let text = format!("FINDINGS: {}\nIMPRESSION: {}", &rec[4], &rec[5]);
        if !l.label(&text).empty {
            out.push(text);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

#[test]
fn negation_flips_are_caught_and_clean_reports_pass() {
    let l = Labeler::default();
    let reports = dev_reports(&l, 300);
    assert_eq!(reports.len(), 300);
    let docs: Vec<_> = reports.iter().map(|t| findings_from_report(&l.label(t))).collect();
    let false_alarms = reports.iter().zip(&docs).filter(|(t, d)| !check(&l, t, Some(d)).flags.is_empty()).count();
    assert!(false_alarms <= 6, "{false_alarms} of 300 uncorrupted reports flagged");

    let recall = |kind: ErrorType| {
        let (mut injected, mut detected) = (0, 0);
        for (i, (t, d)) in reports.iter().zip(&docs).enumerate() {
            let Some(x) = inject(&l, t, kind, 42 + i as u64) else { continue };
            injected += 1;
            detected += check(&l, &x.report, Some(d)).flags.iter().any(|f| f.finding == Some(x.finding)) as usize;
        }
        (injected, detected as f64 / injected as f64)
    };
    let (injected, flips) = recall(ErrorType::NegationFlip);
    assert!(injected >= 250, "only {injected} reports could be corrupted");
    assert!(flips >= 0.9, "negation-flip recall {flips:.3} of {injected}");
    let (injected, swaps) = recall(ErrorType::LateralitySwap);
    assert!(injected >= 60 && swaps >= 0.85, "laterality-swap recall {swaps:.3} of {injected}");
    eprintln!("recall on 300 reports: negation flips {flips:.3}, laterality swaps {swaps:.3} of {injected}");
}

#[test]
fn every_error_type_is_caught_on_a_simple_report() {
    let l = Labeler::default();
    let rep =
        "FINDINGS: Mild cardiomegaly. Small left pleural effusion. No pneumothorax.\nIMPRESSION: Small left effusion.";
    let doc = findings_from_report(&l.label(rep));
    assert!(check(&l, rep, Some(&doc)).flags.is_empty());
    for kind in [ErrorType::NegationFlip, ErrorType::LateralitySwap, ErrorType::Insertion] {
        let x = inject(&l, rep, kind, 7).unwrap();
        let flags = check(&l, &x.report, Some(&doc)).flags;
        assert!(flags.iter().any(|f| f.finding == Some(x.finding)), "{kind:?}: {:?} -> {flags:?}", x.report);
    }
}

#[test]
fn a_bilateral_finding_reported_on_one_side_is_flagged() {
    let l = Labeler::default();
    let doc = findings_from_report(&l.label("FINDINGS: Small right and left pleural effusions."));
    assert_eq!(doc.get(cxr_core::Finding::PleuralEffusion).unwrap().laterality, Some(cxr_core::Laterality::Bilateral));
    let flags = check(&l, "FINDINGS: Small left pleural effusion.", Some(&doc)).flags;
    assert!(flags.iter().any(|f| f.why.contains("bilateral")), "{flags:?}");
    assert!(check(&l, "FINDINGS: Small bilateral pleural effusions.", Some(&doc)).flags.is_empty());
}

#[test]
fn a_swapped_predominance_is_flagged() {
    let l = Labeler::default();
    let doc = findings_from_report(&l.label("FINDINGS: Bilateral pleural effusions, left greater than right."));
    let e = doc.get(cxr_core::Finding::PleuralEffusion).unwrap();
    assert_eq!((e.laterality, e.predominant_side), (Some(Laterality::Bilateral), Some(Laterality::Left)));
    let swapped = "FINDINGS: Bilateral pleural effusions, right greater than left.";
    let flags = check(&l, swapped, Some(&doc)).flags;
    assert!(flags.iter().any(|f| f.why.contains("worse on the left")), "{flags:?}");
    assert!(check(&l, "FINDINGS: Bilateral pleural effusions, left greater than right.", Some(&doc)).flags.is_empty());
}
