//! Running users' chest X-ray models (ONNX) on a CPU, without Python: a built-in runtime, model cards,
//! calibrated per-finding decisions and model-agnostic explanations.
//!
//! * [`Model`] loads an ONNX file ([`onnx`], a hand-written protobuf reader that never panics on corrupt
//!   files) and runs it with the operators in [`ops`] — those `torch.onnx.export` emits for CNN
//!   classifiers such as torchxrayvision's DenseNet-121 and ResNet-50, and for U-Net segmenters. An
//!   unsupported operator is an error at load time that names it. The runtime is pure Rust and builds in seconds; convolutions are im2col +
//!   GEMM (`matrixmultiply`, with run-time SIMD detection), parallel over output columns with rayon, so the
//!   numbers do not depend on the thread count.
//! * [`card::ModelCard`] describes a model (input, preprocessing, outputs, labels → findings, thresholds,
//!   calibration, provenance); [`card::Predictor`] turns an image into scores, calibrated probabilities,
//!   decisions and a [`cxr_core::Findings`] document.
//! * [`explain`] computes occlusion-sensitivity heatmaps for any model, class activation maps, and the
//!   mask-of-truth scores; [`ood`] is a model-independent out-of-distribution gate; [`search`] finds nearest
//!   embeddings. With the `ort` feature, [`Runtime::Ort`] runs models on onnxruntime instead.

pub mod card;
pub mod explain;
pub mod onnx;
pub mod ood;
pub mod ops;
#[cfg(feature = "ort")]
pub mod ort_backend;
pub mod search;
pub mod tensor;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
pub use tensor::Tensor;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("not a usable ONNX model: {0}")]
    Onnx(String),
    #[error(
        "the built-in runtime does not support {0} (it runs CNN classifiers and segmenters: {ops}); transformer \
         models run on onnxruntime: build with `--features ort` and use `--runtime ort`",
        ops = SUPPORTED_OPS.join(", ")
    )]
    Unsupported(String),
    #[error("{op} node {node:?}: {problem}")]
    Op { op: String, node: String, problem: String },
    #[error("{0}")]
    Input(String),
    #[error("model card {path}: {problem}")]
    Card { path: PathBuf, problem: String },
}

/// The operators [`ops::run`] implements.
pub const SUPPORTED_OPS: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "ConvTranspose",
    "Div",
    "Dropout",
    "Exp",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Identity",
    "LeakyRelu",
    "MatMul",
    "MaxPool",
    "Mul",
    "Neg",
    "ReduceMean",
    "Relu",
    "Reshape",
    "Resize",
    "Shape",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
    "Upsample",
];

/// A loaded model, checked and ready to run.
#[derive(Debug)]
pub struct Model {
    pub graph: onnx::Graph,
    /// For each value, the index of the last node that reads it (values are freed after it).
    last_use: HashMap<String, usize>,
    /// Set when the model runs on onnxruntime instead of the built-in runtime.
    #[cfg(feature = "ort")]
    ort: Option<ort_backend::OrtSession>,
}

/// Which engine runs a model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Runtime {
    /// The built-in pure-Rust runtime.
    #[default]
    Builtin,
    /// onnxruntime, loaded from this shared library (needs the `ort` cargo feature).
    Ort { library: PathBuf, threads: usize },
}

