//! Flags raised by `check` on uncorrupted reports (false-alarm rate), by kind. Usage: check_flag_rate [CSV]
use cxr_report::{check, Labeler};
use std::collections::BTreeMap;
fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "crates/cxr-report/tests/data/iu-xray-dev.csv".into());
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let l = Labeler::default();
    let (mut n, mut flagged) = (0, 0);
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let text = format!("FINDINGS: {}\nIMPRESSION: {}", &rec[4], &rec[5]);
        let c = check(&l, &text, None);
        n += 1;
        flagged += usize::from(!c.flags.is_empty());
        for f in &c.flags {
            *by.entry(format!("{:?}", f.kind)).or_default() += 1;
            if std::env::var_os("SHOW").is_some() {
                eprintln!("{} {:?}: {}", &rec[0], f.kind, f.why);
            }
        }
    }
    println!("{flagged} of {n} uncorrupted reports flagged; by kind: {by:?}");
}
