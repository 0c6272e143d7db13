//! Word-sequence phrase matching, the engine under lexicons and context triggers.
//!
//! A phrase is a sequence of words. A word ending in `*` matches any word it begins; any other word matches
//! itself or its plural in `s`/`es`. Matching is on lower-cased tokens (see [`crate::text`]), so punctuation
//! is part of a phrase only when written into it (`air-space disease`).

use crate::text::{tokenize, Token};
use cxr_core::hash::FxHashMap as FxMap;

/// Prefix patterns are indexed by their first bytes, so a token is compared only with the few prefixes that
/// could match it.
const PREFIX_KEY: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
struct PatternWord {
    text: String,
    prefix: bool,
}

impl PatternWord {
    fn matches(&self, tok: &str) -> bool {
        if self.prefix {
            tok.starts_with(self.text.as_str())
        } else {
            match tok.strip_prefix(self.text.as_str()) {
                Some(rest) => rest.is_empty() || rest == "s" || rest == "es",
                None => false,
            }
        }
    }
}

/// A phrase that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhraseError {
    #[error("empty phrase")]
    Empty,
    #[error("phrase {0:?}: '*' may only end a word")]
    MisplacedStar(String),
}

/// Compiles phrases and finds every occurrence of every phrase in a token sequence.
#[derive(Debug, Clone, Default)]
pub struct PhraseMatcher {
    patterns: Vec<Vec<PatternWord>>,
    by_first_word: FxMap<String, Vec<usize>>,
    /// Prefix-first patterns by the first [`PREFIX_KEY`] bytes of the prefix.
    by_prefix_key: FxMap<[u8; PREFIX_KEY], Vec<usize>>,
    /// Prefix-first patterns whose prefix is shorter than [`PREFIX_KEY`] bytes: checked against every token.
    short_prefixes: Vec<usize>,
}

/// One occurrence: pattern `id` covers tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhraseMatch {
    pub id: usize,
    pub start: usize,
    pub end: usize,
}

impl PhraseMatcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a phrase; returns its id (ids count up from 0 in the order phrases are added).
    pub fn add(&mut self, phrase: &str) -> Result<usize, PhraseError> {
        let lower = phrase.to_ascii_lowercase();
        let mut words = Vec::new();
        let toks = tokenize(&lower, 0);
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i];
            if t.text == "*" {
                return Err(PhraseError::MisplacedStar(phrase.to_string()));
            }
            let prefix = toks.get(i + 1).is_some_and(|n| n.text == "*" && n.span.start == t.span.end);
            if prefix && toks.get(i + 2).is_some_and(|n| n.span.start == t.span.end + 1) {
                return Err(PhraseError::MisplacedStar(phrase.to_string()));
            }
            words.push(PatternWord { text: t.text.to_string(), prefix });
            i += if prefix { 2 } else { 1 };
        }
        let Some(first) = words.first() else {
            return Err(PhraseError::Empty);
        };
        let id = self.patterns.len();
        if first.prefix {
            match first.text.as_bytes().get(..PREFIX_KEY) {
                Some(k) => self.by_prefix_key.entry(k.try_into().expect("sliced to PREFIX_KEY")).or_default().push(id),
                None => self.short_prefixes.push(id),
            }
        } else {
            for suffix in ["", "s", "es"] {
                self.by_first_word.entry(format!("{}{suffix}", first.text)).or_default().push(id);
            }
        }
        self.patterns.push(words);
        Ok(id)
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Every match of every pattern, in order of start token (the order among matches at one start is
    /// unspecified).
    pub fn find_all(&self, tokens: &[Token<'_>], out: &mut Vec<PhraseMatch>) {
        for start in 0..tokens.len() {
            let first = tokens[start].text;
            let exact = self.by_first_word.get(first).map(Vec::as_slice).unwrap_or(&[]);
            let prefixed = match first.as_bytes().get(..PREFIX_KEY) {
                Some(k) => self.by_prefix_key.get(k).map(Vec::as_slice).unwrap_or(&[]),
                None => &[],
            };
            for &id in exact.iter().chain(prefixed).chain(&self.short_prefixes) {
                let pat = &self.patterns[id];
                if start + pat.len() <= tokens.len() && pat.iter().zip(&tokens[start..]).all(|(w, t)| w.matches(t.text))
                {
                    out.push(PhraseMatch { id, start, end: start + pat.len() });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(phrases: &[&str], text: &str) -> Vec<(usize, usize, usize)> {
        let mut m = PhraseMatcher::new();
        for p in phrases {
            m.add(p).unwrap();
        }
        let toks = tokenize(text, 0);
        let mut out = Vec::new();
        m.find_all(&toks, &mut out);
        let mut v: Vec<_> = out.iter().map(|x| (x.id, x.start, x.end)).collect();
        v.sort_by_key(|&(id, s, _)| (s, id));
        v
    }

    #[test]
    fn whole_words_plurals_and_prefixes() {
        assert_eq!(find(&["effusion"], "small effusions"), [(0, 1, 2)]);
        assert_eq!(find(&["tube"], "tuberculosis"), []);
        assert_eq!(find(&["atelecta*"], "atelectatic change"), [(0, 0, 1)]);
        assert_eq!(find(&["pleural effusion"], "left pleural effusion"), [(0, 1, 3)]);
        assert_eq!(find(&["air-space disease"], "air-space disease"), [(0, 0, 4)]);
        assert_eq!(find(&["mass"], "massive"), []);
    }

    #[test]
    fn short_and_long_prefixes_and_non_ascii() {
        assert_eq!(find(&["ab*", "abc*", "abcd*"], "abcde ab a"), [(0, 0, 1), (1, 0, 1), (2, 0, 1), (0, 1, 2)]);
        assert_eq!(find(&["öd*"], "ödem"), [(0, 0, 1)]);
    }

    #[test]
    fn overlapping_matches_are_all_reported() {
        assert_eq!(find(&["no", "no new"], "no new effusion"), [(0, 0, 1), (1, 0, 2)]);
    }

    #[test]
    fn bad_phrases_are_rejected() {
        let mut m = PhraseMatcher::new();
        assert_eq!(m.add("  "), Err(PhraseError::Empty));
        assert!(matches!(m.add("* foo"), Err(PhraseError::MisplacedStar(_))));
        assert!(matches!(m.add("fo*o"), Err(PhraseError::MisplacedStar(_))));
        assert!(m.is_empty());
    }
}
