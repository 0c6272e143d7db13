//! Per-image latency of the built-in runtime (for bench/predict.sh): loads a model, runs one input `runs`
//! times after two warm-ups on `threads` threads, prints JSON with the median and the outputs.
//!
//!     cargo run --release -p cxr-model --example latency -- MODEL.onnx INPUT.f32 SIZE THREADS RUNS [ort LIB]
//!
//! With `ort LIB` (and `--features ort`) the model runs on onnxruntime loaded from LIB.
use cxr_model::{Model, Runtime, Tensor};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let threads: usize = a[4].parse().unwrap();
    let runtime = match a.get(6).map(String::as_str) {
        Some("ort") => Runtime::Ort { library: a[7].clone().into(), threads },
        _ => Runtime::Builtin,
    };
    let model = Model::load_with(std::path::Path::new(&a[1]), &runtime).expect("model");
    let raw = std::fs::read(&a[2]).expect("input");
    let x: Vec<f32> = raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let size: usize = a[3].parse().unwrap();
    let runs: usize = a[5].parse().unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let run = || pool.install(|| model.run(Tensor::float(vec![1, 1, size, size], x.clone())).expect("run"));
    run();
    run();
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..runs {
        let t = std::time::Instant::now();
        out = Some(run());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let out = out.unwrap();
    let logits = out["logits"].to_f32();
    println!("{}", serde_json::json!({"median_ms": times[times.len() / 2], "logits": logits}));
}
