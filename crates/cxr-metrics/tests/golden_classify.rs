//! Classification metrics against the reference values on the real NIH ChestX-ray14 labels with seeded
//! synthetic scores (tests/data/eval, from shared/reference/eval; definitions in cxr_metrics::classify).
//! Tolerances: the reference checklist (§5): 1e-12 AUROC/AP/bootstrap/calibration, DeLong var 1e-10
//! relative and CI 1e-9, exact confusion counts.

use cxr_metrics::classify::*;
use cxr_metrics::stats::{resample, splitmix64};
use std::io::Read;

struct Data {
    labels: Vec<String>,
    y: Vec<Vec<bool>>,
    p: Vec<Vec<f64>>,
    p2_effusion: Vec<f64>,
}

fn data() -> Data {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open("tests/data/eval/nih_synthetic_predictions.csv.gz").unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let mut rdr = csv::Reader::from_reader(&raw[..]);
    let h = rdr.headers().unwrap().clone();
    let labels: Vec<String> = h.iter().filter_map(|c| c.strip_prefix("y_")).map(str::to_string).collect();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let ycols: Vec<usize> = labels.iter().map(|l| col(&format!("y_{l}"))).collect();
    let pcols: Vec<usize> = labels.iter().map(|l| col(&format!("p_{l}"))).collect();
    let p2 = col("p2_Effusion");
    let mut d =
        Data { y: vec![Vec::new(); labels.len()], p: vec![Vec::new(); labels.len()], p2_effusion: Vec::new(), labels };
    for r in rdr.records() {
        let r = r.unwrap();
        for k in 0..d.labels.len() {
            d.y[k].push(&r[ycols[k]] == "1");
            d.p[k].push(r[pcols[k]].parse().unwrap());
        }
        d.p2_effusion.push(r[p2].parse().unwrap());
    }
    d
}

fn reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string("tests/data/eval/nih_classification_reference.json").unwrap())
        .unwrap()
}

#[track_caller]
fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got:e}, want {want:e} (tol {tol:e})");
}

#[test]
fn splitmix64_and_bootstrap_indices() {
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/eval/small_fixtures.json").unwrap()).unwrap();
    for (seed, outs) in fx["splitmix64"].as_object().unwrap() {
        let seed: u64 = seed.parse().unwrap();
        for (k, v) in outs.as_array().unwrap().iter().enumerate() {
            assert_eq!(splitmix64(seed, k as u64 + 1), v.as_u64().unwrap(), "seed {seed} output {}", k + 1);
        }
    }
    let r = reference();
    let mut idx = Vec::new();
    for (b, first) in r["bootstrap_definition"]["first10_indices"].as_object().unwrap() {
        resample(112_120, b.parse().unwrap(), 42, &mut idx);
        let want: Vec<usize> = first.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(&idx[..10], &want[..], "resample {b}");
    }
}