impl Model {
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        Self::load_with(path, &Runtime::Builtin)
    }

    /// Loads a model for the given runtime. With onnxruntime the graph is still decoded (for the card checks and
    /// class activation maps' weights), but its operators need not be ones the built-in runtime supports.
    pub fn load_with(path: &Path, runtime: &Runtime) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read { path: path.to_path_buf(), source })?;
        match runtime {
            Runtime::Builtin => Self::from_bytes(&bytes),
            #[cfg(feature = "ort")]
            Runtime::Ort { library, threads } => {
                let graph = onnx::parse_model(&bytes)?;
                let outputs = graph.outputs.iter().map(|o| o.name.clone()).collect();
                let session = ort_backend::OrtSession::load(library, path, *threads, outputs)?;
                Ok(Model { graph, last_use: HashMap::new(), ort: Some(session) })
            }
            #[cfg(not(feature = "ort"))]
            Runtime::Ort { .. } => Err(ModelError::Input(
                "this build has no onnxruntime backend: rebuild with `cargo build --release --features ort` \
                 (or use the built-in runtime)"
                    .into(),
            )),
        }
    }

    /// Decodes and checks a model: every operator supported, every value defined before it is used.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let graph = onnx::parse_model(bytes)?;
        let unsupported: Vec<&str> = graph
            .nodes
            .iter()
            .map(|n| n.op.as_str())
            .filter(|op| !SUPPORTED_OPS.contains(op))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !unsupported.is_empty() {
            return Err(ModelError::Unsupported(format!("operator(s) {}", unsupported.join(", "))));
        }
        let mut defined: HashSet<&str> = graph.initializers.keys().map(String::as_str).collect();
        defined.extend(graph.inputs.iter().map(|i| i.name.as_str()));
        let mut last_use = HashMap::new();
        for (i, n) in graph.nodes.iter().enumerate() {
            for inp in n.inputs.iter().filter(|s| !s.is_empty()) {
                if !defined.contains(inp.as_str()) {
                    return Err(ModelError::Onnx(format!(
                        "node {:?} ({}) reads {inp:?} before anything defines it (the graph is not in topological order)",
                        n.name, n.op
                    )));
                }
                last_use.insert(inp.clone(), i);
            }
            defined.extend(n.outputs.iter().map(String::as_str));
        }
        for o in &graph.outputs {
            if !defined.contains(o.name.as_str()) {
                return Err(ModelError::Onnx(format!("the graph output {:?} is never computed", o.name)));
            }
            last_use.insert(o.name.clone(), usize::MAX);
        }
        Ok(Model {
            graph,
            last_use,
            #[cfg(feature = "ort")]
            ort: None,
        })
    }

    /// The (first) input: its name and declared shape.
    pub fn input(&self) -> &onnx::ValueInfo {
        &self.graph.inputs[0]
    }

    pub fn output_names(&self) -> Vec<&str> {
        self.graph.outputs.iter().map(|o| o.name.as_str()).collect()
    }

    /// Runs the graph on one input tensor; returns every graph output.
    pub fn run(&self, input: Tensor) -> Result<HashMap<String, Tensor>, ModelError> {
        self.run_with(input, &[])
    }

    /// Like [`Model::run`], also returning the intermediate values named in `keep` (e.g. a feature map).
    pub fn run_with(&self, input: Tensor, keep: &[&str]) -> Result<HashMap<String, Tensor>, ModelError> {
        #[cfg(feature = "ort")]
        if let Some(session) = &self.ort {
            if !keep.is_empty() {
                return Err(ModelError::Input(
                    "intermediate values (class activation maps) need the built-in runtime".into(),
                ));
            }
            return session.run(&self.input().name, input);
        }
        for k in keep {
            let known = self.graph.nodes.iter().any(|n| n.outputs.iter().any(|o| o == k));
            if !known {
                return Err(ModelError::Input(format!("the model computes no value named {k:?}")));
            }
        }
        let info = self.input();
        if let Some(shape) = &info.shape {
            let fits = shape.len() == input.shape.len()
                && shape.iter().zip(&input.shape).all(|(want, got)| want.is_none_or(|w| w == *got));
            if !fits {
                return Err(ModelError::Input(format!(
                    "the model's input {:?} expects shape {} but got {:?}",
                    info.name,
                    shape_text(shape),
                    input.shape
                )));
            }
        }
        let mut values: HashMap<String, Tensor> = HashMap::new();
        values.insert(info.name.clone(), input);
        for (i, node) in self.graph.nodes.iter().enumerate() {
            // An elementwise layer whose input nobody else reads overwrites it instead of copying.
            let first = node.inputs.first().map(String::as_str).unwrap_or("");
            let owned = if ops::runs_in_place(&node.op)
                && self.last_use.get(first) == Some(&i)
                && !keep.contains(&first)
                && node.inputs.iter().filter(|n| n.as_str() == first).count() == 1
            {
                values.remove(first)
            } else {
                None
            };
            let outs = if let Some(x) = owned {
                let rest: Vec<Option<&Tensor>> = node.inputs[1..]
                    .iter()
                    .map(|name| values.get(name).or_else(|| self.graph.initializers.get(name)))
                    .collect();
                vec![ops::run_in_place(node, x, &rest)?]
            } else {
                let ins: Vec<Option<&Tensor>> = node
                    .inputs
                    .iter()
                    .map(|name| {
                        if name.is_empty() {
                            None
                        } else {
                            values.get(name).or_else(|| self.graph.initializers.get(name))
                        }
                    })
                    .collect();
                ops::run(node, &ins, self.graph.opset)?
            };
            for (name, t) in node.outputs.iter().zip(outs) {
                if !name.is_empty() {
                    values.insert(name.clone(), t);
                }
            }
            for inp in &node.inputs {
                if self.last_use.get(inp) == Some(&i) && !keep.contains(&inp.as_str()) {
                    values.remove(inp);
                }
            }
        }
        let mut out = HashMap::new();
        for k in keep {
            if let Some(t) = values.remove(*k) {
                out.insert(k.to_string(), t);
            }
        }
        for o in &self.graph.outputs {
            let t = values
                .remove(&o.name)
                .ok_or_else(|| ModelError::Onnx(format!("output {:?} was not computed", o.name)))?;
            if t.as_f32().is_some_and(|v| v.iter().any(|x| x.is_nan())) {
                return Err(ModelError::Input(format!(
                    "the model's output {:?} contains NaN (check the input preprocessing against the model card)",
                    o.name
                )));
            }
            out.insert(o.name.clone(), t);
        }
        Ok(out)
    }
}

fn shape_text(shape: &[Option<usize>]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.map_or("?".to_string(), |d| d.to_string())).collect();
    format!("[{}]", dims.join(", "))
}
