//! `cxr draft` and `cxr check`: reports from findings, and reports checked against findings and themselves.

use crate::output::emit;
use crate::reports::{read_reports, ReadOptions, ReportBody, ReportInput};
use anyhow::{bail, Context, Result};
use cxr_core::{Finding, FindingLabels, Findings, Label};
use cxr_report::{
    check, demographic_flags, draft, edit_to_match, findings_from_report, inject, Demographics, ErrorType, Labeler,
    Neighbour, RetrievalIndex, SectionHeadings, SectionKind, Sex, Tversky,
};
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
    /// A label CSV (id + the 14 CheXpert columns, as `cxr label` writes): one draft per row, as CSV with
    /// `id, findings, impression` columns (what `cxr score` reads).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Retrieval drafting: return the report of this corpus (CSV, JSONL, text or folder of .txt, as for
    /// `cxr label`; labeled on the fly) whose findings best match, by Tversky similarity over finding sets.
    #[arg(long)]
    pub retrieve: Option<PathBuf>,
    /// With --retrieve: how many neighbours to report (the draft is the first).
    #[arg(long, default_value_t = 1)]
    pub neighbours: usize,
    /// With --retrieve: never return a corpus report whose id is the query's (leave-one-out evaluation).
    #[arg(long)]
    pub exclude_self: bool,
    /// With --retrieve: edit the retrieved report where it disagrees with the query (drop the sentences that
    /// state a finding otherwise, add template sentences for what is missing).
    #[arg(long, requires = "retrieve")]
    pub edit: bool,
    /// With --retrieve: Tversky weight of query findings the candidate lacks.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// With --retrieve: Tversky weight of candidate findings the query lacks.
    #[arg(long, default_value_t = 0.5)]
    pub beta: f64,
    /// JSON instead of text or CSV: the findings document used and the sentence → findings links (one report),
    /// or one object per row with the neighbours (--labels).
    #[arg(long)]
    pub json: bool,
    /// Write here (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The report to check (plain text; sections by their headings).
    #[arg(long, required_unless_present = "inject", conflicts_with = "inject")]
    pub report: Option<PathBuf>,
    /// Instead of checking: corrupt each report of this file (CSV, JSONL, text or folder of .txt, as for
    /// `cxr label`) with each error type, writing one row per corrupted report with the truth of what changed.
    #[arg(long)]
    pub inject: Option<PathBuf>,
    /// With --inject: the error types, comma-separated (negation-flip, laterality-swap, substitution,
    /// severity-change, omission, insertion). Default: all.
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<ErrorType>,
    /// With --inject: base seed; report i (0-based) uses seed + i, so a row reproduces on its own.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// With --inject: CSV column holding the report text (default: report, text, or findings + impression).
    #[arg(long)]
    pub text_col: Option<String>,
    /// With --inject: CSV column holding the report id.
    #[arg(long)]
    pub id_col: Option<String>,
    /// With --inject: skip unreadable rows (listed on standard error) instead of stopping.
    #[arg(long)]
    pub keep_going: bool,
    /// With --inject: write here (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// A findings document to check the report against (e.g. a model's).
    #[arg(long)]
    pub findings: Option<PathBuf>,
    /// The patient's age in years: flags statements implausible at that age (rules in
    /// crates/cxr-report/data/rules/demographics.txt).
    #[arg(long)]
    pub age: Option<f64>,
    /// The patient's sex (F or M): flags statements implausible for it.
    #[arg(long)]
    pub sex: Option<Sex>,
    /// JSON: the flags with their sentences and the report's labels (with --inject, the corrupted reports).
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
    if !(a.alpha >= 0.0 && a.beta >= 0.0 && a.alpha.is_finite() && a.beta.is_finite()) {
        bail!("--alpha and --beta must be finite and not negative (got {} and {})", a.alpha, a.beta);
    }
    let retrieval = a.retrieve.as_deref().map(|p| Corpus::read(p, &labeler)).transpose()?;
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
        let mut queries = Vec::new();
        for (row, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("{} line {}", path.display(), row + 2))?;
            let mut labels = FindingLabels::default();
            for &(i, f) in &cols {
                labels.set(
                    f,
                    rec[i].parse::<Label>().with_context(|| format!("{} line {}, {f}", path.display(), row + 2))?,
                );
            }
            queries.push((rec.get(0).unwrap_or("").to_string(), Findings::from_labels(&labels)));
        }
        // One row per query: the draft, and with --retrieve the neighbours (best first).
        let mut rows: Vec<(String, String, String, Vec<Neighbour>)> = Vec::new();
        let mut corpus = retrieval;
        for (id, doc) in &queries {
            match corpus.as_mut() {
                None => {
                    let d = draft(doc);
                    rows.push((id.clone(), d.findings_text(), d.impression_text(), Vec::new()));
                }
                Some(c) => {
                    let near = c.nearest(id, doc, &a);
                    let Some(best) = near.first() else { bail!("the corpus has no report to retrieve for {id}") };
                    let (f, i) = c.draft_text(best.index, doc, &labeler, a.edit);
                    rows.push((id.clone(), f, i, near));
                }
            }
        }
        let ids = |n: &Neighbour| corpus.as_ref().map_or("", |c| c.ids[n.index].as_str()).to_string();
        let bytes = if a.json {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(id, f, i, near)| {
                    let n: Vec<_> =
                        near.iter().map(|n| serde_json::json!({"id": ids(n), "similarity": n.similarity})).collect();
                    serde_json::json!({"id": id, "findings": f, "impression": i, "neighbours": n})
                })
                .collect();
            let mut b = serde_json::to_vec_pretty(&v)?;
            b.push(b'\n');
            b
        } else {
            let mut w = csv::Writer::from_writer(Vec::new());
            if corpus.is_none() {
                w.write_record(["id", "findings", "impression"])?;
                for (id, f, i, _) in &rows {
                    w.write_record([id, f, i])?;
                }
            } else {
                w.write_record(["id", "findings", "impression", "neighbour_id", "similarity", "neighbours"])?;
                for (id, f, i, near) in &rows {
                    let all: Vec<String> = near.iter().map(|n| format!("{}:{:.4}", ids(n), n.similarity)).collect();
                    let best = &near[0];
                    w.write_record([id, f, i, &ids(best), &format!("{:.6}", best.similarity), &all.join(" ")])?;
                }
            }
            w.into_inner()?
        };
        return crate::output::emit(a.output.as_deref(), &bytes);
    }
    let doc = match (&a.from, &a.from_report) {
        (Some(p), _) => read_findings(p)?,
        (None, Some(p)) => findings_from_report(&labeler.label(&read_text(p)?)),
        (None, None) => bail!("give --from findings.json, --from-report report.txt or --labels labels.csv"),
    };
    if let Some(mut c) = retrieval {
        let near = c.nearest("", &doc, &a);
        let Some(best) = near.first() else { bail!("the corpus has no report to retrieve") };
        let (f, i) = c.draft_text(best.index, &doc, &labeler, a.edit);
        let text = format!("FINDINGS: {f}\nIMPRESSION: {i}");
        let bytes = if a.json {
            let n: Vec<serde_json::Value> = near
                .iter()
                .map(|n| serde_json::json!({"id": c.ids[n.index], "similarity": n.similarity, "findings": c.sections[n.index].0, "impression": c.sections[n.index].1}))
                .collect();
            let mut b = serde_json::to_vec_pretty(
                &serde_json::json!({"findings_document": doc, "text": text, "neighbours": n, "alpha": a.alpha, "beta": a.beta}),
            )?;
            b.push(b'\n');
            b
        } else {
            format!("{text}\n").into_bytes()
        };
        return crate::output::emit(a.output.as_deref(), &bytes);
    }
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

