//! Sentence splitting for radiology text.
//!
//! A sentence ends at `.`, `!` or `?` followed by white space (or the end), or by a capital letter glued on
//! ("effusion.No"), except:
//! * after an abbreviation from `data/rules/abbreviations.txt` ("Dr.", "e.g.", "vs.");
//! * after a list number that opens a sentence ("1. Left pleural effusion"): the number is a list marker;
//! * inside a decimal ("1.5 cm") — the dot is not followed by white space.
//!
//! A blank line always ends a sentence, and so does a line break before a list item ("2." or "-").
//! Semicolons do not end sentences (they end trigger scopes instead, see `data/rules/triggers.txt`).

use crate::text::Span;
use std::collections::HashSet;

/// Splits text into sentences.
#[derive(Debug, Clone)]
pub struct SentenceSplitter {
    abbreviations: HashSet<String>,
}

impl Default for SentenceSplitter {
    fn default() -> Self {
        let abbreviations = include_str!("../data/rules/abbreviations.txt")
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty())
            .collect();
        SentenceSplitter { abbreviations }
    }
}

impl SentenceSplitter {
    /// The sentences of `text[within]`, as spans of `text`, trimmed of white space; empty ones are dropped.
    pub fn split(&self, text: &str, within: Span) -> Vec<Span> {
        let mut out = Vec::new();
        let seg = within.of(text);
        let base = within.start;
        let bytes = seg.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let boundary_after = match b {
                b'.' | b'!' | b'?' => self.ends_sentence(seg, start, i),
                b'\n' => {
                    let rest = &seg[i + 1..];
                    let blank_line = rest.trim_start_matches([' ', '\t', '\r']).starts_with('\n');
                    (blank_line || starts_list_item(rest)).then_some(i + 1)
                }
                _ => None,
            };
            if let Some(end) = boundary_after {
                push_trimmed(&mut out, seg, start, end, base);
                start = end;
                i = end;
            } else {
                i += 1;
            }
        }
        push_trimmed(&mut out, seg, start, bytes.len(), base);
        out
    }

    /// If the punctuation at `i` ends the sentence begun at `start`, where the sentence ends (exclusive).
    fn ends_sentence(&self, seg: &str, start: usize, i: usize) -> Option<usize> {
        let bytes = seg.as_bytes();
        // Swallow repeated terminators and closing brackets/quotes: "effusion.)" "really?!"
        let mut end = i + 1;
        while end < bytes.len() && matches!(bytes[end], b'.' | b'!' | b'?' | b')' | b']' | b'"' | b'\'') {
            end += 1;
        }
        let next = bytes.get(end).copied();
        let glued_capital = next.is_some_and(|c| c.is_ascii_uppercase())
            && i >= 2
            && bytes[i - 1].is_ascii_lowercase()
            && bytes[i - 2].is_ascii_lowercase();
        if !(next.is_none() || next.is_some_and(|c| c.is_ascii_whitespace()) || glued_capital) {
            return None;
        }
        if bytes[i] == b'.' {
            // The word before the dot (letters, digits and inner dots: "e.g").
            let word_start = seg[..i].rfind(|c: char| !(c.is_alphanumeric() || c == '.')).map_or(0, |p| p + 1);
            let word = &seg[word_start..i];
            if self.abbreviations.contains(&word.to_ascii_lowercase()) {
                return None;
            }
            let is_list_number = !word.is_empty()
                && word.len() <= 2
                && word.bytes().all(|c| c.is_ascii_digit())
                && seg[start..word_start].trim().is_empty();
            if is_list_number {
                return None;
            }
        }
        Some(end)
    }
}

fn starts_list_item(rest: &str) -> bool {
    let r = rest.trim_start_matches([' ', '\t', '\r']);
    let digits = r.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=2).contains(&digits) {
        return matches!(r.as_bytes().get(digits), Some(b'.' | b')'));
    }
    r.starts_with("- ") || r.starts_with("* ") || r.starts_with('•')
}

fn push_trimmed(out: &mut Vec<Span>, seg: &str, a: usize, b: usize, base: usize) {
    let s = &seg[a..b];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        out.push(Span::new(base + a + lead, base + b - trail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(t: &str) -> Vec<&str> {
        SentenceSplitter::default().split(t, Span::new(0, t.len())).iter().map(|s| s.of(t)).collect()
    }

    #[test]
    fn periods_decimals_and_abbreviations() {
        assert_eq!(split("A 1.5 cm nodule. No effusion."), ["A 1.5 cm nodule.", "No effusion."]);
        assert_eq!(
            split("Discussed with Dr. XXXX at 3 p.m. today. Fine"),
            ["Discussed with Dr. XXXX at 3 p.m. today.", "Fine"]
        );
        assert_eq!(split("Atelectasis vs. pneumonia."), ["Atelectasis vs. pneumonia."]);
    }

    #[test]
    fn numbered_lists() {
        assert_eq!(
            split("1. Stable mild cardiomegaly. 2. Hyperexpanded but clear lungs."),
            ["1. Stable mild cardiomegaly.", "2. Hyperexpanded but clear lungs."]
        );
        assert_eq!(split("1. Effusion\n2. Edema"), ["1. Effusion", "2. Edema"]);
        assert_eq!(split("Seen at T6. Normal."), ["Seen at T6.", "Normal."]);
    }

    #[test]
    fn blank_lines_glued_capitals_and_odd_ends() {
        assert_eq!(split("no effusion\n\nmild edema"), ["no effusion", "mild edema"]);
        assert_eq!(split("line one\nwraps here."), ["line one\nwraps here."]);
        assert_eq!(split("No effusion.No pneumothorax"), ["No effusion.", "No pneumothorax"]);
        assert_eq!(split("Really?! (yes.) ok"), ["Really?!", "(yes.)", "ok"]);
        assert_eq!(split("   "), Vec::<&str>::new());
        assert_eq!(split("..."), ["..."]);
    }

    #[test]
    fn spans_are_relative_to_the_whole_text() {
        let t = "IMPRESSION: No effusion. Normal.";
        let s = SentenceSplitter::default().split(t, Span::new(11, t.len()));
        assert_eq!(s[0].of(t), "No effusion.");
        assert_eq!(s[1], Span::new(25, 32));
    }
}
