//! Labels the IU X-Ray dev reports repeatedly in one thread and prints reports/s (for profiling; the
//! side-by-side benchmark against the Python peer is `bench/label.sh`).
use cxr_report::{Labeler, SectionKind};
fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "crates/cxr-report/tests/data/iu-xray-dev.csv".into());
    let mut rdr = csv::Reader::from_path(&path).expect("readable CSV");
    let rows: Vec<(String, String)> =
        rdr.records().map(|r| r.unwrap()).map(|r| (r[4].to_string(), r[5].to_string())).collect();
    let t_build = std::time::Instant::now();
    let labeler = Labeler::default();
    println!("Labeler::default() took {:.2} ms", t_build.elapsed().as_secs_f64() * 1e3);
    let rounds = 30;
    let t0 = std::time::Instant::now();
    let mut positives = 0usize;
    for _ in 0..rounds {
        for (f, i) in &rows {
            let r = labeler.label_sections(&[(SectionKind::Findings, f), (SectionKind::Impression, i)]);
            positives += r.labels.iter().filter(|(_, l)| *l == cxr_core::Label::Positive).count();
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let n = (rows.len() * rounds) as f64;
    println!(
        "{n} reports in {dt:.3} s = {:.0} reports/s ({:.1} us/report; {positives} positives)",
        n / dt,
        dt / n * 1e6
    );
}
