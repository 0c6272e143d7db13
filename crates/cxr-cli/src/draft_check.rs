//! `cxr draft` and `cxr check`: reports from findings, and reports checked against findings and themselves.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use cxr_core::{Finding, FindingLabels, Findings, Label};
use cxr_report::{check, draft, findings_from_report, Labeler};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct DraftArgs {
    /// A findings document (JSON: {"findings": [{"id", "finding", "status", "laterality"?, "severity"?, …}]}).
    #[arg(long, conflicts_with_all = ["from_report", "labels"])]
    pub from: Option<PathBuf>,
    /// A report: draft from its own labels, laterality and severity (a normalised rewrite).
    #[arg(long, conflicts_with = "labels")]
    pub from_report: Option<PathBuf>,
    /// A label CSV (id + the 14 CheXpert columns, as `cxr label` writes): one draft per row, as CSV.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Also print the findings document used (with --from-report) and the sentence → findings links.
    #[arg(long)]
    pub json: bool,
    /// Write here (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The report to check (plain text; sections by their headings).
    #[arg(long)]
    pub report: PathBuf,
    /// A findings document to check the report against (e.g. a model's).
    #[arg(long)]
    pub findings: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// Reads a findings document, with errors that list the known finding names.
pub fn read_findings(p: &Path) -> Result<Findings> {
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let known: Vec<&str> = Finding::ALL.iter().map(|f| f.name()).collect();
        anyhow::anyhow!(
            "{}: not a findings document ({e}). Findings are named as {}; status is positive, negative or uncertain",
            p.display(),
            known.join(", ")
        )
    })
}

fn read_text(p: &Path) -> Result<String> {
    let b = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

pub fn draft_cmd(a: DraftArgs) -> Result<()> {
    let labeler = Labeler::default();
    if let Some(path) = &a.labels {
        let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
        let h = rdr.headers()?.clone();
        let cols: Vec<(usize, Finding)> =
            h.iter().enumerate().filter_map(|(i, name)| name.parse::<Finding>().ok().map(|f| (i, f))).collect();
        if cols.is_empty() {
            bail!(
                "{} has no CheXpert label columns (e.g. \"Pleural Effusion\"); its columns are {:?}",
                path.display(),
                h.iter().collect::<Vec<_>>()
            );
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "report"])?;
        for (row, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("{} line {}", path.display(), row + 2))?;
            let mut labels = FindingLabels::default();
            for &(i, f) in &cols {
                labels.set(
                    f,
                    rec[i].parse::<Label>().with_context(|| format!("{} line {}, {f}", path.display(), row + 2))?,
                );
            }
            w.write_record([rec.get(0).unwrap_or(""), &draft(&Findings::from_labels(&labels)).text()])?;
        }
        return crate::output::emit(a.output.as_deref(), &w.into_inner()?);
    }
    let doc = match (&a.from, &a.from_report) {
        (Some(p), _) => read_findings(p)?,
        (None, Some(p)) => findings_from_report(&labeler.label(&read_text(p)?)),
        (None, None) => bail!("give --from findings.json, --from-report report.txt or --labels labels.csv"),
    };
    let d = draft(&doc);
    let bytes = if a.json {
        let mut b =
            serde_json::to_vec_pretty(&serde_json::json!({"findings_document": doc, "draft": d, "text": d.text()}))?;
        b.push(b'\n');
        b
    } else {
        format!("{}\n", d.text()).into_bytes()
    };
    crate::output::emit(a.output.as_deref(), &bytes)
}

pub fn check_cmd(a: CheckArgs) -> Result<()> {
    let text = read_text(&a.report)?;
    let doc = a.findings.as_deref().map(read_findings).transpose()?;
    let r = check(&Labeler::default(), &text, doc.as_ref());
    let bytes = if a.json {
        let flags: Vec<serde_json::Value> = r
            .flags
            .iter()
            .map(|f| serde_json::json!({"kind": f.kind, "severity": f.severity, "finding": f.finding.map(|x| x.name()), "why": f.why, "span": f.span, "sentence": f.span.map(|s| s.of(&r.text))}))
            .collect();
        let mut b =
            serde_json::to_vec_pretty(&serde_json::json!({"flags": flags, "labels": r.labels, "text": r.text}))?;
        b.push(b'\n');
        b
    } else {
        let mut t = String::new();
        if r.flags.is_empty() {
            t.push_str("no problems found\n");
        }
        for f in &r.flags {
            let _ = writeln!(t, "[{:?}] {:?}: {}", f.severity, f.kind, f.why);
        }
        t.into_bytes()
    };
    emit(None, &bytes)
}
