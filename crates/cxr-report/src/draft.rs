//! Structured findings from report text, and template drafting of reports from findings.
//!
//! [`findings_from_report`] turns a labeled report into a [`Findings`] document, reading laterality and
//! severity words near each deciding mention (`data/rules/descriptors.txt`).
//!
//! [`draft`] writes FINDINGS and IMPRESSION from a [`Findings`] document with the templates in
//! `data/templates/draft.txt`: positive and uncertain findings each get a sentence (with severity, laterality
//! and location when known), negatives are gathered into "No a, b or c." (fracture and devices get their own
//! sentences), abnormalities outside the 14 are listed ("Also noted: granuloma."), and a study with nothing
//! positive or uncertain among the 14 gets the normal-study sentences. It is
//! deterministic, and every sentence carries the ids of the findings it states (grounding, as MAIRA-2's
//! grounded reports). The templates are chosen so that `cxr label` reads a draft back as the findings it was
//! written from (tested on the IU X-Ray dev reports).

use crate::labeler::ReportLabels;
use crate::phrase::PhraseMatcher;
use crate::text::tokenize;
use cxr_core::{Finding, FindingEntry, Findings, Laterality, Status};
use serde::Serialize;

const DESCRIPTORS: &str = include_str!("../data/rules/descriptors.txt");
const TEMPLATES: &str = include_str!("../data/templates/draft.txt");

#[derive(Debug, Clone)]
enum Descriptor {
    Laterality(Laterality),
    Severity(String),
}

/// The descriptor words, parsed once.
fn descriptors() -> &'static (PhraseMatcher, Vec<Descriptor>) {
    static TABLE: std::sync::OnceLock<(PhraseMatcher, Vec<Descriptor>)> = std::sync::OnceLock::new();
    TABLE.get_or_init(parse_descriptors)
}

fn parse_descriptors() -> (PhraseMatcher, Vec<Descriptor>) {
    let mut m = PhraseMatcher::new();
    let mut kinds = Vec::new();
    for line in DESCRIPTORS.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()) {
        let (head, words) = line.split_once(':').expect("descriptor lines are `KIND VALUE: words` (tested)");
        let mut h = head.split_whitespace();
        let (kind, value) = (h.next().unwrap_or(""), h.next().unwrap_or(""));
        let d = match (kind, value) {
            ("laterality", "left") => Descriptor::Laterality(Laterality::Left),
            ("laterality", "right") => Descriptor::Laterality(Laterality::Right),
            ("laterality", _) => Descriptor::Laterality(Laterality::Bilateral),
            (_, v) => Descriptor::Severity(v.to_string()),
        };
        for w in words.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            m.add(w).expect("descriptor words are valid phrases (tested)");
            kinds.push(d.clone());
        }
    }
    (m, kinds)
}

