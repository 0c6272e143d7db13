//! All saliency metrics on many map pairs, timed (for `bench/saliency.sh`). Reads raw little-endian f64 files
//! `S.bin`, `G.bin`, `F.bin` (n maps of h × w each) from a folder and computes NSS (both), CC, KLD, SIM (both),
//! AUC-Judd, AUC-Borji (100 splits) and EMD (32×32 block means) for every pair, `repeat` times over the set.
//! Prints JSON: pairs, seconds, and the sums of each metric (to compare with the peer).
//! Usage: saliency_throughput DIR N H W REPEAT

use cxr_metrics::saliency::*;

fn read(path: &std::path::Path) -> Vec<f64> {
    let b = std::fs::read(path).expect("readable map file");
    b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&a[1]);
    let (n, h, w, repeat): (usize, usize, usize, usize) =
        (a[2].parse().unwrap(), a[3].parse().unwrap(), a[4].parse().unwrap(), a[5].parse().unwrap());
    let (s, g, f) = (read(&dir.join("S.bin")), read(&dir.join("G.bin")), read(&dir.join("F.bin")));
    let px = h * w;
    let t = std::time::Instant::now();
    let mut sums = [0.0f64; 9];
    for _ in 0..repeat {
        for k in 0..n {
            let (sk, gk) = (&s[k * px..(k + 1) * px], &g[k * px..(k + 1) * px]);
            let fk: Vec<bool> = f[k * px..(k + 1) * px].iter().map(|&v| v > 0.0).collect();
            let v = [
                nss(sk, &fk, StdDdof::Matlab).unwrap_or(f64::NAN),
                nss(sk, &fk, StdDdof::Pysaliency).unwrap_or(f64::NAN),
                cc(sk, gk),
                kld(sk, gk),
                sim(sk, gk, SimVariant::Matlab),
                sim(sk, gk, SimVariant::Pysaliency),
                auc_judd(sk, &fk).unwrap_or(f64::NAN),
                auc_borji(sk, &fk, 100, 0.1, 7).map(|x| x.0).unwrap_or(f64::NAN),
                emd(sk, gk, w, h, 32).unwrap_or(f64::NAN),
            ];
            for (s, x) in sums.iter_mut().zip(v) {
                *s += x;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let names =
        ["nss_matlab", "nss_pysaliency", "cc", "kld", "sim_matlab", "sim_pysaliency", "auc_judd", "auc_borji", "emd"];
    let fields: Vec<String> = names.iter().zip(sums).map(|(k, v)| format!("\"{k}\": {}", v / repeat as f64)).collect();
    println!("{{\"pairs\": {}, \"seconds\": {secs}, {}}}", n * repeat, fields.join(", "));
}
