//! Report sections: FINDINGS, IMPRESSION, INDICATION, …
//!
//! Headings are data (`data/rules/sections.txt`): canonical names with their common spellings. A heading is
//! a known spelling followed by `:` at the start of a line or of a sentence (any case) (IU X-Ray and MIMIC flatten
//! reports onto one line: "… INDICATION: cough. FINDINGS: …"), or a known spelling in capitals alone on its
//! line. Other capitalised `WORDS:` at a line start open a section of kind [`SectionKind::Other`], so their
//! text is not mistaken for the findings. Text before the first heading is the [`SectionKind::Preamble`].

use crate::text::Span;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// The kind of a report section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Preamble,
    Findings,
    Impression,
    Indication,
    History,
    Comparison,
    Technique,
    Recommendation,
    Other,
}

impl SectionKind {
    pub const ALL: [SectionKind; 9] = [
        SectionKind::Preamble,
        SectionKind::Findings,
        SectionKind::Impression,
        SectionKind::Indication,
        SectionKind::History,
        SectionKind::Comparison,
        SectionKind::Technique,
        SectionKind::Recommendation,
        SectionKind::Other,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            SectionKind::Preamble => "preamble",
            SectionKind::Findings => "findings",
            SectionKind::Impression => "impression",
            SectionKind::Indication => "indication",
            SectionKind::History => "history",
            SectionKind::Comparison => "comparison",
            SectionKind::Technique => "technique",
            SectionKind::Recommendation => "recommendation",
            SectionKind::Other => "other",
        }
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a section kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown section {0:?}: expected one of preamble, findings, impression, indication, history, comparison, technique, recommendation, other")]
pub struct ParseSectionError(pub String);

impl FromStr for SectionKind {
    type Err = ParseSectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        SectionKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseSectionError(s.to_string()))
    }
}

/// One section of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub kind: SectionKind,
    /// The heading as written (without the colon), if any.
    pub heading: Option<Span>,
    /// The section's text, after the heading.
    pub body: Span,
}

/// Heading spellings, from `data/rules/sections.txt`.
#[derive(Debug, Clone)]
pub struct SectionHeadings {
    by_spelling: HashMap<String, SectionKind>,
    max_words: usize,
}

impl Default for SectionHeadings {
    fn default() -> Self {
        Self::parse(include_str!("../data/rules/sections.txt")).expect("embedded sections.txt is valid (tested)")
    }
}

/// A malformed line in a section-heading file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sections file line {line}: {problem}")]
pub struct SectionsFileError {
    pub line: usize,
    pub problem: String,
}

