//! Times each text metric alone on the 3,425 golden pairs (corpus BLEU and CIDEr-D use rayon's pool:
//! `RAYON_NUM_THREADS=1` for one thread) — the same scope as the Python
//! peers' timers in `make_metrics_ref.py` (COCO scorers on already PTB-tokenized text; rouge-score and
//! sacrebleu on raw text). Prints one JSON object: pairs/s per metric (median of `RUNS`, default 7).
//! The side-by-side comparison is `bench/score.sh`.
//!
//! With `METEOR=<pycocoevalcap>/meteor` (and `METEOR_CACHE=<dir>`, default `bench/.cache/meteor`) it also
//! times METEOR as the peer's timer does (a new scorer: loading its resources, then scoring every pair;
//! pairs in parallel on rayon's pool), after one untimed load that makes the cache if it is missing.
use cxr_metrics::text::porter::PorterStemmer;
use cxr_metrics::text::{bleu, cider, ptb, rouge, sacrebleu};
use std::io::Read;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "crates/cxr-metrics/tests/data/pairs_tokenized.csv.gz".into());
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("golden pairs")).read_to_end(&mut raw).unwrap();
    let mut rdr = csv::Reader::from_reader(&raw[..]);
    let rows: Vec<[String; 4]> =
        rdr.records().map(|r| r.unwrap()).map(|r| [r[3].into(), r[4].into(), r[5].into(), r[6].into()]).collect();
    let runs: usize = std::env::var("RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    let n = rows.len() as f64;
    let refs_ptb: Vec<Vec<&str>> = rows.iter().map(|r| vec![r[2].as_str()]).collect();
    let hyps_ptb: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    // ONLY=<metric> times one metric (for profiling); the others report 0.
    let only = std::env::var("ONLY").ok();
    let time = |name: &str, f: &dyn Fn() -> f64| -> f64 {
        if only.as_deref().is_some_and(|o| o != name) {
            return 0.0;
        }
        let ts: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64()
            })
            .collect();
        n / median(ts)
    };
    let stem = PorterStemmer;
    let results = [
        (
            "ptb_tokenize_refs_and_hyps",
            time("ptb_tokenize_refs_and_hyps", &|| {
                rows.iter().map(|r| ptb::coco_tokenize(&r[0]).len() + ptb::coco_tokenize(&r[1]).len()).sum::<usize>()
                    as f64
            }),
        ),
        ("coco_bleu4", time("coco_bleu4", &|| bleu::corpus_bleu(&hyps_ptb, &refs_ptb).corpus[3])),
        (
            "coco_rougeL",
            time("coco_rougeL", &|| hyps_ptb.iter().zip(&refs_ptb).map(|(h, r)| rouge::coco_rouge_l(h, r)).sum()),
        ),
        ("coco_ciderD", time("coco_ciderD", &|| cider::corpus_cider_d(&hyps_ptb, &refs_ptb).1)),
        (
            "rouge_score_rougeL_nostem",
            time("rouge_score_rougeL_nostem", &|| {
                rows.iter().map(|r| rouge::rouge_score_l(&r[1], &r[0], None).f).sum()
            }),
        ),
        (
            "rouge_score_rougeL_stem",
            time("rouge_score_rougeL_stem", &|| {
                rows.iter().map(|r| rouge::rouge_score_l(&r[1], &r[0], Some(&stem)).f).sum()
            }),
        ),
        (
            "sacrebleu_corpus_bleu",
            time("sacrebleu_corpus_bleu", &|| {
                sacrebleu::corpus_bleu(&rows.iter().map(|r| sacrebleu::bleu_stats(&r[1], &[&r[0]])).collect::<Vec<_>>())
            }),
        ),
        (
            "sacrebleu_corpus_chrf",
            time("sacrebleu_corpus_chrf", &|| {
                sacrebleu::corpus_chrf(&rows.iter().map(|r| sacrebleu::chrf_stats(&r[1], &[&r[0]])).collect::<Vec<_>>())
            }),
        ),
        (
            "sacrebleu_sentence_bleu_all",
            time("sacrebleu_sentence_bleu_all", &|| {
                rows.iter().map(|r| sacrebleu::sentence_bleu(&r[1], &[&r[0]])).sum()
            }),
        ),
        (
            "sacrebleu_sentence_chrf_all",
            time("sacrebleu_sentence_chrf_all", &|| {
                rows.iter().map(|r| sacrebleu::sentence_chrf(&r[1], &[&r[0]])).sum()
            }),
        ),
    ];
    let mut results = results.to_vec();
    if let Some(dir) = std::env::var_os("METEOR") {
        use cxr_metrics::text::meteor::{Meteor, MeteorStats};
        use rayon::prelude::*;
        let cache = std::env::var_os("METEOR_CACHE").unwrap_or_else(|| "bench/.cache/meteor".into());
        let texts: Vec<&str> = hyps_ptb.iter().copied().chain(refs_ptb.iter().map(|r| r[0])).collect();
        let load = || Meteor::load_for_cached(dir.as_ref(), &texts, cache.as_ref()).expect("METEOR resources").0;
        drop(load());
        let score = || {
            let m = load();
            let stats: Vec<MeteorStats> =
                (0..rows.len()).into_par_iter().map(|i| m.segment_stats(hyps_ptb[i], &refs_ptb[i])).collect();
            MeteorStats::sum(&stats).score(&m.params)
        };
        results.push(("coco_meteor_incl_load", time("coco_meteor_incl_load", &score)));
    }
    let body: Vec<String> = results.iter().map(|(k, v)| format!("  \"{k}\": {v:.1}")).collect();
    println!("{{\n{}\n}}", body.join(",\n"));
}