/// A Findings document from a labeled report: one entry per mentioned finding (No Finding included), with
/// laterality and severity read near the mentions that agree with the final label (nearest side word within a few words;
/// severity from the first mention naming one).
pub fn findings_from_report(r: &ReportLabels) -> Findings {
    let mut doc = Findings::from_labels(&r.labels);
    // Other abnormalities; adjacent hits on one phrase ("calcified" + "granuloma") become one term.
    let mut spans: Vec<crate::text::Span> = Vec::new();
    for m in r.mentions.iter().filter(|m| m.finding.is_none() && m.label.is_present_or_uncertain()) {
        match spans.last_mut() {
            Some(last)
                if r.text[last.end..m.span.start.max(last.end)].trim().is_empty() && m.span.start >= last.end =>
            {
                last.end = m.span.end
            }
            _ => spans.push(m.span),
        }
    }
    for span in spans {
        let term = r.text_of(span).to_lowercase();
        if !doc.other_abnormalities.contains(&term) {
            doc.other_abnormalities.push(term);
        }
    }
    for e in &mut doc.findings {
        e.source = Some("report text".into());
        let mut sides: Vec<Laterality> = Vec::new();
        let mut predominant: Vec<Laterality> = Vec::new();
        let present = e.status.label().is_present_or_uncertain();
        for m in r.mentions.iter().filter(|m| m.finding == Some(e.finding)) {
            let agrees = m.label == e.status.label();
            // Sides come from every present-or-possible mention ("right apical opacity ... possible left basilar
            // opacity" is both sides); severity only from mentions that agree with the final label.
            let possible = present && m.label.is_present_or_uncertain();
            if !(agrees || possible) {
                continue;
            }
            let near = descriptors_near(r, m);
            sides.extend(near.side);
            predominant.extend(near.predominant);
            if agrees && e.severity.is_none() {
                e.severity = near.severity;
            }
        }
        // Mentions naming different sides ("left effusion ... right effusion") describe both sides.
        e.laterality = match sides.split_first() {
            Some((first, rest)) if rest.iter().all(|s| s == first) => Some(*first),
            Some(_) => Some(Laterality::Bilateral),
            None => None,
        };
        // A predominance makes the finding bilateral; one that the mentions disagree on is not recorded.
        if let Some((first, rest)) = predominant.split_first() {
            if rest.iter().all(|p| p == first) {
                e.predominant_side = Some(*first);
                e.laterality = Some(Laterality::Bilateral);
            }
        }
    }
    doc
}

/// How many words from a mention a side or severity word may be to describe it ("consolidation ... in the
/// left lower lobe" is 7 words).
const DESCRIPTOR_WINDOW: usize = 8;

/// What a mention's sentence says about it: its side (the nearest side word; "right and left" or a
/// predominance is bilateral), the worse side of a predominance ("left greater than right"), and the first
/// severity word within 5 words.
#[derive(Debug, Default)]
struct Descriptors {
    side: Option<Laterality>,
    predominant: Option<Laterality>,
    severity: Option<String>,
}

fn descriptors_near(r: &ReportLabels, m: &crate::Mention) -> Descriptors {
    let (matcher, kinds) = descriptors();
    let lower = r.text_of(m.sentence).to_ascii_lowercase();
    let toks = tokenize(&lower, m.sentence.start);
    let mut found = Vec::new();
    matcher.find_all(&toks, &mut found);
    let at = toks.iter().position(|t| t.span.start >= m.span.start).unwrap_or(0);
    let mut out = Descriptors::default();
    let mut nearest: Option<(usize, Laterality)> = None;
    // "Right and left pleural effusions": both sides right next to one mention make it bilateral.
    let (mut near_left, mut near_right) = (false, false);
    for f in found {
        let dist = if f.end <= at { at - f.end } else { f.start.saturating_sub(at) };
        if dist > DESCRIPTOR_WINDOW {
            continue;
        }
        match &kinds[f.id] {
            Descriptor::Laterality(l) => {
                near_left |= dist <= 3 && *l == Laterality::Left;
                near_right |= dist <= 3 && *l == Laterality::Right;
                if nearest.is_none_or(|(d, _)| dist < d) {
                    nearest = Some((dist, *l));
                }
            }
            Descriptor::Severity(s) if out.severity.is_none() && dist <= 5 => out.severity = Some(s.clone()),
            Descriptor::Severity(_) => {}
        }
    }
    let word_side = |w: &str| match w {
        "left" => Some(Laterality::Left),
        "right" => Some(Laterality::Right),
        _ => None,
    };
    out.predominant = toks.windows(4).find_map(|w| {
        let (a, b) = (word_side(w[0].text)?, word_side(w[3].text)?);
        let compares = matches!(w[1].text, "greater" | "worse" | "more" | "larger") && w[2].text == "than";
        (compares && a != b).then_some(a)
    });
    out.side = if (near_left && near_right) || out.predominant.is_some() {
        Some(Laterality::Bilateral)
    } else {
        nearest.map(|(_, l)| l)
    };
    out
}

