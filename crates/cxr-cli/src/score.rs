//! `cxr score`: report-generation metrics of hypotheses against references.

use crate::output::{emit, write_atomic};
use crate::reports::{read_reports, ReadOptions, ReportBody, ReportInput};
use anyhow::{bail, Context, Result};
use cxr_metrics::clinical::{Conventions, UncertainAs};
use cxr_metrics::text::meteor::{Meteor, MeteorParams};
use cxr_metrics::text::suite::{self, Family, PairStats, ScoreOptions, Scorer, SystemStats};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// References: CSV or JSONL with an id column and a text column (or findings/impression columns).
    #[arg(long)]
    pub refs: PathBuf,
    /// Hypotheses, paired with the references by id. Give twice to compare two systems (paired
    /// approximate randomization test).
    #[arg(long, required = true, num_args = 1)]
    pub hyps: Vec<PathBuf>,
    /// Id column (default `id`; without one, rows pair by position).
    #[arg(long)]
    pub id_col: Option<String>,
    /// Text column (default: `report` or `text`, else `findings` + " " + `impression`).
    #[arg(long)]
    pub text_col: Option<String>,
    /// Metric families, comma separated: bleu, rouge, cider, meteor, bleu-raw, rouge-score, sacrebleu,
    /// chrf, clinical, length — or all (METEOR only when --meteor-data is given).
    #[arg(long, default_value = "all")]
    pub metrics: String,
    /// METEOR 1.5 resources: the `meteor` folder of an installed pycocoevalcap (meteor-1.5.jar +
    /// data/paraphrase-en.gz), the jar, or the jar unpacked. Nothing is downloaded.
    #[arg(long, value_name = "PATH")]
    pub meteor_data: Option<PathBuf>,
    /// Where METEOR's paraphrase index is kept (built on first use from the 61 MB table; later runs read only
    /// the entries their texts can match): default $CXR_CACHE_DIR, else $XDG_CACHE_HOME/cxr, else ~/.cache/cxr.
    #[arg(long, value_name = "DIR")]
    pub meteor_cache: Option<PathBuf>,
    /// Read METEOR's whole paraphrase table on every run instead of keeping an index.
    #[arg(long, conflicts_with = "meteor_cache")]
    pub no_meteor_cache: bool,
    /// Write per-pair scores to this CSV (atomically).
    #[arg(long)]
    pub per_pair: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Bootstrap resamples for confidence intervals (0 = none).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub ci: f64,
    /// Seed of the bootstrap and randomization draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Trials of the approximate randomization test (with two --hyps).
    #[arg(long, default_value_t = 10_000)]
    pub trials: usize,
    /// Clinical efficacy: uncertain labels count as positive (RadEval) or negative (R2Gen).
    #[arg(long, value_enum, default_value_t = Uncertain::Positive)]
    pub uncertain: Uncertain,
    /// Clinical efficacy: value of 0/0 (sklearn zero_division): 0 or 1.
    #[arg(long, default_value_t = 0.0)]
    pub zero_division: f64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip malformed input rows and report them.
    #[arg(long)]
    pub keep_going: bool,
    /// No warnings on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Uncertain {
    Positive,
    Negative,
}

/// What each corpus value is, and which implementation it reproduces.
pub fn describe(key: &str) -> &'static str {
    match key {
        "bleu1" | "bleu2" | "bleu3" | "bleu4" => "pycocoevalcap 1.2 BLEU, PTB tokens, corpus",
        "rouge_l" => "pycocoevalcap 1.2 ROUGE-L (beta 1.2), mean",
        "cider_d" => "pycocoevalcap 1.2 CIDEr-D (sigma 6, df from these refs), mean",
        "meteor" => "pycocoevalcap 1.2 METEOR 1.5 (-l en -norm), corpus from summed statistics",
        "bleu4_raw" => "RadEval bleu: BLEU-4 on raw white-space tokens, corpus",
        "rouge_score_l" => "rouge-score 0.1.2 ROUGE-L F, Porter stem (RadEval), mean",
        "rouge_score_l_nostem" => "rouge-score 0.1.2 ROUGE-L F, no stemming, mean",
        "sacrebleu" => "sacrebleu 2.6.0 BLEU nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp, corpus",
        "sacrebleu_sentence" => "sacrebleu 2.6.0 sentence_bleu (eff:yes), mean",
        "chrf" => "sacrebleu 2.6.0 chrF2 nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no, corpus",
        "chrf_sentence" => "sacrebleu 2.6.0 sentence_chrf, mean",
        "ce_micro_f1_14" | "ce_macro_f1_14" | "ce_weighted_f1_14" | "ce_samples_f1_14" => {
            "clinical F1, 14 findings (sklearn on cxr label)"
        }
        "ce_micro_f1_5" | "ce_macro_f1_5" | "ce_weighted_f1_5" | "ce_samples_f1_5" => "clinical F1, 5 common findings",
        "words_hyp" => "words per hypothesis, mean",
        "words_ref" => "words per reference, mean",
        "length_ratio" => "total hypothesis words / total reference words",
        "sentences_hyp" => "sentences per hypothesis, mean",
        _ => "sentences per reference, mean",
    }
}

