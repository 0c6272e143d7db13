//! CIDEr-D as pycocoevalcap 1.2 computes it (`cider/cider_scorer.py`; the class is called `Cider` but the
//! metric is CIDEr-D).
//!
//! n = 1..4, σ = 6. Document frequency `df(g)` = the number of items whose *reference set* contains g,
//! counted over the references of the evaluated corpus only; `N` = the number of items. A text's vector at
//! order n has weights `tf(g)·(ln N − ln max(1, df(g)))` (raw counts). Per order,
//! `sim_n = Σ_{g∈hyp} min(h_g, r_g)·r_g / (‖h‖·‖r‖)` (division only when both norms are non-zero), times
//! `exp(−δ²/(2σ²))` where δ is the difference of the two texts' *bigram* counts (upstream's "length").
//! An item scores `10 · mean_n(Σ_refs sim_n / #refs)`; the corpus score is the mean over items.
//!
//! Sums over n-grams run in first-occurrence order, as upstream's dicts iterate.
//!
//! Consequences users trip over: a corpus of one item always scores 0 (ln 1 = 0), and an item's score
//! depends on the whole corpus it is scored in.

use super::ngram::{split_py, KeyIds, WordIds};

/// σ of the Gaussian length penalty.
pub const SIGMA: f64 = 6.0;

/// The corpus's distinct texts as n-gram ids. A word gets an id, an n-gram of order > 1 the id of the
/// pair (its (n−1)-gram prefix's id, its last word's id). Ids of all orders share one dense space, so
/// per-n-gram data (document frequency, weights, counts) lives in flat arrays.
struct Grams {
    /// Every text's ids, text after text.
    ids: Vec<u32>,
    /// Per distinct text: `ids[span[n]..span[n + 1]]` are its order-(n+1) n-grams, by position.
    spans: Vec<[usize; 5]>,
    /// The number of distinct n-grams (ids are `0..n_ids`).
    n_ids: usize,
}

impl Grams {
    fn of(&self, text: usize, n: usize) -> &[u32] {
        let span = &self.spans[text];
        &self.ids[span[n]..span[n + 1]]
    }

    fn all(&self, text: usize) -> &[u32] {
        let span = &self.spans[text];
        &self.ids[span[0]..span[4]]
    }

    /// Splits the texts and interns their n-grams order by order, so the table being probed holds one
    /// order's n-grams (a megabyte or two here), not all of them.
    fn intern(texts: &[&str]) -> Grams {
        let tokens: Vec<Vec<&str>> = texts
            .iter()
            .map(|t| {
                let mut v = Vec::new();
                split_py(t, &mut v);
                v
            })
            .collect();
        let mut spans = Vec::with_capacity(texts.len());
        let mut total = 0;
        for toks in &tokens {
            let mut span = [total; 5];
            for n in 0..4 {
                span[n + 1] = span[n] + toks.len().saturating_sub(n);
            }
            total = span[4];
            spans.push(span);
        }
        let mut ids = vec![0u32; total];
        let (mut words, mut next) = (WordIds::default(), 0);
        for (toks, span) in tokens.iter().zip(&spans) {
            for (id, w) in ids[span[0]..].iter_mut().zip(toks) {
                *id = words.id(w, &mut next);
            }
        }
        let mut distinct = next as usize;
        for n in 1..4 {
            let mut grams = KeyIds::default();
            // There are usually more distinct n-grams of each order than of the one before.
            grams.reserve(2 * distinct);
            let first = next;
            for span in &spans {
                // Packs (prefix id, last word id); a 64-bit key is exact.
                let key =
                    |ids: &[u32], i: usize| (u64::from(ids[span[n - 1] + i]) << 32) | u64::from(ids[span[0] + i + n]);
                let count = span[n + 1] - span[n];
                // Touch the text's slots first: independent loads whose misses overlap. The lookups that
                // follow branch on what they find, and would otherwise wait for each miss in turn.
                let mut touched = 0;
                for i in 0..count {
                    touched ^= grams.touch(key(&ids, i));
                }
                std::hint::black_box(touched);
                for i in 0..count {
                    ids[span[n] + i] = grams.id(key(&ids, i), &mut next);
                }
            }
            distinct = (next - first) as usize;
        }
        Grams { ids, spans, n_ids: next as usize }
    }
}

