//! ROUGE-L, in the two variants papers report.
//!
//! * [`coco_rouge_l`] — pycocoevalcap 1.2 (`rouge/rouge.py`): tokens are the PTB-tokenized text split on a
//!   single space (so an empty text is one empty token), `P = LCS/|hyp|`, `R = LCS/|ref|`; with several
//!   references the best P and the best R are taken independently; `β = 1.2`,
//!   `score = (1+β²)·P·R / (R + β²·P)`, 0 when P or R is 0. The corpus score is the mean.
//! * [`rouge_score_l`] — Google rouge-score 0.1.2 `RougeScorer(['rougeL'])`: its own tokenizer (lower-case,
//!   `[^a-z0-9]+` → space, optional NLTK Porter stemming of tokens longer than 3 characters), `β = 1`
//!   (`F = 2PR/(P+R)`), 0 when either side has no token.

use super::ngram::{split_space, with_scratch};
use super::porter::PorterStemmer;

/// Length of the longest common subsequence of two id sequences whose ids are at most `max_id`, by the
/// bit-parallel algorithm (Allison & Dix 1986; Hyyrö 2004, "Bit-parallel LCS-length computation
/// revisited"): one bit per position of `a`, a word-wide add per element of `b`, O(|a|·|b|/64) time.
pub fn lcs_len_ids(a: &[u32], b: &[u32], max_id: u32, bits: &mut Vec<u64>) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let words = a.len().div_ceil(64);
    // Rows 0..=max_id: the positions of each id in `a`; then the state vector V (all ones).
    let rows = (max_id as usize + 1) * words;
    bits.clear();
    bits.resize(rows + words, 0);
    for (i, &x) in a.iter().enumerate() {
        bits[x as usize * words + i / 64] |= 1 << (i % 64);
    }
    let (masks, v) = bits.split_at_mut(rows);
    v.fill(!0);
    if words == 1 {
        let mut v0 = !0u64;
        for &y in b {
            let u = v0 & masks[y as usize];
            v0 = v0.wrapping_add(u) | (v0 & !u);
        }
        return (!v0 & (!0u64 >> (64 - a.len()))).count_ones() as usize;
    }
    for &y in b {
        let m = &masks[y as usize * words..][..words];
        let mut carry = false;
        for (vw, &mw) in v.iter_mut().zip(m) {
            let u = *vw & mw;
            let (s1, c1) = vw.overflowing_add(u);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            carry = c1 || c2;
            *vw = s2 | (*vw & !u);
        }
    }
    let tail = a.len() % 64;
    v.iter()
        .enumerate()
        .map(|(w, &x)| {
            let valid = if w + 1 == words && tail != 0 { !0u64 >> (64 - tail) } else { !0u64 };
            (!x & valid).count_ones() as usize
        })
        .sum()
}

/// LCS length of the token lists `tokens[..a_len]` and `tokens[a_len..]` (exact string equality).
fn lcs_len_tokens(tokens: &[&str], a_len: usize) -> usize {
    with_scratch(|sc| {
        let distinct = sc.words.ids(tokens, &mut sc.ids);
        let (x, y) = sc.ids.split_at(a_len);
        lcs_len_ids(x, y, distinct, &mut sc.bits)
    })
}

/// pycocoevalcap's β.
pub const COCO_BETA: f64 = 1.2;

/// pycocoevalcap ROUGE-L of one PTB-tokenized hypothesis against its PTB-tokenized references.
pub fn coco_rouge_l(hyp: &str, refs: &[&str]) -> f64 {
    let (mut p_max, mut r_max) = (0.0f64, 0.0f64);
    let mut tokens: Vec<&str> = Vec::new();
    for r in refs {
        tokens.clear();
        split_space(r, &mut tokens);
        let r_len = tokens.len();
        split_space(hyp, &mut tokens);
        let h_len = tokens.len() - r_len;
        let l = lcs_len_tokens(&tokens, r_len) as f64;
        p_max = p_max.max(l / h_len as f64);
        r_max = r_max.max(l / r_len as f64);
    }
    if p_max != 0.0 && r_max != 0.0 {
        let b2 = COCO_BETA * COCO_BETA;
        ((1.0 + b2) * p_max * r_max) / (r_max + b2 * p_max)
    } else {
        0.0
    }
}

