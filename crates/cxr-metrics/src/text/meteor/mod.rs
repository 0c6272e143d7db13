//! METEOR 1.5, as pycocoevalcap runs it (`java -jar meteor-1.5.jar - - -stdio -l en -norm`).
//!
//! Definitions: M. Denkowski and A. Lavie, *Meteor Universal: Language Specific Translation Evaluation for
//! Any Target Language* (WMT 2014) and *Meteor 1.3* (WMT 2011); behaviour follows the released
//! `meteor-1.5.jar` (CMU, LGPL), reimplemented here and checked pair by pair against its output
//! (`tests/meteor_golden.rs`, tolerance 1e-6):
//!
//! * **Normalisation** (`-norm`): the jar's Moses-derived English tokenizer ([`normalize`]), then lower-casing.
//! * **Matching** ([`align`]): four modules in order — exact (equal words), stem (equal Snowball stems,
//!   [`super::snowball`]), synonym (a shared WordNet synset, through WordNet's exception list or its
//!   suffix morphology) and paraphrase (the jar's phrase table, multi-word). Then a beam search (width 40)
//!   over the reference positions picks the alignment that covers the most words (module-weighted), then
//!   has the fewest chunks, then the least summed position distance; one-to-one matches fixed up front.
//! * **Score** ([`MeteorStats::score`]): task `rank`, English: α = 0.85, β = 0.20, γ = 0.60, δ = 0.75,
//!   module weights 1.0/0.6/0.8/0.6. Precision and recall weight content words by δ and function words by
//!   1 − δ; `Fmean = P·R / (α·P + (1−α)·R)`; penalty `γ·(chunks/matches)^β`, zero for an exact copy.
//! * **Several references**: the one with the highest score is kept (first on ties).
//! * **Corpus score** ([`MeteorStats::add`]): statistics are summed over segments (a segment that matches
//!   its reference exactly in one chunk adds no chunks), then scored once — not the mean of segment scores.
//!
//! Quirks kept on purpose because they change numbers: words are compared by Java `String.hashCode`
//! (a collision counts as a match), the beam's coverage totals are Java `int`s incremented by
//! `length × 0.5` for non-exact modules (so truncated), and the distance of a candidate match is added to
//! the *parent* path rather than the new one.
//!
//! The synonym and paraphrase resources are large and not ours to ship: [`MeteorResources::load`] reads
//! them from the `meteor` folder of an installed pycocoevalcap (the jar and `data/paraphrase-en.gz`), and
//! [`MeteorResources::modules`] says which modules could run.

mod align;
pub mod index;
mod normalize;
mod resources;
pub mod synset_index;

use align::WordData;
pub use align::{align, align_prepared, Alignment, Match, PreparedText};
pub use normalize::{normalize, Nonbreaking};
pub use resources::{MeteorError, MeteorResources, ParaphraseTable, PhraseFilter, SynonymDictionary};

use cxr_core::hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// Module names in the jar's order (the index of a module in [`MeteorStats::modules`]).
pub const MODULES: [&str; 4] = ["exact", "stem", "synonym", "paraphrase"];

/// The scoring parameters. [`MeteorParams::default`] is English `rank` (the jar's default task).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeteorParams {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
    /// Module weights in the score (exact, stem, synonym, paraphrase).
    pub weights: [f64; 4],
    /// Module weights the beam search ranks partial alignments by (the jar fixes 1, 0.5, 0.5, 0.5).
    pub search_weights: [f64; 4],
    pub beam: usize,
}

impl Default for MeteorParams {
    fn default() -> Self {
        MeteorParams {
            alpha: 0.85,
            beta: 0.20,
            gamma: 0.60,
            delta: 0.75,
            weights: [1.0, 0.6, 0.8, 0.6],
            search_weights: [1.0, 0.5, 0.5, 0.5],
            beam: 40,
        }
    }
}

/// METEOR's sufficient statistics of one segment (or, summed, of a corpus).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MeteorStats {
    pub test_len: f64,
    pub ref_len: f64,
    pub test_function: f64,
    pub ref_function: f64,
    /// Per module: test content, reference content, test function, reference function matches.
    pub modules: [[f64; 4]; 4],
    pub chunks: f64,
    pub test_word_matches: f64,
    pub ref_word_matches: f64,
}

impl MeteorStats {
    fn test_total(&self) -> f64 {
        self.modules.iter().map(|m| m[0] + m[2]).sum()
    }

