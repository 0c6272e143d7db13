//! The labeler's conventions, one hand-written case each, and the CheXpert labeler's own example.

use cxr_core::{Finding, Label};
use cxr_report::{CueKind, Labeler, LabelerOptions, SectionKind};

use Finding::*;
use Label::*;

fn labels(text: &str) -> cxr_report::ReportLabels {
    Labeler::default().label(text)
}

fn check(text: &str, expected: &[(Finding, Label)]) {
    let r = labels(text);
    for &(f, want) in expected {
        assert_eq!(r.get(f), want, "{f} in {text:?}; mentions: {:#?}", r.mentions);
    }
}

#[test]
fn chexpert_labeler_example_cell_for_cell() {
    let mut reports = csv::ReaderBuilder::new().has_headers(false).from_path("tests/data/sample_reports.csv").unwrap();
    let mut golden = csv::Reader::from_path("tests/data/labeled_reports.csv").unwrap();
    let header = golden.headers().unwrap().clone();
    assert_eq!(header.len(), 15);
    let labeler = Labeler::default();
    let mut cells = 0;
    for (report, want) in reports.records().zip(golden.records()) {
        let (report, want) = (report.unwrap(), want.unwrap());
        assert_eq!(&report[0], &want[0]);
        let got = labeler.label(&report[0]);
        for (col, name) in header.iter().enumerate().skip(1) {
            let f: Finding = name.parse().unwrap();
            let want: Label = want[col].parse().unwrap();
            assert_eq!(got.get(f), want, "{name} in {:?}", &report[0]);
            cells += 1;
        }
    }
    assert_eq!(cells, 56);
}

#[test]
fn negation_with_scope_over_lists() {
    check(
        "There is no focal consolidation, pleural effusion, or pneumothorax.",
        &[(Consolidation, Negative), (PleuralEffusion, Negative), (Pneumothorax, Negative)],
    );
    check("Cardiomegaly without overt edema.", &[(Cardiomegaly, Positive), (Edema, Negative)]);
    check("Pneumothorax has resolved.", &[(Pneumothorax, Negative)]);
    check("No evidence of pneumothorax.", &[(Pneumothorax, Negative)]);
}

#[test]
fn scope_ends_at_conjunctions() {
    check("No effusion but there is mild atelectasis.", &[(PleuralEffusion, Negative), (Atelectasis, Positive)]);
    check("No pneumothorax; small left effusion.", &[(Pneumothorax, Negative), (PleuralEffusion, Positive)]);
    check("Possible pneumonia, however no effusion.", &[(Pneumonia, Uncertain), (PleuralEffusion, Negative)]);
    check("Heart size normal with mild bibasilar atelectasis.", &[(Cardiomegaly, Negative), (Atelectasis, Positive)]);
}

#[test]
fn pseudo_triggers_do_not_negate() {
    // "no change" is not a negation of what follows.
    check("No change in the left pleural effusion.", &[(PleuralEffusion, Positive)]);
    check("Not only atelectasis but also consolidation.", &[(Atelectasis, Positive), (Consolidation, Positive)]);
}

#[test]
fn chexpert_uncertainty_conventions() {
    // "no new X" is uncertain (pre-negation uncertainty beats negation).
    check("No new consolidation.", &[(Consolidation, Uncertain)]);
    // "X or Y" is uncertain, "no X or Y" negative.
    check("Atelectasis or pneumonia in the left base.", &[(Atelectasis, Uncertain), (Pneumonia, Uncertain)]);
    check("No pneumonia or effusion.", &[(Pneumonia, Negative), (PleuralEffusion, Negative)]);
    check("Pneumonia cannot be excluded.", &[(Pneumonia, Uncertain)]);
    check("Findings may represent early edema.", &[(Edema, Uncertain)]);
    // Stable/unchanged cardiomediastinal contour is uncertain; stable cardiomegaly stays positive.
    check("Stable cardiomediastinal contour.", &[(EnlargedCardiomediastinum, Uncertain)]);
    check("Heart size is unchanged.", &[(Cardiomegaly, Uncertain)]);
    check("Stable mild cardiomegaly.", &[(Cardiomegaly, Positive)]);
    check("Stable enlarged cardiac silhouette.", &[(Cardiomegaly, Positive)]);
}

#[test]
fn structure_terms_need_a_qualifier() {
    check("The heart is enlarged.", &[(Cardiomegaly, Positive)]);
    check("Mild enlargement of the cardiac silhouette.", &[(Cardiomegaly, Positive)]);
    check("The mediastinum is widened.", &[(EnlargedCardiomediastinum, Positive)]);
    check("The cardiac silhouette is within normal limits.", &[(Cardiomegaly, Negative)]);
    check("Heart size is not enlarged.", &[(Cardiomegaly, Negative)]);
    check("Normal heart size.", &[(Cardiomegaly, Negative)]);
    // Named but nothing said about it: not a mention.
    check("Lateral view of the heart and lungs.", &[(Cardiomegaly, NotMentioned), (NoFinding, Positive)]);
    check("The cardiac silhouette is borderline enlarged.", &[(Cardiomegaly, Uncertain)]);
}

