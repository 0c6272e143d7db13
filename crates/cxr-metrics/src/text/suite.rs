//! All text metrics of a corpus at once, with per-pair values, confidence intervals and a paired
//! significance test — what `cxr score` prints.
//!
//! [`Scorer::score`] computes, per pair and in parallel (the result does not depend on the thread count),
//! the sufficient statistics of every metric; corpus values are then functions of any selection of pairs,
//! so bootstrap resamples and randomization trials reuse them instead of re-tokenizing:
//!
//! | key | metric | reference |
//! |---|---|---|
//! | `bleu1`…`bleu4` | COCO BLEU, corpus (from summed counts) | pycocoevalcap 1.2 on PTB tokens |
//! | `rouge_l` | COCO ROUGE-L (β = 1.2), mean | pycocoevalcap 1.2 |
//! | `cider_d` | CIDEr-D, mean (df from all references) | pycocoevalcap 1.2 |
//! | `meteor` | METEOR 1.5, corpus (from summed statistics; only with the jar's resources) | pycocoevalcap 1.2 |
//! | `bleu4_raw` | BLEU-4 on raw white-space tokens | RadEval `bleu` |
//! | `rouge_score_l` / `rouge_score_l_nostem` | ROUGE-L F with / without Porter stemming, mean | rouge-score 0.1.2 (RadEval uses the stemmed one) |
//! | `sacrebleu`, `chrf` | corpus BLEU / chrF2 | sacrebleu 2.6.0 defaults |
//! | `sacrebleu_sentence`, `chrf_sentence` | mean sentence BLEU / chrF | sacrebleu `sentence_bleu` / `sentence_chrf` |
//! | `ce_{micro,macro,weighted,samples}_f1_{14,5}` | clinical efficacy | sklearn on `cxr label` labels |
//! | `words_hyp`, `words_ref`, `length_ratio`, `sentences_hyp`, `sentences_ref` | length and verbosity | — |
//!
//! Bootstrap intervals resample pairs; CIDEr-D keeps the document frequencies of the full corpus (each
//! pair's score is fixed), corpus BLEU/chrF re-sum the resampled statistics.

use super::bleu::{self, BleuStats};
use super::meteor::{Meteor, MeteorParams, MeteorStats};
use super::porter::PorterStemmer;
use super::{cider, ptb, rouge, sacrebleu};
use crate::clinical::{classification_report, is_positive, ClinicalEfficacy, Conventions};
use crate::stats::{approximate_randomization, percentile_interval, resample, Interval, RandomizationTest};
use cxr_core::{Finding, FindingLabels};
use cxr_report::Labeler;
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;

/// Metric families that can be switched on and off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// COCO BLEU-1..4 (PTB tokens).
    Bleu,
    /// COCO ROUGE-L.
    Rouge,
    /// CIDEr-D.
    Cider,
    /// METEOR 1.5 (needs the jar's resources; see [`Scorer::with_meteor`]).
    Meteor,
    /// RadEval-style BLEU-4 on raw text.
    BleuRaw,
    /// rouge-score ROUGE-L (stemmed and not).
    RougeScore,
    /// sacrebleu BLEU.
    Sacrebleu,
    /// sacrebleu chrF.
    Chrf,
    /// Clinical efficacy (labels both sides).
    Clinical,
    /// Length and verbosity statistics.
    Length,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::Bleu,
        Family::Rouge,
        Family::Cider,
        Family::Meteor,
        Family::BleuRaw,
        Family::RougeScore,
        Family::Sacrebleu,
        Family::Chrf,
        Family::Clinical,
        Family::Length,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Bleu => "bleu",
            Family::Rouge => "rouge",
            Family::Cider => "cider",
            Family::Meteor => "meteor",
            Family::BleuRaw => "bleu-raw",
            Family::RougeScore => "rouge-score",
            Family::Sacrebleu => "sacrebleu",
            Family::Chrf => "chrf",
            Family::Clinical => "clinical",
            Family::Length => "length",
        }
    }
}

impl std::str::FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
            format!("unknown metric {s:?}: expected one of {} (or all)", names.join(", "))
        })
    }
}