/// A retrieval corpus: ids, FINDINGS and IMPRESSION texts, and the index over their findings.
struct Corpus {
    ids: Vec<String>,
    sections: Vec<(String, String)>,
    index: RetrievalIndex,
}

impl Corpus {
    fn read(path: &Path, labeler: &Labeler) -> Result<Corpus> {
        let read = read_reports(Some(path), &ReadOptions::default())?;
        let headings = SectionHeadings::default();
        let mut docs = Vec::new();
        let (mut ids, mut sections) = (Vec::new(), Vec::new());
        for r in &read.reports {
            let labels = crate::label::label_one(labeler, r);
            if labels.empty {
                continue; // Nothing to retrieve.
            }
            docs.push(findings_from_report(&labels));
            ids.push(r.id.clone());
            sections.push(findings_and_impression(r, &headings));
        }
        if docs.is_empty() {
            bail!("{}: no report in the corpus has findings or impression text", path.display());
        }
        Ok(Corpus { ids, sections, index: RetrievalIndex::new(&docs) })
    }

    /// The FINDINGS and IMPRESSION of corpus report `k`, edited to state `query` when `edit`.
    fn draft_text(&self, k: usize, query: &Findings, labeler: &Labeler, edit: bool) -> (String, String) {
        let (f, i) = &self.sections[k];
        if edit {
            edit_to_match(labeler, f, i, query)
        } else {
            (f.clone(), i.clone())
        }
    }

