//! METEOR on the 3,425 golden pairs with the full resources: load and scoring times, and the pairs that differ
//! from the jar's per-pair values (used for BENCHMARKS.md).
//!
//!     [CACHE=<dir>] REPS=5 cargo run --release -p cxr-metrics --example meteor_check -- <pycocoevalcap>/meteor \
//!         crates/cxr-metrics/tests/data/pairs_tokenized.csv.gz crates/cxr-metrics/tests/data/per_pair_scores.csv.gz
use cxr_metrics::text::meteor::{Meteor, MeteorStats};
use std::io::Read;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&args[2]).unwrap()).read_to_string(&mut s).unwrap();
    let mut rd = csv::Reader::from_reader(s.as_bytes());
    let rows: Vec<(String, String)> = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[6].to_string(), r[5].to_string())
        })
        .collect();
    let mut s2 = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&args[3]).unwrap()).read_to_string(&mut s2).unwrap();
    let mut rd = csv::Reader::from_reader(s2.as_bytes());
    let want: Vec<f64> = rd.records().map(|r| r.unwrap()[7].parse().unwrap()).collect();
    let t = std::time::Instant::now();
    let texts: Vec<&str> = rows.iter().flat_map(|(h, r)| [h.as_str(), r.as_str()]).collect();
    // CACHE=<dir>: read the paraphrase table through its index (built there on first use).
    let m = match std::env::var_os("CACHE") {
        Some(dir) => {
            Meteor::load_for_cached(std::path::Path::new(&args[1]), &texts, std::path::Path::new(&dir)).unwrap().0
        }
        None => Meteor::load_for(std::path::Path::new(&args[1]), &texts).unwrap(),
    };
    eprintln!("load {:?}", t.elapsed());
    let reps: usize = std::env::var("REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut best = f64::MAX;
    let mut stats: Vec<MeteorStats> = Vec::new();
    for _ in 0..reps {
        let t = std::time::Instant::now();
        stats = rows.iter().map(|(h, r)| m.segment_stats(h, &[r])).collect();
        best = best.min(t.elapsed().as_secs_f64());
    }
    eprintln!("score {best:.3} s (best of {reps})");
    let mut bad = 0;
    for (i, (st, w)) in stats.iter().zip(&want).enumerate() {
        let got = st.score(&m.params);
        if (got - w).abs() > 1e-6 {
            bad += 1;
            if bad < 15 {
                println!("{i}: got {got} want {w} | {} || {}", rows[i].0, rows[i].1);
            }
        }
    }
    println!("{bad} of {} differ; corpus {}", want.len(), MeteorStats::sum(&stats).score(&m.params));
}
