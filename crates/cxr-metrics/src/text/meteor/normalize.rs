//! The jar's `-norm` tokenizer for English (`edu.cmu.meteor.util.Normalizer`, "based on the Moses tokenizer
//! Rev 3612"), punctuation kept. Every regular expression of the original has the shape `([A])x([B])` or
//! is a literal replacement, so each is a left-to-right scan with the same non-overlapping semantics
//! (`"a,b,c"` becomes `"a , b,c"` there too).

use cxr_core::hash::FxHashMap;

/// How a nonbreaking prefix may be followed (Moses `nonbreaking_prefix.en`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonbreaking {
    /// `Mr.` and friends: never split.
    Any,
    /// `No.`, `pp.`: kept only before a number.
    NumericOnly,
}

/// Parses a Moses nonbreaking-prefix list.
pub fn parse_nonbreaking(text: &str) -> FxHashMap<String, Nonbreaking> {
    let mut out = FxHashMap::default();
    for line in text.lines() {
        let mut tok = line.split_whitespace();
        let Some(pre) = tok.next() else { continue };
        if pre.starts_with('#') {
            continue;
        }
        let kind = if tok.next() == Some("#NUMERIC_ONLY#") { Nonbreaking::NumericOnly } else { Nonbreaking::Any };
        out.insert(pre.to_string(), kind);
    }
    out
}

/// Stands for one dot of a multi-dot run while the rest is tokenized (the original writes `DOTMULTI`,
/// upper-case letters, so it counts as a letter).
const DOT: char = '\u{E000}';

fn is_alpha(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c, 'Š' | 'Ž' | 'š' | 'ž' | 'Ÿ' | DOT)
        || ('À'..='Ö').contains(&c)
        || ('Ø'..='ö').contains(&c)
        || ('ø'..='ž').contains(&c)
        || ('\u{400}'..='\u{4FF}').contains(&c)
        || ('\u{500}'..='\u{527}').contains(&c)
        || ('\u{A640}'..='\u{A66E}').contains(&c)
        || ('\u{A67E}'..='\u{A697}').contains(&c)
        || ('\u{1D00}'..='\u{1D7F}').contains(&c)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_alnum(c: char) -> bool {
    is_digit(c) || is_alpha(c)
}

/// Java's `\s`.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{B}' | '\u{C}' | '\r')
}

