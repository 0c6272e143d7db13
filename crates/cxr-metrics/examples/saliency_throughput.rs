//! All saliency metrics on many map pairs, timed (for `bench/saliency.sh`). Reads raw little-endian f64 files
//! `S.bin`, `G.bin`, `F.bin` (n maps of h × w each) from a folder and computes NSS (both), CC, KLD, SIM (both),
//! AUC-Judd, AUC-Borji (100 splits) and EMD (32×32 block means) for every pair with `saliency::evaluate`,
//! `repeat` times over the set, on `THREADS` threads (default 1; pairs in parallel, summed in order).
//! With `BREAKDOWN=1` each metric goes through its own function instead, timed separately.
//! Prints JSON: pairs, seconds, threads, the sums of each metric (to compare with the peer) and, with
//! BREAKDOWN, the time in each metric.
//! Usage: saliency_throughput DIR N H W REPEAT

use cxr_metrics::saliency::*;
use rayon::prelude::*;

fn read(path: &std::path::Path) -> Vec<f64> {
    let b = std::fs::read(path).expect("readable map file");
    b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

const NAMES: [&str; 9] =
    ["nss_matlab", "nss_pysaliency", "cc", "kld", "sim_matlab", "sim_pysaliency", "auc_judd", "auc_borji", "emd"];

fn as_array(s: &SaliencyScores) -> [f64; 9] {
    [s.nss_matlab, s.nss_pysaliency, s.cc, s.kld, s.sim_matlab, s.sim_pysaliency, s.auc_judd, s.auc_borji, s.emd]
        .map(|v| v.unwrap_or(f64::NAN))
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&a[1]);
    let (n, h, w, repeat): (usize, usize, usize, usize) =
        (a[2].parse().unwrap(), a[3].parse().unwrap(), a[4].parse().unwrap(), a[5].parse().unwrap());
    let threads: usize = std::env::var("THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let breakdown = std::env::var("BREAKDOWN").is_ok_and(|v| v == "1");
    let (s, g, f) = (read(&dir.join("S.bin")), read(&dir.join("G.bin")), read(&dir.join("F.bin")));
    let px = h * w;
    let fixations: Vec<Vec<bool>> =
        (0..n).map(|k| f[k * px..(k + 1) * px].iter().map(|&v| v > 0.0).collect()).collect();
    let pair = |k: usize| (&s[k * px..(k + 1) * px], &g[k * px..(k + 1) * px], &fixations[k][..]);
    let options = SaliencyOptions::default();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let mut sums = [0.0f64; 9];
    let mut spent = [0.0f64; 9];
    let t = std::time::Instant::now();
    if breakdown {
        for k in (0..repeat).flat_map(|_| 0..n) {
            let (sk, gk, fk) = pair(k);
            let metrics: [&dyn Fn() -> f64; 9] = [
                &|| nss(sk, fk, StdDdof::Matlab).unwrap_or(f64::NAN),
                &|| nss(sk, fk, StdDdof::Pysaliency).unwrap_or(f64::NAN),
                &|| cc(sk, gk),
                &|| kld(sk, gk),
                &|| sim(sk, gk, SimVariant::Matlab),
                &|| sim(sk, gk, SimVariant::Pysaliency),
                &|| auc_judd(sk, fk).unwrap_or(f64::NAN),
                &|| auc_borji(sk, fk, 100, 0.1, 7).map(|x| x.0).unwrap_or(f64::NAN),
                &|| emd(sk, gk, w, h, 32).unwrap_or(f64::NAN),
            ];
            for ((metric, sum), time) in metrics.iter().zip(&mut sums).zip(&mut spent) {
                let start = std::time::Instant::now();
                *sum += metric();
                *time += start.elapsed().as_secs_f64();
            }
        }
    } else {
        let scores: Vec<SaliencyScores> = pool.install(|| {
            (0..repeat * n)
                .into_par_iter()
                .map(|i| {
                    let (sk, gk, fk) = pair(i % n);
                    evaluate(sk, fk, Some(gk), w, h, &options)
                })
                .collect()
        });
        for sc in &scores {
            for (sum, v) in sums.iter_mut().zip(as_array(sc)) {
                *sum += v;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let fields: Vec<String> = NAMES.iter().zip(sums).map(|(k, v)| format!("\"{k}\": {}", v / repeat as f64)).collect();
    let times: Vec<String> = NAMES.iter().zip(spent).map(|(k, v)| format!("\"{k}\": {v:.4}")).collect();
    let threads = if breakdown { 1 } else { threads };
    println!(
        "{{\"pairs\": {}, \"seconds\": {secs}, \"threads\": {threads}, {}{}}}",
        n * repeat,
        fields.join(", "),
        if breakdown { format!(", \"seconds_per_metric\": {{{}}}", times.join(", ")) } else { String::new() }
    );
}
