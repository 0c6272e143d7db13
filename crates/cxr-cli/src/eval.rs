//! `cxr eval`: model evaluation from prediction files.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use cxr_metrics::{calibrate, classify, fairness};
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
    /// Subgroup performance: per-group TPR/FPR/AUROC, gaps, equalized odds, underdiagnosis.
    Fairness(FairnessArgs),
    /// Recalibration fitted on one split and tested on another: Platt, isotonic, split-conformal sets.
    Calibrate(CalibrateArgs),
    /// Segmentation masks: Dice, IoU, HD, HD95 and ASSD (MONAI and medpy variants).
    Segment(crate::eval_maps::SegmentArgs),
    /// Bounding boxes: IoU, IoBB, ChestX-ray8 T(·) accuracies, pointing game.
    Localize(crate::eval_maps::LocalizeArgs),
    /// Synthetic images vs references: MSE, MAE, PSNR, SSIM (two named settings).
    Quality(crate::eval_maps::QualityArgs),
    /// Feature sets of real vs synthetic images: FID and unbiased KID.
    Fid(crate::eval_maps::FidArgs),
    /// Saliency maps vs gaze: NSS, CC, KLD, SIM, AUC-Judd, AUC-Borji.
    Saliency(crate::eval_maps::SaliencyArgs),
}

/// Where predictions and labels come from (shared by every `cxr eval` subcommand).
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Predictions CSV (gzip is fine): an id column and one probability column per class (`p_<class>`, or
    /// `<class>` with --labels). Without --labels it must also hold `y_<class>` label columns.
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
}

#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub inputs: Inputs,
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
    /// Also write an HTML report (ROC, precision-recall and reliability plots per class; no JavaScript).
    #[arg(long)]
    pub html: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FairnessArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Group columns of the predictions file, comma separated (e.g. sex,age).
    #[arg(long)]
    pub groups: String,
    /// Column binned into age bands (the others are used as they are).
    #[arg(long, default_value = "age")]
    pub age_col: String,
    /// Lower edges of the age bands: [e0, e1), …, [e_last, ∞).
    #[arg(long, default_value = "0,20,40,60,80")]
    pub age_bins: String,
    /// Operating threshold (positive ⇔ score ≥ threshold).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Groups need at least this many positives to count in the TPR gap (small groups dominate gaps).
    #[arg(long, default_value_t = 1)]
    pub min_positives: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML page with one subgroup table per attribute (atomically).
    #[arg(long)]
    pub html: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Column of the predictions file that says which rows fit the calibration and which test it.
    #[arg(long)]
    pub split_col: String,
    /// Value of --split-col for fitting rows.
    #[arg(long, default_value = "cal")]
    pub fit_value: String,
    /// Value of --split-col for test rows.
    #[arg(long, default_value = "test")]
    pub test_value: String,
    /// Instead of values: fit on rows where --split-col is an even integer, test on odd ones (e.g. patient id).
    #[arg(long)]
    pub parity: bool,
    /// Miscoverage of the split-conformal sets.
    #[arg(long, default_value_t = 0.1)]
    pub alpha: f64,
    /// Calibration bins for ECE.
    #[arg(long, default_value_t = 15)]
    pub bins: usize,
    /// Print JSON (with the fitted parameters) instead of a table.
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

/// One class's evaluable rows.
struct ClassRows {
    name: String,
    /// Row indices in the predictions table.
    rows: Vec<usize>,
    scores: Vec<f64>,
    labels: Vec<bool>,
}

struct Loaded {
    pred: Table,
    classes: Vec<ClassRows>,
}

/// Reads predictions and labels, pairs them by id, and keeps per class the rows with a usable label.
fn load(a: &Inputs) -> Result<Loaded> {
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
    let mut classes = Vec::new();
    for class in candidates {
        let (Some(sc), Some(lc)) = (score_col(&class), label_col(&class)) else {
            bail!("class {class:?}: no score column p_{class} or no label column y_{class}");
        };
        let mut c = ClassRows { name: class.clone(), rows: Vec::new(), scores: Vec::new(), labels: Vec::new() };
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
            c.rows.push(i);
            c.scores.push(v);
            c.labels.push(l);
        }
        classes.push(c);
    }
    Ok(Loaded { pred, classes })
}

