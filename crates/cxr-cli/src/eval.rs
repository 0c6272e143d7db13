//! `cxr eval`: model evaluation from prediction files.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use cxr_metrics::classify;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub what: EvalCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Multi-label classification: AUROC with DeLong and bootstrap CIs, AP, threshold metrics, Youden point,
    /// calibration.
    Classify(ClassifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// Predictions CSV: an id column and one probability column per class (`p_<class>` or `<class>`). Without
    /// --labels it must also hold `y_<class>` label columns.
    #[arg(long)]
    pub pred: PathBuf,
    /// Labels CSV: the id column and one column per class (`y_<class>` or `<class>`), values 1/0, blank or
    /// NaN for missing, -1 for uncertain.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Id column joining the two files.
    #[arg(long, default_value = "id")]
    pub id_col: String,
    /// Classes to evaluate, comma separated (default: every class with both a score and a label column).
    #[arg(long)]
    pub classes: Option<String>,
    /// Uncertain labels (-1): exclude them per class (torchxrayvision's masked loss), or count as positive or
    /// negative.
    #[arg(long, value_enum, default_value_t = UncertainPolicy::Exclude)]
    pub uncertain: UncertainPolicy,
    /// Operating threshold (positive ⇔ score ≥ threshold).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Bootstrap resamples for the AUROC CI (0 = DeLong only).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap draws (counter-mode SplitMix64).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Calibration bins (equal width).
    #[arg(long, default_value_t = 15)]
    pub bins: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UncertainPolicy {
    Exclude,
    Positive,
    Negative,
}

struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_table(p: &Path) -> Result<Table> {
    let bytes = cxr_io::read_bytes(p)?;
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let headers: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.with_context(|| format!("{} line {}: malformed row", p.display(), i + 2))?;
        rows.push(r.iter().map(str::to_string).collect());
    }
    Ok(Table { headers, rows })
}

/// Label cell → Some(true/false) or None (excluded).
fn parse_label(cell: &str, policy: UncertainPolicy, where_: &str) -> Result<Option<bool>> {
    match cell.trim() {
        "" => Ok(None),
        t if t.eq_ignore_ascii_case("nan") => Ok(None),
        "1" | "1.0" => Ok(Some(true)),
        "0" | "0.0" => Ok(Some(false)),
        "-1" | "-1.0" => Ok(match policy {
            UncertainPolicy::Exclude => None,
            UncertainPolicy::Positive => Some(true),
            UncertainPolicy::Negative => Some(false),
        }),
        other => bail!("{where_}: label {other:?} is not 1, 0, -1 or blank"),
    }
}

pub fn run(a: EvalArgs) -> Result<()> {
    match a.what {
        EvalCommand::Classify(c) => classify_cmd(c),
    }
}