pub fn text_of(r: &ReportInput) -> String {
    match &r.body {
        ReportBody::Whole(t) => t.clone(),
        // As the reference pairs are built: FINDINGS + " " + IMPRESSION.
        ReportBody::Sections(parts) => {
            parts.iter().map(|(_, t)| t.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ")
        }
    }
}

struct Side {
    path: PathBuf,
    ids: Vec<String>,
    texts: Vec<String>,
}

fn read_side(path: &Path, opts: &ReadOptions, quiet: bool) -> Result<Side> {
    let out = read_reports(Some(path), opts)?;
    if !quiet {
        for s in &out.skipped {
            eprintln!("skipped: {s}");
        }
    }
    let mut seen = HashMap::new();
    for (i, r) in out.reports.iter().enumerate() {
        if let Some(prev) = seen.insert(r.id.clone(), i) {
            bail!(
                "{}: id {:?} appears twice (rows {} and {}); ids must be unique",
                path.display(),
                r.id,
                prev + 1,
                i + 1
            );
        }
    }
    Ok(Side {
        path: path.to_path_buf(),
        ids: out.reports.iter().map(|r| r.id.clone()).collect(),
        texts: out.reports.iter().map(text_of).collect(),
    })
}

/// Hypothesis texts in reference order; errors list the first ids missing on either side.
fn align(refs: &Side, hyps: &Side) -> Result<Vec<String>> {
    let by_id: HashMap<&str, &str> =
        hyps.ids.iter().map(String::as_str).zip(hyps.texts.iter().map(String::as_str)).collect();
    let missing: Vec<&str> = refs.ids.iter().map(String::as_str).filter(|id| !by_id.contains_key(id)).collect();
    let ref_ids: std::collections::HashSet<&str> = refs.ids.iter().map(String::as_str).collect();
    let extra: Vec<&str> = hyps.ids.iter().map(String::as_str).filter(|id| !ref_ids.contains(id)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        let show = |v: &[&str]| v.iter().take(5).map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
        let mut msg = format!("ids of {} and {} do not match:", hyps.path.display(), refs.path.display());
        if !missing.is_empty() {
            let _ = write!(msg, " {} reference ids have no hypothesis (first: {});", missing.len(), show(&missing));
        }
        if !extra.is_empty() {
            let _ = write!(msg, " {} hypothesis ids have no reference (first: {});", extra.len(), show(&extra));
        }
        msg.push_str(" pass the same ids in both files (--id-col names the column)");
        bail!(msg);
    }
    Ok(refs.ids.iter().map(|id| by_id[id.as_str()].to_string()).collect())
}

fn parse_families(s: &str) -> Result<Vec<Family>> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Family::ALL.to_vec());
    }
    s.split(',').filter(|x| !x.trim().is_empty()).map(|x| x.parse::<Family>().map_err(anyhow::Error::msg)).collect()
}