/// Per-pair statistics of one system's hypothesis.
#[derive(Debug, Clone, Default)]
pub struct PairStats {
    pub bleu: Option<BleuStats>,
    pub bleu_raw: Option<BleuStats>,
    pub rouge_l: f64,
    pub cider_d: f64,
    pub meteor: Option<MeteorStats>,
    pub rouge_score_l: f64,
    pub rouge_score_l_nostem: f64,
    pub sacrebleu: Option<sacrebleu::SacreBleuStats>,
    /// sacrebleu's `sentence_bleu` of the pair (its mean is `sacrebleu_sentence`).
    pub sacrebleu_sentence: f64,
    pub chrf: Option<sacrebleu::ChrfStats>,
    /// sacrebleu's `sentence_chrf` of the pair.
    pub chrf_sentence: f64,
    pub labels: Option<FindingLabels>,
    pub words: usize,
    pub sentences: usize,
    pub empty: bool,
}

/// What the reference side contributes per pair.
#[derive(Debug, Clone, Default)]
pub struct RefStats {
    pub labels: Option<FindingLabels>,
    pub words: usize,
    pub sentences: usize,
}

/// Options of a scoring run.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    pub families: Vec<Family>,
    pub conventions: Conventions,
    pub meteor_params: MeteorParams,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            families: Family::ALL.to_vec(),
            conventions: Conventions::default(),
            meteor_params: MeteorParams::default(),
        }
    }
}

impl ScoreOptions {
    /// Whether a chosen family scores PTB-tokenized text (COCO BLEU, ROUGE-L, CIDEr-D, METEOR).
    pub fn uses_ptb(&self) -> bool {
        self.families.iter().any(|f| matches!(f, Family::Bleu | Family::Rouge | Family::Cider | Family::Meteor))
    }
}

/// PTB tokenizations of distinct texts, by text.
pub type PtbTokens<'a> = cxr_core::hash::FxHashMap<&'a str, String>;

/// A PTB-tokenized hypothesis as pycocoevalcap's METEOR wrapper sends it to the jar (`|||` and doubled
/// spaces removed). Give these to [`Meteor::load_for`] too, so that its resources fit what is scored.
pub fn meteor_hypothesis(ptb: &str) -> Cow<'_, str> {
    if ptb.contains("|||") || ptb.contains("  ") {
        Cow::Owned(ptb.replace("|||", "").replace("  ", " "))
    } else {
        Cow::Borrowed(ptb)
    }
}

/// Tokenizes each distinct text of `texts` once, in parallel (reference sets and hypotheses repeat
/// themselves, and several systems share one reference set).
pub fn ptb_tokens<'a>(texts: impl IntoIterator<Item = &'a str>) -> PtbTokens<'a> {
    let distinct: cxr_core::hash::FxHashSet<&str> = texts.into_iter().collect();
    let distinct: Vec<&str> = distinct.into_iter().collect();
    distinct.par_iter().map(|&t| (t, ptb::coco_tokenize(t))).collect()
}

/// Scores corpora. Holds the labeler (for clinical efficacy), the stemmer and, when given, METEOR.
#[derive(Debug, Default)]
pub struct Scorer {
    labeler: Labeler,
    stemmer: PorterStemmer,
    sentences: cxr_report::sentences::SentenceSplitter,
    meteor: Option<Meteor>,
}

/// One system's per-pair statistics against the references.
#[derive(Debug, Clone)]
pub struct SystemStats {
    pub pairs: Vec<PairStats>,
}