/// The white-space the normaliser folds into one space (ASCII space and the Unicode spaces it lists).
fn is_wide_space(c: char) -> bool {
    matches!(c, ' ' | '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

/// `([A])mid([B])` → `$1 repl $2`, left to right, non-overlapping.
fn replace_between(
    s: Vec<char>,
    a: impl Fn(char) -> bool,
    mid: char,
    b: impl Fn(char) -> bool,
    repl: &str,
) -> Vec<char> {
    // Most texts lack the middle character: nothing to copy then.
    if !s.contains(&mid) {
        return s;
    }
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        if i + 2 < s.len() && a(s[i]) && s[i + 1] == mid && b(s[i + 2]) {
            out.push(s[i]);
            out.extend(repl.chars());
            out.push(s[i + 2]);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Literal replacement, left to right, non-overlapping.
fn replace_literal(s: Vec<char>, from: &[char], to: &[char]) -> Vec<char> {
    if !s.contains(&from[0]) {
        return s;
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Normalises one line of English (case is kept; the scorer lower-cases afterwards).
pub fn normalize(line: &str, nonbreaking: &FxHashMap<String, Nonbreaking>) -> String {
    // Letters, digits and spaces only (as PTB-tokenized text usually is): no rule below applies but the
    // white-space folding.
    if line.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') {
        let mut out = String::with_capacity(line.len());
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        return out;
    }
    // Separate every character that is not alphanumeric, white-space or one of . ' ` , - ‘ ’.
    let mut s: Vec<char> = Vec::with_capacity(line.len() + 16);
    s.push(' ');
    for c in line.chars() {
        if !is_alnum(c) && !is_java_space(c) && !matches!(c, '.' | '\'' | '`' | ',' | '-' | '‘' | '’') {
            s.extend([' ', c, ' ']);
        } else {
            s.push(c);
        }
    }
    s.push(' ');

    // Runs of two or more dots become one token, protected from the dot rules below.
    let mut t = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let run = s[i..].iter().take_while(|&&c| c == '.').count();
        if run >= 2 {
            t.push(' ');
            t.extend(std::iter::repeat_n(DOT, run));
            t.push(' ');
            i += run;
        } else {
            t.push(s[i]);
            i += 1;
        }
    }
    let mut s = t;

    // Commas, except between digits.
    let digit = is_digit;
    let non_digit = |c: char| !is_digit(c);
    s = replace_between(s, non_digit, ',', non_digit, " , ");
    s = replace_between(s, digit, ',', non_digit, " , ");
    s = replace_between(s, non_digit, ',', digit, " , ");

    // Quotes and dashes.
    for c in &mut s {
        if matches!(*c, '`' | '‘' | '’') {
            *c = '\'';
        }
    }
    if s.iter().any(|&c| matches!(c, '“' | '”' | '\'')) {
        let mut q = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            if matches!(s[i], '“' | '”') {
                q.extend([' ', '"', ' ']);
                i += 1;
            } else if s[i] == '\'' && s.get(i + 1) == Some(&'\'') {
                q.extend([' ', '"', ' ']);
                i += 2;
            } else {
                q.push(s[i]);
                i += 1;
            }
        }
        s = q;
    }
    s = replace_literal(s, &['–'], &['-']);
    s = replace_literal(s, &['-', '-'], &['-']);
    s = replace_between(s, |c| is_alnum(c) || c == '.', '-', is_alnum, " ");

    // English contractions split to the right ("it 's", "1990 's").
    let not_alpha = |c: char| !is_alpha(c);
    s = replace_between(s, not_alpha, '\'', not_alpha, " ' ");
    s = replace_between(s, |c| !is_alpha(c) && !is_digit(c), '\'', is_alpha, " ' ");
    s = replace_between(s, is_alpha, '\'', not_alpha, " ' ");
    s = replace_between(s, is_alpha, '\'', is_alpha, " '");
    s = replace_between(s, is_digit, '\'', |c| c == 's', " '");

    // Split final dots unless the word is a nonbreaking prefix (or followed by a lower-case word).
    let text: String = s.into_iter().collect();
    let words: Vec<&str> = text.split([' ', '\t', '\n', '\r', '\u{C}']).filter(|w| !w.is_empty()).collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1);
        if w.chars().count() > 1 && w.ends_with('.') {
            let pre = &w[..w.len() - 1];
            let kind = nonbreaking.get(pre).copied();
            if pre.contains('.') && pre.chars().any(is_alpha) {
                out.extend(w.chars().filter(|&c| c != '.'));
            } else if kind == Some(Nonbreaking::Any)
                || next.is_some_and(|n| n.starts_with(|c: char| c.is_ascii_lowercase()))
                || (kind == Some(Nonbreaking::NumericOnly)
                    && next.is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())))
            {
                // Nonbreaking: always, before a lower-case word, or (numeric-only prefixes) before a number.
                out.push_str(w);
            } else {
                out.push_str(pre);
                out.push_str(" .");
            }
        } else {
            out.push_str(w);
        }
        out.push(' ');
    }

    // Restore dots and fold white-space.
    let mut folded = String::with_capacity(out.len());
    let mut last_space = false;
    for c in out.chars() {
        let c = if c == DOT { '.' } else { c };
        if is_wide_space(c) {
            if !last_space {
                folded.push(' ');
            }
            last_space = true;
        } else {
            folded.push(c);
            last_space = false;
        }
    }
    folded.trim_matches(|c: char| c <= ' ').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let nbp = parse_nonbreaking("Mr\nNo #NUMERIC_ONLY#\n# comment\n");
        normalize(s, &nbp)
    }

    #[test]
    fn moses_style_tokens() {
        assert_eq!(norm("The heart is normal."), "The heart is normal .");
        assert_eq!(norm("Mr. Smith's x-ray, left-sided (mild)"), "Mr. Smith 's x ray , left sided ( mild )");
        assert_eq!(norm("a,b,c 1,000"), "a , b,c 1,000");
        assert_eq!(norm("No. 5 and No. more"), "No. 5 and No. more");
        assert_eq!(norm("See No. X"), "See No . X");
        assert_eq!(norm("wait... what"), "wait ... what");
        assert_eq!(norm("U.S. based"), "US based");
        assert_eq!(norm("“quoted” -- dash"), "\" quoted \" - dash");
        assert_eq!(norm("-lrb- 3 cm -rrb-"), "-lrb- 3 cm -rrb-");
        assert_eq!(norm("  no  acute 2 Findings "), "no acute 2 Findings", "letters, digits and spaces only");
    }
}
