//! Model cards: what a model expects and what its outputs mean, in a JSON file beside the `.onnx`.
//!
//! ```json
//! {
//!   "name": "densenet121-res224-all",
//!   "onnx": "densenet121.onnx",
//!   "input": {"size": 224, "channels": 1},
//!   "preprocess": {"fit": "crop", "normalize": "txv"},
//!   "output": {"name": "probs", "kind": "sigmoid"},
//!   "labels": ["Atelectasis", "Consolidation", "..."],
//!   "findings": {"Effusion": "Pleural Effusion"},
//!   "thresholds": {"Cardiomegaly": 0.42},
//!   "calibration": {"Cardiomegaly": {"platt": {"a": -1.2, "b": 0.3}}},
//!   "provenance": {"source": "torchxrayvision 1.5.7", "licence": "Apache-2.0", "training_data": "..."}
//! }
//! ```
//!
//! * `preprocess.fit`: `crop` (centre square crop, torchxrayvision's `XRayCenterCrop`), `pad` or `stretch`;
//!   then an area-averaging resize to `size × size`. `normalize`: `txv` (`(2y − 1)·1024`,
//!   torchxrayvision), `imagenet` (torchvision mean/std, 3 channels) or `unit` (`y ∈ [0, 1]`), where `y` is
//!   the display value after the DICOM LUTs.
//! * `output.kind`: `sigmoid` (probabilities), `logits` (a sigmoid is applied) or `softmax`.
//! * Labels map to [`Finding`]s by name (`"Pleural Effusion"`, `"pleural_effusion"`) or through `findings`;
//!   other labels are reported but enter no findings document.
//! * `calibration` (per label): `platt` `{a, b}` gives `1/(1 + exp(a·logit(p) + b))`; `isotonic` `{x, y}`
//!   interpolates linearly, clamped at the ends — the parameters `cxr eval calibrate` fits.
//! * Decisions: calibrated probability ≥ threshold (default 0.5) → positive.

use crate::tensor::Tensor;
use crate::{Model, ModelError};
use cxr_core::image::Image2;
use cxr_core::{Finding, FindingEntry, Findings, Status};
use cxr_image::pipeline::{prepare, Fit, Prep};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Side of the square input, in pixels.
    pub size: usize,
    /// 1 (grey) or 3 (the grey image repeated, or ImageNet-normalised).
    #[serde(default = "one")]
    pub channels: usize,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    #[default]
    Txv,
    Imagenet,
    Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FitSpec {
    #[default]
    Crop,
    Pad,
    Stretch,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreprocessSpec {
    #[serde(default)]
    pub fit: FitSpec,
    #[serde(default)]
    pub normalize: Normalize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    #[default]
    Sigmoid,
    Logits,
    Softmax,
    /// A vector per image for `cxr embed` / `cxr search` (labels may be empty).
    Embedding,
    /// Per-pixel probabilities `[1, labels, h, w]` (after the model's sigmoid/softmax): one mask per label,
    /// thresholded at the label's threshold (default 0.5).
    Segmentation,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// The graph output to read (default: the first).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: OutputKind,
}

/// Calibration of one label's probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Calibration {
    Platt { a: f64, b: f64 },
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

impl Calibration {
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Calibration::Platt { a, b } => {
                let q = p.clamp(1e-12, 1.0 - 1e-12);
                1.0 / (1.0 + (a * (q / (1.0 - q)).ln() + b).exp())
            }
            Calibration::Isotonic { x, y } => {
                if p <= x[0] {
                    return y[0];
                }
                if p >= x[x.len() - 1] {
                    return y[y.len() - 1];
                }
                let i = x.partition_point(|&v| v <= p);
                let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
                if x1 == x0 {
                    y1
                } else {
                    y0 + (y1 - y0) * (p - x0) / (x1 - x0)
                }
            }
        }
    }
}

/// A model card (see the module docs for the format).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    pub name: String,
    /// The ONNX file, relative to the card.
    pub onnx: PathBuf,
    /// A demonstration model (its outputs mean nothing clinically); shown on every output.
    #[serde(default)]
    pub demonstration_only: bool,
    pub input: InputSpec,
    #[serde(default)]
    pub preprocess: PreprocessSpec,
    #[serde(default)]
    pub output: OutputSpec,
    pub labels: Vec<String>,
    /// Label → finding name, for labels whose names are not finding names.
    #[serde(default)]
    pub findings: BTreeMap<String, String>,
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    #[serde(default)]
    pub calibration: BTreeMap<String, Calibration>,
    #[serde(default)]
    pub provenance: BTreeMap<String, String>,
    /// Class activation maps: the feature map before global average pooling and the classifier weights.
    #[serde(default)]
    pub cam: Option<CamSpec>,
}

