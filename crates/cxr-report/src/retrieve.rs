//! Retrieval drafting: the corpus report whose findings best match the query's.
//!
//! A report is reduced to a set of *concepts*: each of the 14 findings with its status (positive, uncertain and
//! negative are different concepts, so "no effusion" never matches "effusion"), plus the abnormalities outside
//! the 14 that the report states (granuloma, scoliosis …). Candidates are ranked by the Tversky index
//! (A. Tversky, "Features of similarity", Psychological Review 84(4), 1977), used over concept sets for report
//! retrieval in the ontology-based concept distillation work on radiology reports:
//!
//! ```text
//! S(Q, C) = |Q ∩ C| / (|Q ∩ C| + α |Q − C| + β |C − Q|)
//! ```
//!
//! with Q the query's concepts and C the candidate's. α weighs what the candidate leaves out of the query
//! (missed findings), β what it adds (unsupported findings). Our defaults, α = 1 and β = 0.5, count a missed
//! finding twice as heavily as an extra one; α = β = 0.5 is the Dice coefficient, α = β = 1 Jaccard. Ties keep
//! corpus order, so results are deterministic. Two empty sets have similarity 1.

use crate::Labeler;
use cxr_core::hash::FxHashMap;
use cxr_core::{Finding, Findings, Status};

/// Tversky weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tversky {
    /// Weight of query concepts the candidate lacks.
    pub alpha: f64,
    /// Weight of candidate concepts the query lacks.
    pub beta: f64,
}

impl Default for Tversky {
    fn default() -> Self {
        Tversky { alpha: 1.0, beta: 0.5 }
    }
}

impl Tversky {
    /// The similarity of two sorted, deduplicated concept sets.
    pub fn similarity(&self, query: &[u32], candidate: &[u32]) -> f64 {
        let common = sorted_intersection_len(query, candidate) as f64;
        let only_q = query.len() as f64 - common;
        let only_c = candidate.len() as f64 - common;
        let denom = common + self.alpha * only_q + self.beta * only_c;
        if denom == 0.0 {
            1.0
        } else {
            common / denom
        }
    }
}

