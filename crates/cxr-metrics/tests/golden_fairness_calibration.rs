//! Fairness and recalibration against the NIH references (tests/data/eval; definitions in
//! cxr_metrics::{fairness, calibrate}). Tolerances from the reference checklist: fairness 1e-12; Platt 1e-8;
//! isotonic 1e-10; conformal q̂ exact and fractions 1e-12.

use cxr_metrics::calibrate::{conformal_lac, fit_isotonic, fit_platt};
use cxr_metrics::classify::calibration;
use cxr_metrics::fairness::{age_band, group_report, underdiagnosis};
use std::io::Read;

struct Rows {
    labels: Vec<String>,
    y: Vec<Vec<bool>>,
    p: Vec<Vec<f64>>,
    patient: Vec<u64>,
    age: Vec<f64>,
    sex: Vec<String>,
}

fn rows() -> Rows {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open("tests/data/eval/nih_synthetic_predictions.csv.gz").unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let mut rdr = csv::Reader::from_reader(&raw[..]);
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let labels: Vec<String> = h.iter().filter_map(|c| c.strip_prefix("y_")).map(str::to_string).collect();
    let (yc, pc): (Vec<usize>, Vec<usize>) =
        labels.iter().map(|l| (col(&format!("y_{l}")), col(&format!("p_{l}")))).unzip();
    let (pid, age, sex) = (col("patient_id"), col("age"), col("sex"));
    let mut r = Rows {
        y: vec![vec![]; labels.len()],
        p: vec![vec![]; labels.len()],
        labels,
        patient: vec![],
        age: vec![],
        sex: vec![],
    };
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for k in 0..r.labels.len() {
            r.y[k].push(&rec[yc[k]] == "1");
            r.p[k].push(rec[pc[k]].parse().unwrap());
        }
        r.patient.push(rec[pid].parse().unwrap());
        r.age.push(rec[age].parse().unwrap());
        r.sex.push(rec[sex].to_string());
    }
    r
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("tests/data/eval/{name}")).unwrap()).unwrap()
}

#[track_caller]
fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got:e}, want {want:e}");
}

#[test]
fn fairness_matches_fairlearn() {
    let r = rows();
    let reference = json("nih_fairness_reference.json");
    let edges = [0.0, 20.0, 40.0, 60.0, 80.0];
    let sex: Vec<Option<String>> = r.sex.iter().map(|s| Some(s.clone())).collect();
    let age: Vec<Option<String>> = r.age.iter().map(|&a| age_band(a, &edges)).collect();
    for (k, name) in r.labels.iter().enumerate() {
        for (attr, groups) in [("sex", &sex), ("age", &age)] {
            let got = group_report(&r.p[k], &r.y[k], groups, 0.5, 1);
            let want = &reference["per_class"][name][attr];
            for (g, w) in want["groups"].as_object().unwrap() {
                let gr = &got.groups[g];
                assert_eq!(gr.n as u64, w["n"].as_u64().unwrap(), "{name} {attr} {g} n");
                assert_eq!(gr.n_pos as u64, w["n_pos"].as_u64().unwrap());
                close(gr.tpr.unwrap(), w["tpr"].as_f64().unwrap(), 1e-12, &format!("{name} {attr} {g} TPR"));
                close(gr.fpr.unwrap(), w["fpr"].as_f64().unwrap(), 1e-12, "FPR");
                close(gr.auroc.unwrap(), w["auroc"].as_f64().unwrap(), 1e-12, "AUROC");
            }
            close(
                got.tpr_gap.unwrap(),
                want["fairlearn_tpr_difference"].as_f64().unwrap(),
                1e-12,
                &format!("{name} {attr} TPR gap"),
            );
            close(got.fpr_gap.unwrap(), want["fpr_gap"].as_f64().unwrap(), 1e-12, "FPR gap");
            close(
                got.equalized_odds_difference.unwrap(),
                want["fairlearn_equalized_odds_difference"].as_f64().unwrap(),
                1e-12,
                "EOD",
            );
        }
    }
    // Underdiagnosis: true "No Finding" = none of the 14 labels; predicted = every score below 0.5.
    let n = r.patient.len();
    let any: Vec<bool> = (0..n).map(|i| r.y.iter().any(|y| y[i])).collect();
    let below: Vec<bool> = (0..n).map(|i| r.p.iter().all(|p| p[i] < 0.5)).collect();
    let want = &reference["underdiagnosis_no_finding_fpr"];
    for (attr, groups) in [("sex", &sex), ("age", &age)] {
        let (overall, per) = underdiagnosis(&any, &below, groups);
        close(
            overall.unwrap(),
            want["all"]["groups"]["all"]["underdiagnosis_rate"].as_f64().unwrap(),
            1e-12,
            "overall underdiagnosis",
        );
        for (g, w) in want[attr]["groups"].as_object().unwrap() {
            close(per[g], w["underdiagnosis_rate"].as_f64().unwrap(), 1e-12, &format!("underdiagnosis {attr} {g}"));
        }
        let (lo, hi) = per.values().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        close(hi - lo, want[attr]["gap"].as_f64().unwrap(), 1e-12, &format!("underdiagnosis gap by {attr}"));
    }
}

