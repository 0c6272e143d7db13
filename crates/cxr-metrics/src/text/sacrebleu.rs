//! sacrebleu 2.6.0 BLEU and chrF, with its defaults.
//!
//! **BLEU** (`BLEU()`; signature `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`): the 13a
//! tokenizer ([`tokenize_13a`]), clipped n-gram matches for n = 1..4, closest reference length (ties: the
//! shorter), `BP = exp(1 − r/c)` when `c < r` (0 when `c = 0`), and 'exp' smoothing: the k-th order with no
//! match gets precision `100 / (2^k · total_n)`. A segment or corpus with no match at all scores 0.
//! Precisions after the first order with no n-gram count as 0 (log 0 → −9999999999), unless
//! `effective_order`, which [`sentence_bleu`] uses as sacrebleu's `sentence_bleu` does.
//!
//! **chrF** (`CHRF()`; `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`): white space removed,
//! character n-grams n = 1..6, per order precision and recall averaged over the orders where both the
//! hypothesis and the reference have n-grams, `F = (1+β²)·P·R/(β²·P + R)·100` with β = 2. Corpus scores
//! come from summed statistics.

use super::bleu::stats_of_tokens;
use super::ngram::{char_key, is_py_whitespace};
use cxr_core::hash::FxHashMap;

