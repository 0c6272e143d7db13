//! Reading reports from a CSV, a JSONL file, a folder of `.txt` files, or standard input.
//!
//! Bytes that are not UTF-8 are replaced (U+FFFD) and counted, never fatal. Structural problems (a CSV row
//! with the wrong number of fields, a JSONL line that is not an object) stop the run with the line number,
//! or are skipped and reported with `--keep-going`.

use anyhow::{bail, Context, Result};
use cxr_report::SectionKind;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How to read the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    Csv,
    Jsonl,
    /// One report: the whole input.
    Text,
}

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub format: Option<InputFormat>,
    pub text_col: Option<String>,
    pub id_col: Option<String>,
    pub keep_going: bool,
}

/// One report to label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    pub id: String,
    pub body: ReportBody,
    /// Some bytes were not UTF-8 and were replaced.
    pub had_invalid_utf8: bool,
}

impl ReportInput {
    /// The report as one text with section headings ("FINDINGS: …\nIMPRESSION: …" for CSV sections).
    pub fn whole_text(&self) -> String {
        match &self.body {
            ReportBody::Whole(t) => t.clone(),
            ReportBody::Sections(parts) => {
                parts.iter().map(|(k, t)| format!("{}: {t}", k.name().to_uppercase())).collect::<Vec<_>>().join("\n")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportBody {
    /// A whole report, to be split into sections.
    Whole(String),
    /// Sections given separately (CSV `findings`/`impression` columns).
    Sections(Vec<(SectionKind, String)>),
}

#[derive(Debug, Default)]
pub struct ReadOutcome {
    pub reports: Vec<ReportInput>,
    /// One message per skipped record (only with `keep_going`).
    pub skipped: Vec<String>,
}

fn lossy(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

/// Reads reports from `input` (`None` or `-` = standard input).
pub fn read_reports(input: Option<&Path>, opts: &ReadOptions) -> Result<ReadOutcome> {
    let stdin = input.is_none_or(|p| p.as_os_str() == "-");
    if !stdin {
        let p = input.expect("checked");
        if p.is_dir() {
            return read_folder(p);
        }
    }
    let name = if stdin { "standard input".to_string() } else { input.unwrap().display().to_string() };
    let format = opts.format.unwrap_or_else(|| match input.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => InputFormat::Csv,
        Some(e) if e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson") => InputFormat::Jsonl,
        _ => InputFormat::Text,
    });
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(input.unwrap()).with_context(|| format!("cannot read {name}"))?;
    }
    match format {
        InputFormat::Csv | InputFormat::Jsonl => read_reports_from_bytes_as(&bytes, &name, format, opts),
        InputFormat::Text => {
            let (text, bad) = lossy(&bytes);
            let id = input
                .filter(|_| !stdin)
                .and_then(|p| p.file_stem())
                .map_or("1".into(), |s| s.to_string_lossy().into_owned());
            Ok(ReadOutcome {
                reports: vec![ReportInput { id, body: ReportBody::Whole(text), had_invalid_utf8: bad }],
                skipped: vec![],
            })
        }
    }
}

/// Reads a CSV held in memory (the bundled demo data).
pub fn read_reports_from_bytes(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<ReadOutcome> {
    read_reports_from_bytes_as(bytes, name, InputFormat::Csv, opts)
}

fn read_reports_from_bytes_as(
    bytes: &[u8],
    name: &str,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<ReadOutcome> {
    match format {
        InputFormat::Jsonl => read_jsonl(bytes, name, opts),
        _ => read_csv(bytes, name, opts),
    }
}

fn read_folder(dir: &Path) -> Result<ReadOutcome> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "folder {} has no .txt files: put one report per .txt file there, or pass a CSV/JSONL file",
            dir.display()
        );
    }
    let mut out = ReadOutcome::default();
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
        let (text, bad) = lossy(&bytes);
        let id = f.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        out.reports.push(ReportInput { id, body: ReportBody::Whole(text), had_invalid_utf8: bad });
    }
    Ok(out)
}

/// Which columns hold what.
struct Columns {
    id: Option<usize>,
    text: Option<usize>,
    sections: Vec<(SectionKind, usize)>,
}

fn pick_columns(headers: &[String], name: &str, opts: &ReadOptions) -> Result<Columns> {
    let find = |want: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(want));
    let listing = || headers.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
    let id = match &opts.id_col {
        Some(c) => {
            Some(find(c).with_context(|| format!("{name} has no id column {c:?}; its columns are {}", listing()))?)
        }
        None => find("id"),
    };
    if let Some(c) = &opts.text_col {
        let t = find(c).with_context(|| format!("{name} has no column {c:?}; its columns are {}", listing()))?;
        return Ok(Columns { id, text: Some(t), sections: vec![] });
    }
    let sections: Vec<(SectionKind, usize)> = [SectionKind::Findings, SectionKind::Impression]
        .into_iter()
        .filter_map(|k| find(k.name()).map(|i| (k, i)))
        .collect();
    if !sections.is_empty() {
        return Ok(Columns { id, text: None, sections });
    }
    for fallback in ["report", "text"] {
        if let Some(t) = find(fallback) {
            return Ok(Columns { id, text: Some(t), sections: vec![] });
        }
    }
    bail!(
        "{name} has no report column: expected `findings` and/or `impression`, or `report`/`text`, \
         or name one with --text-col. Its columns are {}",
        listing()
    )
}