pub fn run(a: EvalArgs) -> Result<()> {
    match a.what {
        EvalCommand::Classify(c) => classify_cmd(c),
        EvalCommand::Fairness(f) => fairness_cmd(f),
        EvalCommand::Calibrate(c) => calibrate_cmd(c),
        EvalCommand::Segment(c) => crate::eval_maps::segment_cmd(c),
        EvalCommand::Localize(c) => crate::eval_maps::localize_cmd(c),
        EvalCommand::Quality(c) => crate::eval_maps::quality_cmd(c),
        EvalCommand::Fid(c) => crate::eval_maps::fid_cmd(c),
        EvalCommand::Saliency(c) => crate::eval_maps::saliency_cmd(c),
    }
}

fn classify_cmd(a: ClassifyArgs) -> Result<()> {
    if a.bins == 0 {
        bail!("--bins must be at least 1");
    }
    let data = load(&a.inputs)?;
    let mut results = Vec::new();
    let mut sections = Vec::new();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<20} {:>7} {:>6} {:>7}  {:<17}  {:<17} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7}",
        "class", "n", "pos", "AUROC", "DeLong 95% CI", "bootstrap 95% CI", "AP", "sens", "spec", "F1", "Youden", "ECE"
    );
    for ClassRows { name: class, scores: s, labels: y, .. } in &data.classes {
        let (s, y) = (&s[..], &y[..]);
        let n_pos = y.iter().filter(|&&v| v).count();
        let dl = classify::delong(s, y);
        let boot =
            (a.bootstrap > 0 && dl.is_some()).then(|| classify::bootstrap_auroc(s, y, a.bootstrap, 0.95, a.seed).0);
        let ap = classify::average_precision(s, y);
        let at = classify::at_threshold(s, y, a.threshold);
        let yd = classify::youden(s, y);
        let cal = classify::calibration(s, y, a.bins);
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
        let summary = serde_json::json!({
            "class": class, "n": s.len(), "n_pos": n_pos,
            "auroc": dl.map(|d| d.auc), "delong": dl, "bootstrap_ci": boot,
            "average_precision": ap, "at_threshold": at, "youden": yd, "calibration": cal,
        });
        if a.html.is_some() {
            sections.push(crate::eval_html::class_section(class, s, y, a.bins, &summary));
        }
        results.push(summary);
    }
    if let Some(path) = &a.html {
        let conventions = format!(
            "Predictions {}; uncertain labels {:?}; threshold {} (positive iff score >= threshold); ECE over {} equal-width bins; bootstrap {} resamples, seed {}.",
            a.inputs.pred.display(), a.inputs.uncertain, a.threshold, a.bins, a.bootstrap, a.seed
        );
        crate::output::write_atomic(
            path,
            crate::eval_html::page("cxr eval classify", &sections, &conventions).as_bytes(),
        )?;
    }
    let defined: Vec<f64> = results.iter().filter_map(|r| r["auroc"].as_f64()).collect();
    let macro_auc = if defined.is_empty() { None } else { Some(defined.iter().sum::<f64>() / defined.len() as f64) };
    let bytes = if a.json {
        let v = serde_json::json!({
            "classes": results, "macro_auroc": macro_auc,
            "conventions": {"uncertain": format!("{:?}", a.inputs.uncertain).to_lowercase(), "threshold_rule": "positive iff score >= threshold", "threshold": a.threshold, "bins": a.bins, "bootstrap": {"resamples": a.bootstrap, "seed": a.seed, "level": 0.95}},
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
        let _ = writeln!(table, "threshold {} (positive iff score >= threshold); uncertain labels: {:?}; ECE: {} equal-width bins; bootstrap: {} resamples, seed {}", a.threshold, a.inputs.uncertain, a.bins, a.bootstrap, a.seed);
        table.into_bytes()
    };
    emit(None, &bytes)
}

fn column(t: &Table, name: &str, file: &Path) -> Result<usize> {
    t.headers
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{} has no column {name:?}; its columns are {:?}", file.display(), t.headers))
}

fn fairness_cmd(a: FairnessArgs) -> Result<()> {
    let data = load(&a.inputs)?;
    let edges: Vec<f64> = a
        .age_bins
        .split(',')
        .map(|x| x.trim().parse::<f64>().map_err(|_| anyhow::anyhow!("--age-bins: {x:?} is not a number")))
        .collect::<Result<_>>()?;
    if edges.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--age-bins must increase, e.g. 0,20,40,60,80");
    }
    let attrs: Vec<String> = a.groups.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let mut out = serde_json::Map::new();
    let mut table = String::new();
    let mut sections = Vec::new();
    for attr in &attrs {
        let col = column(&data.pred, attr, &a.inputs.pred)?;
        let group_of = |row: usize| -> Option<String> {
            let v = data.pred.rows[row][col].trim();
            if v.is_empty() {
                None
            } else if attr == &a.age_col {
                v.parse::<f64>().ok().and_then(|age| fairness::age_band(age, &edges))
            } else {
                Some(v.to_string())
            }
        };
        let mut per_class = serde_json::Map::new();
        let mut reports = Vec::new();
        let _ = writeln!(
            table,
            "\n{attr}:\n{:<20} {:>8} {:>8} {:>8}  groups (TPR / FPR / AUROC)",
            "class", "TPR gap", "FPR gap", "EOD"
        );
        for c in &data.classes {
            let groups: Vec<Option<String>> = c.rows.iter().map(|&r| group_of(r)).collect();
            let r = fairness::group_report(&c.scores, &c.labels, &groups, a.threshold, a.min_positives);
            let f = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.4}"));
            let detail: Vec<String> =
                r.groups.iter().map(|(g, v)| format!("{g}: {}/{}/{}", f(v.tpr), f(v.fpr), f(v.auroc))).collect();
            let _ = writeln!(
                table,
                "{:<20} {:>8} {:>8} {:>8}  {}",
                c.name,
                f(r.tpr_gap),
                f(r.fpr_gap),
                f(r.equalized_odds_difference),
                detail.join("  ")
            );
            per_class.insert(c.name.clone(), serde_json::to_value(&r)?);
            reports.push((c.name.clone(), r));
        }
        // Underdiagnosis over rows labeled for every class: a finding present, every score below threshold.
        let n = data.pred.rows.len();
        let mut any = vec![false; n];
        let mut below = vec![true; n];
        let mut seen = vec![0usize; n];
        for c in &data.classes {
            for ((&r, &s), &y) in c.rows.iter().zip(&c.scores).zip(&c.labels) {
                any[r] |= y;
                below[r] &= s < a.threshold;
                seen[r] += 1;
            }
        }
        let full: Vec<usize> = (0..n).filter(|&r| seen[r] == data.classes.len()).collect();
        let (overall, per) = fairness::underdiagnosis(
            &full.iter().map(|&r| any[r]).collect::<Vec<_>>(),
            &full.iter().map(|&r| below[r]).collect::<Vec<_>>(),
            &full.iter().map(|&r| group_of(r)).collect::<Vec<_>>(),
        );
        let _ = writeln!(
            table,
            "underdiagnosis (predicted no finding among patients with one): overall {}, {}",
            overall.map_or("—".into(), |v| format!("{v:.5}")),
            per.iter().map(|(g, v)| format!("{g} {v:.5}")).collect::<Vec<_>>().join(", ")
        );
        if a.html.is_some() {
            sections.push(crate::eval_html::subgroup_section(attr, &reports, (overall, &per)));
        }
        out.insert(
            attr.clone(),
            serde_json::json!({"per_class": per_class, "underdiagnosis": {"overall": overall, "groups": per}}),
        );
    }
    if let Some(path) = &a.html {
        let conventions = format!(
            "Predictions {}; threshold {} (positive iff score >= threshold); TPR gap over groups with >= {} positives; EOD = max(TPR gap, FPR gap); age bins {:?}.",
            a.inputs.pred.display(), a.threshold, a.min_positives, edges
        );
        crate::output::write_atomic(
            path,
            crate::eval_html::page("cxr eval fairness", &sections, &conventions).as_bytes(),
        )?;
    }
    let bytes = if a.json {
        let v = serde_json::json!({"attributes": out, "threshold": a.threshold, "min_positives": a.min_positives, "age_bins": edges});
        let mut b = serde_json::to_vec_pretty(&v)?;
        b.push(b'\n');
        b
    } else {
        let _ = writeln!(table, "\nthreshold {} (positive iff score >= threshold); TPR gap over groups with >= {} positives; EOD = max(TPR gap, FPR gap)", a.threshold, a.min_positives);
        table.into_bytes()
    };
    emit(None, &bytes)
}