    fn ref_total(&self) -> f64 {
        self.modules.iter().map(|m| m[1] + m[3]).sum()
    }

    /// An exact copy in one chunk (no fragmentation).
    fn is_perfect(&self) -> bool {
        self.test_total() == self.test_len && self.ref_total() == self.ref_len && self.chunks == 1.0
    }

    /// Adds a segment's statistics (the jar's `addStats`: a perfect segment adds no chunks).
    pub fn add(&mut self, s: &MeteorStats) {
        self.test_len += s.test_len;
        self.ref_len += s.ref_len;
        self.test_function += s.test_function;
        self.ref_function += s.ref_function;
        for (a, b) in self.modules.iter_mut().zip(&s.modules) {
            for k in 0..4 {
                a[k] += b[k];
            }
        }
        if !s.is_perfect() {
            self.chunks += s.chunks;
        }
        self.test_word_matches += s.test_word_matches;
        self.ref_word_matches += s.ref_word_matches;
    }

    /// The statistics of a corpus.
    pub fn sum<'a>(segments: impl IntoIterator<Item = &'a MeteorStats>) -> MeteorStats {
        let mut t = MeteorStats::default();
        for s in segments {
            t.add(s);
        }
        t
    }

    /// The METEOR score (0 when undefined, e.g. no matches or an empty side).
    pub fn score(&self, p: &MeteorParams) -> f64 {
        let d = p.delta;
        let test_weighted_len = d * (self.test_len - self.test_function) + (1.0 - d) * self.test_function;
        let ref_weighted_len = d * (self.ref_len - self.ref_function) + (1.0 - d) * self.ref_function;
        let (mut tw, mut rw) = (0.0, 0.0);
        for (m, w) in self.modules.iter().zip(p.weights) {
            tw += m[0] * w * d;
        }
        for (m, w) in self.modules.iter().zip(p.weights) {
            rw += m[1] * w * d;
        }
        for (m, w) in self.modules.iter().zip(p.weights) {
            tw += m[2] * w * (1.0 - d);
        }
        for (m, w) in self.modules.iter().zip(p.weights) {
            rw += m[3] * w * (1.0 - d);
        }
        let precision = tw / test_weighted_len;
        let recall = rw / ref_weighted_len;
        let fmean = 1.0 / (((1.0 - p.alpha) / precision) + (p.alpha / recall));
        let frag = if self.is_perfect() {
            0.0
        } else {
            self.chunks / ((self.test_word_matches + self.ref_word_matches) / 2.0)
        };
        let penalty = p.gamma * frag.powf(p.beta);
        let score = fmean * (1.0 - penalty);
        if score.is_nan() {
            0.0
        } else {
            score.max(0.0)
        }
    }
}

/// A METEOR scorer: resources plus parameters.
#[derive(Debug)]
pub struct Meteor {
    pub resources: MeteorResources,
    pub params: MeteorParams,
    /// The texts given at load time, normalised and prepared for the aligner once each (reports repeat,
    /// and each text is usually scored in several pairs).
    known: FxHashMap<String, PreparedText>,
}

impl Meteor {
    pub fn new(resources: MeteorResources) -> Self {
        Meteor { resources, params: MeteorParams::default(), known: FxHashMap::default() }
    }

    /// Loads the resources from `path` (see [`MeteorResources::load`]) keeping only the paraphrases that can
    /// match `texts` ([`PhraseFilter`]) — exact for those texts, and much faster and smaller than the whole
    /// table.
    pub fn load_for(path: &std::path::Path, texts: &[&str]) -> Result<Meteor, MeteorError> {
        let read = |table: &std::path::Path, keep: &PhraseFilter| {
            let mut r = MeteorResources::default();
            r.read_paraphrases(table, Some(keep))?;
            Ok((r.paraphrases.unwrap_or_else(ParaphraseTable::empty), String::new()))
        };
        Ok(Self::load_with(path, texts, None, read)?.0)
    }

