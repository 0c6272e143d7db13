//! Golden tests: every text metric against its reference implementation's output on 3,425 real IU X-Ray
//! report pairs (`tests/data/`, see PROVENANCE.md). Tolerance: relative 1e-9, tokenization exact.

use cxr_core::{Finding, FindingLabels, Label};
use cxr_metrics::clinical::{clinical_efficacy, Conventions, Report, UncertainAs};
use cxr_metrics::text::porter::PorterStemmer;
use cxr_metrics::text::{bleu, cider, ptb, rouge, sacrebleu};
use std::collections::HashMap;
use std::io::Read;

struct Pair {
    ref_id: String,
    hyp_id: String,
    ref_raw: String,
    hyp_raw: String,
    ref_ptb: String,
    hyp_ptb: String,
}

fn gz_csv(name: &str) -> csv::Reader<std::io::Cursor<Vec<u8>>> {
    let f = std::fs::File::open(format!("tests/data/{name}")).unwrap();
    let mut s = Vec::new();
    flate2::read::GzDecoder::new(f).read_to_end(&mut s).unwrap();
    csv::Reader::from_reader(std::io::Cursor::new(s))
}

fn pairs() -> Vec<Pair> {
    gz_csv("pairs_tokenized.csv.gz")
        .records()
        .map(|r| {
            let r = r.unwrap();
            Pair {
                ref_id: r[1].into(),
                hyp_id: r[2].into(),
                ref_raw: r[3].into(),
                hyp_raw: r[4].into(),
                ref_ptb: r[5].into(),
                hyp_ptb: r[6].into(),
            }
        })
        .collect()
}

fn scores() -> Vec<HashMap<String, f64>> {
    let mut rdr = gz_csv("per_pair_scores.csv.gz");
    let h = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            h.iter().zip(r.iter()).skip(3).map(|(k, v)| (k.to_string(), v.parse().unwrap())).collect()
        })
        .collect()
}

fn corpus() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string("tests/data/corpus_scores.json").unwrap()).unwrap()
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    let tol = 1e-9 * got.abs().max(want.abs());
    assert!((got - want).abs() <= tol, "{what}: got {got:e}, want {want:e}");
}

#[test]
fn ptb_tokenization_is_exact_on_every_text() {
    let ps = pairs();
    assert_eq!(ps.len(), 3425);
    for (k, p) in ps.iter().enumerate() {
        assert_eq!(ptb::coco_tokenize(&p.ref_raw), p.ref_ptb, "pair {k} reference");
        assert_eq!(ptb::coco_tokenize(&p.hyp_raw), p.hyp_ptb, "pair {k} hypothesis");
    }
}

#[test]
fn coco_bleu_rouge_cider_per_pair_and_corpus() {
    let ps = pairs();
    let sc = scores();
    let c = corpus();
    let hyps: Vec<&str> = ps.iter().map(|p| p.hyp_ptb.as_str()).collect();
    let refs: Vec<Vec<&str>> = ps.iter().map(|p| vec![p.ref_ptb.as_str()]).collect();
    let b = bleu::corpus_bleu(&hyps, &refs);
    for (k, s) in sc.iter().enumerate() {
        for n in 0..4 {
            close(b.per_segment[k][n], s[&format!("bleu{}", n + 1)], &format!("pair {k} BLEU-{}", n + 1));
        }
        close(rouge::coco_rouge_l(hyps[k], &refs[k]), s["rougeL"], &format!("pair {k} ROUGE-L"));
    }
    for n in 0..4 {
        close(b.corpus[n], c["coco_bleu"][format!("Bleu_{}", n + 1)].as_f64().unwrap(), "corpus BLEU");
    }
    let (cd, mean) = cider::corpus_cider_d(&hyps, &refs);
    for (k, s) in sc.iter().enumerate() {
        close(cd[k], s["ciderD"], &format!("pair {k} CIDEr-D"));
    }
    close(mean, c["coco_ciderD_mean"].as_f64().unwrap(), "corpus CIDEr-D");
    let rl: f64 = hyps.iter().zip(&refs).map(|(h, r)| rouge::coco_rouge_l(h, r)).sum::<f64>() / hyps.len() as f64;
    close(rl, c["coco_rougeL_mean"].as_f64().unwrap(), "corpus ROUGE-L");
}

#[test]
fn radeval_style_bleu_on_raw_text() {
    let ps = pairs();
    let sc = scores();
    let c = corpus();
    let hyps: Vec<&str> = ps.iter().map(|p| p.hyp_raw.as_str()).collect();
    let refs: Vec<Vec<&str>> = ps.iter().map(|p| vec![p.ref_raw.as_str()]).collect();
    let b = bleu::corpus_bleu(&hyps, &refs);
    for (k, s) in sc.iter().enumerate() {
        close(b.per_segment[k][3], s["rawtext_bleu4"], &format!("pair {k} raw BLEU-4"));
    }
    for n in 0..4 {
        close(b.corpus[n], c["rawtext_bleu_radeval_style"][format!("Bleu_{}", n + 1)].as_f64().unwrap(), "raw BLEU");
    }
}

#[test]
fn rouge_score_with_and_without_porter() {
    let ps = pairs();
    let sc = scores();
    let c = corpus();
    let stemmer = PorterStemmer;
    let (mut sum, mut sum_stem) = (0.0, 0.0);
    for (k, (p, s)) in ps.iter().zip(&sc).enumerate() {
        let f = rouge::rouge_score_l(&p.hyp_raw, &p.ref_raw, None).f;
        let fs = rouge::rouge_score_l(&p.hyp_raw, &p.ref_raw, Some(&stemmer)).f;
        close(f, s["rs_rougeL_f"], &format!("pair {k} rouge-score"));
        close(fs, s["rs_rougeL_f_stem"], &format!("pair {k} rouge-score stemmed"));
        sum += f;
        sum_stem += fs;
    }
    close(sum / ps.len() as f64, c["rouge_score_rougeL_f_mean_nostem"].as_f64().unwrap(), "mean");
    close(sum_stem / ps.len() as f64, c["rouge_score_rougeL_f_mean_stem"].as_f64().unwrap(), "mean stem");
}