/// Corpus values: `(key, value)` in a fixed order.
pub type Values = Vec<(&'static str, f64)>;

/// `s.split_whitespace().count()`; for ASCII text, the count of non-space bytes that follow a space or
/// start the text (a branch-free byte loop).
fn words(s: &str) -> usize {
    if !s.is_ascii() {
        return s.split_whitespace().count();
    }
    let (mut count, mut after_space) = (0, true);
    for &b in s.as_bytes() {
        let space = matches!(b, b'\t'..=b'\r' | b' ');
        count += usize::from(after_space & !space);
        after_space = space;
    }
    count
}

impl Scorer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Enables the `meteor` family (without it, METEOR is not computed even when asked for).
    pub fn with_meteor(mut self, meteor: Meteor) -> Self {
        self.meteor = Some(meteor);
        self
    }

    pub fn meteor(&self) -> Option<&Meteor> {
        self.meteor.as_ref()
    }

    /// Reference-side statistics (labels, lengths), computed once and shared by every system.
    pub fn reference_stats(&self, refs: &[&str], opts: &ScoreOptions) -> Vec<RefStats> {
        let clinical = opts.families.contains(&Family::Clinical);
        let length = opts.families.contains(&Family::Length);
        refs.par_iter()
            .map(|r| RefStats {
                labels: clinical.then(|| self.label(r)),
                words: words(r),
                sentences: if length { self.sentences(r) } else { 0 },
            })
            .collect()
    }

    fn label(&self, text: &str) -> FindingLabels {
        self.labeler.label(text).labels
    }

    fn sentences(&self, text: &str) -> usize {
        self.sentences.split(text, cxr_report::Span::new(0, text.len())).len()
    }

    /// Per-pair statistics of `hyps` against `refs` (one reference each, paired by position).
    pub fn score(&self, hyps: &[&str], refs: &[&str], opts: &ScoreOptions) -> SystemStats {
        let tokens = if opts.uses_ptb() { ptb_tokens(hyps.iter().chain(refs).copied()) } else { PtbTokens::default() };
        self.score_with_tokens(hyps, refs, opts, &tokens)
    }

    /// [`Scorer::score`] with PTB tokenizations made beforehand ([`ptb_tokens`]; a text missing from
    /// `tokens` is tokenized here), so that a caller scoring several systems, or loading METEOR for the same
    /// texts, tokenizes each text once.
    pub fn score_with_tokens(
        &self,
        hyps: &[&str],
        refs: &[&str],
        opts: &ScoreOptions,
        tokens: &PtbTokens,
    ) -> SystemStats {
        let on = |f: Family| opts.families.contains(&f);
        let meteor = self.meteor.as_ref().filter(|_| on(Family::Meteor));
        let tokenized = |t: &str| match tokens.get(t) {
            Some(s) => Cow::Borrowed(s.as_str()),
            None => Cow::Owned(ptb::coco_tokenize(t)),
        };
        let ptb_pairs: Vec<(Cow<str>, Cow<str>)> = if opts.uses_ptb() {
            hyps.par_iter().zip(refs).map(|(h, r)| (tokenized(h), tokenized(r))).collect()
        } else {
            Vec::new()
        };
        // CIDEr-D is one corpus-wide computation on one thread: it runs beside the per-pair metrics.
        let cider = || {
            if on(Family::Cider) {
                let h: Vec<&str> = ptb_pairs.iter().map(|p| p.0.as_ref()).collect();
                let r: Vec<Vec<&str>> = ptb_pairs.iter().map(|p| vec![p.1.as_ref()]).collect();
                cider::corpus_cider_d(&h, &r).0
            } else {
                Vec::new()
            }
        };
        let per_pair = || {
            (0..hyps.len())
                .into_par_iter()
                .map(|i| {
                    let (h, r) = (hyps[i], refs[i]);
                    let mut p = PairStats { words: words(h), empty: h.trim().is_empty(), ..Default::default() };
                    if on(Family::Length) {
                        p.sentences = self.sentences(h);
                    }
                    if let Some((hp, rp)) = ptb_pairs.get(i).map(|(h, r)| (h.as_ref(), r.as_ref())) {
                        if on(Family::Bleu) {
                            p.bleu = Some(bleu::segment_stats(hp, &[rp]));
                        }
                        if on(Family::Rouge) {
                            p.rouge_l = rouge::coco_rouge_l(hp, &[rp]);
                        }
                        if let Some(m) = meteor {
                            p.meteor = Some(m.segment_stats(&meteor_hypothesis(hp), &[rp]));
                        }
                    }
                    if on(Family::BleuRaw) {
                        p.bleu_raw = Some(bleu::segment_stats(h, &[r]));
                    }
                    if on(Family::RougeScore) {
                        p.rouge_score_l = rouge::rouge_score_l(h, r, Some(&self.stemmer)).f;
                        p.rouge_score_l_nostem = rouge::rouge_score_l(h, r, None).f;
                    }
                    if on(Family::Sacrebleu) {
                        let st = sacrebleu::bleu_stats(h, &[r]);
                        p.sacrebleu_sentence = sacrebleu::bleu_score(&st, true);
                        p.sacrebleu = Some(st);
                    }
                    if on(Family::Chrf) {
                        let st = sacrebleu::chrf_stats_single(h, r);
                        p.chrf_sentence = sacrebleu::corpus_chrf(std::slice::from_ref(&st));
                        p.chrf = Some(st);
                    }
                    if on(Family::Clinical) {
                        p.labels = Some(self.label(h));
                    }
                    p
                })
                .collect::<Vec<PairStats>>()
        };
        let (cider_scores, mut pairs) = rayon::join(cider, per_pair);
        for (p, c) in pairs.iter_mut().zip(cider_scores) {
            p.cider_d = c;
        }
        SystemStats { pairs }
    }
}