    /// As [`Meteor::load_for`], reading the paraphrase table through an index kept in `cache_dir`
    /// ([`index`]): built on first use (a few seconds, once), then only the groups the texts need are read. The
    /// second value says what happened, for the user; an index that cannot be written or read falls back to
    /// the table itself, with the reason.
    pub fn load_for_cached(
        path: &std::path::Path,
        texts: &[&str],
        cache_dir: &std::path::Path,
    ) -> Result<(Meteor, String), MeteorError> {
        let read = |para_path: &std::path::Path, keep: &PhraseFilter| {
            let idx = index::index_path(para_path, cache_dir)?;
            let mut note = format!("METEOR paraphrases read through the index {}", idx.display());
            let mut table = if idx.is_file() { index::load(&idx, para_path, keep) } else { Ok(None) };
            if !matches!(table, Ok(Some(_))) {
                note = match &table {
                    Err(e) => format!("{e}; rebuilt it"),
                    Ok(_) => format!(
                        "METEOR paraphrase index built once at {} (later runs read only what their texts need)",
                        idx.display()
                    ),
                };
                table = index::build(para_path, &idx).and_then(|()| index::load(&idx, para_path, keep));
            }
            match table {
                Ok(Some(t)) => Ok((t, note)),
                Ok(None) | Err(_) => {
                    let why = match table {
                        Err(e) => e.to_string(),
                        _ => "the table changed while indexing".into(),
                    };
                    let mut r = MeteorResources::default();
                    r.read_paraphrases(para_path, Some(keep))?;
                    let note = format!("METEOR paraphrase index unavailable ({why}); read the table itself");
                    Ok((r.paraphrases.unwrap_or_else(ParaphraseTable::empty), note))
                }
            }
        };
        Self::load_with(path, texts, Some(cache_dir), read)
    }

    /// Loads the resources for `texts` (WordNet through a copy in `cache_dir` when given), the paraphrase
    /// table through `read_table` (given the table's path and the filter made from the texts), and prepares
    /// the texts for the aligner.
    fn load_with(
        path: &std::path::Path,
        texts: &[&str],
        cache_dir: Option<&std::path::Path>,
        read_table: impl FnOnce(&std::path::Path, &PhraseFilter) -> Result<(ParaphraseTable, String), MeteorError> + Send,
    ) -> Result<(Meteor, String), MeteorError> {
        use rayon::prelude::*;
        let files = resources::ResourceFiles::open(path)?;
        let mut resources = files.base()?;
        let para_path = files.paraphrase_table()?;
        // Each distinct text is normalised once (normalising is a quarter of the work, and reports repeat),
        // and its words are interned: word ids index everything looked up per word.
        let distinct: Vec<&str> = texts.iter().copied().collect::<FxHashSet<&str>>().into_iter().collect();
        let normalized: Vec<String> = distinct.par_iter().map(|t| normalized(&resources.nonbreaking, t)).collect();
        let interned = resources::Interned::of_texts(&normalized);
        let keep = PhraseFilter::from_interned(&interned.words, &interned.texts);
        // WordNet (for the texts' words) and the paraphrase table do not depend on each other.
        let word_set: FxHashSet<&str> = interned.words.iter().copied().collect();
        let synonyms = || match cache_dir {
            Some(dir) => files.synonyms_cached(&word_set, dir),
            None => files.synonyms(Some(&word_set)),
        };
        let (synonyms, table) = rayon::join(synonyms, || read_table(&para_path, &keep));
        resources.synonyms = Some(synonyms?);
        let (table, note) = table?;
        resources.paraphrases = Some(table);
        resources.sources.push(para_path.display().to_string());
        // What the aligner needs of each word once, then of each text. A synset only one of these words has
        // cannot make a synonym match between them (that needs two different words): leaving those out
        // makes the texts' synset lists several times shorter.
        let res = &resources;
        let mut word_data: Vec<WordData> = interned.words.par_iter().map(|w| WordData::new(w, res)).collect();
        WordData::keep_shared_synsets(&mut word_data);
        let known: Vec<(String, PreparedText)> = distinct
            .par_iter()
            .zip(&interned.texts)
            .map(|(text, ids)| {
                (text.to_string(), PreparedText::from_words(ids.iter().map(|&i| &word_data[i as usize]), res))
            })
            .collect();
        let known = known.into_iter().collect();
        Ok((Meteor { resources, params: MeteorParams::default(), known }, note))
    }

