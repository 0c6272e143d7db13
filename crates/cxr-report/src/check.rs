//! Checking a report against findings and against itself.
//!
//! Against a [`Findings`] document (e.g. a model's): a finding the document calls positive that the report
//! does not state positively is **missed**; a finding the report states positively that the document calls
//! negative or leaves out is **unsupported**; positive vs uncertain is a **certainty conflict**; a finding both
//! call present on different sides is a **laterality conflict**, with different severity words a **severity
//! conflict**.
//!
//! Within the report: a finding positive in FINDINGS and negated in IMPRESSION (or the reverse) is a
//! **findings–impression contradiction**; a finding asserted on one side in one section and on the other side
//! in the other, with no bilateral mention, is a **laterality conflict**; a finding both negated and asserted
//! within one section on the same side (or with no side) is **negated and asserted**. A negation limited by a
//! qualifier ("no acute infiltrate", "no large effusion"; `data/rules/partial_negation.txt`) denies only part
//! of a finding and raises neither. An empty report is
//! flagged, not an error. Each flag says what, how serious, where (a span of [`CheckResult::text`]) and why.

use crate::draft::{findings_from_report, mention_side as side_of, predominant_side};
use crate::labeler::{Labeler, Mention, ReportLabels};
use crate::sections::SectionKind;
use crate::text::Span;
use cxr_core::{Finding, Findings, Label, Laterality, Status};
use serde::Serialize;

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    Missed,
    Unsupported,
    CertaintyConflict,
    FindingsImpressionContradiction,
    LateralityConflict,
    NegatedAndAsserted,
    SeverityConflict,
    /// A statement implausible for the patient's sex or age (see [`crate::plausibility`]).
    DemographicImplausible,
    EmptyReport,
}

/// How much it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    pub finding: Option<Finding>,
    /// Where in [`CheckResult::text`] (a sentence), when the flag points at the report.
    pub span: Option<Span>,
    pub why: String,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub text: String,
    pub labels: cxr_core::FindingLabels,
    pub flags: Vec<Flag>,
}

const PARTIAL: &str = include_str!("../data/rules/partial_negation.txt");

/// Whether a negated mention's negation is limited by a qualifier ("no acute infiltrate"): such a negation
/// denies only part of the finding (`data/rules/partial_negation.txt`).
fn partial_negation(r: &ReportLabels, m: &Mention) -> bool {
    let Some(cue) = &m.cue else { return false };
    let (a, b) = if cue.span.end <= m.span.start { (cue.span.end, m.span.start) } else { (m.span.start, m.span.start) };
    let between = r.text[a..b].to_ascii_lowercase();
    let words: Vec<&str> = between.split(|c: char| !c.is_alphanumeric()).collect();
    crate::rules::RuleSet::parse_list(PARTIAL).iter().any(|q| words.contains(&q.as_str()))
}