/// The side a sentence gives one mention ("Small left pleural effusion" → left), if any.
pub fn mention_side(r: &ReportLabels, m: &crate::Mention) -> Option<Laterality> {
    descriptors_near(r, m).side
}

/// The side a mention's sentence says is worse: "left greater than right", "on the right worse than left".
pub fn predominant_side(r: &ReportLabels, m: &crate::Mention) -> Option<Laterality> {
    descriptors_near(r, m).predominant
}

struct Template {
    finding: Finding,
    positive: String,
    uncertain: String,
    negative: String,
}

/// The templates and the normal-study sentences, parsed once.
fn templates() -> &'static (Vec<Template>, String, String) {
    static TABLE: std::sync::OnceLock<(Vec<Template>, String, String)> = std::sync::OnceLock::new();
    TABLE.get_or_init(parse_templates)
}

fn parse_templates() -> (Vec<Template>, String, String) {
    let mut out = Vec::new();
    let (mut normal_f, mut normal_i) = (String::new(), String::new());
    for line in TEMPLATES.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let cols: Vec<&str> = line.split(" | ").map(str::trim).collect();
        match cols[0] {
            "@normal-findings" => normal_f = cols[1].to_string(),
            "@normal-impression" => normal_i = cols[1].to_string(),
            name => out.push(Template {
                finding: name.parse().expect("template findings are CheXpert names (tested)"),
                positive: cols[1].into(),
                uncertain: cols[2].into(),
                negative: cols[3].into(),
            }),
        }
    }
    (out, normal_f, normal_i)
}

fn render(t: &str, e: &FindingEntry) -> String {
    let s = t
        .replace("{severity}", e.severity.as_deref().unwrap_or(""))
        .replace("{laterality}", e.laterality.map_or("", Laterality::word))
        .replace("{location}", e.location.as_deref().unwrap_or(""));
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ").replace(" .", ".");
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// The template sentence stating `f` with `status` (no descriptors): the positive or uncertain sentence, or
/// "No …." for a negative. Used by error injection to state the opposite of what a report says.
pub fn sentence_for(f: Finding, status: Status) -> Option<String> {
    sentence_for_entry(&FindingEntry::new("", f, status))
}

/// The template sentence stating one findings entry, with its side and severity words.
pub fn sentence_for_entry(e: &FindingEntry) -> Option<String> {
    let t = templates().0.iter().find(|t| t.finding == e.finding)?;
    Some(match e.status {
        Status::Positive => render(&t.positive, e),
        Status::Uncertain => render(&t.uncertain, e),
        Status::Negative => format!("No {}.", t.negative),
    })
}

/// A drafted sentence and the findings it states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftSentence {
    pub text: String,
    pub findings: Vec<String>,
    /// Boxes of the grounded findings, when they have one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<[f64; 4]>,
}

/// A drafted report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub findings: Vec<DraftSentence>,
    pub impression: Vec<DraftSentence>,
}

impl Draft {
    /// The report as text: `FINDINGS: …\nIMPRESSION: …`.
    pub fn text(&self) -> String {
        format!("FINDINGS: {}\nIMPRESSION: {}", self.findings_text(), self.impression_text())
    }