/// Corpus values of the pairs `rows` (each a hypothesis-side and a reference-side record).
pub fn corpus_values<'a>(
    rows: impl Iterator<Item = (&'a PairStats, &'a RefStats)> + Clone,
    opts: &ScoreOptions,
) -> Values {
    let on = |f: Family| opts.families.contains(&f);
    let n = rows.clone().count().max(1) as f64;
    let mean = |f: fn(&PairStats) -> f64| rows.clone().map(|(p, _)| f(p)).sum::<f64>() / n;
    let mut out: Values = Vec::new();
    if on(Family::Bleu) {
        let mut t = BleuStats::default();
        for (p, _) in rows.clone() {
            t += p.bleu.unwrap_or_default();
        }
        let s = t.scores();
        out.extend([("bleu1", s[0]), ("bleu2", s[1]), ("bleu3", s[2]), ("bleu4", s[3])]);
    }
    if on(Family::Rouge) {
        out.push(("rouge_l", mean(|p| p.rouge_l)));
    }
    if on(Family::Cider) {
        out.push(("cider_d", mean(|p| p.cider_d)));
    }
    if on(Family::Meteor) {
        let stats: Option<Vec<MeteorStats>> = rows.clone().map(|(p, _)| p.meteor).collect();
        if let Some(stats) = stats.filter(|s| !s.is_empty()) {
            out.push(("meteor", MeteorStats::sum(&stats).score(&opts.meteor_params)));
        }
    }
    if on(Family::BleuRaw) {
        let mut t = BleuStats::default();
        for (p, _) in rows.clone() {
            t += p.bleu_raw.unwrap_or_default();
        }
        out.push(("bleu4_raw", t.scores()[3]));
    }
    if on(Family::RougeScore) {
        out.push(("rouge_score_l", mean(|p| p.rouge_score_l)));
        out.push(("rouge_score_l_nostem", mean(|p| p.rouge_score_l_nostem)));
    }
    if on(Family::Sacrebleu) {
        let stats: Vec<_> = rows.clone().map(|(p, _)| p.sacrebleu.unwrap_or_default()).collect();
        out.push(("sacrebleu", sacrebleu::corpus_bleu(&stats)));
        out.push(("sacrebleu_sentence", mean(|p| p.sacrebleu_sentence)));
    }
    if on(Family::Chrf) {
        let stats: Vec<_> = rows.clone().map(|(p, _)| p.chrf.unwrap_or_default()).collect();
        out.push(("chrf", sacrebleu::corpus_chrf(&stats)));
        out.push(("chrf_sentence", mean(|p| p.chrf_sentence)));
    }
    if on(Family::Clinical) {
        let ce = clinical_of(rows.clone(), opts.conventions);
        for (suffix, rep) in [("14", &ce.all14), ("5", &ce.top5)] {
            for (avg, s) in [
                ("micro", &rep.micro),
                ("macro", &rep.macro_avg),
                ("weighted", &rep.weighted),
                ("samples", &rep.samples),
            ] {
                out.push((clinical_key(avg, suffix), s.f1));
            }
        }
    }
    if on(Family::Length) {
        let hw: usize = rows.clone().map(|(p, _)| p.words).sum();
        let rw: usize = rows.clone().map(|(_, r)| r.words).sum();
        out.push(("words_hyp", hw as f64 / n));
        out.push(("words_ref", rw as f64 / n));
        out.push(("length_ratio", if rw == 0 { f64::NAN } else { hw as f64 / rw as f64 }));
        out.push(("sentences_hyp", rows.clone().map(|(p, _)| p.sentences).sum::<usize>() as f64 / n));
        out.push(("sentences_ref", rows.clone().map(|(_, r)| r.sentences).sum::<usize>() as f64 / n));
    }
    out
}