/// Checks a report (and, when given, its agreement with a findings document).
pub fn check(labeler: &Labeler, report: &str, findings: Option<&Findings>) -> CheckResult {
    let r = labeler.label(report);
    let mut flags = Vec::new();
    if r.empty {
        flags.push(Flag {
            kind: FlagKind::EmptyReport,
            severity: Severity::High,
            finding: None,
            span: None,
            why: "the report has no findings or impression text".into(),
        });
        return CheckResult { text: r.text.clone(), labels: r.labels, flags };
    }
    if let Some(doc) = findings {
        // Side and severity of what both call present (or possible): every report mention's side must agree
        // with a one-sided finding, so a swap in any sentence is caught.
        let said = findings_from_report(&r);
        for e in doc.findings.iter().filter(|e| e.status.label().is_present_or_uncertain()) {
            let Some(s) = said.get(e.finding).filter(|s| s.status.label().is_present_or_uncertain()) else { continue };
            let span = r.evidence(e.finding).find(|m| m.label.is_present_or_uncertain()).map(|m| m.sentence);
            let sided: Vec<(Span, Laterality)> = r
                .evidence(e.finding)
                .filter(|m| m.label.is_present_or_uncertain())
                .filter_map(|m| side_of(&r, m).map(|b| (m.sentence, b)))
                .collect();
            if e.laterality == Some(Laterality::Bilateral)
                && !sided.is_empty()
                && sided.iter().all(|(_, b)| *b == sided[0].1 && *b != Laterality::Bilateral)
            {
                // Both sides in the findings, one side in every sided statement of the report.
                flags.push(Flag {
                    kind: FlagKind::LateralityConflict,
                    severity: Severity::Medium,
                    finding: Some(e.finding),
                    span: Some(sided[0].0),
                    why: format!(
                        "{}: the findings say bilateral, the report names only the {}",
                        e.finding,
                        sided[0].1.word()
                    ),
                });
            }
            if let Some(a) = e.predominant_side {
                let worse = r
                    .evidence(e.finding)
                    .filter(|m| m.label.is_present_or_uncertain())
                    .find_map(|m| predominant_side(&r, m).filter(|b| *b != a).map(|b| (m.sentence, b)));
                if let Some((sentence, b)) = worse {
                    flags.push(Flag {
                        kind: FlagKind::LateralityConflict,
                        severity: Severity::Medium,
                        finding: Some(e.finding),
                        span: Some(sentence),
                        why: format!(
                            "{}: the findings say worse on the {}, the report on the {}",
                            e.finding,
                            a.word(),
                            b.word()
                        ),
                    });
                }
            }
            if let Some(a) = e.laterality.filter(|a| *a != Laterality::Bilateral) {
                let conflict = sided.iter().find(|(_, b)| *b != a && *b != Laterality::Bilateral).copied();
                if let Some((sentence, b)) = conflict {
                    flags.push(Flag {
                        kind: FlagKind::LateralityConflict,
                        severity: Severity::High,
                        finding: Some(e.finding),
                        span: Some(sentence),
                        why: format!("{}: the findings say {}, the report says {}", e.finding, a.word(), b.word()),
                    });
                }
            }
            if let (Some(a), Some(b)) = (&e.severity, &s.severity) {
                if a != b {
                    flags.push(Flag {
                        kind: FlagKind::SeverityConflict,
                        severity: Severity::Low,
                        finding: Some(e.finding),
                        span,
                        why: format!("{}: the findings say {a}, the report says {b}", e.finding),
                    });
                }
            }
        }
        for f in Finding::ALL.into_iter().filter(|f| *f != Finding::NoFinding) {
            let said = r.get(f);
            let span = r.evidence(f).next().map(|m| m.sentence);
            match (doc.get(f).map(|e| e.status), said) {
                (Some(Status::Positive), Label::Negative | Label::NotMentioned) => flags.push(Flag {
                    kind: FlagKind::Missed,
                    severity: Severity::High,
                    finding: Some(f),
                    span,
                    why: format!(
                        "the findings call {f} present; the report {}",
                        if said == Label::Negative { "negates it" } else { "does not mention it" }
                    ),
                }),
                (Some(Status::Negative) | None, Label::Positive) => flags.push(Flag {
                    kind: FlagKind::Unsupported,
                    severity: if doc.get(f).is_some() { Severity::High } else { Severity::Medium },
                    finding: Some(f),
                    span,
                    why: format!(
                        "the report states {f}; the findings {}",
                        if doc.get(f).is_some() { "call it absent" } else { "do not include it" }
                    ),
                }),
                (Some(Status::Uncertain), Label::Positive | Label::Negative)
                | (Some(Status::Positive | Status::Negative), Label::Uncertain) => flags.push(Flag {
                    kind: FlagKind::CertaintyConflict,
                    severity: Severity::Medium,
                    finding: Some(f),
                    span,
                    why: format!(
                        "{f}: the findings say {:?}, the report says {}",
                        doc.get(f).map(|e| e.status).unwrap_or(Status::Negative),
                        describe(said)
                    ),
                }),
                _ => {}
            }
        }
    }
    // Within the report: per finding, mentions by section.
    for f in Finding::ALL.into_iter().filter(|f| *f != Finding::NoFinding) {
        let ms: Vec<&Mention> = r.evidence(f).collect();
        let in_sec = |k: SectionKind| ms.iter().copied().filter(move |m| m.section == k);
        let pos = |k| in_sec(k).filter(|m| m.label == Label::Positive).collect::<Vec<_>>();
        let neg = |k| in_sec(k).filter(|m| m.label == Label::Negative && !partial_negation(&r, m)).collect::<Vec<_>>();
        for (a, b) in
            [(SectionKind::Findings, SectionKind::Impression), (SectionKind::Impression, SectionKind::Findings)]
        {
            let (p, n) = (pos(a), neg(b));
            if let (Some(p), Some(n)) = (p.first(), n.first()) {
                let sides = (side_of(&r, p), side_of(&r, n));
                if sides.0.is_none() || sides.1.is_none() || sides.0 == sides.1 {
                    flags.push(Flag {
                        kind: FlagKind::FindingsImpressionContradiction,
                        severity: Severity::High,
                        finding: Some(f),
                        span: Some(n.sentence),
                        why: format!(
                            "{f} is stated in {} (\"{}\") and negated in {} (\"{}\")",
                            a,
                            r.text_of(p.sentence),
                            b,
                            r.text_of(n.sentence)
                        ),
                    });
                }
            }
        }
        // Laterality across sections.
        let sides_in = |k| pos(k).iter().filter_map(|m| side_of(&r, m)).collect::<Vec<_>>();
        let (fs, is) = (sides_in(SectionKind::Findings), sides_in(SectionKind::Impression));
        let bilateral = fs.iter().chain(&is).any(|s| *s == Laterality::Bilateral);
        if !bilateral && !fs.is_empty() && !is.is_empty() && fs.iter().all(|s| !is.contains(s)) {
            let m = pos(SectionKind::Impression)[0];
            flags.push(Flag {
                kind: FlagKind::LateralityConflict,
                severity: Severity::High,
                finding: Some(f),
                span: Some(m.sentence),
                why: format!(
                    "{f} is on the {} in the findings but on the {} in the impression",
                    fs[0].word(),
                    is[0].word()
                ),
            });
        }
        // Negated and asserted within one section, on the same side.
        for k in [SectionKind::Findings, SectionKind::Impression, SectionKind::Preamble] {
            for p in pos(k) {
                if let Some(n) = neg(k).into_iter().find(|n| side_of(&r, n) == side_of(&r, p)) {
                    flags.push(Flag {
                        kind: FlagKind::NegatedAndAsserted,
                        severity: Severity::Medium,
                        finding: Some(f),
                        span: Some(n.sentence),
                        why: format!(
                            "{f} is both stated (\"{}\") and negated (\"{}\") in the {k}",
                            r.text_of(p.sentence),
                            r.text_of(n.sentence)
                        ),
                    });
                    break;
                }
            }
        }
    }
    CheckResult { text: r.text.clone(), labels: r.labels, flags }
}

