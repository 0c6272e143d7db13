//! ROUGE-L, in the two variants papers report.
//!
//! * [`coco_rouge_l`] — pycocoevalcap 1.2 (`rouge/rouge.py`): tokens are the PTB-tokenized text split on a
//!   single space (so an empty text is one empty token), `P = LCS/|hyp|`, `R = LCS/|ref|`; with several
//!   references the best P and the best R are taken independently; `β = 1.2`,
//!   `score = (1+β²)·P·R / (R + β²·P)`, 0 when P or R is 0. The corpus score is the mean.
//! * [`rouge_score_l`] — Google rouge-score 0.1.2 `RougeScorer(['rougeL'])`: its own tokenizer (lower-case,
//!   `[^a-z0-9]+` → space, optional NLTK Porter stemming of tokens longer than 3 characters), `β = 1`
//!   (`F = 2PR/(P+R)`), 0 when either side has no token.

use super::porter::PorterStemmer;

/// Length of the longest common subsequence (O(|a|·|b|) time, O(|b|) memory).
pub fn lcs_len<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { cur[j].max(prev[j + 1]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// pycocoevalcap's β.
pub const COCO_BETA: f64 = 1.2;

/// pycocoevalcap ROUGE-L of one PTB-tokenized hypothesis against its PTB-tokenized references.
pub fn coco_rouge_l(hyp: &str, refs: &[&str]) -> f64 {
    let h: Vec<&str> = hyp.split(' ').collect();
    let (mut p_max, mut r_max) = (0.0f64, 0.0f64);
    for r in refs {
        let r: Vec<&str> = r.split(' ').collect();
        let l = lcs_len(&r, &h) as f64;
        p_max = p_max.max(l / h.len() as f64);
        r_max = r_max.max(l / r.len() as f64);
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
    let l = lcs_len(reference, hyp) as f64;
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

    #[test]
    fn lcs() {
        assert_eq!(lcs_len(&[1, 2, 3, 4], &[2, 4, 3]), 2);
        assert_eq!(lcs_len::<u8>(&[], &[1]), 0);
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