#[test]
fn platt_isotonic_and_conformal_match_the_reference() {
    let r = rows();
    let reference = json("nih_calibration_conformal_reference.json");
    let cal: Vec<usize> = (0..r.patient.len()).filter(|&i| r.patient[i].is_multiple_of(2)).collect();
    let test: Vec<usize> = (0..r.patient.len()).filter(|&i| !r.patient[i].is_multiple_of(2)).collect();
    assert_eq!((cal.len(), test.len()), (56_855, 55_265));
    for (k, name) in r.labels.iter().enumerate() {
        let want = &reference["per_class"][name];
        let pick = |idx: &[usize]| -> (Vec<f64>, Vec<bool>) {
            (idx.iter().map(|&i| r.p[k][i]).collect(), idx.iter().map(|&i| r.y[k][i]).collect())
        };
        let (pc, yc) = pick(&cal);
        let (pt, yt) = pick(&test);
        let platt = fit_platt(&pc, &yc).unwrap();
        close(platt.a, want["platt"]["A"].as_f64().unwrap(), 1e-8, &format!("{name} Platt A"));
        close(platt.b, want["platt"]["B"].as_f64().unwrap(), 1e-8, "Platt B");
        let after: Vec<f64> = pt.iter().map(|&p| platt.apply(p)).collect();
        close(
            calibration(&after, &yt, 15).ece,
            want["platt"]["test_ece15_after"].as_f64().unwrap(),
            1e-8,
            "Platt test ECE",
        );
        let iso = fit_isotonic(&pc, &yc).unwrap();
        assert_eq!(
            iso.n_thresholds() as u64,
            want["isotonic"]["n_thresholds"].as_u64().unwrap(),
            "{name} isotonic thresholds"
        );
        for (g, w) in want["isotonic"]["grid_0_to_1_step_0_01"].as_array().unwrap().iter().enumerate() {
            close(
                iso.apply(g as f64 / 100.0),
                w.as_f64().unwrap(),
                1e-10,
                &format!("{name} isotonic at {}", g as f64 / 100.0),
            );
        }
        let after: Vec<f64> = pt.iter().map(|&p| iso.apply(p)).collect();
        close(
            calibration(&after, &yt, 15).ece,
            want["isotonic"]["test_ece15_after"].as_f64().unwrap(),
            1e-10,
            "isotonic test ECE",
        );
        let c = conformal_lac(&pc, &yc, &pt, &yt, 0.1).unwrap();
        let w = &want["conformal_lac_alpha_0_1"];
        assert_eq!(c.k as u64, w["k"].as_u64().unwrap(), "{name} k");
        assert_eq!(c.qhat, w["qhat"].as_f64().unwrap(), "{name} q-hat");
        for (got, key) in [
            (c.coverage, "coverage"),
            (c.mean_set_size, "mean_set_size"),
            (c.frac_empty, "frac_empty"),
            (c.frac_singleton, "frac_singleton"),
            (c.frac_both, "frac_both"),
        ] {
            close(got, w[key].as_f64().unwrap(), 1e-12, &format!("{name} conformal {key}"));
        }
    }
}