/// A text's CIDEr vector: per order, `(n-gram id, weight)` in first-occurrence order (upstream's dict
/// order, so sums run in the same order as pycocoevalcap's).
struct TextVec {
    weights: Vec<(u32, f64)>,
    start: [usize; 5],
    norm: [f64; 4],
    bigrams: f64,
}

/// The vector of distinct text `text`; `count` is all zeros on entry and on return.
fn vector(grams: &Grams, text: usize, idf: &[f64], count: &mut [u32]) -> TextVec {
    let mut weights = Vec::with_capacity(grams.all(text).len());
    let mut start = [0; 5];
    let mut norm = [0.0; 4];
    let mut bigrams = 0.0;
    for n in 0..4 {
        start[n] = weights.len();
        for &id in grams.of(text, n) {
            if count[id as usize] == 0 {
                weights.push((id, 0.0));
            }
            count[id as usize] += 1;
        }
        for (id, w) in &mut weights[start[n]..] {
            let tf = std::mem::take(&mut count[*id as usize]);
            *w = f64::from(tf) * idf[*id as usize];
            norm[n] += *w * *w;
            if n == 1 {
                bigrams += f64::from(tf);
            }
        }
    }
    start[4] = weights.len();
    for x in &mut norm {
        *x = x.sqrt();
    }
    TextVec { weights, start, norm, bigrams }
}

/// Per order, the length-penalised cosine-like similarity of `h` to `r`; `ref_weight` is all zeros on entry
/// and on return.
fn sim(h: &TextVec, r: &TextVec, ref_weight: &mut [f64]) -> [f64; 4] {
    let delta = h.bigrams - r.bigrams;
    let penalty = (-(delta * delta) / (2.0 * SIGMA * SIGMA)).exp();
    for &(id, w) in &r.weights {
        ref_weight[id as usize] = w;
    }
    let mut val = [0.0; 4];
    for n in 0..4 {
        // Σ over hypothesis n-grams of min(h, r)·r (0 where the reference lacks the n-gram).
        for &(id, hv) in &h.weights[h.start[n]..h.start[n + 1]] {
            let rv = ref_weight[id as usize];
            val[n] += hv.min(rv) * rv;
        }
        if h.norm[n] != 0.0 && r.norm[n] != 0.0 {
            val[n] /= h.norm[n] * r.norm[n];
        }
        val[n] *= penalty;
    }
    for &(id, _) in &r.weights {
        ref_weight[id as usize] = 0.0;
    }
    val
}