impl SectionHeadings {
    /// Parses `CANONICAL: spelling, spelling` lines.
    pub fn parse(src: &str) -> Result<Self, SectionsFileError> {
        let mut by_spelling = HashMap::new();
        let mut max_words = 1;
        for (i, raw) in src.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |problem: String| SectionsFileError { line: i + 1, problem };
            let (canon, spellings) =
                line.split_once(':').ok_or_else(|| err("expected `CANONICAL: spelling, …`".into()))?;
            let kind: SectionKind = canon.parse().map_err(|e: ParseSectionError| err(e.to_string()))?;
            for sp in spellings.split(',') {
                let sp = normalize_heading(sp);
                if sp.is_empty() {
                    return Err(err("empty spelling".into()));
                }
                max_words = max_words.max(sp.split(' ').count());
                by_spelling.insert(sp, kind);
            }
        }
        Ok(SectionHeadings { by_spelling, max_words })
    }

    fn lookup(&self, words: &str) -> Option<SectionKind> {
        self.by_spelling.get(&normalize_heading(words)).copied()
    }

    /// Splits a report into sections. Every byte of `text` outside headings belongs to exactly one body.
    pub fn split(&self, text: &str) -> Vec<Section> {
        let mut heads: Vec<(SectionKind, Span, usize)> = Vec::new(); // kind, heading span, body start
        let bytes = text.as_bytes();
        // 1. `Heading:` — find colons, look back over up to max_words words.
        for (colon, _) in text.match_indices(':') {
            if let Some((kind, start)) = self.heading_before(text, colon) {
                heads.push((kind, Span::new(start, colon), colon + 1));
            }
        }
        // 2. A capitalised known heading alone on its line.
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            if !trimmed.is_empty()
                && !trimmed.ends_with(':')
                && trimmed.chars().any(|c| c.is_ascii_uppercase())
                && !trimmed.chars().any(|c| c.is_ascii_lowercase())
            {
                if let Some(kind) = self.lookup(trimmed) {
                    let s = line_start + (line.len() - line.trim_start().len());
                    heads.push((kind, Span::new(s, s + trimmed.len()), line_start + line.len()));
                }
            }
            line_start += line.len();
        }
        heads.sort_by_key(|h| h.1.start);
        heads.dedup_by_key(|h| h.1.start);

        let mut out = Vec::with_capacity(heads.len() + 1);
        let first = heads.first().map_or(text.len(), |h| h.1.start);
        if bytes[..first].iter().any(|b| !b.is_ascii_whitespace()) || heads.is_empty() {
            out.push(Section { kind: SectionKind::Preamble, heading: None, body: Span::new(0, first) });
        }
        for (i, (kind, head, body_start)) in heads.iter().enumerate() {
            let end = heads.get(i + 1).map_or(text.len(), |h| h.1.start);
            out.push(Section { kind: *kind, heading: Some(*head), body: Span::new((*body_start).min(end), end) });
        }
        out
    }

    /// If the text before `colon` ends with a heading that starts a line or a sentence, its kind and start.
    fn heading_before(&self, text: &str, colon: usize) -> Option<(SectionKind, usize)> {
        let before = &text[..colon];
        // Word starts, right to left, over at most max_words words of letters (and '/', '&').
        let mut starts = Vec::new();
        let mut end = before.trim_end_matches([' ', '\t']).len();
        if end != before.len() {
            return None; // "word :" is not a heading
        }
        for _ in 0..self.max_words.max(4) {
            let seg = &before[..end];
            let word_len = seg
                .chars()
                .rev()
                .take_while(|c| c.is_alphabetic() || *c == '/' || *c == '&')
                .map(char::len_utf8)
                .sum::<usize>();
            if word_len == 0 {
                break;
            }
            let ws = end - word_len;
            starts.push(ws);
            let gap = before[..ws].len() - before[..ws].trim_end_matches([' ', '\t']).len();
            if gap == 0 {
                break;
            }
            end = ws - gap;
        }
        // Longest heading first.
        for &s in starts.iter().rev() {
            let words = &text[s..colon];
            let prev = text[..s].trim_end_matches([' ', '\t']);
            let at_line_start = prev.is_empty() || prev.ends_with('\n') || prev.ends_with('\r');
            let after_sentence = prev.ends_with(['.', '!', '?', ';']);
            let capitalised = !words.chars().any(|c| c.is_lowercase());
            match self.lookup(words) {
                Some(kind) if at_line_start || after_sentence => return Some((kind, s)),
                None if at_line_start
                    && capitalised
                    && words.chars().any(|c| c.is_uppercase())
                    && s == starts[starts.len() - 1] =>
                {
                    return Some((SectionKind::Other, s))
                }
                _ => {}
            }
        }
        None
    }
}

fn normalize_heading(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(SectionKind, String)> {
        SectionHeadings::default().split(text).iter().map(|s| (s.kind, s.body.of(text).trim().to_string())).collect()
    }

    #[test]
    fn headings_on_their_own_lines() {
        let r = "FINAL REPORT\nINDICATION: cough\nFINDINGS:\nNo effusion.\n\nIMPRESSION: Normal.";
        assert_eq!(
            kinds(r),
            [
                (SectionKind::Preamble, "FINAL REPORT".to_string()),
                (SectionKind::Indication, "cough".into()),
                (SectionKind::Findings, "No effusion.".into()),
                (SectionKind::Impression, "Normal.".into()),
            ]
        );
    }

    #[test]
    fn flattened_report_and_spellings() {
        let r = "Clinical history: XXXX-year-old. Findings: Heart normal. CONCLUSION: No acute disease.";
        let k = kinds(r);
        assert_eq!(k[0], (SectionKind::History, "XXXX-year-old.".into()));
        assert_eq!(k[1], (SectionKind::Findings, "Heart normal.".into()));
        assert_eq!(k[2], (SectionKind::Impression, "No acute disease.".into()));
        // A known word before a colon mid-sentence is no heading.
        assert_eq!(kinds("Compared with the prior study: no change.").len(), 1);
    }

    #[test]
    fn capitalised_heading_without_colon_and_unknown_heading() {
        let r = "IMPRESSION\nSmall effusion.\nXXXX AND LATERAL CHEST: two views";
        let k = kinds(r);
        assert_eq!(k[0], (SectionKind::Impression, "Small effusion.".into()));
        assert_eq!(k[1], (SectionKind::Other, "two views".into()));
    }

    #[test]
    fn no_heading_is_all_preamble() {
        assert_eq!(
            kinds("Heart size normal: lungs clear."),
            [(SectionKind::Preamble, "Heart size normal: lungs clear.".into())]
        );
        assert_eq!(kinds(""), [(SectionKind::Preamble, String::new())]);
    }

    #[test]
    fn embedded_file_parses_and_bad_files_are_rejected() {
        let h = SectionHeadings::default();
        assert_eq!(h.lookup("Reason for  Exam"), Some(SectionKind::Indication));
        let e = SectionHeadings::parse("findings: a\nnonsense line\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(SectionHeadings::parse("bogus: x").unwrap_err().problem.contains("bogus"));
        assert!("Impression".parse::<SectionKind>().is_ok());
    }
}
