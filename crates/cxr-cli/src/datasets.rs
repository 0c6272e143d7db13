//! `cxr datasets list|harmonize|stats|split`: public datasets' label files in one schema.

use crate::output::{emit, progress};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use cxr_data::{harmonize, split, stats, Dataset, Harmonized, Options, TXV_PATHOLOGIES};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DatasetsArgs {
    #[command(subcommand)]
    pub command: DatasetsCommand,
}

#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// The datasets cxrkit reads: files expected, source, licence and label conventions.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Read datasets' label files and write one CSV in the common schema.
    Harmonize(HarmonizeArgs),
    /// Counts, views, sex, age and label prevalence per dataset.
    Stats(HarmonizeArgs),
    /// Assign patient-level, label-stratified train/valid/test splits to a harmonised CSV.
    Split(SplitArgs),
}

#[derive(Debug, Args)]
pub struct HarmonizeArgs {
    /// NAME=FILE[,FILE…] per dataset, e.g. nih=Data_Entry_2017_v2020.csv.gz or
    /// rsna=stage_2_train_labels.csv.zip,kaggle_stage_2_train_images_dicom_headers.csv.gz
    /// (`cxr datasets list` gives each dataset's files in order).
    #[arg(required = true)]
    pub specs: Vec<String>,
    /// Keep only these views, comma-separated (PA, AP, L, "AP Supine", UNKNOWN…); default all.
    #[arg(long, value_delimiter = ',')]
    pub views: Option<Vec<String>>,
    /// One image per patient.
    #[arg(long)]
    pub unique_patients: bool,
    /// Reproduce torchxrayvision 1.5.7's mapping exactly, quirks included.
    #[arg(long)]
    pub txv_compat: bool,
    /// torchxrayvision's constructor defaults: --txv-compat --views PA --unique-patients.
    #[arg(long)]
    pub txv_defaults: bool,
    /// OpenI: views from the t-SNE file (third OpenI file) instead of the DICOM header.
    #[arg(long)]
    pub tsne_view: bool,
    /// Output file (harmonize: CSV; default standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// JSON: harmonize prints a summary (rows, notes, unknown values) to stderr; stats prints JSON.
    #[arg(long)]
    pub json: bool,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// A CSV written by `cxr datasets harmonize`.
    pub input: PathBuf,
    /// Train, valid and test fractions.
    #[arg(long, value_delimiter = ',', default_value = "0.7,0.1,0.2")]
    pub fractions: Vec<f64>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output CSV (the input plus an `assigned_split` column); default standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print per-split counts as JSON on stderr.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DatasetsArgs) -> Result<()> {
    match a.command {
        DatasetsCommand::List { json } => list(json),
        DatasetsCommand::Harmonize(h) => harmonize_cmd(h, false),
        DatasetsCommand::Stats(h) => harmonize_cmd(h, true),
        DatasetsCommand::Split(s) => split_cmd(s),
    }
}

