//! `cxr label`: CheXpert-style labels for free-text reports.

use crate::output::{emit, progress};
use crate::reports::{read_reports, InputFormat, ReadOptions, ReportBody, ReportInput};
use anyhow::{Context, Result};
use cxr_core::Finding;
use cxr_report::{Labeler, LabelerOptions, ReportLabels, SectionKind};
use rayon::prelude::*;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LabelArgs {
    /// A CSV, a JSONL file, a folder of .txt reports, or `-` for standard input (one report, unless
    /// --input-format says otherwise).
    pub input: Option<PathBuf>,
    /// Write here (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// JSON Lines with evidence (sentence, mention span, trigger) instead of CSV.
    #[arg(long)]
    pub json: bool,
    /// Column order of the CSV output.
    #[arg(long, value_enum, default_value_t = ColumnOrder::Chexpert)]
    pub format: ColumnOrder,
    /// Column with the whole report text (default: `findings`/`impression` columns, else `report` or `text`).
    #[arg(long)]
    pub text_col: Option<String>,
    /// Column with the report id (default: `id` if present, else the row number).
    #[arg(long)]
    pub id_col: Option<String>,
    /// How to read INPUT (default: from its extension; standard input is one plain-text report).
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormat>,
    /// Sections to label in whole reports, comma separated (findings, impression, indication, history,
    /// comparison, technique, recommendation, preamble, other), or `all`.
    #[arg(long, default_value = "findings,impression")]
    pub sections: String,
    /// Skip malformed records and report them, instead of stopping at the first.
    #[arg(long)]
    pub keep_going: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Which column order the CSV uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColumnOrder {
    /// The CheXpert labeler / dataset order: No Finding first.
    Chexpert,
    /// CheXbert / RadEval order: No Finding last.
    Chexbert,
}

impl ColumnOrder {
    pub fn findings(self) -> &'static [Finding; 14] {
        match self {
            ColumnOrder::Chexpert => &Finding::ALL,
            ColumnOrder::Chexbert => &Finding::CHEXBERT_ORDER,
        }
    }
}

pub fn parse_sections(s: &str) -> Result<Vec<SectionKind>> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(SectionKind::ALL.to_vec());
    }
    s.split(',').filter(|x| !x.trim().is_empty()).map(|x| x.parse::<SectionKind>().map_err(Into::into)).collect()
}

/// Labels one report.
pub fn label_one(labeler: &Labeler, r: &ReportInput) -> ReportLabels {
    match &r.body {
        ReportBody::Whole(t) => labeler.label(t),
        ReportBody::Sections(parts) => {
            let parts: Vec<(SectionKind, &str)> = parts.iter().map(|(k, t)| (*k, t.as_str())).collect();
            labeler.label_sections(&parts)
        }
    }
}

/// Labels reports in parallel; the output order is the input order whatever the thread count.
pub fn label_all(labeler: &Labeler, reports: &[ReportInput], pb: &indicatif::ProgressBar) -> Vec<ReportLabels> {
    reports
        .par_iter()
        .map(|r| {
            let out = label_one(labeler, r);
            pb.inc(1);
            out
        })
        .collect()
}

/// The CSV header: `id` then one column per finding.
pub fn csv_header(order: ColumnOrder) -> Vec<u8> {
    let mut h = String::from("id");
    for f in order.findings() {
        h.push(',');
        h.push_str(f.name());
    }
    h.push('\n');
    h.into_bytes()
}

/// One CSV row: the id, then one cell per finding, blank for not mentioned.
pub fn csv_row(r: &ReportInput, l: &ReportLabels, order: ColumnOrder) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity(64));
    let mut row = Vec::with_capacity(15);
    row.push(r.id.as_str());
    row.extend(order.findings().iter().map(|f| l.get(*f).as_chexpert_str()));
    w.write_record(&row)?;
    w.into_inner().context("cannot finish a CSV row")
}

/// One JSON line: `{"id", "labels", "empty", "invalid_utf8_replaced", "mentions": [...], "text"}`.
pub fn json_line(r: &ReportInput, l: &ReportLabels) -> Result<Vec<u8>> {
    let v = serde_json::json!({
        "id": r.id,
        "labels": l.labels,
        "empty": l.empty,
        "invalid_utf8_replaced": r.had_invalid_utf8,
        "mentions": l.mentions.iter().map(|m| serde_json::json!({
            "finding": m.finding.map(|f| f.name()),
            "label": m.label.value(),
            "section": m.section,
            "text": l.text_of(m.span),
            "span": m.span,
            "sentence": l.text_of(m.sentence),
            "sentence_span": m.sentence,
            "phrase": m.phrase,
            "cue": m.cue.as_ref().map(|c| serde_json::json!({
                "category": c.category,
                "text": l.text_of(c.span),
                "span": c.span,
            })),
        })).collect::<Vec<_>>(),
        "text": l.text,
    });
    let mut out = serde_json::to_vec(&v)?;
    out.push(b'\n');
    Ok(out)
}

/// The whole CSV for labeled reports.
pub fn to_csv(reports: &[ReportInput], labels: &[ReportLabels], order: ColumnOrder) -> Result<Vec<u8>> {
    let mut out = csv_header(order);
    for (r, l) in reports.iter().zip(labels) {
        out.extend(csv_row(r, l, order)?);
    }
    Ok(out)
}

/// The whole JSON Lines output for labeled reports.
pub fn to_jsonl(reports: &[ReportInput], labels: &[ReportLabels]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (r, l) in reports.iter().zip(labels) {
        out.extend(json_line(r, l)?);
    }
    Ok(out)
}

pub fn run(a: LabelArgs) -> Result<()> {
    let sections = parse_sections(&a.sections).context("bad --sections")?;
    let opts = ReadOptions { format: a.input_format, text_col: a.text_col, id_col: a.id_col, keep_going: a.keep_going };
    let input = read_reports(a.input.as_deref(), &opts)?;
    let labeler = Labeler::with_options(LabelerOptions { sections, ..LabelerOptions::default() });
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads.unwrap_or(0)).build()?;
    let pb = progress(input.reports.len() as u64, a.quiet, "labeling");
    // Each report goes straight to its output row, so memory holds rows, not labeling results.
    let rows: Vec<Result<(Vec<u8>, bool)>> = pool.install(|| {
        input
            .reports
            .par_iter()
            .map(|r| {
                let l = label_one(&labeler, r);
                pb.inc(1);
                let row = if a.json { json_line(r, &l)? } else { csv_row(r, &l, a.format)? };
                Ok((row, l.empty))
            })
            .collect()
    });
    pb.finish_and_clear();
    let mut bytes = if a.json { Vec::new() } else { csv_header(a.format) };
    let mut empty = 0;
    for row in rows {
        let (row, was_empty) = row?;
        bytes.extend(row);
        empty += usize::from(was_empty);
    }
    emit(a.output.as_deref(), &bytes)?;
    if !a.quiet {
        let bad = input.reports.iter().filter(|r| r.had_invalid_utf8).count();
        eprintln!("labeled {} reports", input.reports.len());
        if empty > 0 {
            eprintln!("warning: {empty} reports had no text to label (all labels left blank)");
        }
        if bad > 0 {
            eprintln!("warning: {bad} reports had bytes that are not UTF-8; they were replaced with U+FFFD");
        }
        for s in &input.skipped {
            eprintln!("skipped: {s}");
        }
    }
    Ok(())
}
