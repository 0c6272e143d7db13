//! Synthetic report errors, seeded, with the truth of what changed — the kind of generator used to build the
//! evaluation set of "Exploring Multimodal Large Language Models for Radiology Report Error-checking" (original
//! MIMIC-CXR and IU X-Ray reports modified with synthetic mistakes), so that checkers, ours included, can be
//! measured. The edit rules here are our own, written from the error types that study names.
//!
//! Error types ([`ErrorType`]): **negation flip** (a stated finding is negated, or a negated one stated),
//! **laterality swap** (left ↔ right next to a finding), **finding substitution** (a stated finding's phrase
//! replaced by another finding's), **severity change** (mild/small ↔ moderate ↔ severe/large), **omission** (a
//! sentence stating a finding is dropped) and **insertion** (a sentence stating an absent finding is added).
//! Each edit is made on a sentence found by the labeler, so the truth names the finding affected. Choices come
//! from counter-mode SplitMix64 draws (`seed`, draw k), so the same seed gives the same corruptions.

use crate::labeler::{Labeler, Mention};
use crate::text::Span;
use cxr_core::rng::splitmix64;
use cxr_core::{Finding, Label, Status};
use serde::Serialize;

/// The kinds of injected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorType {
    NegationFlip,
    LateralitySwap,
    Substitution,
    SeverityChange,
    Omission,
    Insertion,
}

impl ErrorType {
    pub const ALL: [ErrorType; 6] = [
        ErrorType::NegationFlip,
        ErrorType::LateralitySwap,
        ErrorType::Substitution,
        ErrorType::SeverityChange,
        ErrorType::Omission,
        ErrorType::Insertion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorType::NegationFlip => "negation-flip",
            ErrorType::LateralitySwap => "laterality-swap",
            ErrorType::Substitution => "substitution",
            ErrorType::SeverityChange => "severity-change",
            ErrorType::Omission => "omission",
            ErrorType::Insertion => "insertion",
        }
    }
}

impl std::str::FromStr for ErrorType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorType::ALL.into_iter().find(|e| e.name() == s.trim()).ok_or_else(|| {
            format!("unknown error type {s:?}: expected {}", ErrorType::ALL.map(|e| e.name()).join(", "))
        })
    }
}

/// A corrupted report and what was changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Injected {
    pub kind: ErrorType,
    pub finding: Finding,
    pub original_sentence: String,
    pub new_sentence: String,
    pub report: String,
}

/// Phrases used to state findings in substitutions and insertions.
fn phrase(f: Finding) -> &'static str {
    match f {
        Finding::PleuralEffusion => "pleural effusion",
        Finding::Pneumothorax => "pneumothorax",
        Finding::Consolidation => "consolidation",
        Finding::Atelectasis => "atelectasis",
        Finding::Edema => "pulmonary edema",
        Finding::Cardiomegaly => "cardiomegaly",
        Finding::Pneumonia => "pneumonia",
        Finding::LungLesion => "pulmonary nodule",
        Finding::Fracture => "rib fracture",
        _ => "airspace opacity",
    }
}

fn replace_span(text: &str, span: Span, with: &str) -> String {
    format!("{}{}{}", &text[..span.start], with, &text[span.end..])
}