fn clinical_key(avg: &str, suffix: &str) -> &'static str {
    match (avg, suffix) {
        ("micro", "14") => "ce_micro_f1_14",
        ("macro", "14") => "ce_macro_f1_14",
        ("weighted", "14") => "ce_weighted_f1_14",
        ("samples", "14") => "ce_samples_f1_14",
        ("micro", _) => "ce_micro_f1_5",
        ("macro", _) => "ce_macro_f1_5",
        ("weighted", _) => "ce_weighted_f1_5",
        _ => "ce_samples_f1_5",
    }
}

/// The full clinical-efficacy reports of the pairs `rows`.
/// Binary labels of one text over up to 14 findings (the first `.1` are used).
struct LabelRow([bool; 14], usize);

impl AsRef<[bool]> for LabelRow {
    fn as_ref(&self) -> &[bool] {
        &self.0[..self.1]
    }
}

pub fn clinical_of<'a>(
    rows: impl Iterator<Item = (&'a PairStats, &'a RefStats)> + Clone,
    conv: Conventions,
) -> ClinicalEfficacy {
    // Rows as fixed arrays (no allocation per row: bootstrap resamples call this a thousand times).
    let build = |order: &[Finding]| {
        let bin = |l: Option<FindingLabels>| -> LabelRow {
            let l = l.unwrap_or_default();
            let mut row = LabelRow([false; 14], order.len());
            for (k, f) in order.iter().enumerate() {
                row.0[k] = is_positive(l.get(*f), conv.uncertain);
            }
            row
        };
        let t: Vec<LabelRow> = rows.clone().map(|(_, r)| bin(r.labels)).collect();
        let p: Vec<LabelRow> = rows.clone().map(|(h, _)| bin(h.labels)).collect();
        classification_report(&t, &p, order, conv.zero_division)
    };
    ClinicalEfficacy { conventions: conv, all14: build(&Finding::CHEXBERT_ORDER), top5: build(&Finding::COMMON_FIVE) }
}

