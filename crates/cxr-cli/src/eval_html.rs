//! The `cxr eval classify --html` report: per class, ROC, precision–recall and reliability plots as inline
//! SVG (no JavaScript, no external assets) and the numbers beside them.

use cxr_metrics::classify;
use std::fmt::Write as _;

const SIZE: f64 = 220.0;
const PAD: f64 = 30.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A square plot of one or more polylines in [0,1]², with axes, ticks and a diagonal when asked.
fn plot(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    lines: &[(&[(f64, f64)], &str)],
    diagonal: bool,
    points: &[(f64, f64, f64)],
) -> String {
    let w = SIZE + 2.0 * PAD;
    let px = |x: f64| PAD + x.clamp(0.0, 1.0) * SIZE;
    let py = |y: f64| PAD + (1.0 - y.clamp(0.0, 1.0)) * SIZE;
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" font-size=\"10\" font-family=\"sans-serif\">", w + 10.0);
    let _ =
        write!(s, "<text x=\"{}\" y=\"14\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>", w / 2.0, esc(title));
    let _ =
        write!(s, "<rect x=\"{PAD}\" y=\"{PAD}\" width=\"{SIZE}\" height=\"{SIZE}\" fill=\"none\" stroke=\"#999\"/>");
    for k in 0..=4 {
        let t = k as f64 / 4.0;
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{t}</text>", px(t), PAD + SIZE + 12.0);
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{t}</text>", PAD - 3.0, py(t) + 3.0);
    }
    let _ =
        write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", w / 2.0, PAD + SIZE + 25.0, esc(xlabel));
    let _ = write!(
        s,
        "<text x=\"10\" y=\"{}\" transform=\"rotate(-90 10 {})\" text-anchor=\"middle\">{}</text>",
        w / 2.0,
        w / 2.0,
        esc(ylabel)
    );
    if diagonal {
        let _ = write!(
            s,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ccc\" stroke-dasharray=\"4\"/>",
            px(0.0),
            py(0.0),
            px(1.0),
            py(1.0)
        );
    }
    for (pts, colour) in lines {
        // Thin dense curves to at most ~400 points: enough for the eye, small files.
        let step = (pts.len() / 400).max(1);
        let path: Vec<String> =
            pts.iter().step_by(step).chain(pts.last()).map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            path.join(" ")
        );
    }
    for &(x, y, r) in points {
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"#c33\" fill-opacity=\"0.6\"/>",
            px(x),
            py(y),
            r
        );
    }
    s.push_str("</svg>");
    s
}

/// One class's section.
pub fn class_section(name: &str, scores: &[f64], labels: &[bool], bins: usize, summary: &serde_json::Value) -> String {
    let pts = classify::curve_points(scores, labels);
    let p = labels.iter().filter(|&&l| l).count() as f64;
    let n = labels.len() as f64 - p;
    let mut roc = vec![(0.0, 0.0)];
    let mut pr = Vec::new();
    for &(_, tp, fp) in &pts {
        if p > 0.0 && n > 0.0 {
            roc.push((fp / n, tp / p));
        }
        if p > 0.0 {
            pr.push((tp / p, tp / (tp + fp)));
        }
    }
    let cal = classify::calibration(scores, labels, bins);
    let max_count = cal.bin_count.iter().copied().max().unwrap_or(1).max(1) as f64;
    let rel: Vec<(f64, f64, f64)> = (0..bins)
        .filter(|&b| cal.bin_count[b] > 0)
        .map(|b| {
            (
                cal.bin_mean_confidence[b],
                cal.bin_mean_accuracy[b],
                2.0 + 6.0 * (cal.bin_count[b] as f64 / max_count).sqrt(),
            )
        })
        .collect();
    let f = |k: &str| summary[k].as_f64().map_or("—".to_string(), |v| format!("{v:.4}"));
    let mut h = format!("<section><h2>{}</h2><p>", esc(name));
    let _ = write!(
        h,
        "n = {}, positives = {}; AUROC {} (DeLong 95% CI {}–{}); AP {}; ECE {}",
        labels.len(),
        p,
        f("auroc"),
        summary["delong"]["ci95"][0].as_f64().map_or("—".into(), |v| format!("{v:.4}")),
        summary["delong"]["ci95"][1].as_f64().map_or("—".into(), |v| format!("{v:.4}")),
        f("average_precision"),
        summary["calibration"]["ece"].as_f64().map_or("—".into(), |v| format!("{v:.4}")),
    );
    h.push_str("</p><div class=\"plots\">");
    h.push_str(&plot("ROC", "false positive rate", "true positive rate", &[(&roc, "#1f5fa8")], true, &[]));
    h.push_str(&plot("Precision–recall", "recall", "precision", &[(&pr, "#2b8a3e")], false, &[]));
    h.push_str(&plot("Reliability", "mean predicted probability", "observed frequency", &[], true, &rel));
    h.push_str("</div></section>\n");
    h
}

/// One attribute's subgroup table: a row per class with the gaps, then TPR / FPR / AUROC (n, positives) per
/// group; `None` cells (undefined rates) print as a dash.
pub fn subgroup_section(
    attr: &str,
    classes: &[(String, cxr_metrics::fairness::GroupReport)],
    underdiagnosis: (Option<f64>, &std::collections::BTreeMap<String, f64>),
) -> String {
    let f = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.4}"));
    let mut groups: Vec<&String> = classes.iter().flat_map(|(_, r)| r.groups.keys()).collect();
    groups.sort();
    groups.dedup();
    let mut h = format!(
        "<section><h2>Subgroups by {}</h2><table><tr><th>class</th><th>TPR gap</th><th>FPR gap</th><th>EOD</th>",
        esc(attr)
    );
    for g in &groups {
        h.push_str(&format!("<th>{}<br><small>TPR / FPR / AUROC (n, pos)</small></th>", esc(g)));
    }
    h.push_str("</tr>\n");
    for (name, r) in classes {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(name),
            f(r.tpr_gap),
            f(r.fpr_gap),
            f(r.equalized_odds_difference)
        ));
        for g in &groups {
            match r.groups.get(*g) {
                Some(v) => {
                    h.push_str(&format!("<td>{} / {} / {} ({}, {})</td>", f(v.tpr), f(v.fpr), f(v.auroc), v.n, v.n_pos))
                }
                None => h.push_str("<td>—</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    let per: Vec<String> = underdiagnosis.1.iter().map(|(g, v)| format!("{} {v:.5}", esc(g))).collect();
    h.push_str(&format!(
        "</table><p>Underdiagnosis (predicted no finding among patients with one): overall {}; {}.</p></section>\n",
        underdiagnosis.0.map_or("—".into(), |v| format!("{v:.5}")),
        per.join(", ")
    ));
    h
}

/// The whole page.
pub fn page(title: &str, sections: &[String], conventions: &str) -> String {
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title><style>body{{font:14px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:62rem;color:#222}}.plots svg{{margin-right:.5rem}}section{{border-top:1px solid #ddd;padding-top:.5rem}}h2{{font-size:1.05rem;margin:.4rem 0}}table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #ddd;padding:2px 6px;text-align:right}}</style></head><body><h1>{0}</h1><p>{1}</p>\n",
        esc(title),
        esc(conventions)
    );
    for s in sections {
        h.push_str(s);
    }
    h.push_str("</body></html>\n");
    h
}