fn per_pair_csv(ids: &[String], systems: &[(&str, &SystemStats)], refs_words: &[usize]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let cols = [
        "bleu1",
        "bleu2",
        "bleu3",
        "bleu4",
        "rouge_l",
        "cider_d",
        "meteor",
        "bleu4_raw",
        "rouge_score_l",
        "rouge_score_l_nostem",
        "sacrebleu",
        "chrf",
        "words_hyp",
    ];
    let mut header = vec!["id".to_string(), "words_ref".to_string()];
    for (prefix, _) in systems {
        header.extend(cols.iter().map(|c| format!("{prefix}{c}")));
    }
    w.write_record(&header)?;
    let cell = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:?}"));
    for (i, id) in ids.iter().enumerate() {
        let mut row = vec![id.clone(), refs_words[i].to_string()];
        for (_, sys) in systems {
            let p: &PairStats = &sys.pairs[i];
            let b = p.bleu.map(|s| s.scores());
            row.extend((0..4).map(|k| cell(b.map(|b| b[k]))));
            row.push(cell(Some(p.rouge_l)));
            row.push(cell(Some(p.cider_d)));
            row.push(cell(p.meteor.map(|m| m.score(&MeteorParams::default()))));
            row.push(cell(p.bleu_raw.map(|s| s.scores()[3])));
            row.push(cell(Some(p.rouge_score_l)));
            row.push(cell(Some(p.rouge_score_l_nostem)));
            row.push(cell(p.sacrebleu.map(|s| cxr_metrics::text::sacrebleu::bleu_score(&s, true))));
            row.push(cell(p.chrf.map(|s| cxr_metrics::text::sacrebleu::corpus_chrf(&[s]))));
            row.push(p.words.to_string());
        }
        w.write_record(&row)?;
    }
    w.into_inner().context("cannot finish the per-pair CSV")
}

/// The folder for METEOR's paraphrase index (`None`: no index).
fn meteor_cache_dir(a: &ScoreArgs) -> Option<PathBuf> {
    if a.no_meteor_cache {
        return None;
    }
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    a.meteor_cache
        .clone()
        .or_else(|| env("CXR_CACHE_DIR"))
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("cxr")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("cxr")))
}

