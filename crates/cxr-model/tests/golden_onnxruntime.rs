//! Golden tests: the built-in runtime against onnxruntime (Python, CPU) on the small models that
//! `scripts/make_test_models.py` generates (weights seeded-random or set by hand; see tests/data/PROVENANCE.md):
//! a DenseNet with torchxrayvision DenseNet-121's operators, a graph of the other supported operators, and
//! a model whose answer depends on one known region (for the heatmap test). Tolerance 1e-4 (absolute, and
//! relative for large logits).

use cxr_model::card::{ModelCard, Predictor};
use cxr_model::explain::{occlusion, Occlusion};
use cxr_model::{Model, Tensor};
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/expected_outputs.json")).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn shape(v: &serde_json::Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn check_model(name: &str) {
    let e = &expected()["models"][name];
    let model = Model::load(Path::new(&format!("{DATA}/{name}.onnx"))).unwrap();
    let input = Tensor::float(shape(&e["input_shape"]), floats(&e["input"]));
    let out = model.run(input).unwrap();
    let outputs = e["outputs"].as_object().unwrap();
    assert_eq!(out.len(), outputs.len());
    for (k, want) in outputs {
        let got = &out[k];
        assert_eq!(got.shape, shape(&want["shape"]), "{name}/{k}");
        for (i, (g, w)) in got.to_f32().iter().zip(floats(&want["values"])).enumerate() {
            assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{name}/{k}[{i}]: {g} vs onnxruntime {w}");
        }
    }
}

#[test]
fn densenet_equals_onnxruntime() {
    check_model("mini_densenet");
}

#[test]
fn other_operators_equal_onnxruntime() {
    check_model("misc_ops");
}

#[test]
fn region_model_equals_onnxruntime() {
    check_model("region_model");
}

#[test]
fn thread_count_does_not_change_outputs() {
    let e = &expected()["models"]["mini_densenet"];
    let model = Model::load(Path::new(&format!("{DATA}/mini_densenet.onnx"))).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let input = Tensor::float(shape(&e["input_shape"]), floats(&e["input"]));
        pool.install(|| model.run(input).unwrap()["logits"].to_f32())
    };
    assert_eq!(run(1), run(2));
}

fn region_card() -> ModelCard {
    serde_json::from_value(serde_json::json!({
        "name": "region-test",
        "onnx": "region_model.onnx",
        "demonstration_only": true,
        "input": {"size": 32, "channels": 1},
        "preprocess": {"fit": "stretch", "normalize": "unit"},
        "output": {"kind": "sigmoid"},
        "labels": ["Cardiomegaly"],
        "thresholds": {"Cardiomegaly": 0.6}
    }))
    .unwrap()
}

#[test]
fn occlusion_highlights_the_region_the_model_reads() {
    // The model reads only rows 8..16, columns 20..28 of its 32×32 input.
    let p =
        Predictor::new(region_card(), Model::load(Path::new(&format!("{DATA}/region_model.onnx"))).unwrap()).unwrap();
    let bright = cxr_core::image::Image2::new(32, 32, vec![1.0f32; 32 * 32]).unwrap();
    let input = p.input_values(&bright);
    let (maps, base) = occlusion(&p, &input, Occlusion { patch: 4, stride: 4, batch: 8 }).unwrap();
    assert!(base[0] > 0.8);
    let m = &maps[0];
    let inside: f32 =
        (8..16).flat_map(|y| (20..28).map(move |x| (y, x))).map(|(y, x)| m[y * 32 + x]).sum::<f32>() / 64.0;
    let outside_max = (0..32 * 32)
        .filter(|i| !((8..16).contains(&(i / 32)) && (20..28).contains(&(i % 32))))
        .map(|i| m[i].abs())
        .fold(0f32, f32::max);
    assert!(inside > 0.01, "occluding the region lowers the score ({inside})");
    assert!(outside_max < 1e-6, "the rest of the image does not matter ({outside_max})");
    // Decisions: 0.88 ≥ 0.6 → positive, and a findings entry with the probability.
    let pred = p.predict(&bright).unwrap();
    assert!(pred.labels[0].positive);
    let f = pred.findings.get(cxr_core::Finding::Cardiomegaly).unwrap();
    assert_eq!(f.status, cxr_core::Status::Positive);
    let dark = cxr_core::image::Image2::new(32, 32, vec![0.0f32; 32 * 32]).unwrap();
    assert!(!p.predict(&dark).unwrap().labels[0].positive);
}

