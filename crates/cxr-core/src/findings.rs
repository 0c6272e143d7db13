//! A structured findings document: what a report states or a model predicts, finding by finding.
//!
//! Produced from text by `cxr_report` (labels plus laterality and severity words from the evidence) and, later,
//! by models; consumed by drafting and checking. Serialized as JSON:
//! `{"findings": [{"id": "f1", "finding": "Pleural Effusion", "status": "positive", "laterality": "left",
//! "severity": "small", …}]}`.

use crate::{Finding, Label};
use serde::{Deserialize, Serialize};

/// Side of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Laterality {
    Left,
    Right,
    Bilateral,
}

impl Laterality {
    pub fn word(self) -> &'static str {
        match self {
            Laterality::Left => "left",
            Laterality::Right => "right",
            Laterality::Bilateral => "bilateral",
        }
    }

    /// The other side (bilateral stays bilateral).
    pub fn swapped(self) -> Self {
        match self {
            Laterality::Left => Laterality::Right,
            Laterality::Right => Laterality::Left,
            Laterality::Bilateral => Laterality::Bilateral,
        }
    }
}

/// Whether a finding is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Positive,
    Negative,
    Uncertain,
}

impl Status {
    pub fn label(self) -> Label {
        match self {
            Status::Positive => Label::Positive,
            Status::Negative => Label::Negative,
            Status::Uncertain => Label::Uncertain,
        }
    }

    /// `None` for not mentioned.
    pub fn from_label(l: Label) -> Option<Self> {
        match l {
            Label::Positive => Some(Status::Positive),
            Label::Negative => Some(Status::Negative),
            Label::Uncertain => Some(Status::Uncertain),
            Label::NotMentioned => None,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEntry {
    /// A stable id, referenced by drafted sentences (grounding) and check flags.
    pub id: String,
    pub finding: Finding,
    pub status: Status,
    /// Model probability, when the entry comes from a model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub laterality: Option<Laterality>,
    /// For a bilateral finding, the side that is worse ("left greater than right").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predominant_side: Option<Laterality>,
    /// Free-text location ("base", "upper lobe" …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A severity or size word ("mild", "small", "large" …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// A box `[x, y, w, h]` in image pixels, or a heatmap file, when localised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<[f64; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<String>,
    /// Where the entry came from ("report text", a model card name …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl FindingEntry {
    /// An entry with no descriptors.
    pub fn new(id: impl Into<String>, finding: Finding, status: Status) -> Self {
        FindingEntry {
            id: id.into(),
            finding,
            status,
            probability: None,
            laterality: None,
            predominant_side: None,
            location: None,
            severity: None,
            region: None,
            heatmap: None,
            source: None,
        }
    }
}

/// A findings document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Findings {
    pub findings: Vec<FindingEntry>,
    /// Abnormalities outside the 14 observations that are present or possible (granuloma, scoliosis …):
    /// they rule out "No Finding" without being one of the findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_abnormalities: Vec<String>,
}

impl Findings {
    /// The entry for a finding, if any.
    pub fn get(&self, f: Finding) -> Option<&FindingEntry> {
        self.findings.iter().find(|e| e.finding == f)
    }

    /// The labels this document implies (one per finding; absent = not mentioned).
    pub fn labels(&self) -> crate::FindingLabels {
        let mut l = crate::FindingLabels::default();
        for e in &self.findings {
            l.set(e.finding, e.status.label());
        }
        l
    }

    /// A document with one entry per mentioned finding of `labels`, ids `f1`, `f2`, … in CheXpert order.
    pub fn from_labels(labels: &crate::FindingLabels) -> Self {
        let findings = labels
            .iter()
            .filter_map(|(f, l)| Status::from_label(l).map(|s| (f, s)))
            .enumerate()
            .map(|(i, (finding, status))| FindingEntry::new(format!("f{}", i + 1), finding, status))
            .collect();
        Findings { findings, other_abnormalities: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_labels() {
        let src = r#"{"findings":[{"id":"a","finding":"Pleural Effusion","status":"positive","laterality":"left","severity":"small"},
                      {"id":"b","finding":"Pneumothorax","status":"negative"}]}"#;
        let f: Findings = serde_json::from_str(src).unwrap();
        assert_eq!(f.get(Finding::PleuralEffusion).unwrap().laterality, Some(Laterality::Left));
        let l = f.labels();
        assert_eq!(l.get(Finding::Pneumothorax), Label::Negative);
        assert_eq!(Findings::from_labels(&l).findings.len(), 2);
        let bad = r#"{"findings":[{"id":"a","finding":"Pleural Thing","status":"positive"}]}"#;
        assert!(serde_json::from_str::<Findings>(bad).unwrap_err().to_string().contains("Pleural Thing"));
    }
}
