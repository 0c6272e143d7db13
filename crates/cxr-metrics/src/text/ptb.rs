//! The tokenizer pycocoevalcap applies before BLEU, METEOR, ROUGE-L and CIDEr-D.
//!
//! pycocoevalcap 1.2 (`tokenizer/ptbtokenizer.py`) runs Stanford CoreNLP 3.4.1's `PTBTokenizer -preserveLines
//! -lowerCase` over the texts and then drops the tokens `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ...
//! ;`. Because of `-lowerCase`, brackets come out as `-lrb-`/`-rrb-`/`-lsb-` and survive the (upper-case) filter.
//! This is a re-implementation of the PTB lexer rules that matter for report text, written from CoreNLP's
//! documented behaviour and checked token for token against CoreNLP's output on 2,718 distinct IU X-Ray
//! texts (`tests/golden_text_metrics.rs`):
//!
//! * tokens are split at white space; SGML-like tags (`<br>`, `<XXXX>`) are tokens of their own;
//! * leading `( [ { " ' < , ; : - /` and trailing `) ] } " ' , ; : ? ! - / > %` come off as tokens;
//! * a final `.` comes off only when it ends the chunk (or precedes closing brackets/quotes/more periods):
//!   `2.,` keeps `2.`; abbreviations (`Dr.`, `p.m.`, `e.g.`, `CT.` …) keep their period;
//! * inside a word: `cannot` → `can not`; contractions `n't 's 're 'll 've 'd 'm` split off; another
//!   apostrophe splits the word; `1.severe` → `1 . severe`; brackets split (`body(lateral` →
//!   `body -lrb- lateral`); a `/` between decimals splits (`16.2/24.7`) but fractions (`3/4`), `and/or`,
//!   hyphenated words and `bilaterally.there` stay whole;
//! * everything is lower-cased after tokenizing (case matters to the lexer, not to the output).

/// Abbreviations whose period stays attached (CoreNLP's list is longer; these are the ones reports use).
const ABBREVIATIONS: [&str; 24] = [
    "dr.", "drs.", "mr.", "mrs.", "ms.", "prof.", "st.", "ct.", "vs.", "etc.", "e.g.", "i.e.", "a.m.", "p.m.", "no.",
    "fig.", "approx.", "jan.", "feb.", "aug.", "sept.", "oct.", "nov.", "dec.",
];

/// Whether pycocoevalcap's filter removes this token (its list: `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : -
/// -- ... ;`). The filter sees CoreNLP's lower-cased output, so an entry with capitals ("-LRB-") never
/// matches and "-lrb-" survives.
fn is_dropped(t: &str) -> bool {
    // The entries of DROPPED without capitals, which have no letters either: plain equality (tested).
    matches!(t, "''" | "'" | "``" | "`" | "." | "?" | "!" | "," | ":" | "-" | "--" | "..." | ";")
}

fn bracket(c: char) -> Option<&'static str> {
    Some(match c {
        '(' => "-LRB-",
        ')' => "-RRB-",
        '[' => "-LSB-",
        ']' => "-RSB-",
        '{' => "-LCB-",
        '}' => "-RCB-",
        _ => return None,
    })
}

/// Tokenizes one text the way pycocoevalcap does and joins the tokens with single spaces.
pub fn coco_tokenize(text: &str) -> String {
    // Every token is a slice of the text or a static string, so nothing is allocated per token.
    let mut toks: Vec<&str> = Vec::with_capacity(text.len() / 4);
    for chunk in text.split_whitespace() {
        split_tags(chunk, &mut toks);
    }
    let mut out = String::with_capacity(text.len());
    for t in toks {
        if is_dropped(t) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        if t.is_ascii() {
            out.extend(t.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            out.push_str(&t.to_lowercase());
        }
    }
    out
}

/// Splits SGML-like tags (`<br>`) out of a chunk and tokenizes the rest.
fn split_tags<'a>(chunk: &'a str, out: &mut Vec<&'a str>) {
    let mut rest = chunk;
    while let Some(open) = rest.find('<') {
        let Some(close_rel) = rest[open..].find('>') else { break };
        let tag = &rest[open..open + close_rel + 1];
        if tag.len() < 3 || tag[1..tag.len() - 1].contains('<') {
            break;
        }
        if open > 0 {
            split_word(&rest[..open], out);
        }
        out.push(tag);
        rest = &rest[open + close_rel + 1..];
    }
    if !rest.is_empty() {
        split_word(rest, out);
    }
}

fn is_abbreviation(w: &str) -> bool {
    if ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(w)) {
        return true;
    }
    // Letter-dot sequences: "p.m.", "u.s.", "a."
    let b = w.as_bytes();
    b.len() >= 2 && b.chunks(2).all(|c| c.len() == 2 && c[0].is_ascii_alphabetic() && c[1] == b'.')
}

fn split_word<'a>(w: &'a str, out: &mut Vec<&'a str>) {
    let mut w = w;
    while let Some(c) = w.chars().next() {
        if !matches!(c, '(' | '[' | '{' | '"' | '\'' | '<' | ',' | ';' | ':' | '-' | '/' | '$' | '#') {
            break;
        }
        out.push(punct_token(&w[..c.len_utf8()], c, true));
        w = &w[c.len_utf8()..];
    }
    let mut post: Vec<&'a str> = Vec::new();
    while let Some(c) = w.chars().next_back() {
        if c == '.' {
            if is_abbreviation(w) {
                break;
            }
            let only_closers = post.iter().all(|p| matches!(*p, "-RRB-" | "-RSB-" | "-RCB-" | "''" | "'" | "."));
            if !only_closers {
                break;
            }
        } else if !matches!(c, ')' | ']' | '}' | '"' | '\'' | ',' | ';' | ':' | '?' | '!' | '-' | '/' | '>' | '%') {
            break;
        }
        let at = w.len() - c.len_utf8();
        post.push(punct_token(&w[at..], c, false));
        w = &w[..at];
    }
    if !w.is_empty() {
        split_inner(w, out);
    }
    out.extend(post.into_iter().rev());
}

