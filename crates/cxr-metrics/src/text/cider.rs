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

/// Corpus-wide n-gram ids: a word gets an id, an n-gram of order > 1 the id of the pair (its (n−1)-gram
/// prefix's id, its last word's id). Ids of all orders share one dense space, so per-n-gram data (document
/// frequency, weights, counts) lives in flat arrays.
#[derive(Default)]
struct GramIds<'a> {
    words: WordIds<'a>,
    grams: KeyIds,
    next: u32,
    tokens: Vec<&'a str>,
}

/// The n-gram ids of one text, order by order (`ids[start[n]..start[n+1]]` are order n+1, by position).
struct TextGrams {
    ids: Vec<u32>,
    start: [usize; 5],
}

impl<'a> GramIds<'a> {
    fn text(&mut self, text: &'a str) -> TextGrams {
        self.tokens.clear();
        split_py(text, &mut self.tokens);
        let mut ids: Vec<u32> = Vec::with_capacity(4 * self.tokens.len());
        for &w in &self.tokens {
            ids.push(self.words.id(w, &mut self.next));
        }
        let len = ids.len();
        let mut start = [0; 5];
        let mut prev = 0;
        for n in 1..4 {
            start[n] = ids.len();
            for i in 0..len.saturating_sub(n) {
                // Packs (prefix id, last word id); a 64-bit key is exact.
                let key = (u64::from(ids[prev + i]) << 32) | u64::from(ids[i + n]);
                let id = self.grams.id(key, &mut self.next);
                ids.push(id);
            }
            prev = start[n];
        }
        start[4] = ids.len();
        TextGrams { ids, start }
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

/// Reusable dense arrays over n-gram ids.
struct Dense {
    /// `ln N − ln max(1, df)` per id.
    idf: Vec<f64>,
    count: Vec<u32>,
    ref_weight: Vec<f64>,
}

impl Dense {
    fn vector(&mut self, t: &TextGrams) -> TextVec {
        let mut weights = Vec::with_capacity(t.ids.len());
        let mut start = [0; 5];
        let mut norm = [0.0; 4];
        let mut bigrams = 0.0;
        for n in 0..4 {
            start[n] = weights.len();
            let grams = &t.ids[t.start[n]..t.start[n + 1]];
            for &id in grams {
                if self.count[id as usize] == 0 {
                    weights.push((id, 0.0));
                }
                self.count[id as usize] += 1;
            }
            for (id, w) in &mut weights[start[n]..] {
                let tf = std::mem::take(&mut self.count[*id as usize]);
                *w = f64::from(tf) * self.idf[*id as usize];
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

    fn sim(&mut self, h: &TextVec, r: &TextVec) -> [f64; 4] {
        let delta = h.bigrams - r.bigrams;
        let penalty = (-(delta * delta) / (2.0 * SIGMA * SIGMA)).exp();
        for &(id, w) in &r.weights {
            self.ref_weight[id as usize] = w;
        }
        let mut val = [0.0; 4];
        for n in 0..4 {
            // Σ over hypothesis n-grams of min(h, r)·r (0 where the reference lacks the n-gram).
            for &(id, hv) in &h.weights[h.start[n]..h.start[n + 1]] {
                let rv = self.ref_weight[id as usize];
                val[n] += hv.min(rv) * rv;
            }
            if h.norm[n] != 0.0 && r.norm[n] != 0.0 {
                val[n] /= h.norm[n] * r.norm[n];
            }
            val[n] *= penalty;
        }
        for &(id, _) in &r.weights {
            self.ref_weight[id as usize] = 0.0;
        }
        val
    }
}

/// CIDEr-D of every item and their mean. Texts are PTB-tokenized and split on white space.
pub fn corpus_cider_d(hyps: &[&str], refs: &[Vec<&str>]) -> (Vec<f64>, f64) {
    let mut ids = GramIds::default();
    let hyp_grams: Vec<TextGrams> = hyps.iter().map(|h| ids.text(h)).collect();
    let ref_grams: Vec<Vec<TextGrams>> = refs.iter().map(|rs| rs.iter().map(|r| ids.text(r)).collect()).collect();
    let n_ids = ids.next as usize;
    // Document frequency: the number of items whose reference set contains the n-gram.
    let mut df = vec![0u32; n_ids];
    let mut last_item = vec![u32::MAX; n_ids];
    for (item, rs) in ref_grams.iter().enumerate() {
        for id in rs.iter().flat_map(|r| &r.ids) {
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
    let idf = df.iter().map(|&d| ln_items - ln_df[d as usize]).collect();
    let mut dense = Dense { idf, count: vec![0; n_ids], ref_weight: vec![0.0; n_ids] };
    let mut scores = Vec::with_capacity(hyps.len());
    for (hg, rgs) in hyp_grams.iter().zip(&ref_grams) {
        let hv = dense.vector(hg);
        let mut acc = [0.0; 4];
        for rg in rgs {
            let rv = dense.vector(rg);
            let s = dense.sim(&hv, &rv);
            for n in 0..4 {
                acc[n] += s[n];
            }
        }
        let mean = acc.iter().sum::<f64>() / 4.0;
        scores.push(if rgs.is_empty() { 0.0 } else { mean / rgs.len() as f64 * 10.0 });
    }
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
    fn length_penalty_uses_bigram_counts() {
        let hyps = ["a b c d e f g h i j k l m n", "x y"];
        let refs = [vec!["a b"], vec!["x y"]];
        let (s, _) = corpus_cider_d(&hyps, &refs);
        assert!(s[0] < s[1]);
    }
}