fn pick<T: Copy>(items: &[T], seed: u64, k: u64) -> Option<T> {
    (!items.is_empty()).then(|| items[(splitmix64(seed, k) % items.len() as u64) as usize])
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// Injects one error of `kind` into `report`; `None` when the report offers no place for it (e.g. no
/// side-specific finding for a laterality swap).
pub fn inject(labeler: &Labeler, report: &str, kind: ErrorType, seed: u64) -> Option<Injected> {
    let r = labeler.label(report);
    if r.empty {
        return None; // An empty report is flagged by `check`; there is nothing to corrupt.
    }
    let text = r.text.clone();
    let stated: Vec<&Mention> = r
        .mentions
        .iter()
        .filter(|m| m.finding.is_some_and(|f| f != Finding::NoFinding) && m.label == Label::Positive)
        .collect();
    let negated: Vec<&Mention> = r
        .mentions
        .iter()
        .filter(|m| m.finding.is_some_and(|f| f != Finding::NoFinding) && m.label == Label::Negative)
        .collect();
    let sentence_with = |m: &Mention, new: String| -> (String, String, String) {
        let old = r.text_of(m.sentence).to_string();
        (old, new.clone(), replace_span(&text, m.sentence, &new))
    };
    let words = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_string).collect() };
    let (finding, old, new, report) = match kind {
        ErrorType::NegationFlip => {
            let pool: Vec<&Mention> = stated.iter().chain(&negated).copied().collect();
            let m = pick(&pool, seed, 1)?;
            // State the opposite clinically, in the drafting templates' words ("Heart size normal." becomes
            // "Cardiomegaly.", not "Heart size.").
            let opposite = if m.label == Label::Positive { Status::Negative } else { Status::Positive };
            let new = crate::draft::sentence_for(m.finding?, opposite)?;
            let (o, n, t) = sentence_with(m, new);
            (m.finding?, o, n, t)
        }
        ErrorType::LateralitySwap => {
            // "Possible left pneumonia" is as side-specific as "Left pneumonia".
            let sided: Vec<&Mention> = r
                .mentions
                .iter()
                .filter(|m| m.finding.is_some_and(|f| f != Finding::NoFinding) && m.label != Label::Negative)
                .filter(|m| {
                    let s = r.text_of(m.sentence).to_lowercase();
                    words(&s).iter().any(|w| w.starts_with("left") || w.starts_with("right"))
                })
                .collect();
            let m = pick(&sided, seed, 2)?;
            let old = r.text_of(m.sentence).to_string();
            let new: String = old
                .split_inclusive(char::is_whitespace)
                .map(|w| {
                    let lw = w.to_lowercase();
                    let swap = |from: &str, to: &str| if w.starts_with(char::is_uppercase) { capitalise(to) } else { to.to_string() } + &w[from.len()..];
                    if lw.starts_with("left") { swap("left", "right") } else if lw.starts_with("right") { swap("right", "left") } else { w.to_string() }
                })
                .collect();
            (m.finding?, old.clone(), new.clone(), replace_span(&text, m.sentence, &new))
        }
        ErrorType::Substitution => {
            let m = pick(&stated, seed, 3)?;
            let present: Vec<Finding> =
                r.labels.iter().filter(|(_, l)| *l != Label::NotMentioned).map(|(f, _)| f).collect();
            let candidates: Vec<Finding> = [
                Finding::PleuralEffusion,
                Finding::Pneumothorax,
                Finding::Consolidation,
                Finding::Atelectasis,
                Finding::Edema,
                Finding::Cardiomegaly,
                Finding::Pneumonia,
                Finding::LungLesion,
            ]
            .into_iter()
            .filter(|f| !present.contains(f))
            .collect();
            let to = pick(&candidates, seed, 4)?;
            let old = r.text_of(m.sentence).to_string();
            let rel = Span::new(m.span.start - m.sentence.start, m.span.end - m.sentence.start);
            let new = replace_span(&old, rel, phrase(to));
            (m.finding?, old, new.clone(), replace_span(&text, m.sentence, &new))
        }
        ErrorType::SeverityChange => {
            const SWAPS: [(&str, &str); 8] = [
                ("mild", "severe"),
                ("small", "large"),
                ("minimal", "large"),
                ("trace", "large"),
                ("moderate", "mild"),
                ("large", "small"),
                ("severe", "mild"),
                ("tiny", "large"),
            ];
            let graded: Vec<(&Mention, (&str, &str))> = stated
                .iter()
                .filter_map(|m| {
                    let s = r.text_of(m.sentence).to_lowercase();
                    let ws = words(&s);
                    SWAPS
                        .iter()
                        .find(|(a, _)| ws.iter().any(|w| w.trim_matches(|c: char| !c.is_alphanumeric()) == *a))
                        .map(|sw| (*m, *sw))
                })
                .collect();
            let (m, (from, to)) = pick(&graded, seed, 5)?;
            let old = r.text_of(m.sentence).to_string();
            let new: String = old
                .split_inclusive(char::is_whitespace)
                .map(|w| {
                    let core = w.trim_matches(|c: char| !c.is_alphanumeric());
                    if core.eq_ignore_ascii_case(from) {
                        let rep = if core.starts_with(char::is_uppercase) { capitalise(to) } else { to.to_string() };
                        w.replacen(core, &rep, 1)
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            (m.finding?, old.clone(), new.clone(), replace_span(&text, m.sentence, &new))
        }
        ErrorType::Omission => {
            let m = pick(&stated, seed, 6)?;
            let (o, n, t) = sentence_with(m, String::new());
            (m.finding?, o, n, t)
        }
        ErrorType::Insertion => {
            let absent: Vec<Finding> = [
                Finding::Pneumothorax,
                Finding::PleuralEffusion,
                Finding::Consolidation,
                Finding::Cardiomegaly,
                Finding::Edema,
                Finding::Fracture,
            ]
            .into_iter()
            .filter(|f| !r.get(*f).is_present_or_uncertain())
            .collect();
            let f = pick(&absent, seed, 7)?;
            let side = if splitmix64(seed, 8).is_multiple_of(2) { "left" } else { "right" };
            let new = capitalise(&format!("{side} {}.", phrase(f)));
            let last = r
                .mentions
                .iter()
                .map(|m| m.sentence)
                .max_by_key(|s| s.end)
                .unwrap_or(Span::new(text.len(), text.len()));
            let t = format!("{} {new}{}", &text[..last.end], &text[last.end..]);
            (f, String::new(), new, t)
        }
    };
    Some(Injected { kind, finding, original_sentence: old, new_sentence: new, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_changes_the_report_and_is_seeded() {
        let l = Labeler::default();
        let rep = "FINDINGS: Mild cardiomegaly. Small left pleural effusion. No pneumothorax.\nIMPRESSION: Small left effusion.";
        for kind in ErrorType::ALL {
            let a = inject(&l, rep, kind, 3).unwrap_or_else(|| panic!("{kind:?}"));
            assert_ne!(a.report, l.label(rep).text, "{kind:?}");
            assert_eq!(Some(&a), inject(&l, rep, kind, 3).as_ref(), "{kind:?} is deterministic");
        }
        let flip = inject(&l, "FINDINGS: No pneumothorax.", ErrorType::NegationFlip, 1).unwrap();
        assert_eq!(flip.new_sentence, "Pneumothorax.");
        let flip = inject(&l, "FINDINGS: Heart size normal.", ErrorType::NegationFlip, 1).unwrap();
        assert_eq!(flip.new_sentence, "Cardiomegaly.");
        let swap = inject(&l, "FINDINGS: Small left pleural effusion.", ErrorType::LateralitySwap, 1).unwrap();
        assert_eq!(swap.new_sentence, "Small right pleural effusion.");
        assert!(inject(&l, "FINDINGS: Cardiomegaly.", ErrorType::LateralitySwap, 1).is_none());
        assert!(ErrorType::ALL.iter().all(|&k| inject(&l, "  ", k, 1).is_none()), "empty reports are left alone");
    }
}
