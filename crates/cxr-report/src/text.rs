//! Spans and word tokens.
//!
//! All offsets are byte offsets into the original report text (UTF-8), so evidence can be highlighted in the
//! report exactly as the user wrote it. Matching is case-insensitive through ASCII lower-casing, which keeps
//! byte offsets unchanged (full Unicode lower-casing can change a string's length).

use serde::Serialize;

/// A half-open byte range `[start, end)` into a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub const fn len(self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The text this span covers in `s` (empty if out of range or not on char boundaries).
    pub fn of(self, s: &str) -> &str {
        s.get(self.start..self.end).unwrap_or("")
    }

    pub const fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// What kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of letters and digits.
    Word,
    /// One punctuation character.
    Punct,
}

/// One token of a lower-cased text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The lower-cased token text.
    pub text: &'a str,
    /// Where it stands in the text that was tokenized.
    pub span: Span,
    pub kind: TokenKind,
}

/// Splits `lower` (already lower-cased) into words (runs of alphanumeric characters) and single punctuation
/// characters; white space separates and is dropped. `offset` is added to every span.
pub fn tokenize(lower: &str, offset: usize) -> Vec<Token<'_>> {
    let mut out = Vec::with_capacity(lower.len() / 5 + 1);
    tokenize_into(lower, offset, &mut out);
    out
}

/// As [`tokenize`], appending to `out` (lets callers reuse one buffer).
pub fn tokenize_into<'a>(lower: &'a str, offset: usize, out: &mut Vec<Token<'a>>) {
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            let start = i;
            let mut chars = lower[i..].char_indices();
            let mut end = lower.len();
            for (k, c) in &mut chars {
                if !c.is_alphanumeric() {
                    end = i + k;
                    break;
                }
            }
            if end == start {
                // A non-alphanumeric non-ASCII character (e.g. a typographic dash): one punctuation token.
                let c = lower[i..].chars().next().map_or(1, char::len_utf8);
                push(out, lower, start, start + c, offset, TokenKind::Punct);
                i += c;
            } else {
                push(out, lower, start, end, offset, TokenKind::Word);
                i = end;
            }
        } else if b.is_ascii_whitespace() {
            i += 1;
        } else {
            push(out, lower, i, i + 1, offset, TokenKind::Punct);
            i += 1;
        }
    }
}

fn push<'a>(out: &mut Vec<Token<'a>>, s: &'a str, a: usize, b: usize, offset: usize, kind: TokenKind) {
    out.push(Token { text: &s[a..b], span: Span::new(a + offset, b + offset), kind });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        tokenize(s, 0).iter().map(|t| t.text).collect()
    }

    #[test]
    fn words_and_punctuation() {
        assert_eq!(
            words("no air-space disease, 1.5 cm."),
            ["no", "air", "-", "space", "disease", ",", "1", ".", "5", "cm", "."]
        );
        assert_eq!(words("  \n "), Vec::<&str>::new());
        assert_eq!(words("can't"), ["can", "'", "t"]);
    }

    #[test]
    fn spans_point_into_the_text_with_offset() {
        let t = tokenize("the heart", 10);
        assert_eq!(t[1].span, Span::new(14, 19));
        assert_eq!(t[1].kind, TokenKind::Word);
    }

    #[test]
    fn non_ascii_is_kept_whole() {
        let t = tokenize("ödem – x", 0);
        assert_eq!(t[0].text, "ödem");
        assert_eq!(t[1].text, "–");
        assert_eq!(t[1].kind, TokenKind::Punct);
        assert_eq!(t[2].text, "x");
    }
}