#[test]
fn sacrebleu_bleu_and_chrf() {
    let ps = pairs();
    let sc = scores();
    let c = corpus();
    let mut bstats = Vec::new();
    let mut cstats = Vec::new();
    let (mut sb_sum, mut cf_sum) = (0.0, 0.0);
    for (k, (p, s)) in ps.iter().zip(&sc).enumerate() {
        let bs = sacrebleu::bleu_stats(&p.hyp_raw, &[&p.ref_raw]);
        let sb = sacrebleu::bleu_score(&bs, true);
        close(sb, s["sacrebleu_sent"], &format!("pair {k} sentence BLEU"));
        let cs = sacrebleu::chrf_stats(&p.hyp_raw, &[&p.ref_raw]);
        let cf = sacrebleu::sentence_chrf(&p.hyp_raw, &[&p.ref_raw]);
        close(cf, s["chrf_sent"], &format!("pair {k} sentence chrF"));
        bstats.push(bs);
        cstats.push(cs);
        sb_sum += sb;
        cf_sum += cf;
    }
    close(sacrebleu::corpus_bleu(&bstats), c["sacrebleu_bleu"]["score"].as_f64().unwrap(), "corpus BLEU");
    close(sacrebleu::corpus_chrf(&cstats), c["sacrebleu_chrf"]["score"].as_f64().unwrap(), "corpus chrF");
    close(sb_sum / ps.len() as f64, c["sacrebleu_sentence_bleu_mean"].as_f64().unwrap(), "mean sentence BLEU");
    close(cf_sum / ps.len() as f64, c["sacrebleu_sentence_chrf_mean"].as_f64().unwrap(), "mean sentence chrF");
}

fn labels_by_id() -> HashMap<String, FindingLabels> {
    let mut rdr = csv::Reader::from_path("tests/data/iu-labels-for-f1.csv").unwrap();
    let h = rdr.headers().unwrap().clone();
    let cols: Vec<Finding> = h.iter().skip(1).map(|n| n.parse().unwrap()).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let mut l = FindingLabels::default();
            for (f, v) in cols.iter().zip(r.iter().skip(1)) {
                l.set(*f, v.parse::<Label>().unwrap());
            }
            (r[0].to_string(), l)
        })
        .collect()
}

fn check_report(got: &Report, want: &serde_json::Value, what: &str) {
    for (name, s) in [
        ("micro avg", &got.micro),
        ("macro avg", &got.macro_avg),
        ("weighted avg", &got.weighted),
        ("samples avg", &got.samples),
    ] {
        close(s.precision, want[name]["precision"].as_f64().unwrap(), &format!("{what} {name} P"));
        close(s.recall, want[name]["recall"].as_f64().unwrap(), &format!("{what} {name} R"));
        close(s.f1, want[name]["f1-score"].as_f64().unwrap(), &format!("{what} {name} F1"));
        assert_eq!(s.support as f64, want[name]["support"].as_f64().unwrap(), "{what} {name} support");
    }
    for (f, s) in got.labels.iter().zip(&got.per_label) {
        close(s.f1, want["per_label_f1"][f.name()].as_f64().unwrap(), &format!("{what} {f} F1"));
    }
    close(got.subset_accuracy, want["subset_accuracy"].as_f64().unwrap(), "subset accuracy");
    close(got.mean_label_accuracy, want["mean_per_sample_label_accuracy"].as_f64().unwrap(), "label accuracy");
    assert_eq!(got.both_empty as f64, want["n_examples_both_empty"].as_f64().unwrap());
}

#[test]
fn clinical_efficacy_matches_sklearn_under_both_conventions() {
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/chexpert_f1_reference.json").unwrap()).unwrap();
    let order: Vec<String> =
        reference["label_order"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    assert_eq!(order, Finding::CHEXBERT_ORDER.iter().map(|f| f.name().to_string()).collect::<Vec<_>>());
    let labels = labels_by_id();
    let ps = pairs();
    let refs: Vec<FindingLabels> = ps.iter().map(|p| labels[&p.ref_id]).collect();
    let hyps: Vec<FindingLabels> = ps.iter().map(|p| labels[&p.hyp_id]).collect();
    for (key, u) in [("uncertain_as_positive", UncertainAs::Positive), ("uncertain_as_negative", UncertainAs::Negative)]
    {
        let ce = clinical_efficacy(&refs, &hyps, Conventions { uncertain: u, zero_division: 0.0 });
        check_report(&ce.all14, &reference["shift1"][key]["14"], &format!("{key} 14"));
        check_report(&ce.top5, &reference["shift1"][key]["5"], &format!("{key} 5"));
        let ce1 = clinical_efficacy(&refs, &hyps, Conventions { uncertain: u, zero_division: 1.0 });
        for (n, rep) in [("14", &ce1.all14), ("5", &ce1.top5)] {
            let want = &reference["shift1"][key][n]["samples_zero_division_1"];
            close(rep.samples.f1, want["f1-score"].as_f64().unwrap(), &format!("{key} {n} samples F1 zd=1"));
            close(rep.samples.precision, want["precision"].as_f64().unwrap(), "samples P zd=1");
            close(rep.samples.recall, want["recall"].as_f64().unwrap(), "samples R zd=1");
        }
    }
}