/// Where a class activation map comes from (Zhou et al., *Learning Deep Features for Discriminative
/// Localization*, CVPR 2016): `features` is the value `[1, K, h, w]` that global average pooling reads,
/// `weights` the classifier's initializer, `[labels, K]` (torch `Linear`, exported as Gemm with transB) or
/// `[K, labels]` with `weights_layout: "in_out"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CamSpec {
    pub features: String,
    pub weights: String,
    #[serde(default)]
    pub weights_layout: WeightsLayout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeightsLayout {
    #[default]
    OutIn,
    InOut,
}

/// One label's result.
#[derive(Debug, Clone, Serialize)]
pub struct LabelScore {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
    /// The model's probability (after the output's sigmoid/softmax).
    pub score: f64,
    /// After calibration (equal to `score` without one).
    pub probability: f64,
    pub threshold: f64,
    pub positive: bool,
}

/// One label's segmentation.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub label: String,
    pub height: usize,
    pub width: usize,
    #[serde(skip)]
    pub probabilities: Vec<f32>,
    #[serde(skip)]
    pub mask: Vec<bool>,
    pub threshold: f64,
    /// Share of the model input's pixels in the mask.
    pub area_fraction: f64,
}

/// The result for one image.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub labels: Vec<LabelScore>,
    /// One entry per label that maps to a finding: positive or negative by its decision.
    pub findings: Findings,
}

/// A card with its loaded model.
#[derive(Debug)]
pub struct Predictor {
    pub card: ModelCard,
    pub model: Model,
    label_findings: Vec<Option<Finding>>,
}

fn card_err(path: &Path, problem: impl Into<String>) -> ModelError {
    ModelError::Card { path: path.to_path_buf(), problem: problem.into() }
}

impl Predictor {
    /// Reads a card and its model (built-in runtime), checking that they agree.
    pub fn load(card_path: &Path) -> Result<Predictor, ModelError> {
        Self::load_with(card_path, &crate::Runtime::Builtin)
    }

    /// Like [`Predictor::load`], running the model on the given runtime.
    pub fn load_with(card_path: &Path, runtime: &crate::Runtime) -> Result<Predictor, ModelError> {
        let text = std::fs::read_to_string(card_path)
            .map_err(|source| ModelError::Read { path: card_path.to_path_buf(), source })?;
        let card: ModelCard =
            serde_json::from_str(&text).map_err(|e| card_err(card_path, format!("is not a valid model card: {e}")))?;
        let dir = card_path.parent().unwrap_or(Path::new("."));
        let model = Model::load_with(&dir.join(&card.onnx), runtime)?;
        Self::new(card, model).map_err(|e| match e {
            ModelError::Card { problem, .. } => card_err(card_path, problem),
            other => other,
        })
    }

