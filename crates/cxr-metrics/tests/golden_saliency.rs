//! Saliency vs gaze against the reference values (tests/data/eval; definitions in cxr_metrics::saliency).
//! Tolerance 1e-9.

use cxr_metrics::saliency::*;

fn map(name: &str) -> Vec<f64> {
    std::fs::read_to_string(format!("tests/data/eval/{name}"))
        .unwrap()
        .lines()
        .flat_map(|l| l.split(',').map(|v| v.trim().parse::<f64>().unwrap()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn saliency_metrics_match_the_benchmark() {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/eval/saliency_reference.json").unwrap()).unwrap();
    let (s, g) = (map("saliency_S_64x64.csv"), map("gaze_density_G_64x64.csv"));
    let f: Vec<bool> = map("fixation_map_F_64x64.csv").iter().map(|&v| v > 0.5).collect();
    assert_eq!((s.len(), f.iter().filter(|&&x| x).count()), (4096, 37));
    let w = |k: &str| r[k].as_f64().unwrap();
    let close = |got: f64, want: f64, what: &str| assert!((got - want).abs() <= 1e-9, "{what}: {got} vs {want}");
    close(nss(&s, &f, StdDdof::Matlab).unwrap(), w("NSS_matlab_std_ddof1"), "NSS MATLAB");
    close(nss(&s, &f, StdDdof::Pysaliency).unwrap(), w("NSS_pysaliency_std_ddof0"), "NSS pysaliency");
    close(cc(&s, &g), w("CC_S_vs_G"), "CC");
    close(kld(&s, &g), w("KLD_matlab_G_given_S"), "KLD");
    close(sim(&s, &g, SimVariant::Matlab), w("SIM_matlab_minmax_then_sum"), "SIM MATLAB");
    close(sim(&s, &g, SimVariant::Pysaliency), w("SIM_pysaliency_sum_only"), "SIM pysaliency");
    close(auc_judd(&s, &f).unwrap(), w("AUC_Judd_no_jitter"), "AUC-Judd");
    let (borji, per) = auc_borji(&s, &f, 100, 0.1, 7).unwrap();
    for (i, v) in r["AUC_Borji"]["first3_splits"].as_array().unwrap().iter().enumerate() {
        close(per[i], v.as_f64().unwrap(), &format!("AUC-Borji split {i}"));
    }
    close(borji, r["AUC_Borji"]["value"].as_f64().unwrap(), "AUC-Borji");
    // EMD on 4×4 block means (16×16 bins), exact transport; the reference is POT's exact solver (1e-7).
    let e = emd(&s, &g, 64, 64, 4).unwrap();
    let want = r["EMD_16x16_blockmean4"]["value"].as_f64().unwrap();
    assert!((e - want).abs() <= 1e-7, "EMD: {e} vs {want}");
}