/// rouge-score's tokenizer: lower-case, non-`[a-z0-9]` runs become separators, optional Porter stemming of
/// tokens longer than 3 characters.
pub fn rouge_score_tokens(text: &str, stemmer: Option<&PorterStemmer>) -> Vec<String> {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(|t| match stemmer {
            Some(s) if t.len() > 3 => s.stem(t),
            _ => t.to_string(),
        })
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        .collect()
}

/// Precision, recall and F of rouge-score's ROUGE-L (`score(target=reference, prediction=hypothesis)`).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f: f64,
}

/// rouge-score ROUGE-L on pre-tokenized text.
pub fn rouge_score_l_tokens(hyp: &[String], reference: &[String]) -> Prf {
    if hyp.is_empty() || reference.is_empty() {
        return Prf::default();
    }
    let tokens: Vec<&str> = reference.iter().chain(hyp).map(String::as_str).collect();
    let l = lcs_len_tokens(&tokens, reference.len()) as f64;
    let precision = l / hyp.len() as f64;
    let recall = l / reference.len() as f64;
    let f = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Prf { precision, recall, f }
}

/// rouge-score ROUGE-L of raw texts.
pub fn rouge_score_l(hyp: &str, reference: &str, stemmer: Option<&PorterStemmer>) -> Prf {
    rouge_score_l_tokens(&rouge_score_tokens(hyp, stemmer), &rouge_score_tokens(reference, stemmer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook dynamic programme, to check the bit-parallel one against.
    fn lcs_len_dp(a: &[u32], b: &[u32]) -> usize {
        let mut prev = vec![0usize; b.len() + 1];
        for x in a {
            let mut cur = vec![0usize; b.len() + 1];
            for (j, y) in b.iter().enumerate() {
                cur[j + 1] = if x == y { prev[j] + 1 } else { cur[j].max(prev[j + 1]) };
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn lcs() {
        let mut bits = Vec::new();
        assert_eq!(lcs_len_ids(&[1, 2, 3, 4], &[2, 4, 3], 4, &mut bits), 2);
        assert_eq!(lcs_len_ids(&[], &[1], 1, &mut bits), 0);
        assert_eq!(lcs_len_tokens(&["a", "b", "c", "c", "a", "c"], 3), 2);
        // Random sequences of every length around the 64-bit word boundaries, small alphabets.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |m: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(m)) as u32 + 1
        };
        for len_a in [1, 2, 63, 64, 65, 127, 128, 129, 200] {
            for len_b in [1, 5, 64, 130] {
                for alphabet in [2, 4, 20] {
                    let a: Vec<u32> = (0..len_a).map(|_| next(alphabet)).collect();
                    let b: Vec<u32> = (0..len_b).map(|_| next(alphabet)).collect();
                    assert_eq!(lcs_len_ids(&a, &b, alphabet, &mut bits), lcs_len_dp(&a, &b), "{len_a}x{len_b}");
                }
            }
        }
    }

    #[test]
    fn coco_beta_weighting() {
        // P = 2/2, R = 2/4: (1+1.44)*1*0.5/(0.5+1.44*1)
        let s = coco_rouge_l("a b", &["a x b y"]);
        assert!((s - 2.44 * 0.5 / 1.94).abs() < 1e-12);
        assert_eq!(coco_rouge_l("", &["a"]), 0.0);
        // Best P and best R come from different references.
        let s = coco_rouge_l("a b", &["a b c d e f", "a"]);
        let (p, r) = (1.0, 0.5f64.max(1.0 / 6.0 * 2.0).max(1.0));
        assert!((s - 2.44 * p * r / (r + 1.44 * p)).abs() < 1e-12);
    }

    #[test]
    fn rouge_score_tokenizer_and_f() {
        assert_eq!(rouge_score_tokens("No  X-ray, ödem!", None), ["no", "x", "ray", "dem"]);
        let p = rouge_score_l("the cat sat", "the cat sat on the mat", None);
        assert!((p.precision - 1.0).abs() < 1e-12 && (p.recall - 0.5).abs() < 1e-12);
        assert!((p.f - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(rouge_score_l("...", "a", None), Prf::default());
    }
}