fn classify_cmd(a: ClassifyArgs) -> Result<()> {
    if a.bins == 0 {
        bail!("--bins must be at least 1");
    }
    let pred = read_table(&a.pred)?;
    let labels = match &a.labels {
        Some(p) => read_table(p)?,
        None => Table { headers: pred.headers.clone(), rows: pred.rows.clone() },
    };
    let find = |t: &Table, name: &str| t.headers.iter().position(|h| h == name);
    let score_col = |class: &str| {
        find(&pred, &format!("p_{class}")).or_else(|| if a.labels.is_some() { find(&pred, class) } else { None })
    };
    let label_col = |class: &str| {
        find(&labels, &format!("y_{class}")).or_else(|| if a.labels.is_some() { find(&labels, class) } else { None })
    };
    let candidates: Vec<String> = match &a.classes {
        Some(c) => c.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        None => pred
            .headers
            .iter()
            .map(|h| h.strip_prefix("p_").unwrap_or(h).to_string())
            .filter(|c| c != &a.id_col && score_col(c).is_some() && label_col(c).is_some())
            .collect(),
    };
    if candidates.is_empty() {
        bail!(
            "no class has both a score column (p_<class>) in {} and a label column (y_<class>{}) — columns: {:?}",
            a.pred.display(),
            if a.labels.is_some() { " or <class>" } else { "" },
            pred.headers
        );
    }
    // Row alignment: by id when two files are given.
    let pairs: Vec<(usize, usize)> = if a.labels.is_some() {
        let pid =
            find(&pred, &a.id_col).with_context(|| format!("{} has no id column {:?}", a.pred.display(), a.id_col))?;
        let lid = find(&labels, &a.id_col).with_context(|| format!("labels have no id column {:?}", a.id_col))?;
        let by_id: HashMap<&str, usize> = labels.rows.iter().enumerate().map(|(i, r)| (r[lid].as_str(), i)).collect();
        let mut v = Vec::with_capacity(pred.rows.len());
        let mut missing = Vec::new();
        for (i, r) in pred.rows.iter().enumerate() {
            match by_id.get(r[pid].as_str()) {
                Some(&j) => v.push((i, j)),
                None => missing.push(r[pid].clone()),
            }
        }
        if !missing.is_empty() {
            bail!(
                "{} prediction ids have no label row (first: {:?}); pass matching files",
                missing.len(),
                &missing[..missing.len().min(5)]
            );
        }
        v
    } else {
        (0..pred.rows.len()).map(|i| (i, i)).collect()
    };
    let mut results = Vec::new();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<20} {:>7} {:>6} {:>7}  {:<17}  {:<17} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7}",
        "class", "n", "pos", "AUROC", "DeLong 95% CI", "bootstrap 95% CI", "AP", "sens", "spec", "F1", "Youden", "ECE"
    );
    for class in &candidates {
        let (Some(sc), Some(lc)) = (score_col(class), label_col(class)) else {
            bail!("class {class:?}: no score column p_{class} or no label column y_{class}");
        };
        let (mut s, mut y) = (Vec::new(), Vec::new());
        for &(i, j) in &pairs {
            let where_ = format!("{} row {}, class {class}", a.labels.as_ref().unwrap_or(&a.pred).display(), j + 2);
            let Some(l) = parse_label(&labels.rows[j][lc], a.uncertain, &where_)? else { continue };
            let cell = &pred.rows[i][sc];
            let v: f64 = cell.trim().parse().map_err(|_| {
                anyhow::anyhow!("{} row {}, {class}: score {cell:?} is not a number", a.pred.display(), i + 2)
            })?;
            if !v.is_finite() || !(0.0..=1.0).contains(&v) {
                bail!(
                    "{} row {}, {class}: score {v} is not a probability in [0, 1] (apply a sigmoid to logits first)",
                    a.pred.display(),
                    i + 2
                );
            }
            s.push(v);
            y.push(l);
        }
        let n_pos = y.iter().filter(|&&v| v).count();
        let dl = classify::delong(&s, &y);
        let boot =
            (a.bootstrap > 0 && dl.is_some()).then(|| classify::bootstrap_auroc(&s, &y, a.bootstrap, 0.95, a.seed).0);
        let ap = classify::average_precision(&s, &y);
        let at = classify::at_threshold(&s, &y, a.threshold);
        let yd = classify::youden(&s, &y);
        let cal = classify::calibration(&s, &y, a.bins);
        let f = |v: Option<f64>| v.map_or("undefined".to_string(), |x| format!("{x:.4}"));
        let _ = writeln!(
            table,
            "{:<20} {:>7} {:>6} {:>7}  {:<17}  {:<17} {:>7} {:>6.3} {:>6.3} {:>6.3} {:>7} {:>7.4}",
            class,
            s.len(),
            n_pos,
            f(dl.map(|d| d.auc)),
            dl.map_or("—".into(), |d| format!("[{:.4}, {:.4}]", d.ci95[0], d.ci95[1])),
            boot.map_or("—".into(), |b| format!("[{:.4}, {:.4}]", b.low, b.high)),
            f(ap),
            at.sensitivity,
            at.specificity,
            at.f1,
            yd.map_or("—".into(), |v| format!("{:.4}", v.threshold)),
            cal.ece
        );
        results.push(serde_json::json!({
            "class": class, "n": s.len(), "n_pos": n_pos,
            "auroc": dl.map(|d| d.auc), "delong": dl, "bootstrap_ci": boot,
            "average_precision": ap, "at_threshold": at, "youden": yd, "calibration": cal,
        }));
    }
    let defined: Vec<f64> = results.iter().filter_map(|r| r["auroc"].as_f64()).collect();
    let macro_auc = if defined.is_empty() { None } else { Some(defined.iter().sum::<f64>() / defined.len() as f64) };
    let bytes = if a.json {
        let v = serde_json::json!({
            "classes": results, "macro_auroc": macro_auc,
            "conventions": {"uncertain": format!("{:?}", a.uncertain).to_lowercase(), "threshold_rule": "positive iff score >= threshold", "threshold": a.threshold, "bins": a.bins, "bootstrap": {"resamples": a.bootstrap, "seed": a.seed, "level": 0.95}},
        });
        let mut b = serde_json::to_vec_pretty(&v)?;
        b.push(b'\n');
        b
    } else {
        let _ = writeln!(
            table,
            "\nmacro AUROC over {} classes with both labels present: {}",
            defined.len(),
            macro_auc.map_or("undefined".into(), |m| format!("{m:.4}"))
        );
        let _ = writeln!(table, "threshold {} (positive iff score >= threshold); uncertain labels: {:?}; ECE: {} equal-width bins; bootstrap: {} resamples, seed {}", a.threshold, a.uncertain, a.bins, a.bootstrap, a.seed);
        table.into_bytes()
    };
    emit(None, &bytes)
}