#[test]
fn cards_that_disagree_with_the_model_are_refused() {
    let model = || Model::load(Path::new(&format!("{DATA}/region_model.onnx"))).unwrap();
    let mut c = region_card();
    c.input.size = 64;
    let e = Predictor::new(c, model()).unwrap_err().to_string();
    assert!(e.contains("does not match the model's input shape"), "{e}");
    let mut c = region_card();
    c.labels.push("Edema".into());
    let e = Predictor::new(c, model()).unwrap_err().to_string();
    assert!(e.contains("2 labels") && e.contains("has 1"), "{e}");
    let mut c = region_card();
    c.thresholds.insert("Nope".into(), 0.1);
    assert!(Predictor::new(c, model()).unwrap_err().to_string().contains("not one of the card's labels"));
    let mut c = region_card();
    c.output.name = Some("missing".into());
    assert!(Predictor::new(c, model()).is_err());
}

#[test]
fn wrong_input_shapes_and_unsupported_operators_are_errors() {
    let model = Model::load(Path::new(&format!("{DATA}/mini_densenet.onnx"))).unwrap();
    let e = model.run(Tensor::float(vec![1, 1, 32, 32], vec![0.0; 1024])).unwrap_err().to_string();
    assert!(e.contains("expects shape [?, 1, 64, 64]"), "{e}");
    // Rename an operator in the file: the load fails naming it.
    let mut bytes = std::fs::read(format!("{DATA}/misc_ops.onnx")).unwrap();
    let at = bytes.windows(9).position(|w| w == b"Transpose").unwrap();
    bytes[at..at + 9].copy_from_slice(b"Xranspose");
    let e = Model::from_bytes(&bytes).unwrap_err().to_string();
    assert!(e.contains("Xranspose") && e.contains("--runtime ort"), "{e}");
}

#[test]
fn demo_model_equals_onnxruntime() {
    check_model("demo_model");
}

#[test]
fn class_activation_maps_average_to_the_logits() {
    // mini_densenet ends Relu → GlobalAveragePool → Flatten → Gemm(transB): mean(CAM_c) + b_c = logit_c.
    let model = Model::load(Path::new(&format!("{DATA}/mini_densenet.onnx"))).unwrap();
    let gap = model.graph.nodes.iter().find(|n| n.op == "GlobalAveragePool").unwrap().inputs[0].clone();
    let gemm = model.graph.nodes.iter().find(|n| n.op == "Gemm").unwrap().clone();
    let bias = model.graph.initializers[&gemm.inputs[2]].to_f32();
    let labels: Vec<String> = (0..18).map(|i| format!("out{i}")).collect();
    let card: ModelCard = serde_json::from_value(serde_json::json!({
        "name": "cam-test", "onnx": "mini_densenet.onnx",
        "input": {"size": 64, "channels": 1}, "preprocess": {"fit": "stretch", "normalize": "txv"},
        "output": {"name": "logits", "kind": "logits"}, "labels": labels,
        "cam": {"features": gap, "weights": gemm.inputs[1]}
    }))
    .unwrap();
    let p = Predictor::new(card, model).unwrap();
    let e = &expected()["models"]["mini_densenet"];
    let input: Vec<f32> = floats(&e["input"])[..64 * 64].to_vec();
    let (maps, (h, w)) = cxr_model::explain::cam(&p, &input).unwrap();
    assert_eq!((h, w), (2, 2));
    let logits = floats(&e["outputs"]["logits"]["values"]);
    for (c, m) in maps.iter().enumerate() {
        let mean = m.iter().sum::<f32>() / m.len() as f32;
        assert!(
            (mean + bias[c] - logits[c]).abs() <= 1e-3 * logits[c].abs().max(1.0),
            "label {c}: {} vs {}",
            mean + bias[c],
            logits[c]
        );
    }
    // A card whose weights are not an initializer is refused.
    let mut bad = p.card.clone();
    bad.cam.as_mut().unwrap().weights = "nope".into();
    let model = Model::load(Path::new(&format!("{DATA}/mini_densenet.onnx"))).unwrap();
    assert!(Predictor::new(bad, model).unwrap_err().to_string().contains("cam.weights"));
}