fn sorted_intersection_len(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Interns concepts as small integers so that set operations are merges of sorted integer lists.
#[derive(Debug, Default)]
pub struct ConceptSpace {
    ids: FxHashMap<String, u32>,
}

impl ConceptSpace {
    /// The sorted concept set of a findings document. Findings not mentioned are not concepts.
    pub fn concepts(&mut self, doc: &Findings) -> Vec<u32> {
        let mut keys: Vec<String> = doc
            .findings
            .iter()
            .map(|e| {
                let status = match e.status {
                    Status::Positive => "positive",
                    Status::Uncertain => "uncertain",
                    Status::Negative => "negative",
                };
                format!("{}={status}", e.finding.name())
            })
            .collect();
        keys.extend(doc.other_abnormalities.iter().map(|t| format!("other:{}", t.to_lowercase())));
        let mut out: Vec<u32> = keys
            .into_iter()
            .map(|k| {
                let next = self.ids.len() as u32;
                *self.ids.entry(k).or_insert(next)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One ranked corpus report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    /// Index into the corpus.
    pub index: usize,
    pub similarity: f64,
}

/// A corpus of reports reduced to concept sets.
#[derive(Debug, Default)]
pub struct RetrievalIndex {
    space: ConceptSpace,
    sets: Vec<Vec<u32>>,
}

impl RetrievalIndex {
    /// Builds the index from the corpus reports' findings documents, in corpus order.
    pub fn new<'a>(corpus: impl IntoIterator<Item = &'a Findings>) -> Self {
        let mut space = ConceptSpace::default();
        let sets = corpus.into_iter().map(|d| space.concepts(d)).collect();
        RetrievalIndex { space, sets }
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The `k` most similar corpus reports, best first (ties in corpus order), skipping those `skip` rejects
    /// (e.g. the query itself, for leave-one-out evaluation).
    pub fn nearest(&mut self, query: &Findings, k: usize, w: Tversky, skip: impl Fn(usize) -> bool) -> Vec<Neighbour> {
        let q = self.space.concepts(query);
        let mut all: Vec<Neighbour> = self
            .sets
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip(*i))
            .map(|(index, c)| Neighbour { index, similarity: w.similarity(&q, c) })
            .collect();
        // Stable sort: equal similarities stay in corpus order.
        all.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        all.truncate(k);
        all
    }
}

/// Edits a retrieved report to state the query's findings: sentences stating a finding the query states
/// otherwise (or does not mention, when the sentence asserts it) are removed, then a template sentence is
/// appended to FINDINGS for each query finding the edited report does not state as the query does. An
/// IMPRESSION left empty gets the template impression. Returns (FINDINGS, IMPRESSION) without headings.
pub fn edit_to_match(labeler: &Labeler, findings: &str, impression: &str, query: &Findings) -> (String, String) {
    let (head, mid) = ("FINDINGS: ", "\nIMPRESSION: ");
    let text = format!("{head}{findings}{mid}{impression}");
    let f_range = (head.len(), head.len() + findings.len());
    let i_range = (f_range.1 + mid.len(), text.len());
    let r = labeler.label(&text);
    let wanted = |f: Finding| query.get(f).map(|e| e.status.label());
    let mut drop: Vec<crate::text::Span> = r
        .mentions
        .iter()
        .filter(|m| {
            m.finding.is_some_and(|f| {
                f != Finding::NoFinding
                    && match wanted(f) {
                        Some(w) => w != r.get(f),
                        None => m.label.is_present_or_uncertain(),
                    }
            })
        })
        .map(|m| m.sentence)
        .collect();
    drop.sort_by_key(|s| s.start);
    drop.dedup();
    // Keep the text between dropped sentences, section by section.
    let (mut f_out, mut i_out) = (String::new(), String::new());
    let mut at = 0;
    for s in drop.iter().chain(std::iter::once(&crate::text::Span { start: text.len(), end: text.len() })) {
        let keep_end = s.start.max(at);
        for ((lo, hi), out) in [(f_range, &mut f_out), (i_range, &mut i_out)] {
            let (from, to) = (at.max(lo), keep_end.min(hi));
            if from < to {
                out.push_str(&text[from..to]);
                out.push(' ');
            }
        }
        at = s.end.max(at);
    }
    let tidy = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (mut f_out, mut i_out) = (tidy(&f_out), tidy(&i_out));
    let now = labeler.label(&format!("FINDINGS: {f_out}\nIMPRESSION: {i_out}"));
    // Positive and uncertain findings first, negatives after, as the templates order them.
    let mut entries: Vec<_> = query.findings.iter().filter(|e| e.finding != Finding::NoFinding).collect();
    entries.sort_by_key(|e| !e.status.label().is_present_or_uncertain());
    for e in entries {
        if now.get(e.finding) != e.status.label() {
            if let Some(sentence) = crate::draft::sentence_for_entry(e) {
                if !f_out.is_empty() {
                    f_out.push(' ');
                }
                f_out.push_str(&sentence);
            }
        }
    }
    if i_out.is_empty() {
        i_out = crate::draft(query).impression_text();
    }
    (f_out, i_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_core::{Finding, FindingLabels, Label};

    fn doc(pairs: &[(Finding, Label)], other: &[&str]) -> Findings {
        let mut l = FindingLabels::default();
        for &(f, v) in pairs {
            l.set(f, v);
        }
        let mut d = Findings::from_labels(&l);
        d.other_abnormalities = other.iter().map(|s| s.to_string()).collect();
        d
    }

    #[test]
    fn edits_make_a_retrieved_report_state_the_query() {
        let l = Labeler::default();
        let q = doc(&[(Finding::PleuralEffusion, Label::Positive), (Finding::Pneumothorax, Label::Negative)], &[]);
        let (f, i) = edit_to_match(
            &l,
            "Mild cardiomegaly. No pleural effusion. The lungs are clear.",
            "Cardiomegaly without effusion.",
            &q,
        );
        assert_eq!(f, "The lungs are clear. Pleural effusion. No pneumothorax.");
        assert_eq!(i, "Pleural effusion.");
        let back = l.label(&format!("FINDINGS: {f}\nIMPRESSION: {i}"));
        assert_eq!(back.get(Finding::PleuralEffusion), Label::Positive);
        assert_eq!(back.get(Finding::Cardiomegaly), Label::NotMentioned);
    }

    #[test]
    fn tversky_special_cases() {
        let (a, b) = ([1, 2, 3], [2, 3, 4, 5]);
        let dice = Tversky { alpha: 0.5, beta: 0.5 }.similarity(&a, &b);
        assert!((dice - 2.0 * 2.0 / 7.0).abs() < 1e-12);
        let jaccard = Tversky { alpha: 1.0, beta: 1.0 }.similarity(&a, &b);
        assert!((jaccard - 2.0 / 5.0).abs() < 1e-12);
        // Default: 2 / (2 + 1·1 + 0.5·2).
        assert!((Tversky::default().similarity(&a, &b) - 0.5).abs() < 1e-12);
        assert_eq!(Tversky::default().similarity(&[], &[]), 1.0);
        assert_eq!(Tversky::default().similarity(&[1], &[]), 0.0);
    }

    #[test]
    fn negation_is_a_different_concept_and_ties_keep_order() {
        let corpus = [
            doc(&[(Finding::PleuralEffusion, Label::Negative)], &[]),
            doc(&[(Finding::PleuralEffusion, Label::Positive), (Finding::Cardiomegaly, Label::Positive)], &[]),
            doc(&[(Finding::PleuralEffusion, Label::Positive)], &["granuloma"]),
            doc(&[(Finding::PleuralEffusion, Label::Positive)], &["granuloma"]),
        ];
        let mut index = RetrievalIndex::new(&corpus);
        let q = doc(&[(Finding::PleuralEffusion, Label::Positive)], &["granuloma"]);
        let n = index.nearest(&q, 4, Tversky::default(), |_| false);
        assert_eq!(n.iter().map(|n| n.index).collect::<Vec<_>>(), [2, 3, 1, 0]);
        assert_eq!((n[0].similarity, n[3].similarity), (1.0, 0.0));
        let n = index.nearest(&q, 1, Tversky::default(), |i| i == 2);
        assert_eq!(n[0].index, 3, "leave-one-out skips the query's own report");
    }
}