/// The token for punctuation character `c` (written as `s` in the text).
fn punct_token(s: &str, c: char, opening: bool) -> &str {
    if let Some(b) = bracket(c) {
        return b;
    }
    match c {
        '"' if opening => "``",
        '"' => "''",
        _ => s,
    }
}

const CONTRACTIONS: [&str; 7] = ["n't", "'s", "'re", "'ll", "'ve", "'d", "'m"];

fn split_inner<'a>(w: &'a str, out: &mut Vec<&'a str>) {
    if w.eq_ignore_ascii_case("cannot") {
        out.push(&w[..3]);
        out.push(&w[3..]);
        return;
    }
    // A bracket inside a word: "body(lateral".
    if let Some(i) = w.find(['(', ')', '[', ']', '{', '}']) {
        if i > 0 {
            split_inner(&w[..i], out);
            let c = w[i..].chars().next().unwrap_or('(');
            out.push(punct_token(&w[i..i + c.len_utf8()], c, true));
            if i + 1 < w.len() {
                split_word(&w[i + 1..], out);
            }
            return;
        }
    }
    for suffix in CONTRACTIONS {
        if w.len() > suffix.len() && w.is_char_boundary(w.len() - suffix.len()) {
            let cut = w.len() - suffix.len();
            if w[cut..].eq_ignore_ascii_case(suffix) {
                split_inner(&w[..cut], out);
                out.push(&w[cut..]);
                return;
            }
        }
    }
    if let Some(i) = w.find('\'') {
        if i > 0 {
            split_inner(&w[..i], out);
        }
        out.push("'");
        if i + 1 < w.len() {
            split_inner(&w[i + 1..], out);
        }
        return;
    }
    // "1.severe": a number, a period, a word.
    let digits = w.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0
        && w.as_bytes().get(digits) == Some(&b'.')
        && w.as_bytes().get(digits + 1).is_some_and(u8::is_ascii_alphabetic)
    {
        out.push(&w[..digits]);
        out.push(".");
        split_inner(&w[digits + 1..], out);
        return;
    }
    // A slash next to a decimal number splits ("16.2/24.7"); fractions and words keep it.
    if w.contains('/') {
        let parts: Vec<&str> = w.split('/').collect();
        let decimal = |p: &str| p.contains('.') && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if parts.iter().any(|p| decimal(p)) {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push("/");
                }
                if !p.is_empty() {
                    split_inner(p, out);
                }
            }
            return;
        }
    }
    out.push(w);
}

#[cfg(test)]
mod tests {
    use super::coco_tokenize as t;

    /// Tokens pycocoevalcap removes after tokenizing (upper-case brackets: with `-lowerCase` they never match).
    const DROPPED: [&str; 17] =
        ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"];

    #[test]
    fn dropped_tokens_follow_the_filter_list() {
        // pycocoevalcap compares CoreNLP's lower-cased output with DROPPED: entries with capitals never match.
        let by_definition = |tok: &str| {
            DROPPED.iter().any(|d| !d.bytes().any(|b| b.is_ascii_uppercase()) && d.eq_ignore_ascii_case(tok))
        };
        for tok in DROPPED.iter().copied().chain(["-lrb-", "-LRB-", "a", "..", "----", "''x", "?!"]) {
            assert_eq!(super::is_dropped(tok), by_definition(tok), "{tok}");
        }
    }

    #[test]
    fn lowercases_and_drops_punctuation() {
        assert_eq!(t("No pleural effusion, or pneumothorax."), "no pleural effusion or pneumothorax");
        assert_eq!(t("Heart (lateral view) normal."), "heart -lrb- lateral view -rrb- normal");
        assert_eq!(t("effusion.. Next"), "effusion next");
    }

    #[test]
    fn corenlp_quirks() {
        assert_eq!(t("It cannot be excluded"), "it can not be excluded");
        assert_eq!(t("Patient's heart doesn't"), "patient 's heart does n't");
        assert_eq!(t("Dr. XXXX at 3 p.m. today."), "dr. xxxx at 3 p.m. today");
        assert_eq!(t("process. 2., Mild"), "process 2. mild");
        assert_eq!(t("1.Severe change"), "1 severe change");
        assert_eq!(t("ratio 16.2/24.7 and 3/4 and and/or"), "ratio 16.2 / 24.7 and 3/4 and and/or");
        assert_eq!(t("Dr. XXXX<XXXX>technologist <br> x"), "dr. xxxx <xxxx> technologist <br> x");
        assert_eq!(t("bilaterally.There is"), "bilaterally.there is");
        assert_eq!(t("body(lateral view)."), "body -lrb- lateral view -rrb-");
        assert_eq!(t("XXXX't and XXXX- done"), "xxxx t and xxxx done");
        assert_eq!(t("limits>] no"), "limits > -rsb- no");
    }

    #[test]
    fn empty_and_odd_input() {
        assert_eq!(t(""), "");
        assert_eq!(t("  ...  "), "");
        assert_eq!(t("'''"), "");
        assert_eq!(t("Ödem: groß"), "ödem groß");
    }
}