    /// The tokens METEOR scores: `-norm` normalisation, then lower-casing.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        tokens(&self.resources.nonbreaking, text)
    }

    /// Statistics of a hypothesis against its references (the best-scoring reference; an empty list gives
    /// the statistics of an empty reference).
    pub fn segment_stats(&self, hyp: &str, refs: &[&str]) -> MeteorStats {
        // Texts given at load time were prepared then, with synsets no other of their words shares left
        // out; with any other text, every text of the segment is prepared afresh, with all its synsets.
        let known = |t: &str| self.known.get(t).map(std::borrow::Cow::Borrowed);
        let all_known: Option<Vec<_>> = std::iter::once(hyp).chain(refs.iter().copied()).map(known).collect();
        let prepared = all_known.unwrap_or_else(|| {
            std::iter::once(hyp)
                .chain(refs.iter().copied())
                .map(|t| std::borrow::Cow::Owned(PreparedText::new(&self.tokens(t), &self.resources)))
                .collect()
        });
        let (test, references) = (&prepared[0], &prepared[1..]);
        let mut best: Option<(f64, MeteorStats)> = None;
        for reference in references {
            let stats = align_prepared(test, reference, &self.resources, &self.params).stats;
            let score = stats.score(&self.params);
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, stats));
            }
        }
        best.map(|b| b.1).unwrap_or_else(|| {
            align_prepared(test, &PreparedText::new(&[] as &[&str], &self.resources), &self.resources, &self.params)
                .stats
        })
    }

    /// Segment scores and the corpus score of `hyps` against `refs` (paired by position).
    pub fn corpus(&self, hyps: &[&str], refs: &[Vec<&str>]) -> (Vec<f64>, f64) {
        let stats: Vec<MeteorStats> = hyps.iter().zip(refs).map(|(h, r)| self.segment_stats(h, r)).collect();
        let seg = stats.iter().map(|s| s.score(&self.params)).collect();
        (seg, MeteorStats::sum(&stats).score(&self.params))
    }
}

/// `-norm` normalisation, then lower-casing: the tokens METEOR scores, separated by single spaces.
fn normalized(nonbreaking: &FxHashMap<String, Nonbreaking>, text: &str) -> String {
    let mut out = normalize(text.trim(), nonbreaking);
    if out.is_ascii() {
        // In place, without the copy `to_lowercase` makes (same result for ASCII).
        out.make_ascii_lowercase();
        out
    } else {
        out.to_lowercase()
    }
}

/// [`normalized`], as tokens.
fn tokens(nonbreaking: &FxHashMap<String, Nonbreaking>, text: &str) -> Vec<String> {
    normalized(nonbreaking, text).split_whitespace().map(str::to_string).collect()
}

/// Java's `String.hashCode` (UTF-16 code units, wrapping) — the jar compares words by it.
pub(crate) fn java_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    for u in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(u as i32);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meteor() -> Meteor {
        Meteor::new(MeteorResources::from_parts("the\na\nof\nis\nno\n", "", None, None).unwrap())
    }

    #[test]
    fn identical_sentences_score_near_one() {
        let m = meteor();
        let s = m.segment_stats("the heart is normal", &["the heart is normal"]);
        assert_eq!(s.chunks, 1.0);
        assert!((s.score(&m.params) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn hand_computed_score() {
        // test: "heart is large" (3 words, "is" function); ref: "the heart is enlarged" (4 words, 2 function).
        // Exact matches: heart, is (one chunk). P = (0.75 + 0.25) / (0.75*2 + 0.25) = 1/1.75;
        // R = (0.75 + 0.25) / (0.75*2 + 0.25*2) = 0.5; Fmean = 1 / (0.15/P + 0.85/R);
        // frag = 1 / 2; penalty = 0.6 * 0.5^0.2.
        let m = meteor();
        let s = m.segment_stats("heart is large", &["the heart is enlarged"]);
        let p = 1.0 / 1.75;
        let r = 0.5;
        let fmean = 1.0 / (0.15 / p + 0.85 / r);
        let expected = fmean * (1.0 - 0.6 * 0.5f64.powf(0.2));
        assert!((s.score(&m.params) - expected).abs() < 1e-12, "{} vs {expected}", s.score(&m.params));
    }

    #[test]
    fn stems_match_and_corpus_sums_statistics() {
        let m = meteor();
        let a = m.segment_stats("effusions", &["effusion"]);
        assert_eq!(a.modules[1][0], 1.0, "stem module matched");
        let b = m.segment_stats("no", &["nothing here"]);
        let (seg, corpus) = m.corpus(&["effusions", "no"], &[vec!["effusion"], vec!["nothing here"]]);
        assert_eq!(seg, vec![a.score(&m.params), b.score(&m.params)]);
        let mean = (seg[0] + seg[1]) / 2.0;
        assert!((corpus - mean).abs() > 1e-6, "the corpus score is not the mean of segment scores");
        assert_eq!(m.segment_stats("", &["x"]).score(&m.params), 0.0);
    }

    #[test]
    fn java_hash_matches_java() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("a"), 97);
        assert_eq!(java_hash("hello"), 99162322);
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
    }
}