fn read_csv(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<ReadOutcome> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers: Vec<String> = rdr
        .byte_headers()
        .with_context(|| format!("cannot read the header row of {name}"))?
        .iter()
        .map(|h| lossy(h).0.trim_start_matches('\u{feff}').to_string())
        .collect();
    let cols = pick_columns(&headers, name, opts)?;
    let mut out = ReadOutcome::default();
    let mut rec = csv::ByteRecord::new();
    let mut row = 0usize;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                row += 1;
                let mut bad = false;
                let mut field = |i: usize| {
                    let (s, b) = lossy(rec.get(i).unwrap_or_default());
                    bad |= b;
                    s
                };
                let id = cols.id.map_or_else(|| row.to_string(), &mut field);
                let body = match cols.text {
                    Some(t) => ReportBody::Whole(field(t)),
                    None => ReportBody::Sections(cols.sections.iter().map(|&(k, i)| (k, field(i))).collect()),
                };
                out.reports.push(ReportInput { id, body, had_invalid_utf8: bad });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
                        "{name} line {line}: {len} fields where the header has {expected_len} (quote fields that contain commas)"
                    ),
                    _ => format!("{name} line {line}: {e}"),
                };
                if !opts.keep_going {
                    bail!("{msg}; fix the row, or pass --keep-going to skip bad rows and report them");
                }
                out.skipped.push(msg);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// The keys of a JSONL object that hold the id, the whole text, or the sections.
type JsonKeys = (Option<String>, Option<String>, Vec<(SectionKind, String)>);

fn read_jsonl(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<ReadOutcome> {
    let (text, bad_utf8) = lossy(bytes);
    let mut out = ReadOutcome::default();
    let mut cols: Option<JsonKeys> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(line) {
            Ok(o) => o,
            Err(e) => {
                let msg = format!("{name} line {}: not a JSON object ({e})", i + 1);
                if !opts.keep_going {
                    bail!("{msg}; fix the line, or pass --keep-going to skip bad lines and report them");
                }
                out.skipped.push(msg);
                continue;
            }
        };
        // Columns are chosen from the first object, like a CSV header.
        let (id_key, text_key, section_keys) = match &cols {
            Some(c) => c.clone(),
            None => {
                let keys: Vec<String> = obj.keys().cloned().collect();
                let c = pick_columns(&keys, name, opts)?;
                let c = (
                    c.id.map(|i| keys[i].clone()),
                    c.text.map(|i| keys[i].clone()),
                    c.sections.iter().map(|&(k, i)| (k, keys[i].clone())).collect(),
                );
                cols = Some(c.clone());
                c
            }
        };
        let get = |k: &str| match obj.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        };
        let id = id_key.as_deref().map_or_else(|| (out.reports.len() + 1).to_string(), get);
        let body = match &text_key {
            Some(t) => ReportBody::Whole(get(t)),
            None => ReportBody::Sections(section_keys.iter().map(|(k, key)| (*k, get(key))).collect()),
        };
        out.reports.push(ReportInput { id, body, had_invalid_utf8: bad_utf8 && line.contains('\u{fffd}') });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(src: &[u8], opts: &ReadOptions) -> Result<ReadOutcome> {
        read_csv(src, "t.csv", opts)
    }

    #[test]
    fn csv_with_section_columns_and_id() {
        let o = csv(b"id,findings,impression\nA,No effusion.,Normal.\n", &ReadOptions::default()).unwrap();
        assert_eq!(o.reports[0].id, "A");
        assert!(matches!(&o.reports[0].body, ReportBody::Sections(s) if s.len() == 2));
    }

    #[test]
    fn csv_missing_column_lists_the_columns() {
        let e = csv(b"a,b\n1,2\n", &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("\"a\", \"b\"") && e.contains("--text-col"), "{e}");
        let o = ReadOptions { text_col: Some("zzz".into()), ..Default::default() };
        assert!(csv(b"a,b\n1,2\n", &o).unwrap_err().to_string().contains("no column \"zzz\""));
    }

    #[test]
    fn csv_bad_rows_error_or_are_skipped() {
        let src = b"id,report\n1,fine\n2,too,many\n3,ok\n";
        let e = csv(src, &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("--keep-going"), "{e}");
        let o = csv(src, &ReadOptions { keep_going: true, ..Default::default() }).unwrap();
        assert_eq!(o.reports.len(), 2);
        assert_eq!(o.skipped.len(), 1);
        assert!(o.skipped[0].contains("line 3"));
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        let o = csv(b"id,report\n1,caf\xe9 effusion\n", &ReadOptions::default()).unwrap();
        assert!(o.reports[0].had_invalid_utf8);
        assert!(matches!(&o.reports[0].body, ReportBody::Whole(t) if t.contains('\u{fffd}')));
    }

    #[test]
    fn jsonl_objects_and_bad_lines() {
        let src = b"{\"id\": \"x\", \"report\": \"No effusion.\"}\nnot json\n{\"id\": 7, \"report\": null}\n";
        assert!(read_jsonl(src, "t.jsonl", &ReadOptions::default()).unwrap_err().to_string().contains("line 2"));
        let o = read_jsonl(src, "t.jsonl", &ReadOptions { keep_going: true, ..Default::default() }).unwrap();
        assert_eq!(o.reports.len(), 2);
        assert_eq!(o.reports[1].id, "7");
        assert_eq!(o.reports[1].body, ReportBody::Whole(String::new()));
    }
}