    /// The FINDINGS sentences, space-separated, without the heading.
    pub fn findings_text(&self) -> String {
        self.findings.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The IMPRESSION sentences, space-separated, without the heading.
    pub fn impression_text(&self) -> String {
        self.impression.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}

fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Drafts a report from findings.
pub fn draft(doc: &Findings) -> Draft {
    let (tpl, normal_f, normal_i) = templates();
    let mut findings = Vec::new();
    let mut impression = Vec::new();
    let sentence = |text: String, e: &FindingEntry| DraftSentence {
        text,
        findings: vec![e.id.clone()],
        regions: e.region.into_iter().collect(),
    };
    for t in tpl {
        for e in doc.findings.iter().filter(|e| e.finding == t.finding) {
            match e.status {
                Status::Positive => {
                    findings.push(sentence(render(&t.positive, e), e));
                    impression.push(sentence(render(&t.positive, e), e));
                }
                Status::Uncertain => {
                    findings.push(sentence(render(&t.uncertain, e), e));
                    impression.push(sentence(render(&t.uncertain, e), e));
                }
                Status::Negative => {}
            }
        }
    }
    // Negatives: one list for the chest, separate sentences for fracture and devices.
    let negatives: Vec<(&Template, &FindingEntry)> = tpl
        .iter()
        .flat_map(|t| {
            doc.findings
                .iter()
                .filter(move |e| e.finding == t.finding && e.status == Status::Negative)
                .map(move |e| (t, e))
        })
        .collect();
    let (alone, chest): (Vec<_>, Vec<_>) =
        negatives.into_iter().partition(|(t, _)| matches!(t.finding, Finding::Fracture | Finding::SupportDevices));
    if !chest.is_empty() {
        let words: Vec<&str> = chest.iter().map(|(t, _)| t.negative.as_str()).collect();
        findings.push(DraftSentence {
            text: format!("No {}.", list(&words)),
            findings: chest.iter().map(|(_, e)| e.id.clone()).collect(),
            regions: vec![],
        });
    }
    for (t, e) in alone {
        findings.push(sentence(format!("No {}.", t.negative), e));
    }
    if !doc.other_abnormalities.is_empty() {
        let terms: Vec<&str> = doc.other_abnormalities.iter().map(String::as_str).collect();
        findings.push(DraftSentence {
            text: format!("Also noted: {}.", terms.join(", ")),
            findings: vec![],
            regions: vec![],
        });
    }
    let abnormal = doc.findings.iter().any(|e| {
        e.finding != Finding::NoFinding && e.finding != Finding::SupportDevices && e.status != Status::Negative
    });
    let nf_ids: Vec<String> =
        doc.findings.iter().filter(|e| e.finding == Finding::NoFinding).map(|e| e.id.clone()).collect();
    if !abnormal {
        findings.insert(0, DraftSentence { text: normal_f.clone(), findings: nf_ids.clone(), regions: vec![] });
        impression.retain(|s| !s.findings.is_empty());
        impression.insert(0, DraftSentence { text: normal_i.clone(), findings: nf_ids, regions: vec![] });
    }
    Draft { findings, impression }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labeler;
    use cxr_core::Label;

    #[test]
    fn embedded_data_parses() {
        let (tpl, nf, ni) = templates();
        assert_eq!(tpl.len(), 13);
        assert!(!nf.is_empty() && !ni.is_empty());
        assert!(descriptors().1.len() > 15);
    }

    #[test]
    fn draft_with_descriptors_reads_back() {
        let l = Labeler::default();
        let r = l.label("FINDINGS: Small left pleural effusion. Mild cardiomegaly. No pneumothorax.\nIMPRESSION: Possible left lower lobe pneumonia.");
        let doc = findings_from_report(&r);
        let eff = doc.get(Finding::PleuralEffusion).unwrap();
        assert_eq!((eff.laterality, eff.severity.as_deref()), (Some(Laterality::Left), Some("small")));
        let d = draft(&doc);
        let text = d.text();
        assert!(text.contains("Small left pleural effusion.") && text.contains("No pneumothorax."), "{text}");
        assert_eq!(l.label(&text).labels, r.labels, "{text}");
        assert!(d.findings.iter().all(|s| !s.findings.is_empty() || s.text.contains("clear")));
    }

    #[test]
    fn normal_study() {
        let l = Labeler::default();
        let r = l.label("Heart size normal. No effusion or pneumothorax.");
        assert_eq!(r.get(Finding::NoFinding), Label::Positive);
        let d = draft(&findings_from_report(&r));
        assert!(d.text().contains("No acute cardiopulmonary abnormality."), "{}", d.text());
        assert_eq!(l.label(&d.text()).labels, r.labels, "{}", d.text());
    }
}
