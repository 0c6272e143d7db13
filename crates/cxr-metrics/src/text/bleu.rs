//! COCO BLEU-1..4, as pycocoevalcap 1.2 computes it (`bleu/bleu_scorer.py`, `Bleu(4)`, option `'closest'`).
//!
//! Written from the definition (the scorer's header forbids redistribution of its code):
//! tokens are the PTB-tokenized text split on white space (Python's `str.split()`); per segment, for k = 1..4,
//! `correct_k = Σ_g min(count_hyp(g), max_ref count_ref(g))` and `guess_k = max(0, len_hyp − k + 1)`; the
//! effective reference length is the reference length closest to the hypothesis length (ties: the shorter).
//! `BLEU_n = Π_{k≤n} ((correct_k + 1e-15) / (guess_k + 1e-9))^(1/n) · BP`, with
//! `ratio = (len_hyp + 1e-15) / (len_ref + 1e-9)` and `BP = exp(1 − 1/ratio)` when `ratio < 1`. The corpus
//! score applies the same formula to the summed counts and lengths (it is *not* the mean of sentence
//! scores). The epsilons are kept, so a segment with no bigram match scores ~1e-9, not 0, as upstream.
//!
//! On raw white-space tokens (no PTB) the same scorer gives RadEval's `bleu`.

use super::ngram::{split_py, with_scratch, GramKey, GramTable, Scratch};
use rayon::prelude::*;

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
    with_scratch(|sc| segment_stats_with(hyp, refs, &mut Vec::new(), &mut Vec::new(), sc))
}

/// [`segment_stats`] with the caller's buffers (a corpus reuses them for every pair).
fn segment_stats_with<'a>(
    hyp: &'a str,
    refs: &[&'a str],
    tokens: &mut Vec<&'a str>,
    ref_lens: &mut Vec<usize>,
    sc: &mut Scratch,
) -> BleuStats {
    tokens.clear();
    ref_lens.clear();
    // A token takes at least two bytes with its separator: never reallocate while splitting.
    tokens.reserve(hyp.len() / 2 + refs.iter().map(|r| r.len() / 2 + 1).sum::<usize>() + 1);
    split_py(hyp, tokens);
    let hyp_len = tokens.len();
    for r in refs {
        let before = tokens.len();
        split_py(r, tokens);
        ref_lens.push(tokens.len() - before);
    }
    stats_with(tokens, hyp_len, ref_lens, sc)
}

/// Clipped n-gram counts of a hypothesis and its references, given as one token list (the hypothesis's
/// `hyp_len` tokens, then each reference's `ref_lens[i]`); shared with sacrebleu, whose statistics are the
/// same on its own tokens.
pub(crate) fn stats_of_tokens(tokens: &[&str], hyp_len: usize, ref_lens: &[usize]) -> BleuStats {
    with_scratch(|sc| stats_with(tokens, hyp_len, ref_lens, sc))
}

fn stats_with(tokens: &[&str], hyp_len: usize, ref_lens: &[usize], sc: &mut Scratch) -> BleuStats {
    let distinct = sc.words.ids(tokens, &mut sc.ids);
    let correct = if distinct < 1 << <u64 as GramKey>::ID_BITS {
        clipped_matches(&sc.ids, hyp_len, ref_lens, distinct, &mut sc.tables16, &mut sc.marks)
    } else {
        clipped_matches(&sc.ids, hyp_len, ref_lens, distinct, &mut sc.tables32, &mut sc.marks)
    };
    let mut st = BleuStats { hyp_len: hyp_len as f64, ..Default::default() };
    for n in 0..4 {
        st.correct[n] = f64::from(correct[n]);
        st.guess[n] = hyp_len.saturating_sub(n) as f64;
    }
    // Closest reference length, ties to the shorter.
    st.ref_len = ref_lens.iter().copied().min_by_key(|&l| (l.abs_diff(hyp_len), l)).unwrap_or(0) as f64;
    st
}

