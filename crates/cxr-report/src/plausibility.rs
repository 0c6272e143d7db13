//! Statements implausible for the patient's sex or age ("gravid uterus" in a male, an umbilical venous
//! catheter at 60). The rules are a data file (`data/rules/demographics.txt`); each flag names the rule.
//! This is a guard against reports written for the wrong patient, the error class demographic checks in
//! report error-checking target; it does not judge whether a finding is likely, only whether it can be.

use crate::check::{Flag, FlagKind, Severity};
use crate::phrase::PhraseMatcher;
use crate::sentences::SentenceSplitter;
use crate::text::{tokenize, Span};
use serde::{Deserialize, Serialize};

const RULES: &str = include_str!("../data/rules/demographics.txt");

/// Administrative sex, as DICOM (0010,0040) records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
}

impl std::str::FromStr for Sex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f" | "female" => Ok(Sex::Female),
            "m" | "male" => Ok(Sex::Male),
            _ => Err(format!("unknown sex {s:?}: expected F, female, M or male")),
        }
    }
}

/// What is known of the patient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Demographics {
    pub age_years: Option<f64>,
    pub sex: Option<Sex>,
}

#[derive(Debug, Clone)]
enum Rule {
    /// Implausible for this sex.
    NotFor(Sex),
    /// Implausible above this age.
    AgeMax(f64),
    /// Atypical below this age.
    AgeMin(f64),
}

struct Rules {
    matcher: PhraseMatcher,
    rule_of: Vec<(Rule, String)>,
    negators: Vec<String>,
}

fn rules() -> Rules {
    let mut matcher = PhraseMatcher::new();
    let (mut rule_of, mut negators) = (Vec::new(), Vec::new());
    for line in RULES.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()) {
        let (head, list) = line.split_once(':').expect("demographics lines are `RULE VALUE: phrases` (tested)");
        let items = list.split(',').map(str::trim).filter(|w| !w.is_empty());
        let mut h = head.split_whitespace();
        let rule = match (h.next(), h.next()) {
            (Some("negated-by"), _) => {
                negators.extend(items.map(str::to_string));
                continue;
            }
            (Some("sex"), Some("male")) => Rule::NotFor(Sex::Male),
            (Some("sex"), Some("female")) => Rule::NotFor(Sex::Female),
            (Some("age-max"), Some(v)) => Rule::AgeMax(v.parse().expect("age-max takes years (tested)")),
            (Some("age-min"), Some(v)) => Rule::AgeMin(v.parse().expect("age-min takes years (tested)")),
            _ => panic!("unknown demographics rule {head:?} (tested)"),
        };
        for p in items {
            matcher.add(p).expect("demographics phrases are valid (tested)");
            rule_of.push((rule.clone(), p.to_string()));
        }
    }
    Rules { matcher, rule_of, negators }
}

/// Flags the sentences of `text` that state something implausible for `demo`.
pub fn demographic_flags(text: &str, demo: &Demographics) -> Vec<Flag> {
    if demo.age_years.is_none() && demo.sex.is_none() {
        return Vec::new();
    }
    let rules = rules();
    let mut flags = Vec::new();
    let splitter = SentenceSplitter::default();
    let sections = crate::sections::SectionHeadings::default().split(text);
    let bodies: Vec<Span> = if sections.is_empty() {
        vec![Span { start: 0, end: text.len() }]
    } else {
        sections.iter().map(|s| s.body).collect()
    };
    for sentence in bodies.into_iter().flat_map(|b| splitter.split(text, b)) {
        let lower = sentence.of(text).to_lowercase();
        let toks = tokenize(&lower, sentence.start);
        let mut found = Vec::new();
        rules.matcher.find_all(&toks, &mut found);
        // One flag per sentence and rule kind ("gravid uterus" is one statement).
        let mut seen = Vec::new();
        for m in found {
            if toks[..m.start].iter().any(|t| rules.negators.iter().any(|n| n == t.text)) {
                continue;
            }
            let (rule, phrase) = &rules.rule_of[m.id];
            let why = match (rule, demo.sex, demo.age_years) {
                (Rule::NotFor(s), Some(sex), _) if *s == sex => {
                    format!("\"{phrase}\" is stated for a {} patient", if sex == Sex::Male { "male" } else { "female" })
                }
                (Rule::AgeMax(max), _, Some(age)) if age > *max => {
                    format!("\"{phrase}\" is stated for a patient aged {age}; it is implausible above {max} years")
                }
                (Rule::AgeMin(min), _, Some(age)) if age < *min => {
                    format!("\"{phrase}\" is stated for a patient aged {age}, atypical below {min} years")
                }
                _ => continue,
            };
            let kind = std::mem::discriminant(rule);
            if seen.contains(&kind) {
                continue;
            }
            seen.push(kind);
            let severity = if matches!(rule, Rule::AgeMin(_)) { Severity::Low } else { Severity::Medium };
            flags.push(Flag {
                kind: FlagKind::DemographicImplausible,
                severity,
                finding: None,
                span: Some(sentence),
                why,
            });
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_parse() {
        let r = rules();
        assert!(r.rule_of.len() >= 20 && r.negators.contains(&"no".to_string()));
    }

    #[test]
    fn sex_and_age_rules_fire_only_when_they_apply() {
        let text = "Umbilical venous catheter tip at the diaphragm. Gravid uterus. No prostatic calcification.";
        let adult_male = Demographics { age_years: Some(60.0), sex: Some(Sex::Male) };
        let flags = demographic_flags(text, &adult_male);
        assert_eq!(flags.len(), 2, "{flags:?}");
        assert!(flags[0].why.contains("umbilical venous catheter") && flags[0].why.contains("aged 60"));
        assert_eq!(flags[1].span.map(|s| s.of(text)), Some("Gravid uterus."));
        let infant_female = Demographics { age_years: Some(0.1), sex: Some(Sex::Female) };
        assert!(demographic_flags(text, &infant_female).is_empty(), "negated prostatic is not a statement");
        assert!(demographic_flags(text, &Demographics::default()).is_empty());
        let young = Demographics { age_years: Some(9.0), sex: None };
        assert_eq!(demographic_flags("Degenerative changes of the spine.", &young)[0].severity, Severity::Low);
        assert_eq!("F".parse::<Sex>(), Ok(Sex::Female));
        assert!("x".parse::<Sex>().is_err());
    }
}