    /// Checks a card against a model.
    pub fn new(card: ModelCard, model: Model) -> Result<Predictor, ModelError> {
        let here = Path::new("(card)");
        if !(card.input.channels == 1 || card.input.channels == 3) {
            return Err(card_err(here, format!("input.channels is {}; use 1 or 3", card.input.channels)));
        }
        if card.preprocess.normalize == Normalize::Imagenet && card.input.channels != 3 {
            return Err(card_err(here, "imagenet normalisation needs input.channels = 3"));
        }
        if card.input.size == 0 || card.input.size > 4096 {
            return Err(card_err(here, format!("input.size {} is not between 1 and 4096", card.input.size)));
        }
        let embedding = card.output.kind == OutputKind::Embedding;
        if card.labels.is_empty() && !embedding {
            return Err(card_err(here, "labels is empty: list the model's outputs in order"));
        }
        let declared = &model.input().shape;
        if let Some(shape) = declared {
            let want = [None, Some(card.input.channels), Some(card.input.size), Some(card.input.size)];
            let fits = shape.len() == 4 && shape.iter().zip(want).skip(1).all(|(d, w)| d.is_none() || *d == w);
            if !fits {
                return Err(card_err(
                    here,
                    format!(
                        "the card's input ({} channels, {}×{}) does not match the model's input shape {:?}",
                        card.input.channels, card.input.size, card.input.size, shape
                    ),
                ));
            }
        }
        if let Some(name) = &card.output.name {
            if !model.output_names().contains(&name.as_str()) {
                return Err(card_err(here, format!("output.name {name:?} is not one of {:?}", model.output_names())));
            }
        }
        let out_name = card.output.name.clone().unwrap_or_else(|| model.output_names()[0].to_string());
        if let Some(shape) = model.graph.outputs.iter().find(|o| o.name == out_name).and_then(|o| o.shape.clone()) {
            let segmentation = card.output.kind == OutputKind::Segmentation;
            let classes = if segmentation { shape.get(1) } else { shape.last() };
            if segmentation && shape.len() != 4 {
                return Err(card_err(
                    here,
                    format!("a segmentation output must be [batch, labels, h, w], not {shape:?}"),
                ));
            }
            if let (Some(Some(n)), false) = (classes, embedding) {
                if *n != card.labels.len() {
                    return Err(card_err(
                        here,
                        format!(
                            "the card lists {} labels but the model's output {out_name:?} has {n}",
                            card.labels.len()
                        ),
                    ));
                }
            }
        }
        for (k, cal) in &card.calibration {
            if let Calibration::Isotonic { x, y } = cal {
                if x.is_empty() || x.len() != y.len() || x.windows(2).any(|w| w[1] < w[0]) {
                    return Err(card_err(
                        here,
                        format!("calibration of {k:?}: isotonic x must be sorted and as long as y"),
                    ));
                }
            }
        }
        for k in card.thresholds.keys().chain(card.calibration.keys()).chain(card.findings.keys()) {
            if !card.labels.contains(k) {
                return Err(card_err(here, format!("{k:?} is not one of the card's labels")));
            }
        }
        if let Some(cam) = &card.cam {
            let w = model.graph.initializers.get(&cam.weights).ok_or_else(|| {
                card_err(here, format!("cam.weights {:?} is not an initializer of the model", cam.weights))
            })?;
            let labels_dim = if cam.weights_layout == WeightsLayout::OutIn { 0 } else { 1 };
            if w.shape.len() != 2 || w.shape[labels_dim] != card.labels.len() {
                return Err(card_err(
                    here,
                    format!(
                        "cam.weights has shape {:?}, which does not give one row per label ({})",
                        w.shape,
                        card.labels.len()
                    ),
                ));
            }
            if !model.graph.nodes.iter().any(|n| n.outputs.contains(&cam.features)) {
                return Err(card_err(
                    here,
                    format!("cam.features {:?} is not a value the model computes", cam.features),
                ));
            }
        }
        let label_findings = card
            .labels
            .iter()
            .map(|l| {
                let name = card.findings.get(l).unwrap_or(l);
                name.parse::<Finding>().ok()
            })
            .collect();
        for (k, v) in &card.findings {
            if v.parse::<Finding>().is_err() {
                return Err(card_err(here, format!("findings maps {k:?} to {v:?}, which is not a finding name")));
            }
        }
        Ok(Predictor { card, model, label_findings })
    }

    fn output_name(&self) -> String {
        self.card.output.name.clone().unwrap_or_else(|| self.model.output_names()[0].to_string())
    }

    /// The display image (values in [0, 1]) cropped/padded and resized to the model's input size.
    pub fn prepared(&self, display: &Image2<f32>) -> Image2<f32> {
        self.prepared_at(display, self.card.input.size)
    }

    /// The same crop or pad as the model input, at another size (e.g. for overlays).
    pub fn prepared_at(&self, display: &Image2<f32>, s: usize) -> Image2<f32> {
        let fit = match self.card.preprocess.fit {
            FitSpec::Crop => Fit::Crop,
            FitSpec::Pad => Fit::Pad,
            FitSpec::Stretch => Fit::Stretch,
        };
        prepare(display, &Prep { size: Some(s), fit, ..Default::default() }).image
    }

    /// The model input for a display image (values in [0, 1]): `[channels, size, size]`.
    pub fn input_values(&self, display: &Image2<f32>) -> Vec<f32> {
        let img = self.prepared(display);
        match self.card.preprocess.normalize {
            Normalize::Imagenet => cxr_image::prep::imagenet_normalize(&img),
            norm => {
                let one: Vec<f32> = match norm {
                    Normalize::Txv => cxr_image::prep::txv_normalize(&img).pixels,
                    _ => img.pixels,
                };
                one.repeat(self.card.input.channels)
            }
        }
    }

    /// The value a pixel of mid-grey display value takes after normalisation (the occlusion fill).
    pub fn neutral_value(&self) -> f32 {
        match self.card.preprocess.normalize {
            Normalize::Txv => 0.0,
            Normalize::Imagenet => 0.0,
            Normalize::Unit => 0.5,
        }
    }

    /// Runs a batch `[n, channels, size, size]` and returns the card's output with its name.
    fn run_output(&self, batch: Vec<f32>, n: usize) -> Result<(String, Tensor), ModelError> {
        let (c, s) = (self.card.input.channels, self.card.input.size);
        let mut out = self.model.run(Tensor::float(vec![n, c, s, s], batch))?;
        let name = self.output_name();
        let t = out.remove(&name).ok_or_else(|| ModelError::Onnx(format!("output {name:?} missing")))?;
        Ok((name, t))
    }