/// Percentile bootstrap intervals of every corpus value.
pub fn bootstrap(
    sys: &SystemStats,
    refs: &[RefStats],
    opts: &ScoreOptions,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Vec<(&'static str, Interval)> {
    let n = sys.pairs.len();
    let keys: Vec<&'static str> = corpus_values(sys.pairs.iter().zip(refs), opts).into_iter().map(|(k, _)| k).collect();
    // Each resample computes every value at once (in parallel over resamples; the same numbers as serial).
    let all: Vec<Values> = (0..resamples)
        .into_par_iter()
        .map(|b| {
            let mut idx = Vec::with_capacity(n);
            resample(n, b, seed, &mut idx);
            corpus_values(idx.iter().map(|&i| (&sys.pairs[i], &refs[i])), opts)
        })
        .collect();
    keys.iter()
        .enumerate()
        .map(|(k, key)| {
            let (low, high) = percentile_interval(all.iter().map(|v| v[k].1).collect(), level);
            (*key, Interval { low, high, level, resamples, seed })
        })
        .collect()
}

/// Paired approximate randomization of every corpus value between systems A and B.
pub fn compare(
    a: &SystemStats,
    b: &SystemStats,
    refs: &[RefStats],
    opts: &ScoreOptions,
    trials: usize,
    seed: u64,
) -> Vec<(&'static str, RandomizationTest)> {
    let keys: Vec<&'static str> = corpus_values(a.pairs.iter().zip(refs), opts).into_iter().map(|(k, _)| k).collect();
    keys.iter()
        .map(|key| {
            let single = ScoreOptions { families: vec![family_of(key)], ..opts.clone() };
            let pos = corpus_values(a.pairs.iter().zip(refs), &single).iter().position(|(x, _)| x == key).unwrap_or(0);
            let t = approximate_randomization(a.pairs.len(), trials, seed, |take_b| {
                let rows =
                    take_b.iter().enumerate().map(|(i, &tb)| (if tb { &b.pairs[i] } else { &a.pairs[i] }, &refs[i]));
                corpus_values(rows, &single)[pos].1
            });
            (*key, t)
        })
        .collect()
}

fn family_of(key: &str) -> Family {
    match key {
        k if k.starts_with("bleu4_raw") => Family::BleuRaw,
        k if k.starts_with("bleu") => Family::Bleu,
        "rouge_l" => Family::Rouge,
        "cider_d" => Family::Cider,
        "meteor" => Family::Meteor,
        k if k.starts_with("rouge_score") => Family::RougeScore,
        k if k.starts_with("sacrebleu") => Family::Sacrebleu,
        k if k.starts_with("chrf") => Family::Chrf,
        k if k.starts_with("ce_") => Family::Clinical,
        _ => Family::Length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_counts_equal_split_whitespace() {
        // Every ASCII white-space byte, separators Rust does not split on (U+001C..U+001F), and non-ASCII.
        let alphabet = ["a", "b", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{1c}", "\u{1f}", ".", "é", "\u{a0}"];
        let mut state = 7u64;
        for len in 0..400 {
            let text: String = (0..len % 40)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            assert_eq!(words(&text), text.split_whitespace().count(), "{text:?}");
        }
        assert_eq!(words("  no acute\tdisease \n"), 3);
        assert_eq!(words(""), 0);
    }

    #[test]
    fn meteor_hypotheses_are_sent_as_the_wrapper_sends_them() {
        assert!(matches!(meteor_hypothesis("no acute disease"), Cow::Borrowed("no acute disease")));
        // One pass each, as Python's `str.replace`: three spaces become two.
        assert_eq!(meteor_hypothesis("a ||| b   c"), "a b  c");
    }

    #[test]
    fn a_small_corpus_end_to_end() {
        let refs = ["No pleural effusion. Mild cardiomegaly.", "Large right pneumothorax.", "Lungs are clear."];
        let hyps = ["No effusion. Mild cardiomegaly.", "Small left pneumothorax.", ""];
        let s = Scorer::new();
        let opts = ScoreOptions::default();
        let r = s.reference_stats(&refs, &opts);
        let sys = s.score(&hyps, &refs, &opts);
        assert!(sys.pairs[2].empty);
        let v = corpus_values(sys.pairs.iter().zip(&r), &opts);
        let get = |k: &str| v.iter().find(|x| x.0 == k).unwrap().1;
        assert!(get("bleu1") > 0.0 && get("bleu1") < 1.0);
        assert!((get("words_ref") - 11.0 / 3.0).abs() < 1e-12);
        assert!(get("ce_micro_f1_14") > 0.0);
        let ci = bootstrap(&sys, &r, &opts, 200, 0.95, 42);
        assert_eq!(ci.len(), v.len());
        for ((k, iv), (k2, _)) in ci.iter().zip(&v) {
            assert_eq!(k, k2);
            assert!(iv.low <= iv.high, "{k}");
        }
        // A system compared with itself: no difference, p = 1.
        let t = compare(&sys, &sys, &r, &opts, 50, 1);
        assert!(t.iter().all(|(_, x)| x.observed_delta == 0.0 && x.p_value == 1.0));
    }
}