/// Per order, `Σ_g min(count_hyp(g), max_ref count_ref(g))` over the word ids of a pair.
///
/// Only n-grams that can match are counted: a reference n-gram is stored only if all its words occur in
/// the hypothesis, and a hypothesis n-gram is extended only while its prefix occurs in some reference.
fn clipped_matches<K: GramKey>(
    ids: &[u32],
    hyp_len: usize,
    ref_lens: &[usize],
    distinct: u32,
    [table, other]: &mut [GramTable<K>; 2],
    in_hyp: &mut Vec<bool>,
) -> [u32; 4] {
    let (h, mut rest) = ids.split_at(hyp_len);
    in_hyp.clear();
    in_hyp.resize(distinct as usize + 1, false);
    for &id in h {
        in_hyp[id as usize] = true;
    }
    // The n-grams of `r` made of hypothesis words only.
    let grams_of = |r: &[u32], t: &mut GramTable<K>| {
        for i in 0..r.len() {
            let mut k = K::default();
            for &id in r[i..r.len().min(i + 4)].iter().take_while(|&&id| in_hyp[id as usize]) {
                k = k.push(id);
                t.add(k);
            }
        }
    };
    // The largest count of each n-gram in any one reference: the clipping limit.
    table.reset(4 * rest.len());
    if let [_] = ref_lens {
        grams_of(rest, table);
    } else {
        for &len in ref_lens {
            let (r, tail) = rest.split_at(len);
            rest = tail;
            other.reset(4 * len);
            grams_of(r, other);
            for (k, c) in other.entries() {
                table.raise_to(k, c);
            }
        }
    }
    let mut correct = [0u32; 4];
    for i in 0..h.len() {
        let mut k = K::default();
        for (n, &id) in h[i..h.len().min(i + 4)].iter().enumerate() {
            k = k.push(id);
            match table.take_or_absent(k) {
                None => break,
                Some(hit) => correct[n] += u32::from(hit),
            }
        }
    }
    correct
}

/// Sentence BLEU-1..4 of every pair and the corpus BLEU-1..4.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuResult {
    pub per_segment: Vec<[f64; 4]>,
    pub corpus: [f64; 4],
    pub stats: Vec<BleuStats>,
}

/// Scores a corpus: `hyps[i]` against `refs[i]` (one or more references each), white-space tokens.
///
/// Pairs are scored in parallel; the corpus statistics are summed in pair order afterwards, so the numbers
/// do not depend on the number of threads.
pub fn corpus_bleu(hyps: &[&str], refs: &[Vec<&str>]) -> BleuResult {
    let (stats, per_segment): (Vec<BleuStats>, Vec<[f64; 4]>) = hyps
        .par_iter()
        .zip(refs)
        .map_init(
            || (Vec::new(), Vec::new()),
            |(tokens, ref_lens), (h, r)| {
                let st = with_scratch(|sc| segment_stats_with(h, r, tokens, ref_lens, sc));
                (st, st.scores())
            },
        )
        .unzip();
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

    /// Clipped counts by the definition: n-gram multisets in hash maps.
    fn naive_correct(hyp: &str, refs: &[&str]) -> [f64; 4] {
        use std::collections::HashMap;
        fn grams(t: &str, n: usize) -> HashMap<Vec<&str>, usize> {
            let w: Vec<&str> = t.split_whitespace().collect();
            let mut m: HashMap<Vec<&str>, usize> = HashMap::new();
            for g in w.windows(n) {
                *m.entry(g.to_vec()).or_default() += 1;
            }
            m
        }
        let mut out = [0.0; 4];
        for n in 1..=4 {
            let rs: Vec<_> = refs.iter().map(|r| grams(r, n)).collect();
            for (g, c) in grams(hyp, n) {
                let max_ref = rs.iter().map(|m| m.get(&g).copied().unwrap_or(0)).max().unwrap_or(0);
                out[n - 1] += c.min(max_ref) as f64;
            }
        }
        out
    }

    #[test]
    fn clipped_counts_match_the_definition() {
        // Random texts over small vocabularies (many repeats), one to three references.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let mut text =
            |len: u64, vocab: u64| (0..len).map(|_| format!("w{}", next(vocab))).collect::<Vec<_>>().join(" ");
        for case in 0..300 {
            let vocab = [3, 6, 40][case % 3];
            let hyp = text(case as u64 % 25, vocab);
            let refs: Vec<String> = (0..1 + case % 3).map(|i| text((case as u64 * 7 + i as u64) % 30, vocab)).collect();
            let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
            assert_eq!(segment_stats(&hyp, &refs).correct, naive_correct(&hyp, &refs), "{hyp:?} vs {refs:?}");
        }
    }

    #[test]
    fn pairs_beyond_16_bit_ids_count_the_same() {
        // 70,000 distinct words take the 32-bit key path; the counts must be those of the small path.
        let words: Vec<String> = (0..70_000).map(|i| format!("w{i}")).collect();
        let reference = words.join(" ");
        let hyp = format!("{} w1 w2 w3 x", words[..10].join(" "));
        let big = segment_stats(&hyp, &[&reference]);
        let small = segment_stats(&hyp, &[&words[..10].join(" ")]);
        assert_eq!(big.correct, [10.0, 9.0, 8.0, 7.0]);
        assert_eq!(big.correct, small.correct);
    }

    #[test]
    fn empty_hypothesis_scores_zero() {
        let s = segment_stats("", &["a b"]).scores();
        assert_eq!(s, [0.0; 4]);
    }
}