    fn nearest(&mut self, query_id: &str, doc: &Findings, a: &DraftArgs) -> Vec<Neighbour> {
        let ids = &self.ids;
        let skip = |i: usize| a.exclude_self && ids[i] == query_id;
        self.index.nearest(doc, a.neighbours.max(1), Tversky { alpha: a.alpha, beta: a.beta }, skip)
    }
}

/// A report's FINDINGS and IMPRESSION texts (a report without either counts as all findings).
fn findings_and_impression(r: &ReportInput, headings: &SectionHeadings) -> (String, String) {
    let (mut f, mut i) = (Vec::new(), Vec::new());
    match &r.body {
        ReportBody::Sections(parts) => {
            for (k, t) in parts {
                match k {
                    SectionKind::Findings => f.push(t.trim().to_string()),
                    SectionKind::Impression => i.push(t.trim().to_string()),
                    _ => {}
                }
            }
        }
        ReportBody::Whole(text) => {
            for s in headings.split(text) {
                let body = s.body.of(text).trim().to_string();
                match s.kind {
                    SectionKind::Findings => f.push(body),
                    SectionKind::Impression => i.push(body),
                    _ => {}
                }
            }
            if f.is_empty() && i.is_empty() {
                f.push(text.trim().to_string());
            }
        }
    }
    (f.join(" "), i.join(" "))
}

pub fn check_cmd(a: CheckArgs) -> Result<()> {
    if let Some(input) = &a.inject {
        return inject_cmd(input, &a);
    }
    let text = read_text(a.report.as_deref().expect("clap requires --report without --inject"))?;
    let doc = a.findings.as_deref().map(read_findings).transpose()?;
    if let Some(age) = a.age.filter(|x| !(x.is_finite() && (0.0..=130.0).contains(x))) {
        bail!("--age {age}: give the patient's age in years, between 0 and 130");
    }
    let mut r = check(&Labeler::default(), &text, doc.as_ref());
    r.flags.extend(demographic_flags(&r.text, &Demographics { age_years: a.age, sex: a.sex }));
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

/// `cxr check --inject`: the synthetic-error generator. One output row per (report, error type) that could be
/// applied; a report with nothing to corrupt for a type (e.g. no laterality word for a swap) gets no row.
fn inject_cmd(input: &Path, a: &CheckArgs) -> Result<()> {
    let opts =
        ReadOptions { format: None, text_col: a.text_col.clone(), id_col: a.id_col.clone(), keep_going: a.keep_going };
    let read = read_reports(Some(input), &opts)?;
    for s in &read.skipped {
        eprintln!("skipped: {s}");
    }
    let types = if a.types.is_empty() { ErrorType::ALL.to_vec() } else { a.types.clone() };
    let labeler = Labeler::default();
    let mut rows = Vec::new();
    let mut not_applicable = vec![0usize; types.len()];
    for (i, r) in read.reports.iter().enumerate() {
        let text = r.whole_text();
        let seed = a.seed.wrapping_add(i as u64);
        for (t, &kind) in types.iter().enumerate() {
            match inject(&labeler, &text, kind, seed) {
                Some(x) => rows.push((r.id.clone(), seed, x)),
                None => not_applicable[t] += 1,
            }
        }
    }
    for (kind, n) in types.iter().zip(&not_applicable) {
        if *n > 0 {
            eprintln!("{}: {n} of {} reports had nothing to corrupt", kind.name(), read.reports.len());
        }
    }
    let bytes = if a.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(id, seed, x)| serde_json::json!({"id": id, "seed": seed, "error_type": x.kind.name(), "finding": x.finding.name(), "original_sentence": x.original_sentence, "new_sentence": x.new_sentence, "report": x.report}))
            .collect();
        let mut b = serde_json::to_vec_pretty(&v)?;
        b.push(b'\n');
        b
    } else {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "seed", "error_type", "finding", "original_sentence", "new_sentence", "report"])?;
        for (id, seed, x) in &rows {
            w.write_record([
                id.as_str(),
                &seed.to_string(),
                x.kind.name(),
                x.finding.name(),
                &x.original_sentence,
                &x.new_sentence,
                &x.report,
            ])?;
        }
        w.into_inner()?
    };
    emit(a.output.as_deref(), &bytes)
}