pub fn run(a: ScoreArgs) -> Result<()> {
    if a.hyps.len() > 2 {
        bail!("--hyps was given {} times: give one file, or two to compare systems", a.hyps.len());
    }
    if !(0.0..1.0).contains(&a.ci) || a.ci <= 0.0 {
        bail!("--ci {} is not a confidence level: give a number between 0 and 1, e.g. 0.95", a.ci);
    }
    if a.zero_division != 0.0 && a.zero_division != 1.0 {
        bail!("--zero-division {} is not supported: use 0 (sklearn's default) or 1", a.zero_division);
    }
    let mut families = parse_families(&a.metrics).context("bad --metrics")?;
    let mut warnings = Vec::new();
    let mut meteor_skipped = None;
    if families.contains(&Family::Meteor) && a.meteor_data.is_none() {
        if a.metrics.trim().eq_ignore_ascii_case("all") {
            families.retain(|f| *f != Family::Meteor);
            meteor_skipped = Some(
                "METEOR skipped: it needs the METEOR 1.5 resources; give --meteor-data with the `meteor` folder of \
                 an installed pycocoevalcap"
                    .to_string(),
            );
        } else {
            bail!(
                "--metrics asks for meteor but --meteor-data is not given: point it at the `meteor` folder of an \
                 installed pycocoevalcap (meteor-1.5.jar and data/paraphrase-en.gz; `pip download pycocoevalcap` \
                 and unzip the wheel), or leave meteor out"
            );
        }
    }
    let opts = ScoreOptions {
        families,
        conventions: Conventions {
            uncertain: if a.uncertain == Uncertain::Positive { UncertainAs::Positive } else { UncertainAs::Negative },
            zero_division: a.zero_division,
        },
        meteor_params: MeteorParams::default(),
    };
    let ropts =
        ReadOptions { format: None, text_col: a.text_col.clone(), id_col: a.id_col.clone(), keep_going: a.keep_going };
    let refs = read_side(&a.refs, &ropts, a.quiet)?;
    if refs.ids.is_empty() {
        bail!("{} has no reports to score against", a.refs.display());
    }
    let mut hyp_sides = Vec::new();
    for h in &a.hyps {
        let side = read_side(h, &ropts, a.quiet)?;
        hyp_sides.push((h.clone(), align(&refs, &side)?));
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads.unwrap_or(0)).build()?;
    // Every text PTB-tokenized once, for METEOR's resources and for every system's scores.
    let tokens = if opts.uses_ptb() {
        let texts = refs.texts.iter().chain(hyp_sides.iter().flat_map(|(_, h)| h)).map(String::as_str);
        pool.install(|| suite::ptb_tokens(texts))
    } else {
        suite::PtbTokens::default()
    };
    let mut scorer = Scorer::new();
    if let (Some(path), true) = (&a.meteor_data, opts.families.contains(&Family::Meteor)) {
        // Only the paraphrases that can match these texts are kept (exact, and far faster than the whole table).
        // Hypotheses are scored as pycocoevalcap's wrapper sends them; which text is which does not matter here.
        let wrapped: Vec<String> = tokens
            .values()
            .filter_map(|t| match suite::meteor_hypothesis(t) {
                std::borrow::Cow::Owned(h) => Some(h),
                std::borrow::Cow::Borrowed(_) => None,
            })
            .collect();
        let text_refs: Vec<&str> = tokens.values().chain(&wrapped).map(String::as_str).collect();
        let context = || format!("cannot load METEOR resources from {}", path.display());
        // On the command's thread pool, like the scoring (`--threads`).
        let meteor = match meteor_cache_dir(&a) {
            Some(dir) => {
                let (m, note) =
                    pool.install(|| Meteor::load_for_cached(path, &text_refs, &dir)).with_context(context)?;
                if !a.quiet {
                    eprintln!("{note}");
                }
                m
            }
            None => pool.install(|| Meteor::load_for(path, &text_refs)).with_context(context)?,
        };
        scorer = scorer.with_meteor(meteor);
    }
    let ref_texts: Vec<&str> = refs.texts.iter().map(String::as_str).collect();
    let (ref_stats, systems) = pool.install(|| -> Result<_> {
        let ref_stats = scorer.reference_stats(&ref_texts, &opts);
        let mut systems = Vec::new();
        for (h, hyps) in &hyp_sides {
            let hyp_texts: Vec<&str> = hyps.iter().map(String::as_str).collect();
            systems.push((h.clone(), scorer.score_with_tokens(&hyp_texts, &ref_texts, &opts, &tokens)));
        }
        Ok((ref_stats, systems))
    })?;

    let n = ref_texts.len();
    if n == 1 && opts.families.contains(&Family::Cider) {
        warnings.push("CIDEr-D of a one-pair corpus is 0 by definition: its document frequencies come from the references scored (ln 1 = 0); score a whole test set".to_string());
    }
    for (path, sys) in &systems {
        let empty = sys.pairs.iter().filter(|p| p.empty).count();
        if empty > 0 {
            warnings.push(format!(
                "{}: {empty} empty hypotheses were scored as empty text (as the references do)",
                path.display()
            ));
        }
    }
    let empty_refs = ref_texts.iter().filter(|t| t.trim().is_empty()).count();
    if empty_refs > 0 {
        warnings.push(format!("{}: {empty_refs} empty references", a.refs.display()));
    }

    let values: Vec<suite::Values> =
        systems.iter().map(|(_, s)| suite::corpus_values(s.pairs.iter().zip(&ref_stats), &opts)).collect();
    let cis: Vec<Vec<(&str, cxr_metrics::stats::Interval)>> = if a.bootstrap > 0 {
        pool.install(|| {
            systems.iter().map(|(_, s)| suite::bootstrap(s, &ref_stats, &opts, a.bootstrap, a.ci, a.seed)).collect()
        })
    } else {
        vec![Vec::new(); systems.len()]
    };
    let comparison = if systems.len() == 2 {
        Some(pool.install(|| suite::compare(&systems[0].1, &systems[1].1, &ref_stats, &opts, a.trials, a.seed)))
    } else {
        None
    };

    if let Some(p) = &a.per_pair {
        let prefixed: Vec<(&str, &SystemStats)> =
            systems.iter().enumerate().map(|(i, (_, s))| (if i == 0 { "" } else { "b_" }, s)).collect();
        let refs_words: Vec<usize> = ref_stats.iter().map(|r| r.words).collect();
        write_atomic(p, &per_pair_csv(&refs.ids, &prefixed, &refs_words)?)?;
    }

    let meteor_info = match scorer.meteor() {
        Some(m) => serde_json::json!({
            "modules": m.resources.modules(),
            "sources": m.resources.sources,
            "paraphrases_used": m.resources.paraphrases.as_ref().map_or(0, |p| p.len()),
            "params": m.params,
        }),
        None => serde_json::json!({ "skipped": meteor_skipped }),
    };
    let out = if a.json {
        let sys_json: Vec<serde_json::Value> = systems
            .iter()
            .zip(&values)
            .zip(&cis)
            .map(|(((path, s), v), ci)| {
                let vals: serde_json::Map<String, serde_json::Value> =
                    v.iter().map(|(k, x)| (k.to_string(), serde_json::json!(x))).collect();
                let cij: serde_json::Map<String, serde_json::Value> =
                    ci.iter().map(|(k, iv)| (k.to_string(), serde_json::json!([iv.low, iv.high]))).collect();
                let clinical = opts
                    .families
                    .contains(&Family::Clinical)
                    .then(|| suite::clinical_of(s.pairs.iter().zip(&ref_stats), opts.conventions));
                serde_json::json!({
                    "hyps": path,
                    "values": vals,
                    "ci": cij,
                    "empty_hypotheses": s.pairs.iter().filter(|p| p.empty).count(),
                    "clinical": clinical,
                })
            })
            .collect();
        let definitions: serde_json::Map<String, serde_json::Value> =
            values[0].iter().map(|(k, _)| (k.to_string(), serde_json::json!(describe(k)))).collect();
        let v = serde_json::json!({
            "n_pairs": n,
            "refs": a.refs,
            "systems": sys_json,
            "comparison": comparison.as_ref().map(|c| c.iter().map(|(k, t)| (k.to_string(), serde_json::json!(t))).collect::<serde_json::Map<_, _>>()),
            "bootstrap": {"resamples": a.bootstrap, "level": a.ci, "seed": a.seed},
            "conventions": opts.conventions,
            "meteor": meteor_info,
            "definitions": definitions,
            "warnings": warnings,
        });
        let mut b = serde_json::to_vec_pretty(&v)?;
        b.push(b'\n');
        b
    } else {
        let mut t = String::new();
        let _ = writeln!(t, "{n} pairs; references {}", a.refs.display());
        for (i, (p, _)) in systems.iter().enumerate() {
            let _ = writeln!(t, "system {}: {}", if i == 0 { "A" } else { "B" }, p.display());
        }
        let pct = format!("{:.0}% CI", a.ci * 100.0);
        if systems.len() == 1 {
            let _ = writeln!(t, "\n{:<22} {:>9}  {pct:<20}  definition", "metric", "value");
            for (k, v) in &values[0] {
                let ci = cis[0]
                    .iter()
                    .find(|(kk, _)| kk == k)
                    .map_or(String::new(), |(_, iv)| format!("[{:.4}, {:.4}]", iv.low, iv.high));
                let _ = writeln!(t, "{k:<22} {v:>9.4}  {ci:<20}  {}", describe(k));
            }
        } else {
            let _ = writeln!(t, "\n{:<22} {:>9} {:>9} {:>9} {:>8}  definition", "metric", "A", "B", "B-A", "p");
            let cmp = comparison.as_ref().expect("two systems");
            for ((k, va), (_, vb)) in values[0].iter().zip(&values[1]) {
                let p = cmp.iter().find(|(kk, _)| kk == k).map_or(f64::NAN, |(_, r)| r.p_value);
                let _ = writeln!(t, "{k:<22} {va:>9.4} {vb:>9.4} {:>9.4} {p:>8.4}  {}", vb - va, describe(k));
            }
            let _ = writeln!(t, "p: paired approximate randomization, {} trials, seed {}", a.trials, a.seed);
        }
        if a.bootstrap > 0 && systems.len() == 1 {
            let _ = writeln!(t, "CI: percentile bootstrap over pairs, {} resamples, seed {}", a.bootstrap, a.seed);
        }
        if let Some(m) = scorer.meteor() {
            let _ = writeln!(
                t,
                "METEOR: modules {}; resources {}",
                m.resources.modules().join(", "),
                m.resources.sources.join(", ")
            );
        }
        if opts.families.contains(&Family::Clinical) {
            let _ = writeln!(
                t,
                "clinical F1: labels from cxr label; uncertain as {:?}, blank as negative, zero_division {}",
                opts.conventions.uncertain, opts.conventions.zero_division
            );
        }
        t.into_bytes()
    };
    emit(None, &out)?;
    if !a.quiet {
        if let Some(note) = &meteor_skipped {
            eprintln!("note: {note}");
        }
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