/// CIDEr-D of every item and their mean. Texts are PTB-tokenized and split on white space.
///
/// Identical texts (frequent among reports: normal-study wording, a model's favourite sentence) are
/// split, interned and weighted once. One thread: the work is bound by memory latency, and a second
/// thread here measured slower on two cores; callers run other metrics beside it instead.
pub fn corpus_cider_d<'a>(hyps: &[&'a str], refs: &[Vec<&'a str>]) -> (Vec<f64>, f64) {
    let mut distinct: Vec<&'a str> = Vec::new();
    let mut text_ids = WordIds::default();
    let mut text_id = |t: &'a str| {
        let mut next = distinct.len() as u32;
        let id = text_ids.id(t, &mut next);
        if id as usize == distinct.len() {
            distinct.push(t);
        }
        id as usize
    };
    let hyp_text: Vec<usize> = hyps.iter().map(|h| text_id(h)).collect();
    let ref_texts: Vec<Vec<usize>> = refs.iter().map(|rs| rs.iter().map(|r| text_id(r)).collect()).collect();
    let grams = Grams::intern(&distinct);
    // Document frequency: the number of items whose reference set contains the n-gram.
    let mut df = vec![0u32; grams.n_ids];
    let mut last_item = vec![u32::MAX; grams.n_ids];
    for (item, rs) in ref_texts.iter().enumerate() {
        for id in rs.iter().flat_map(|&t| grams.all(t)) {
            let i = *id as usize;
            if last_item[i] != item as u32 {
                last_item[i] = item as u32;
                df[i] += 1;
            }
        }
    }
    drop(last_item);
    let ln_items = (refs.len() as f64).ln();
    // ln of every document frequency that occurs (at most the number of items), computed once.
    let ln_df: Vec<f64> = (0..=refs.len()).map(|d| (d.max(1) as f64).ln()).collect();
    let idf: Vec<f64> = df.iter().map(|&d| ln_items - ln_df[d as usize]).collect();
    drop(df);
    let mut count = vec![0u32; grams.n_ids];
    let vectors: Vec<TextVec> = (0..distinct.len()).map(|t| vector(&grams, t, &idf, &mut count)).collect();
    drop(count);
    let mut ref_weight = vec![0.0; grams.n_ids];
    let scores: Vec<f64> = hyp_text
        .iter()
        .zip(&ref_texts)
        .map(|(&h, rs)| {
            if rs.is_empty() {
                return 0.0;
            }
            let mut acc = [0.0; 4];
            for &r in rs {
                let s = sim(&vectors[h], &vectors[r], &mut ref_weight);
                for n in 0..4 {
                    acc[n] += s[n];
                }
            }
            acc.iter().sum::<f64>() / 4.0 / rs.len() as f64 * 10.0
        })
        .collect();
    let corpus = if scores.is_empty() { 0.0 } else { scores.iter().sum::<f64>() / scores.len() as f64 };
    (scores, corpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_item_corpus_scores_zero() {
        let (s, c) = corpus_cider_d(&["no acute disease"], &[vec!["no acute disease"]]);
        assert_eq!(s, [0.0]);
        assert_eq!(c, 0.0);
    }

    #[test]
    fn identical_texts_and_document_frequency() {
        let hyps = ["small left effusion", "no acute disease", "no acute disease"];
        let refs = [vec!["small left effusion"], vec!["no acute disease"], vec!["no acute findings"]];
        let (s, c) = corpus_cider_d(&hyps, &refs);
        // Identical 3-word texts: cosine 1 at orders 1-3, no 4-grams: 10 * 3/4.
        assert!((s[0] - 7.5).abs() < 1e-12 && (s[1] - 7.5).abs() < 1e-12, "{s:?}");
        assert!(s[2] > 0.0 && s[2] < 7.5);
        assert!((c - (s[0] + s[1] + s[2]) / 3.0).abs() < 1e-12);
        // An n-gram in every reference set has weight ln N - ln N = 0: matching only it scores 0.
        let (s, _) = corpus_cider_d(&["x", "x"], &[vec!["x a"], vec!["x b"]]);
        assert_eq!(s, [0.0, 0.0]);
    }

    #[test]
    fn repeated_texts_score_as_separate_copies_would() {
        // A trailing space makes a different string with the same tokens: the copies are then interned
        // separately, and every number must be the same as with the repeats shared.
        let texts = ["no acute disease", "small left effusion", "heart size normal . no effusion", "no acute findings"];
        let copy =
            ["no acute disease ", "small left effusion ", "heart size normal . no effusion ", "no acute findings "];
        let hyps: Vec<&str> = (0..40).map(|i| texts[i % 4]).collect();
        let refs: Vec<Vec<&str>> = (0..40).map(|i| vec![texts[(i * 7 + 1) % 4], texts[i % 3]]).collect();
        let hyps2: Vec<&str> = (0..40).map(|i| if i % 2 == 0 { texts[i % 4] } else { copy[i % 4] }).collect();
        let refs2: Vec<Vec<&str>> = (0..40).map(|i| vec![copy[(i * 7 + 1) % 4], texts[i % 3]]).collect();
        let shared = corpus_cider_d(&hyps, &refs);
        assert!(shared.1 > 0.0);
        assert_eq!(shared, corpus_cider_d(&hyps2, &refs2));
    }

    #[test]
    fn length_penalty_uses_bigram_counts() {
        let hyps = ["a b c d e f g h i j k l m n", "x y"];
        let refs = [vec!["a b"], vec!["x y"]];
        let (s, _) = corpus_cider_d(&hyps, &refs);
        assert!(s[0] < s[1]);
    }
}
