//! The labeler's rule data: lexicons, context triggers and abnormality qualifiers.
//!
//! All of it lives in data files under `data/` (embedded with `include_str!`), documented in
//! `data/lexicons/README.md` and at the top of `data/rules/triggers.txt`. [`RuleSet::default`] is the
//! embedded set; [`RuleSet::parse_lexicon`] and friends let a user build a variant from their own files.

use cxr_core::Finding;
use serde::Serialize;
use std::sync::Arc;

/// Who a lexicon entry speaks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// One of the 14 observations.
    Finding(Finding),
    /// An abnormality outside the 14 (emphysema, granuloma …): blocks No Finding, labels nothing.
    OtherAbnormality,
}

/// One line of a lexicon file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconEntry {
    pub target: Target,
    pub phrase: Arc<str>,
    /// `- phrase`: suppresses overlapping mentions of the same target.
    pub exclusion: bool,
    /// `[structure]`: names an anatomical structure; positive only with an abnormality qualifier.
    pub structure: bool,
    /// `[hedged]`: an unnegated mention is uncertain.
    pub hedged: bool,
    /// `[cardiomegaly-uncertain]`: a positive/uncertain mention also makes Cardiomegaly uncertain.
    pub cardiomegaly_uncertain: bool,
}

/// What a context trigger does to the mentions in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerCategory {
    /// Uncertain, and wins over negation ("no new", "cannot exclude").
    PreNegationUncertainty,
    Negation,
    Uncertainty,
    /// Uncertain for structure mentions without a qualifier ("stable cardiac silhouette").
    StructureUncertainty,
    /// Hides the shorter triggers it overlaps ("no change").
    Pseudo,
    /// Ends scopes.
    Terminate,
}

/// Which way a trigger's scope reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
    Both,
}

/// One line of the trigger file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRule {
    pub category: TriggerCategory,
    pub direction: Direction,
    /// Most tokens allowed between trigger and mention; `None` = to the end of the sentence.
    pub scope: Option<usize>,
    pub phrase: String,
    /// For terminators: whether it stops negation scopes only (`neg`) or every scope (`all`).
    pub stops_only_negation: bool,
}

/// A malformed rule line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {problem}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// Lexicons, triggers and qualifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub lexicon: Vec<LexiconEntry>,
    pub triggers: Vec<TriggerRule>,
    pub qualifiers: Vec<String>,
}

macro_rules! lexicon_files {
    ($($key:literal),* $(,)?) => { [$(($key, include_str!(concat!("../data/lexicons/", $key, ".txt")))),*] };
}

/// The embedded lexicon files, `(file stem, contents)`.
pub const LEXICON_FILES: [(&str, &str); 15] = lexicon_files!(
    "no_finding",
    "enlarged_cardiomediastinum",
    "cardiomegaly",
    "lung_lesion",
    "lung_opacity",
    "edema",
    "consolidation",
    "pneumonia",
    "atelectasis",
    "pneumothorax",
    "pleural_effusion",
    "pleural_other",
    "fracture",
    "support_devices",
    "other_abnormal",
);

/// The embedded trigger file.
pub const TRIGGERS_FILE: &str = include_str!("../data/rules/triggers.txt");
/// The embedded qualifier file.
pub const QUALIFIERS_FILE: &str = include_str!("../data/rules/qualifiers.txt");

impl Default for RuleSet {
    fn default() -> Self {
        let mut lexicon = Vec::new();
        for (stem, src) in LEXICON_FILES {
            let target = if stem == "other_abnormal" {
                Target::OtherAbnormality
            } else {
                Target::Finding(stem.parse().expect("lexicon file stems are finding keys"))
            };
            lexicon.extend(RuleSet::parse_lexicon(stem, target, src).expect("embedded lexicons are valid (tested)"));
        }
        RuleSet {
            lexicon,
            triggers: RuleSet::parse_triggers("triggers.txt", TRIGGERS_FILE)
                .expect("embedded triggers are valid (tested)"),
            qualifiers: RuleSet::parse_list(QUALIFIERS_FILE),
        }
    }
}

fn content(line: &str) -> &str {
    line.split('#').next().unwrap_or("").trim()
}

impl RuleSet {
    /// Parses one lexicon file (format: `data/lexicons/README.md`).
    pub fn parse_lexicon(file: &str, target: Target, src: &str) -> Result<Vec<LexiconEntry>, RuleError> {
        let mut out = Vec::new();
        for (i, raw) in src.lines().enumerate() {
            let line = content(raw);
            if line.is_empty() {
                continue;
            }
            let err = |problem: String| RuleError { file: file.to_string(), line: i + 1, problem };
            let (exclusion, rest) = match line.strip_prefix("- ") {
                Some(r) => (true, r.trim()),
                None => (false, line),
            };
            let (phrase, tags) = match rest.split_once('[') {
                Some((p, t)) => {
                    let t = t.strip_suffix(']').ok_or_else(|| err("tag list must end with ']'".into()))?;
                    (p.trim(), t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>())
                }
                None => (rest, Vec::new()),
            };
            if phrase.is_empty() {
                return Err(err("empty phrase".into()));
            }
            let mut e = LexiconEntry {
                target,
                phrase: phrase.into(),
                exclusion,
                structure: false,
                hedged: false,
                cardiomegaly_uncertain: false,
            };
            for t in tags {
                match t {
                    "structure" => e.structure = true,
                    "hedged" => e.hedged = true,
                    "cardiomegaly-uncertain" => e.cardiomegaly_uncertain = true,
                    other => {
                        return Err(err(format!(
                            "unknown tag {other:?} (known: structure, hedged, cardiomegaly-uncertain)"
                        )))
                    }
                }
            }
            out.push(e);
        }
        Ok(out)
    }