#[test]
fn aggregation_rules() {
    // {0,1} -> 1
    check("No right effusion. Small left effusion.", &[(PleuralEffusion, Positive)]);
    // {0,-1} -> -1
    check("No effusion on the right. Possible left effusion.", &[(PleuralEffusion, Uncertain)]);
    // {-1,1} -> 1
    check("Possible effusion. Definite effusion on the lateral view.", &[(PleuralEffusion, Positive)]);
    // {0,-1,1} -> -1, as CheXpert's aggregate.py checks {0,-1} first.
    check(
        "No effusion on the right. Possible effusion at the apex. Small left effusion.",
        &[(PleuralEffusion, Uncertain)],
    );
}

#[test]
fn heart_failure_makes_cardiomegaly_uncertain() {
    let r = labels("Findings consistent with CHF.");
    assert_eq!(r.get(Edema), Positive);
    assert_eq!(r.get(Cardiomegaly), Uncertain);
    assert!(r.evidence(Cardiomegaly).any(|m| m.cue.as_ref().unwrap().category == CueKind::Implied));
    // A negated CHF implies nothing.
    check("No evidence of heart failure.", &[(Edema, Negative), (Cardiomegaly, NotMentioned)]);
    // The [hedged] phrases are uncertain Edema, as CheXpert's post-negation patterns make them.
    check("Mild pulmonary vascular congestion.", &[(Edema, Uncertain)]);
}

#[test]
fn no_finding_rules() {
    check("Heart size normal. Lungs are clear.", &[(NoFinding, Positive)]);
    // Support devices do not block No Finding.
    check("Endotracheal tube in good position. Lungs are clear.", &[(SupportDevices, Positive), (NoFinding, Positive)]);
    // Other abnormalities do, without labeling anything.
    let r = labels("Calcified granuloma in the right upper lobe. Mild emphysema.");
    assert_eq!(r.get(NoFinding), NotMentioned);
    assert_eq!(r.get(LungLesion), NotMentioned, "calcified nodules are granulomas, not lesions");
    assert!(r.mentions.iter().all(|m| m.finding.is_none()));
    // Uncertain findings block it; negated ones do not. It is never 0.
    check("Possible small effusion.", &[(NoFinding, NotMentioned)]);
    check("No effusion.", &[(NoFinding, Positive)]);
    for text in ["Large effusion.", "No effusion.", "", "Possible edema."] {
        assert_ne!(labels(text).get(NoFinding), Negative);
    }
}

#[test]
fn empty_reports_are_blank_not_normal() {
    for text in ["", "   \n\t ", "INDICATION: cough.\nCOMPARISON: none."] {
        let r = labels(text);
        assert!(r.empty, "{text:?}");
        assert!(r.labels.is_blank(), "{text:?}");
    }
}

#[test]
fn whole_words_only() {
    check("History of tuberculosis.", &[(SupportDevices, NotMentioned)]);
    check("Massive cardiomegaly.", &[(LungLesion, NotMentioned), (Cardiomegaly, Positive)]);
    check("Small pericardial effusion.", &[(PleuralEffusion, NotMentioned)]);
}

#[test]
fn sections_are_selected() {
    let text = "INDICATION: Rule out pneumonia.\nFINDINGS: Lungs are clear.\nIMPRESSION: No acute disease.";
    check(text, &[(Pneumonia, NotMentioned), (NoFinding, Positive)]);
    let all = Labeler::with_options(LabelerOptions {
        sections: vec![SectionKind::Indication, SectionKind::Findings, SectionKind::Impression],
        ..LabelerOptions::default()
    });
    assert_eq!(all.label(text).get(Pneumonia), Uncertain);
    // Columns given separately are all labeled.
    let r =
        Labeler::default().label_sections(&[(SectionKind::Findings, "Small effusion."), (SectionKind::Impression, "")]);
    assert_eq!(r.get(PleuralEffusion), Positive);
    assert_eq!(r.text, "FINDINGS: Small effusion.");
}

#[test]
fn evidence_points_into_the_text() {
    let text = "FINDINGS: The heart is enlarged. No pneumothorax.";
    let r = labels(text);
    let m = r.evidence(Cardiomegaly).next().unwrap();
    assert_eq!(m.span.of(&r.text), "heart");
    assert_eq!(m.sentence.of(&r.text), "The heart is enlarged.");
    assert_eq!(r.text_of(m.cue.as_ref().unwrap().span), "enlarged");
    assert_eq!(m.section, SectionKind::Findings);
    let n = r.evidence(Pneumothorax).next().unwrap();
    assert_eq!((r.text_of(n.span), r.text_of(n.cue.as_ref().unwrap().span)), ("pneumothorax", "No"));
    assert_eq!(n.cue.as_ref().unwrap().category, CueKind::Negation);
}

#[test]
fn de_identification_tokens_and_odd_text() {
    check("There are no XXXX of a pleural effusion.", &[(PleuralEffusion, Negative)]);
    check("Heart size normal. XXXX XXXX are intact.", &[(NoFinding, Positive)]);
    // Non-ASCII text is carried through, offsets stay valid.
    let r = labels("Kleiner Erguss – small effusion. Ödem.");
    let m = r.evidence(PleuralEffusion).next().unwrap();
    assert_eq!(m.span.of(&r.text), "effusion");
}

#[test]
fn overlapping_triggers_of_equal_length_both_count() {
    // "are clear" (backward) and "clear of" (forward) overlap on "clear": both stand.
    check("Lungs are clear of pneumonia.", &[(Pneumonia, Negative)]);
    // A longer trigger hides the shorter ones inside it.
    check("No change in the left effusion.", &[(PleuralEffusion, Positive)]);
}
