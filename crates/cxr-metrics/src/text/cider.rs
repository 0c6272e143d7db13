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
//! Consequences users trip over: a corpus of one item always scores 0 (ln 1 = 0), and an item's score
//! depends on the whole corpus it is scored in.

use super::ngram::{word_runs, Runs, Vocab};
use cxr_core::hash::FxHashMap;

/// σ of the Gaussian length penalty.
pub const SIGMA: f64 = 6.0;

/// A text's CIDEr vector: per order, `(n-gram key, weight)` sorted by key.
struct TextVec {
    weights: Vec<Vec<(u128, f64)>>,
    norm: [f64; 4],
    bigrams: f64,
}

fn to_vec(runs: &Runs, df: &[FxHashMap<u128, u32>], ref_len: f64) -> TextVec {
    let mut norm = [0.0; 4];
    let mut bigrams = 0.0;
    let weights = (0..4)
        .map(|n| {
            runs[n]
                .iter()
                .map(|&(k, tf)| {
                    let d = f64::from(df[n].get(&k).copied().unwrap_or(0).max(1)).ln();
                    let v = f64::from(tf) * (ref_len - d);
                    norm[n] += v * v;
                    if n == 1 {
                        bigrams += f64::from(tf);
                    }
                    (k, v)
                })
                .collect()
        })
        .collect();
    for x in &mut norm {
        *x = x.sqrt();
    }
    TextVec { weights, norm, bigrams }
}

fn sim(h: &TextVec, r: &TextVec) -> [f64; 4] {
    let delta = h.bigrams - r.bigrams;
    let penalty = (-(delta * delta) / (2.0 * SIGMA * SIGMA)).exp();
    let mut val = [0.0; 4];
    for n in 0..4 {
        // Σ over hypothesis n-grams of min(h, r)·r (0 where the reference lacks the n-gram), by merging.
        let (hw, rw) = (&h.weights[n], &r.weights[n]);
        let mut j = 0;
        for &(k, hv) in hw {
            while j < rw.len() && rw[j].0 < k {
                j += 1;
            }
            if j < rw.len() && rw[j].0 == k {
                let rv = rw[j].1;
                val[n] += hv.min(rv) * rv;
            }
        }
        if h.norm[n] != 0.0 && r.norm[n] != 0.0 {
            val[n] /= h.norm[n] * r.norm[n];
        }
        val[n] *= penalty;
    }
    val
}

/// CIDEr-D of every item and their mean. Texts are PTB-tokenized and split on white space.
///
/// Sums run in n-gram key order rather than upstream's insertion order, so values can differ from
/// pycocoevalcap in the last bits (tested at relative 1e-9).
pub fn corpus_cider_d(hyps: &[&str], refs: &[Vec<&str>]) -> (Vec<f64>, f64) {
    let mut vocab = Vocab::default();
    let hyp_runs: Vec<Runs> = hyps.iter().map(|h| word_runs(&vocab.ids(h.split_whitespace()), 4)).collect();
    let ref_runs: Vec<Vec<Runs>> =
        refs.iter().map(|rs| rs.iter().map(|r| word_runs(&vocab.ids(r.split_whitespace()), 4)).collect()).collect();
    // Document frequency: the number of items whose reference set contains the n-gram.
    let mut df: Vec<FxHashMap<u128, u32>> = vec![FxHashMap::default(); 4];
    for rs in &ref_runs {
        for n in 0..4 {
            let mut seen: Vec<u128> = rs.iter().flat_map(|r| r[n].iter().map(|x| x.0)).collect();
            if rs.len() > 1 {
                seen.sort_unstable();
                seen.dedup();
            }
            for k in seen {
                *df[n].entry(k).or_insert(0) += 1;
            }
        }
    }
    let ref_len = (refs.len() as f64).ln();
    let mut scores = Vec::with_capacity(hyps.len());
    for (hr, rrs) in hyp_runs.iter().zip(&ref_runs) {
        let hv = to_vec(hr, &df, ref_len);
        let mut acc = [0.0; 4];
        for rr in rrs {
            let s = sim(&hv, &to_vec(rr, &df, ref_len));
            for n in 0..4 {
                acc[n] += s[n];
            }
        }
        let mean = acc.iter().sum::<f64>() / 4.0;
        scores.push(if rrs.is_empty() { 0.0 } else { mean / rrs.len() as f64 * 10.0 });
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