    /// Parses the trigger file (format: the comment at the top of `data/rules/triggers.txt`).
    pub fn parse_triggers(file: &str, src: &str) -> Result<Vec<TriggerRule>, RuleError> {
        let mut out = Vec::new();
        for (i, raw) in src.lines().enumerate() {
            // '#' may not start a comment here since ';' and ':' are phrases, but '#' is never one.
            let line = content(raw);
            if line.is_empty() {
                continue;
            }
            let err = |problem: String| RuleError { file: file.to_string(), line: i + 1, problem };
            let mut cols = line.split_whitespace();
            let (Some(cat), Some(dir), Some(scope)) = (cols.next(), cols.next(), cols.next()) else {
                return Err(err("expected CATEGORY DIRECTION SCOPE PHRASE".into()));
            };
            let phrase = cols.collect::<Vec<_>>().join(" ");
            if phrase.is_empty() {
                return Err(err("missing phrase".into()));
            }
            let category = match cat {
                "preneg" => TriggerCategory::PreNegationUncertainty,
                "neg" => TriggerCategory::Negation,
                "unc" => TriggerCategory::Uncertainty,
                "unc-struct" => TriggerCategory::StructureUncertainty,
                "pseudo" => TriggerCategory::Pseudo,
                "term" => TriggerCategory::Terminate,
                c => return Err(err(format!("unknown category {c:?} (preneg, neg, unc, unc-struct, pseudo, term)"))),
            };
            let mut stops_only_negation = false;
            let direction = match (category, dir) {
                (TriggerCategory::Terminate, "all") => Direction::Both,
                (TriggerCategory::Terminate, "neg") => {
                    stops_only_negation = true;
                    Direction::Both
                }
                (TriggerCategory::Terminate, d) => {
                    return Err(err(format!("terminator column must be all or neg, not {d:?}")))
                }
                (TriggerCategory::Pseudo, _) => Direction::Both,
                (_, "fwd") => Direction::Forward,
                (_, "bwd") => Direction::Backward,
                (_, "both") => Direction::Both,
                (_, d) => return Err(err(format!("unknown direction {d:?} (fwd, bwd, both)"))),
            };
            let scope = match scope {
                "*" | "-" => None,
                n => Some(n.parse().map_err(|_| err(format!("scope {n:?} is not a number or *")))?),
            };
            out.push(TriggerRule { category, direction, scope, phrase, stops_only_negation });
        }
        Ok(out)
    }

    /// A plain list: one phrase per line, `#` comments.
    pub fn parse_list(src: &str) -> Vec<String> {
        src.lines().map(content).filter(|l| !l.is_empty()).map(str::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_parse() {
        let r = RuleSet::default();
        assert!(r.lexicon.len() > 200);
        assert!(r.triggers.len() > 150);
        assert!(r.qualifiers.contains(&"enlarg*".to_string()));
        // Every finding except No Finding has mentions.
        for f in Finding::ALL.into_iter().filter(|f| *f != Finding::NoFinding) {
            assert!(r.lexicon.iter().any(|e| e.target == Target::Finding(f) && !e.exclusion), "{f}");
        }
        let chf = r.lexicon.iter().find(|e| &*e.phrase == "chf").unwrap();
        assert!(chf.cardiomegaly_uncertain && chf.target == Target::Finding(Finding::Edema));
        assert!(r.triggers.iter().any(|t| t.phrase == ";" && t.category == TriggerCategory::Terminate));
    }

    #[test]
    fn lexicon_errors_name_the_line() {
        let e = RuleSet::parse_lexicon("x.txt", Target::OtherAbnormality, "ok\nfoo [bogus]\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("x.txt", 2));
        assert!(e.problem.contains("bogus"));
        assert!(RuleSet::parse_lexicon("x", Target::OtherAbnormality, "foo [structure").is_err());
        assert!(RuleSet::parse_lexicon("x", Target::OtherAbnormality, "- [structure]").is_err());
    }

    #[test]
    fn trigger_errors_name_the_problem() {
        for (src, needle) in [
            ("neg fwd", "expected"),
            ("neg fwd *", "missing phrase"),
            ("negx fwd * no", "unknown category"),
            ("neg up * no", "unknown direction"),
            ("neg fwd many no", "not a number"),
            ("term fwd - but", "all or neg"),
        ] {
            let e = RuleSet::parse_triggers("t", src).unwrap_err();
            assert!(e.problem.contains(needle), "{src}: {e}");
        }
    }
}
