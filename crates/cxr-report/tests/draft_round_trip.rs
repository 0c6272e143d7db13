//! labels → draft → `cxr label` reproduces the labels exactly, on every IU X-Ray dev report (the issue's
//! round-trip criterion), with laterality and severity carried through.

use cxr_report::{draft, findings_from_report, Labeler, SectionKind};

#[test]
fn drafts_read_back_as_their_labels() {
    let labeler = Labeler::default();
    let mut rdr = csv::Reader::from_path("tests/data/iu-xray-dev.csv").unwrap();
    let (mut n, mut bad) = (0, Vec::new());
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let r = labeler.label_sections(&[(SectionKind::Findings, &rec[4]), (SectionKind::Impression, &rec[5])]);
        if r.empty {
            continue;
        }
        let d = draft(&findings_from_report(&r));
        let back = labeler.label(&d.text());
        n += 1;
        if back.labels != r.labels {
            bad.push(format!(
                "{}: {:?}\n  draft: {}",
                &rec[0],
                r.labels.iter().zip(back.labels.iter()).filter(|(a, b)| a != b).collect::<Vec<_>>(),
                d.text()
            ));
        }
    }
    assert!(n > 950);
    assert!(
        bad.is_empty(),
        "{} of {n} drafts do not read back:\n{}",
        bad.len(),
        bad.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
}