#[test]
fn per_class_metrics_match_the_reference() {
    let d = data();
    let r = reference();
    assert_eq!(d.y[0].len(), 112_120);
    let (mut macro_auc, mut macro_ap, mut macro_ece) = (0.0, 0.0, 0.0);
    for (k, name) in d.labels.iter().enumerate() {
        let want = &r["per_class"][name];
        let (p, y) = (&d.p[k], &d.y[k]);
        let w = |key: &str| want[key].as_f64().unwrap();
        let auc = auroc(p, y).unwrap();
        close(auc, w("auroc"), 1e-12, &format!("{name} AUROC"));
        let dl = delong(p, y).unwrap();
        close(dl.var, w("delong_var"), 1e-10 * w("delong_var"), &format!("{name} DeLong var"));
        close(dl.ci95[0], want["delong_ci95"][0].as_f64().unwrap(), 1e-9, "DeLong CI low");
        close(dl.ci95[1], want["delong_ci95"][1].as_f64().unwrap(), 1e-9, "DeLong CI high");
        let ap = average_precision(p, y).unwrap();
        close(ap, w("auprc"), 1e-12, &format!("{name} AP"));
        let prevalence = w("prevalence");
        close(1.0 - ap.ln() / prevalence.ln(), w("adjusted_auprc"), 1e-12, "adjusted AUPRC");
        let t = at_threshold(p, y, 0.5);
        let wt = &want["at_threshold_0_5"];
        assert_eq!(
            [t.tp, t.fp, t.tn, t.fn_],
            ["tp", "fp", "tn", "fn"].map(|k| wt[k].as_u64().unwrap()),
            "{name} counts"
        );
        for (got, key) in [
            (t.sensitivity, "sensitivity"),
            (t.specificity, "specificity"),
            (t.ppv, "ppv"),
            (t.npv, "npv"),
            (t.f1, "f1"),
            (t.accuracy, "accuracy"),
            (t.balanced_accuracy, "balanced_accuracy"),
        ] {
            close(got, wt[key].as_f64().unwrap(), 1e-15, &format!("{name} {key}"));
        }
        let yd = youden(p, y).unwrap();
        let wy = &want["youden"];
        close(yd.threshold, wy["threshold"].as_f64().unwrap(), 0.0, &format!("{name} Youden threshold"));
        close(yd.j, wy["J"].as_f64().unwrap(), 1e-15, "Youden J");
        let c = calibration(p, y, 15);
        let wc = &want["calibration"];
        close(c.ece, wc["ece15"].as_f64().unwrap(), 1e-12, &format!("{name} ECE"));
        close(c.mce, wc["mce15"].as_f64().unwrap(), 1e-12, "MCE");
        close(c.brier, wc["brier"].as_f64().unwrap(), 1e-12, "Brier");
        for (b, cnt) in wc["bin_count"].as_array().unwrap().iter().enumerate() {
            assert_eq!(c.bin_count[b] as f64, cnt.as_f64().unwrap(), "{name} bin {b}");
            close(c.bin_mean_confidence[b], wc["bin_mean_conf"][b].as_f64().unwrap(), 1e-12, "bin confidence");
            close(c.bin_mean_accuracy[b], wc["bin_mean_acc"][b].as_f64().unwrap(), 1e-12, "bin accuracy");
        }
        macro_auc += auc / 14.0;
        macro_ap += ap / 14.0;
        macro_ece += c.ece / 14.0;
    }
    close(macro_auc, r["macro"]["auroc"].as_f64().unwrap(), 1e-12, "macro AUROC");
    close(macro_ap, r["macro"]["auprc"].as_f64().unwrap(), 1e-12, "macro AP");
    close(macro_ece, r["macro"]["ece15"].as_f64().unwrap(), 1e-12, "macro ECE");
    // Micro AUROC: the 14 columns flattened.
    let flat_p: Vec<f64> = d.p.iter().flatten().copied().collect();
    let flat_y: Vec<bool> = d.y.iter().flatten().copied().collect();
    close(auroc(&flat_p, &flat_y).unwrap(), r["micro"]["auroc"].as_f64().unwrap(), 1e-12, "micro AUROC");
}

#[test]
fn bootstrap_and_paired_delong_match_the_reference() {
    let d = data();
    let r = reference();
    for name in ["Atelectasis", "Hernia", "Pneumothorax"] {
        let k = d.labels.iter().position(|l| l == name).unwrap();
        let want = &r["per_class"][name]["bootstrap"];
        let (ci, values) = bootstrap_auroc(&d.p[k], &d.y[k], 1000, 0.95, 42);
        for (i, v) in want["first3"].as_array().unwrap().iter().enumerate() {
            close(values[i], v.as_f64().unwrap(), 1e-12, &format!("{name} resample {i}"));
        }
        close(values[999], want["last"].as_f64().unwrap(), 1e-12, "last resample");
        close(ci.low, want["ci95_percentile"][0].as_f64().unwrap(), 1e-12, &format!("{name} bootstrap CI low"));
        close(ci.high, want["ci95_percentile"][1].as_f64().unwrap(), 1e-12, "bootstrap CI high");
    }
    let k = d.labels.iter().position(|l| l == "Effusion").unwrap();
    let pd = paired_delong(&d.p[k], &d.p2_effusion, &d.y[k]).unwrap();
    let w = &r["paired_delong_effusion_p_vs_p2"];
    close(pd.cov12, w["cov12"].as_f64().unwrap(), 1e-10 * w["cov12"].as_f64().unwrap(), "cov12");
    close(pd.z, w["z"].as_f64().unwrap(), 1e-9 * 30.0, "z");
    let p = w["p_value_two_sided"].as_f64().unwrap();
    close(pd.p_value, p, 1e-6 * p, "p value (relative 1e-6 in the far tail)");
}