fn calibrate_cmd(a: CalibrateArgs) -> Result<()> {
    if !(a.alpha > 0.0 && a.alpha < 1.0) {
        bail!("--alpha {} must lie strictly between 0 and 1", a.alpha);
    }
    let data = load(&a.inputs)?;
    let col = column(&data.pred, &a.split_col, &a.inputs.pred)?;
    let side = |row: usize| -> Result<Option<bool>> {
        let v = data.pred.rows[row][col].trim();
        if a.parity {
            let n: i64 = v.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{} row {}: {:?} in {} is not an integer (--parity)",
                    a.inputs.pred.display(),
                    row + 2,
                    v,
                    a.split_col
                )
            })?;
            Ok(Some(n % 2 == 0))
        } else if v == a.fit_value {
            Ok(Some(true))
        } else if v == a.test_value {
            Ok(Some(false))
        } else {
            Ok(None)
        }
    };
    let mut results = Vec::new();
    let mut table = format!(
        "{:<20} {:>7} {:>7} {:>10} {:>10} {:>10} {:>9} {:>9}\n",
        "class", "fit n", "test n", "ECE before", "Platt", "isotonic", "coverage", "set size"
    );
    for c in &data.classes {
        let (mut fp, mut fy, mut tp, mut ty) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((&r, &s), &y) in c.rows.iter().zip(&c.scores).zip(&c.labels) {
            match side(r)? {
                Some(true) => {
                    fp.push(s);
                    fy.push(y);
                }
                Some(false) => {
                    tp.push(s);
                    ty.push(y);
                }
                None => {}
            }
        }
        if fp.is_empty() || tp.is_empty() {
            bail!(
                "class {}: the split leaves {} fitting and {} test rows; check --split-col and its values",
                c.name,
                fp.len(),
                tp.len()
            );
        }
        let before = classify::calibration(&tp, &ty, a.bins);
        let platt = calibrate::fit_platt(&fp, &fy);
        let iso = calibrate::fit_isotonic(&fp, &fy);
        let platt_ece =
            platt.map(|m| classify::calibration(&tp.iter().map(|&p| m.apply(p)).collect::<Vec<_>>(), &ty, a.bins).ece);
        let iso_ece = iso
            .as_ref()
            .map(|m| classify::calibration(&tp.iter().map(|&p| m.apply(p)).collect::<Vec<_>>(), &ty, a.bins).ece);
        let conf = calibrate::conformal_lac(&fp, &fy, &tp, &ty, a.alpha);
        let f = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.4}"));
        let _ = writeln!(
            table,
            "{:<20} {:>7} {:>7} {:>10.4} {:>10} {:>10} {:>9} {:>9}",
            c.name,
            fp.len(),
            tp.len(),
            before.ece,
            f(platt_ece),
            f(iso_ece),
            f(conf.map(|c| c.coverage)),
            f(conf.map(|c| c.mean_set_size))
        );
        results.push(serde_json::json!({
            "class": c.name, "fit_n": fp.len(), "test_n": tp.len(),
            "test_ece_before": before.ece, "test_brier_before": before.brier,
            "platt": platt, "platt_test_ece": platt_ece,
            "isotonic": iso, "isotonic_test_ece": iso_ece,
            "conformal": conf,
        }));
    }
    let bytes = if a.json {
        let mut b =
            serde_json::to_vec_pretty(&serde_json::json!({"classes": results, "alpha": a.alpha, "bins": a.bins}))?;
        b.push(b'\n');
        b
    } else {
        let _ = writeln!(table, "\nECE over {} equal-width bins on the test rows; Platt (Newton, Platt's targets) and isotonic (PAVA) fitted on the fitting rows; split-conformal LAC at alpha {} (coverage and mean set size on the test rows)", a.bins, a.alpha);
        table.into_bytes()
    };
    emit(None, &bytes)
}
