//! Error detection by `check`: inject each error type into the first 500 non-empty IU X-Ray dev reports
//! (seed 42 + row), check each corrupted report against the findings of its original, and count it detected
//! when a flag names the changed finding. Precision counts, as false alarms, flags raised on the same 500
//! uncorrupted reports checked against their own findings. Usage: check_detection [CSV] [N]
use cxr_report::{check, findings_from_report, inject, ErrorType, Labeler};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_else(|| "crates/cxr-report/tests/data/iu-xray-dev.csv".into());
    let n_max: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(500);
    let l = Labeler::default();
    let mut reports = Vec::new();
    for rec in csv::Reader::from_path(path).unwrap().records() {
        let rec = rec.unwrap();
        let text = format!("FINDINGS: {}\nIMPRESSION: {}", &rec[4], &rec[5]);
        if !l.label(&text).empty {
            reports.push(text);
        }
        if reports.len() == n_max {
            break;
        }
    }
    let docs: Vec<_> = reports.iter().map(|t| findings_from_report(&l.label(t))).collect();
    let false_alarms = reports
        .iter()
        .zip(&docs)
        .filter(|(t, d)| {
            let flags = check(&l, t, Some(d)).flags;
            if std::env::var("SHOW").is_ok_and(|v| v == "clean") && !flags.is_empty() {
                eprintln!("FLAGGED {t:?}: {flags:?}");
            }
            !flags.is_empty()
        })
        .count();
    println!("{} uncorrupted reports, {false_alarms} flagged against their own findings", reports.len());
    println!("{:<18} {:>8} {:>9} {:>7} {:>10}", "error type", "injected", "detected", "recall", "precision");
    for kind in ErrorType::ALL {
        let (mut n, mut hit) = (0, 0);
        for (i, (t, d)) in reports.iter().zip(&docs).enumerate() {
            let Some(x) = inject(&l, t, kind, 42 + i as u64) else { continue };
            n += 1;
            if check(&l, &x.report, Some(d)).flags.iter().any(|f| f.finding == Some(x.finding)) {
                hit += 1;
            } else if std::env::var("SHOW").is_ok_and(|v| v == kind.name()) {
                eprintln!("MISSED {:?}: {:?} -> {:?}", x.finding, x.original_sentence, x.new_sentence);
            }
        }
        let recall = hit as f64 / n.max(1) as f64;
        // Precision as if each injected report sat beside its uncorrupted twin: TP / (TP + false alarms).
        let precision = hit as f64 / (hit + false_alarms).max(1) as f64;
        println!("{:<18} {:>8} {:>9} {:>7.3} {:>10.3}", kind.name(), n, hit, recall, precision);
    }
}