fn describe(l: Label) -> &'static str {
    match l {
        Label::Positive => "present",
        Label::Negative => "absent",
        Label::Uncertain => "possible",
        Label::NotMentioned => "nothing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(report: &str, doc: Option<&Findings>) -> Vec<FlagKind> {
        check(&Labeler::default(), report, doc).flags.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn consistent_reports_raise_nothing() {
        assert!(kinds(
            "FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Left pleural effusion.",
            None
        )
        .is_empty());
        assert!(kinds("FINDINGS: No right effusion. Small left effusion.\nIMPRESSION: Left effusion.", None).is_empty());
        assert!(kinds(
            "FINDINGS: Bilateral effusions, left greater than right.\nIMPRESSION: Bilateral pleural effusions.",
            None
        )
        .is_empty());
    }

    #[test]
    fn within_report_problems() {
        assert_eq!(
            kinds("FINDINGS: Large right pneumothorax.\nIMPRESSION: No pneumothorax.", None),
            [FlagKind::FindingsImpressionContradiction]
        );
        assert_eq!(
            kinds("FINDINGS: Small left pleural effusion.\nIMPRESSION: Small right pleural effusion.", None),
            [FlagKind::LateralityConflict]
        );
        assert!(kinds("FINDINGS: Cardiomegaly. The heart is not enlarged.\nIMPRESSION: Normal.", None)
            .contains(&FlagKind::NegatedAndAsserted));
        assert_eq!(kinds("   ", None), [FlagKind::EmptyReport]);
        // A qualified negation is not a contradiction.
        assert!(kinds("FINDINGS: Mild biapical scarring. No acute infiltrate.\nIMPRESSION: Chronic changes.", None)
            .is_empty());
    }

    #[test]
    fn against_findings() {
        let doc: Findings = serde_json::from_str(r#"{"findings":[{"id":"a","finding":"Pneumothorax","status":"positive"},{"id":"b","finding":"Cardiomegaly","status":"negative"},{"id":"c","finding":"Edema","status":"uncertain"}]}"#).unwrap();
        let k = kinds("FINDINGS: Cardiomegaly. Pulmonary edema. No pneumothorax.", Some(&doc));
        assert!(
            k.contains(&FlagKind::Missed)
                && k.contains(&FlagKind::Unsupported)
                && k.contains(&FlagKind::CertaintyConflict),
            "{k:?}"
        );
    }
}
