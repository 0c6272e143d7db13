//! COCO BLEU-1..4, as pycocoevalcap 1.2 computes it (`bleu/bleu_scorer.py`, `Bleu(4)`, option `'closest'`).
//!
//! Written from the definition (the scorer's header forbids redistribution of its code):
//! tokens are the PTB-tokenized text split on white space; per segment, for k = 1..4,
//! `correct_k = Σ_g min(count_hyp(g), max_ref count_ref(g))` and `guess_k = max(0, len_hyp − k + 1)`; the
//! effective reference length is the reference length closest to the hypothesis length (ties: the shorter).
//! `BLEU_n = Π_{k≤n} ((correct_k + 1e-15) / (guess_k + 1e-9))^(1/n) · BP`, with
//! `ratio = (len_hyp + 1e-15) / (len_ref + 1e-9)` and `BP = exp(1 − 1/ratio)` when `ratio < 1`. The corpus
//! score applies the same formula to the summed counts and lengths (it is *not* the mean of sentence
//! scores). The epsilons are kept, so a segment with no bigram match scores ~1e-9, not 0, as upstream.
//!
//! On raw white-space tokens (no PTB) the same scorer gives RadEval's `bleu`.

use super::ngram::{for_each_gram, with_scratch, Scratch};

const TINY: f64 = 1e-15;
const SMALL: f64 = 1e-9;

/// Sufficient statistics of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BleuStats {
    pub correct: [f64; 4],
    pub guess: [f64; 4],
    pub hyp_len: f64,
    pub ref_len: f64,
}

impl std::ops::AddAssign for BleuStats {
    fn add_assign(&mut self, o: Self) {
        for k in 0..4 {
            self.correct[k] += o.correct[k];
            self.guess[k] += o.guess[k];
        }
        self.hyp_len += o.hyp_len;
        self.ref_len += o.ref_len;
    }
}

impl BleuStats {
    /// BLEU-1..4 from these statistics (segment or summed corpus statistics).
    pub fn scores(&self) -> [f64; 4] {
        let mut out = [0.0; 4];
        let mut prod = 1.0;
        for k in 0..4 {
            prod *= (self.correct[k] + TINY) / (self.guess[k] + SMALL);
            out[k] = prod.powf(1.0 / (k as f64 + 1.0));
        }
        let ratio = (self.hyp_len + TINY) / (self.ref_len + SMALL);
        if ratio < 1.0 {
            let bp = (1.0 - 1.0 / ratio).exp();
            for s in &mut out {
                *s *= bp;
            }
        }
        out
    }
}

/// The statistics of one hypothesis against its references (white-space tokens).
pub fn segment_stats(hyp: &str, refs: &[&str]) -> BleuStats {
    let mut tokens: Vec<&str> = hyp.split_whitespace().collect();
    let hyp_len = tokens.len();
    let mut ref_lens = Vec::with_capacity(refs.len());
    for r in refs {
        let before = tokens.len();
        tokens.extend(r.split_whitespace());
        ref_lens.push(tokens.len() - before);
    }
    stats_of_tokens(&tokens, hyp_len, &ref_lens)
}

/// Clipped n-gram counts of a hypothesis and its references, given as one token list (the hypothesis's
/// `hyp_len` tokens, then each reference's `ref_lens[i]`); shared with sacrebleu, whose statistics are the
/// same on its own tokens.
pub(crate) fn stats_of_tokens(tokens: &[&str], hyp_len: usize, ref_lens: &[usize]) -> BleuStats {
    with_scratch(|sc| {
        let Scratch { words, ids, table, other, .. } = sc;
        words.ids(tokens, ids);
        let (h, mut rest) = ids.split_at(hyp_len);
        // The largest count of each n-gram in any one reference: the clipping limit.
        table.reset(4 * rest.len());
        if let [_] = ref_lens {
            for_each_gram(rest, 4, |_, k| table.add(k));
        } else {
            for &len in ref_lens {
                let (r, tail) = rest.split_at(len);
                rest = tail;
                other.reset(4 * len);
                for_each_gram(r, 4, |_, k| other.add(k));
                for (k, c) in other.entries() {
                    table.raise_to(k, c);
                }
            }
        }
        let mut correct = [0u32; 4];
        for_each_gram(h, 4, |n, k| correct[n] += u32::from(table.take(k)));
        let mut st = BleuStats { hyp_len: hyp_len as f64, ..Default::default() };
        for n in 0..4 {
            st.correct[n] = f64::from(correct[n]);
            st.guess[n] = hyp_len.saturating_sub(n) as f64;
        }
        // Closest reference length, ties to the shorter.
        st.ref_len = ref_lens.iter().copied().min_by_key(|&l| (l.abs_diff(hyp_len), l)).unwrap_or(0) as f64;
        st
    })
}

/// Sentence BLEU-1..4 of every pair and the corpus BLEU-1..4.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuResult {
    pub per_segment: Vec<[f64; 4]>,
    pub corpus: [f64; 4],
    pub stats: Vec<BleuStats>,
}

/// Scores a corpus: `hyps[i]` against `refs[i]` (one or more references each), white-space tokens.
pub fn corpus_bleu(hyps: &[&str], refs: &[Vec<&str>]) -> BleuResult {
    let stats: Vec<BleuStats> = hyps.iter().zip(refs).map(|(h, r)| segment_stats(h, r)).collect();
    let per_segment = stats.iter().map(BleuStats::scores).collect();
    let mut total = BleuStats::default();
    for s in &stats {
        total += *s;
    }
    BleuResult { per_segment, corpus: total.scores(), stats }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_segment_scores_one() {
        let s = segment_stats("no acute disease seen here", &["no acute disease seen here"]).scores();
        for v in s {
            assert!((v - 1.0).abs() < 1e-9, "{v}");
        }
    }

    #[test]
    fn epsilons_make_tiny_not_zero() {
        let s = segment_stats("a b c d", &["a x y z"]).scores();
        assert!((s[0] - 0.25).abs() < 1e-9);
        assert!(s[1] > 0.0 && s[1] < 1e-4, "{}", s[1]);
    }

    #[test]
    fn brevity_penalty_and_closest_reference() {
        // hyp of 2 words, ref of 4: ratio 0.5, BP = exp(1 - 2) = e^-1.
        let s = segment_stats("a b", &["a b c d"]);
        assert_eq!(s.ref_len, 4.0);
        assert!((s.scores()[0] - (-1f64).exp()).abs() < 1e-9);
        // Closest of 3 and 5 to 4 is a tie: the shorter (3) wins.
        assert_eq!(segment_stats("a b c d", &["a b c d e", "a b c"]).ref_len, 3.0);
        // Clipping: "the the the" vs "the cat" has one correct unigram.
        assert_eq!(segment_stats("the the the", &["the cat"]).correct[0], 1.0);
    }

    #[test]
    fn empty_hypothesis_scores_zero() {
        let s = segment_stats("", &["a b"]).scores();
        assert_eq!(s, [0.0; 4]);
    }
}