#[test]
fn masking_the_region_the_model_reads_changes_its_answer() {
    let p =
        Predictor::new(region_card(), Model::load(Path::new(&format!("{DATA}/region_model.onnx"))).unwrap()).unwrap();
    let bright = cxr_core::image::Image2::new(32, 32, vec![1.0f32; 32 * 32]).unwrap();
    let input = p.input_values(&bright);
    let base = p.scores(input.clone(), 1).unwrap()[0][0];
    // The region is columns 20..28, rows 8..16: covering it sends the score to sigmoid(4·0.5 − 2) = 0.5.
    let hit = cxr_model::explain::masked_scores(&p, &input, [0.5, 0.0, 1.0, 0.6]).unwrap()[0];
    let miss = cxr_model::explain::masked_scores(&p, &input, [0.0, 0.0, 0.5, 1.0]).unwrap()[0];
    assert!((hit - 0.5).abs() < 1e-6, "{hit}");
    assert!((miss - base).abs() < 1e-12);
    assert!(cxr_model::explain::masked_scores(&p, &input, [0.5, 0.0, 0.4, 1.0]).is_err());
    // A region mask (e.g. a segmentation): exactly the region read → neutral; its complement → unchanged region.
    let region: Vec<bool> = (0..32 * 32).map(|i| (8..16).contains(&(i / 32)) && (20..28).contains(&(i % 32))).collect();
    let inside = cxr_model::explain::region_masked_scores(&p, &input, &region).unwrap()[0];
    let outside: Vec<bool> = region.iter().map(|m| !m).collect();
    let kept = cxr_model::explain::region_masked_scores(&p, &input, &outside).unwrap()[0];
    assert!((inside - 0.5).abs() < 1e-6 && (kept - base).abs() < 1e-12, "{inside} {kept}");
    assert!(cxr_model::explain::region_masked_scores(&p, &input, &region[..100]).is_err());
}

/// With `--features ort`, onnxruntime itself (ORT_DYLIB_PATH = the PyPI wheel's libonnxruntime.so) must give
/// the reference outputs: `ORT_DYLIB_PATH=… cargo test -p cxr-model --features ort`.
#[cfg(feature = "ort")]
#[test]
fn onnxruntime_backend_equals_the_reference() {
    let lib = std::env::var("ORT_DYLIB_PATH").expect("set ORT_DYLIB_PATH to libonnxruntime.so to test the ort feature");
    let e = &expected()["models"]["mini_densenet"];
    let runtime = cxr_model::Runtime::Ort { library: lib.into(), threads: 1 };
    let model = Model::load_with(Path::new(&format!("{DATA}/mini_densenet.onnx")), &runtime).unwrap();
    let out = model.run(Tensor::float(shape(&e["input_shape"]), floats(&e["input"]))).unwrap();
    for (g, w) in out["logits"].to_f32().iter().zip(floats(&e["outputs"]["logits"]["values"])) {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{g} vs {w}");
    }
}

#[test]
fn unet_with_transposed_convolution_and_resize_equals_onnxruntime() {
    check_model("tiny_unet");
}