    /// The embedding of one display image (the card's output, flattened; `output.kind` should be `embedding`).
    pub fn embed(&self, display: &Image2<f32>) -> Result<Vec<f32>, ModelError> {
        Ok(self.run_output(self.input_values(display), 1)?.1.to_f32())
    }

    /// Segmentation masks of one display image: per label, the probability map `(h, w, values)` and the
    /// binary mask at the label's threshold.
    pub fn segment(&self, display: &Image2<f32>) -> Result<Vec<Segment>, ModelError> {
        let (name, t) = self.run_output(self.input_values(display), 1)?;
        if t.shape.len() != 4 || t.shape[0] != 1 || t.shape[1] != self.card.labels.len() {
            return Err(ModelError::Input(format!(
                "the model's output {name:?} has shape {:?}, not [1, {}, h, w]",
                t.shape,
                self.card.labels.len()
            )));
        }
        let (h, w) = (t.shape[2], t.shape[3]);
        let v = t.to_f32();
        Ok(self
            .card
            .labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let probs = v[i * h * w..(i + 1) * h * w].to_vec();
                let threshold = self.card.thresholds.get(label).copied().unwrap_or(0.5);
                let mask: Vec<bool> = probs.iter().map(|&p| f64::from(p) >= threshold).collect();
                let area_fraction = mask.iter().filter(|&&m| m).count() as f64 / (h * w) as f64;
                Segment {
                    label: label.clone(),
                    height: h,
                    width: w,
                    probabilities: probs,
                    mask,
                    threshold,
                    area_fraction,
                }
            })
            .collect())
    }

    /// Scores (probabilities before calibration) of a batch `[n, channels, size, size]`.
    pub fn scores(&self, batch: Vec<f32>, n: usize) -> Result<Vec<Vec<f64>>, ModelError> {
        if self.card.output.kind == OutputKind::Embedding {
            return Err(ModelError::Input(format!(
                "the card {:?} describes an embedding model: use `cxr embed` / `cxr search`",
                self.card.name
            )));
        }
        if self.card.output.kind == OutputKind::Segmentation {
            return Err(ModelError::Input(format!(
                "the card {:?} describes a segmentation model: it gives masks, not scores",
                self.card.name
            )));
        }
        let (name, t) = self.run_output(batch, n)?;
        let v = t.to_f32();
        let k = self.card.labels.len();
        if v.len() != n * k {
            return Err(ModelError::Input(format!(
                "the model's output {name:?} has shape {:?}, not {n} × {k} as the card's labels say",
                t.shape
            )));
        }
        Ok(v.chunks(k)
            .map(|row| {
                let row: Vec<f64> = row.iter().map(|&x| f64::from(x)).collect();
                match self.card.output.kind {
                    OutputKind::Sigmoid => row,
                    OutputKind::Logits => row.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect(),
                    OutputKind::Softmax | OutputKind::Embedding | OutputKind::Segmentation => row,
                }
            })
            .collect())
    }

    /// Scores, calibration, decisions and the findings document of one display image.
    pub fn predict(&self, display: &Image2<f32>) -> Result<Prediction, ModelError> {
        let scores = self.scores(self.input_values(display), 1)?.remove(0);
        Ok(self.decide(&scores))
    }

    /// Calibrates and thresholds one image's scores.
    pub fn decide(&self, scores: &[f64]) -> Prediction {
        let mut labels = Vec::with_capacity(scores.len());
        let mut findings = Findings::default();
        for (i, (label, &score)) in self.card.labels.iter().zip(scores).enumerate() {
            let probability = self.card.calibration.get(label).map_or(score, |c| c.apply(score));
            let threshold = self.card.thresholds.get(label).copied().unwrap_or(0.5);
            let positive = probability >= threshold;
            let finding = self.label_findings[i];
            if let Some(f) = finding {
                if findings.get(f).is_none() {
                    let mut e = FindingEntry::new(
                        format!("m{}", findings.findings.len() + 1),
                        f,
                        if positive { Status::Positive } else { Status::Negative },
                    );
                    e.probability = Some(probability);
                    e.source = Some(format!("model {}", self.card.name));
                    findings.findings.push(e);
                }
            }
            labels.push(LabelScore { label: label.clone(), finding, score, probability, threshold, positive });
        }
        Prediction { labels, findings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrations() {
        let p = Calibration::Platt { a: -1.0, b: 0.0 };
        assert!((p.apply(0.3) - 0.3).abs() < 1e-12, "a = −1, b = 0 is the identity");
        let iso = Calibration::Isotonic { x: vec![0.1, 0.5, 0.9], y: vec![0.0, 0.4, 1.0] };
        assert_eq!(iso.apply(0.0), 0.0);
        assert!((iso.apply(0.3) - 0.2).abs() < 1e-12);
        assert_eq!(iso.apply(0.95), 1.0);
    }
}