/// Regex 1 of 13a: `[{-~[-` -&(-+:-@/]` gets spaces around it.
fn is_13a_symbol(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

/// Applies a two-character rewrite left to right without overlaps, as Python's `re.sub` does for a
/// fixed two-character pattern.
fn rewrite_pairs(
    chars: &[char],
    hit: impl Fn(char, char) -> bool,
    emit: impl Fn(char, char, &mut Vec<char>),
) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() && hit(chars[i], chars[i + 1]) {
            emit(chars[i], chars[i + 1], &mut out);
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// sacrebleu's `13a` tokenizer (mteval-v13a): returns the tokens joined by single spaces.
pub fn tokenize_13a(line: &str) -> String {
    let mut s = line.replace("<skipped>", "").replace("-\n", "").replace('\n', " ");
    if s.contains('&') {
        s = s.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    }
    let mut chars: Vec<char> = Vec::with_capacity(s.len() + 2);
    chars.push(' ');
    for c in s.chars() {
        if is_13a_symbol(c) {
            chars.extend([' ', c, ' ']);
        } else {
            chars.push(c);
        }
    }
    chars.push(' ');
    let digit = |c: char| c.is_ascii_digit();
    let chars = rewrite_pairs(&chars, |a, b| !digit(a) && (b == '.' || b == ','), |a, b, o| o.extend([a, ' ', b, ' ']));
    let chars = rewrite_pairs(&chars, |a, b| (a == '.' || a == ',') && !digit(b), |a, b, o| o.extend([' ', a, ' ', b]));
    let chars = rewrite_pairs(&chars, |a, b| digit(a) && b == '-', |a, b, o| o.extend([a, ' ', b, ' ']));
    let s: String = chars.into_iter().collect();
    s.split(is_py_whitespace).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ")
}

/// BLEU sufficient statistics (sacrebleu's `[sys_len, ref_len, correct_1..4, total_1..4]`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SacreBleuStats {
    pub sys_len: u64,
    pub ref_len: u64,
    pub correct: [u64; 4],
    pub total: [u64; 4],
}

impl std::ops::AddAssign for SacreBleuStats {
    fn add_assign(&mut self, o: Self) {
        self.sys_len += o.sys_len;
        self.ref_len += o.ref_len;
        for k in 0..4 {
            self.correct[k] += o.correct[k];
            self.total[k] += o.total[k];
        }
    }
}

/// The statistics of one hypothesis against its references (raw text; tokenized with 13a here). They are
/// COCO BLEU's statistics on 13a tokens: clipped counts, n-gram totals, closest reference length (ties to
/// the shorter).
pub fn bleu_stats(hyp: &str, refs: &[&str]) -> SacreBleuStats {
    let h = tokenize_13a(hyp);
    let rs: Vec<String> = refs.iter().map(|r| tokenize_13a(r)).collect();
    let mut tokens: Vec<&str> = h.split(' ').filter(|t| !t.is_empty()).collect();
    let hyp_len = tokens.len();
    let ref_lens: Vec<usize> = rs
        .iter()
        .map(|r| {
            let before = tokens.len();
            tokens.extend(r.split(' ').filter(|t| !t.is_empty()));
            tokens.len() - before
        })
        .collect();
    let b = stats_of_tokens(&tokens, hyp_len, &ref_lens);
    SacreBleuStats {
        sys_len: b.hyp_len as u64,
        ref_len: b.ref_len as u64,
        correct: b.correct.map(|x| x as u64),
        total: b.guess.map(|x| x as u64),
    }
}

/// BLEU (0–100) from statistics, with 'exp' smoothing.
pub fn bleu_score(st: &SacreBleuStats, effective_order: bool) -> f64 {
    let bp = if st.sys_len < st.ref_len {
        if st.sys_len > 0 {
            (1.0 - st.ref_len as f64 / st.sys_len as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    if st.correct.iter().all(|&c| c == 0) {
        return 0.0;
    }
    let mut precisions = [0.0f64; 4];
    let mut smooth = 1.0;
    let mut eff_order = 4;
    for n in 1..=4 {
        if st.total[n - 1] == 0 {
            break;
        }
        if effective_order {
            eff_order = n;
        }
        if st.correct[n - 1] == 0 {
            smooth *= 2.0;
            precisions[n - 1] = 100.0 / (smooth * st.total[n - 1] as f64);
        } else {
            precisions[n - 1] = 100.0 * st.correct[n - 1] as f64 / st.total[n - 1] as f64;
        }
    }
    let log = |p: f64| if p == 0.0 { -9_999_999_999.0 } else { p.ln() };
    bp * (precisions[..eff_order].iter().map(|&p| log(p)).sum::<f64>() / eff_order as f64).exp()
}

/// sacrebleu's `sentence_bleu(hyp, refs)` (effective order on).
pub fn sentence_bleu(hyp: &str, refs: &[&str]) -> f64 {
    bleu_score(&bleu_stats(hyp, refs), true)
}

/// sacrebleu's `BLEU().corpus_score(hyps, [refs])` for one reference per hypothesis set.
pub fn corpus_bleu(stats: &[SacreBleuStats]) -> f64 {
    let mut total = SacreBleuStats::default();
    for s in stats {
        total += *s;
    }
    bleu_score(&total, false)
}

/// chrF's character n-gram order.
pub const CHRF_ORDER: usize = 6;
/// chrF's β.
pub const CHRF_BETA: f64 = 2.0;

/// chrF statistics: per order `[hyp n-grams, ref n-grams, matches]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChrfStats(pub [[u64; 3]; CHRF_ORDER]);

impl std::ops::AddAssign for ChrfStats {
    fn add_assign(&mut self, o: Self) {
        for n in 0..CHRF_ORDER {
            for k in 0..3 {
                self.0[n][k] += o.0[n][k];
            }
        }
    }
}

fn chrf_f(st: &ChrfStats) -> f64 {
    let (mut p, mut r, mut eff) = (0.0, 0.0, 0usize);
    for [h, rf, m] in st.0 {
        if h > 0 && rf > 0 {
            p += m as f64 / h as f64;
            r += m as f64 / rf as f64;
            eff += 1;
        }
    }
    if eff == 0 {
        return 0.0;
    }
    p /= eff as f64;
    r /= eff as f64;
    let b2 = CHRF_BETA * CHRF_BETA;
    if p + r != 0.0 {
        100.0 * ((1.0 + b2) * p * r / (b2 * p + r))
    } else {
        0.0
    }
}

/// chrF statistics of one hypothesis against one reference.
pub fn chrf_stats_single(hyp: &str, reference: &str) -> ChrfStats {
    let h: Vec<char> = hyp.chars().filter(|c| !is_py_whitespace(*c)).collect();
    let r: Vec<char> = reference.chars().filter(|c| !is_py_whitespace(*c)).collect();
    let mut st = ChrfStats::default();
    // One map reused across orders: count the hypothesis n-grams, then consume them with the reference's.
    let mut counts: FxHashMap<u128, u32> = FxHashMap::with_capacity_and_hasher(h.len(), Default::default());
    for n in 1..=CHRF_ORDER {
        counts.clear();
        if h.len() >= n {
            for w in h.windows(n) {
                *counts.entry(char_key(w)).or_insert(0) += 1;
            }
        }
        let mut matches = 0u64;
        if r.len() >= n {
            for w in r.windows(n) {
                if let Some(c) = counts.get_mut(&char_key(w)) {
                    if *c > 0 {
                        *c -= 1;
                        matches += 1;
                    }
                }
            }
        }
        st.0[n - 1] = [h.len().saturating_sub(n - 1) as u64, r.len().saturating_sub(n - 1) as u64, matches];
    }
    st
}

/// chrF statistics against several references: those of the reference with the best sentence chrF
/// (the first on ties), as sacrebleu picks them.
pub fn chrf_stats(hyp: &str, refs: &[&str]) -> ChrfStats {
    let mut best: Option<(f64, ChrfStats)> = None;
    for r in refs {
        let st = chrf_stats_single(hyp, r);
        let f = chrf_f(&st);
        if best.as_ref().is_none_or(|(bf, _)| f > *bf) {
            best = Some((f, st));
        }
    }
    best.map(|b| b.1).unwrap_or_default()
}

/// sacrebleu's `sentence_chrf(hyp, refs)`.
pub fn sentence_chrf(hyp: &str, refs: &[&str]) -> f64 {
    chrf_f(&chrf_stats(hyp, refs))
}

/// sacrebleu's `CHRF().corpus_score` from per-segment statistics.
pub fn corpus_chrf(stats: &[ChrfStats]) -> f64 {
    let mut total = ChrfStats::default();
    for s in stats {
        total += *s;
    }
    chrf_f(&total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_13a() {
        assert_eq!(tokenize_13a("No effusion, 1.5 cm (left)."), "No effusion , 1.5 cm ( left ) .");
        assert_eq!(tokenize_13a("T12-L1 isn't &amp; x"), "T12 - L1 isn't & x");
        assert_eq!(tokenize_13a("a.. b"), "a . . b");
        assert_eq!(tokenize_13a(""), "");
    }

    #[test]
    fn bleu_identical_and_disjoint() {
        let s = bleu_stats("the heart is normal in size", &["the heart is normal in size"]);
        assert!((bleu_score(&s, false) - 100.0).abs() < 1e-9);
        assert_eq!(sentence_bleu("a b c", &["x y z"]), 0.0);
        assert_eq!(bleu_score(&bleu_stats("", &["a"]), false), 0.0);
    }

    #[test]
    fn exp_smoothing_and_effective_order() {
        // 3 words, all unigrams match, bigrams 1 of 2, no trigram: effective order stops at order 3.
        let st = bleu_stats("a b x", &["a b y a x"]);
        assert_eq!(st.correct, [3, 1, 0, 0]);
        let p: [f64; 3] = [100.0, 50.0, 100.0 / (2.0 * 1.0)];
        let bp = (1.0 - 5.0 / 3.0f64).exp();
        let got = bleu_score(&st, true);
        let expect = bp * (p.iter().map(|x| x.ln()).sum::<f64>() / 3.0).exp();
        assert!((got - expect).abs() < 1e-9, "{got} vs {expect}");
    }

    #[test]
    fn chrf_basics() {
        assert!((sentence_chrf("abc", &["abc"]) - 100.0).abs() < 1e-9);
        assert_eq!(sentence_chrf("", &["abc"]), 0.0);
        // White space is ignored.
        assert_eq!(sentence_chrf("a b c", &["abc"]), sentence_chrf("abc", &["abc"]));
    }
}