fn list(json: bool) -> Result<()> {
    let infos: Vec<_> = Dataset::ALL.iter().map(|d| d.info()).collect();
    let text = if json {
        serde_json::to_string_pretty(&infos)? + "\n"
    } else {
        infos
            .iter()
            .map(|i| {
                format!(
                    "{} — {}\n  files:       {}\n  source:      {}\n  licence:     {}\n  conventions: {}\n",
                    i.name, i.title, i.files, i.source, i.licence, i.conventions
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    emit(None, text.as_bytes())
}

fn parse_spec(s: &str) -> Result<(Dataset, Vec<PathBuf>)> {
    let (name, files) = s
        .split_once('=')
        .with_context(|| format!("'{s}' is not NAME=FILE[,FILE…] (e.g. nih=Data_Entry_2017_v2020.csv.gz)"))?;
    let d: Dataset = name.parse().map_err(anyhow::Error::msg)?;
    let files: Vec<PathBuf> = files.split(',').filter(|f| !f.is_empty()).map(PathBuf::from).collect();
    if files.is_empty() {
        bail!("'{s}' names no file; {} needs {}", d.name(), d.info().files);
    }
    Ok((d, files))
}

fn options(a: &HarmonizeArgs) -> Options {
    if a.txv_defaults {
        return Options { tsne_view: a.tsne_view, ..Options::txv_defaults() };
    }
    Options {
        views: a.views.clone(),
        unique_patients: a.unique_patients,
        txv_compat: a.txv_compat,
        tsne_view: a.tsne_view,
    }
}

fn cell(v: Option<i8>) -> &'static str {
    match v {
        Some(1) => "1",
        Some(0) => "0",
        Some(-1) => "-1",
        _ => "",
    }
}

/// The common schema as CSV: fixed columns, the 18 torchxrayvision pathologies, every other label of the
/// datasets (first-appearance order), then per-image attributes such as CheXpert Plus's demographics and
/// report sections.
fn to_csv(sets: &[Harmonized]) -> Result<Vec<u8>> {
    let mut extras: Vec<String> = Vec::new();
    for h in sets {
        for p in &h.pathologies {
            if !TXV_PATHOLOGIES.contains(&p.as_str()) && !extras.contains(p) {
                extras.push(p.clone());
            }
        }
    }
    let mut attributes: Vec<String> = Vec::new();
    for h in sets {
        for a in &h.attributes.names {
            if !attributes.contains(a) {
                attributes.push(a.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["dataset", "image_id", "patient_id", "study_id", "view", "sex", "age", "split"].map(String::from).to_vec();
    header.extend(TXV_PATHOLOGIES.iter().map(|s| s.to_string()));
    header.extend(extras.iter().cloned());
    header.extend(attributes.iter().cloned());
    w.write_record(&header)?;
    for h in sets {
        let cols: Vec<Option<usize>> = TXV_PATHOLOGIES
            .iter()
            .map(|s| s.to_string())
            .chain(extras.iter().cloned())
            .map(|name| h.pathologies.iter().position(|p| *p == name))
            .collect();
        for (i, r) in h.records.iter().enumerate() {
            let mut row: Vec<String> = vec![
                h.dataset.name().into(),
                r.image_id.clone(),
                r.patient_id.clone().unwrap_or_default(),
                r.study_id.clone().unwrap_or_default(),
                r.view.clone(),
                r.sex.clone().unwrap_or_default(),
                r.age.map(|a| format!("{a}")).unwrap_or_default(),
                r.split.clone().unwrap_or_default(),
            ];
            row.extend(cols.iter().map(|c| cell(c.and_then(|k| r.labels[k])).to_string()));
            row.extend(attributes.iter().map(|a| h.attributes.get(i, a).unwrap_or_default().to_string()));
            w.write_record(&row)?;
        }
    }
    w.into_inner().context("cannot format the CSV")
}

fn harmonize_cmd(a: HarmonizeArgs, stats_only: bool) -> Result<()> {
    let specs: Vec<(Dataset, Vec<PathBuf>)> = a.specs.iter().map(|s| parse_spec(s)).collect::<Result<_>>()?;
    let opts = options(&a);
    let pb = progress(specs.len() as u64, a.quiet, "reading datasets");
    // Datasets are independent: read them in parallel, report in the order given.
    let results: Vec<Result<_>> = {
        use rayon::prelude::*;
        specs
            .par_iter()
            .map(|(d, files)| {
                let h = harmonize(*d, files, &opts).with_context(|| format!("harmonizing {}", d.name()));
                // Statistics right away, while the other datasets are still being read.
                let s = h.map(|h| {
                    let s = stats_only.then(|| stats::stats(&h));
                    (h, s)
                });
                pb.inc(1);
                s
            })
            .collect()
    };
    pb.finish_and_clear();
    let (sets, all): (Vec<_>, Vec<_>) = results.into_iter().collect::<Result<Vec<_>>>()?.into_iter().unzip();
    for h in &sets {
        for (what, n) in &h.unknown_values {
            eprintln!("warning: {}: {n} cell(s) with unknown value {what} (read as missing)", h.dataset.name());
        }
    }
    if stats_only {
        let all: Vec<stats::Stats> = all.into_iter().flatten().collect();
        let text = if a.json {
            serde_json::to_string_pretty(&all)? + "\n"
        } else {
            all.iter().map(stats_text).collect::<String>()
        };
        let written = emit(a.output.as_deref(), text.as_bytes());
        // The process ends here: freeing hundreds of thousands of records one by one would take longer than
        // the rest of the output did; the operating system reclaims them at exit.
        std::mem::forget(sets);
        return written;
    }
    emit(a.output.as_deref(), &to_csv(&sets)?)?;
    if a.json {
        let summary: Vec<_> = sets
            .iter()
            .map(|h| {
                serde_json::json!({"dataset": h.dataset.name(), "rows": h.records.len(), "pathologies": h.pathologies,
                    "notes": h.notes, "unknown_values": h.unknown_values})
            })
            .collect();
        eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !a.quiet {
        for h in &sets {
            eprintln!("{}: {} rows", h.dataset.name(), h.records.len());
            for n in &h.notes {
                eprintln!("  - {n}");
            }
        }
    }
    Ok(())
}

fn stats_text(s: &stats::Stats) -> String {
    let mut t = format!("{}: {} images, {} patients\n", s.dataset, s.images, s.patients);
    if !s.views.is_empty() {
        t += &format!("  views: {}\n", s.views.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    }
    t += &format!("  sex:   {}\n", s.sex.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    if let Some(a) = &s.age {
        t += &format!(
            "  age:   n {} mean {:.1}, median {:.0} (IQR {:.0}–{:.0}), range {:.0}–{:.0}\n",
            a.n, a.mean, a.median, a.q1, a.q3, a.min, a.max
        );
    }
    for (name, counts) in &s.demographics {
        let list: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        t += &format!("  {name}: {}\n", list.join(", "));
    }
    t += &format!(
        "  {:<28} {:>8} {:>8} {:>9} {:>8} {:>10}\n",
        "label", "positive", "negative", "uncertain", "missing", "prevalence"
    );
    for l in &s.labels {
        t += &format!(
            "  {:<28} {:>8} {:>8} {:>9} {:>8} {:>10}\n",
            l.name,
            l.counts.pos,
            l.counts.neg,
            l.counts.uncertain,
            l.counts.missing,
            l.prevalence.map(|p| format!("{p:.4}")).unwrap_or_else(|| "–".into())
        );
    }
    t + "\n"
}

fn split_cmd(a: SplitArgs) -> Result<()> {
    let [tr, va, te] = a.fractions[..] else {
        bail!("--fractions needs three numbers (train, valid, test), e.g. 0.7,0.1,0.2");
    };
    let bytes = cxr_data::table::read_file_bytes(&a.input)?;
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let header = rdr.headers().with_context(|| format!("{}: no CSV header", a.input.display()))?.clone();
    let need = ["dataset", "patient_id"];
    let missing: Vec<&str> = need.iter().copied().filter(|n| !header.iter().any(|h| h == *n)).collect();
    if !missing.is_empty() {
        bail!(
            "{}: missing column(s) {}; give a CSV written by `cxr datasets harmonize`",
            a.input.display(),
            missing.join(", ")
        );
    }
    let col = |n: &str| header.iter().position(|h| h == n);
    let (dcol, pcol) = (col("dataset").unwrap_or(0), col("patient_id").unwrap_or(0));
    let label_cols: Vec<usize> = TXV_PATHOLOGIES.iter().filter_map(|p| col(p)).collect();
    let rows: Vec<csv::StringRecord> = rdr
        .records()
        .enumerate()
        .map(|(i, r)| r.with_context(|| format!("{}: malformed CSV row {}", a.input.display(), i + 2)))
        .collect::<Result<_>>()?;
    // Patients are keyed by dataset too, so ids of different datasets never merge.
    let keys: Vec<Option<String>> =
        rows.iter().map(|r| (!r[pcol].is_empty()).then(|| format!("{}:{}", &r[dcol], &r[pcol]))).collect();
    let items: Vec<split::Item> = rows
        .iter()
        .zip(&keys)
        .map(|(r, k)| split::Item {
            patient: k.as_deref(),
            positive: label_cols.iter().map(|&c| &r[c] == "1").collect(),
        })
        .collect();
    let assigned = split::split(&items, [tr, va, te], a.seed).map_err(anyhow::Error::msg)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut h: Vec<&str> = header.iter().collect();
    h.push("assigned_split");
    w.write_record(&h)?;
    let mut counts = [0usize; 3];
    for (r, &s) in rows.iter().zip(&assigned) {
        let mut out: Vec<&str> = r.iter().collect();
        out.push(split::SPLITS[s]);
        w.write_record(&out)?;
        counts[s] += 1;
    }
    emit(a.output.as_deref(), &w.into_inner().context("cannot format the CSV")?)?;
    let summary = serde_json::json!({"train": counts[0], "valid": counts[1], "test": counts[2], "seed": a.seed});
    if a.json {
        eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!("images per split: train {}, valid {}, test {} (seed {})", counts[0], counts[1], counts[2], a.seed);
    }
    Ok(())
}
