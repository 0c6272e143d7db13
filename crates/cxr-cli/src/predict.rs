//! `cxr predict`: run a user's ONNX model (described by a model card) on radiographs: scores, calibrated
//! probabilities, decisions, a findings document per image, and occlusion heatmaps as PNG overlays.

use crate::ingest::{walk, VoiArgs};
use crate::output::{emit, progress};
use anyhow::{bail, Context, Result};
use cxr_core::image::Image2;
use cxr_image::resize::Filter;
use cxr_io::radiograph::{is_radiograph_file, read_radiograph};
use cxr_model::card::{OutputKind, Prediction, Predictor};
use cxr_model::explain::{cam, masked_scores, occlusion, overlay_rgb, region_masked_scores, Occlusion};
use cxr_model::ood::{OodGate, OodResult};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Images (DICOM, PNG, JPEG, .npy) or folders of them (walked recursively; other files are skipped).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The model card (JSON) that names the .onnx file and says how to prepare inputs and read outputs.
    #[arg(long)]
    pub model: PathBuf,
    /// Write occlusion heatmaps as PNG overlays into this folder (for the positive labels; see --all-labels).
    #[arg(long, value_name = "DIR")]
    pub heatmaps: Option<PathBuf>,
    /// For a segmentation card: write each label's mask (PNG, 255 = inside, at the model's input size and crop)
    /// into this folder.
    #[arg(long, value_name = "DIR")]
    pub masks: Option<PathBuf>,
    /// Heatmaps for every label, not only the positive ones.
    #[arg(long)]
    pub all_labels: bool,
    /// Occlusion patch side, in model-input pixels.
    #[arg(long, default_value_t = 16)]
    pub patch: usize,
    /// Occlusion stride, in model-input pixels.
    #[arg(long, default_value_t = 8)]
    pub stride: usize,
    /// Occluded copies per model run.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Heatmap method: occlusion (any model) or cam (class activation maps; the card's `cam` section).
    #[arg(long, value_enum, default_value_t = Explain::Occlusion)]
    pub explain: Explain,
    /// The "mask of truth" experiment: also score each image with this box of the model input set to
    /// mid-grey; x0,y0,x1,y1 as fractions of the input side (e.g. 0,0,0.5,1 masks the image's left half).
    #[arg(long, value_name = "X0,Y0,X1,Y1", value_parser = parse_box, conflicts_with = "mask")]
    pub mask_box: Option<[f64; 4]>,
    /// Mask of truth with a region image instead of a box (e.g. a lung segmentation): a PNG/JPEG/DICOM the same
    /// view as the inputs, non-zero = masked; it is cropped and resized as the images are.
    #[arg(long, value_name = "IMAGE")]
    pub mask: Option<PathBuf>,
    /// With --mask: mask everything outside the region instead (e.g. outside the lungs).
    #[arg(long, requires = "mask")]
    pub mask_outside: bool,
    /// The engine: the built-in runtime, or onnxruntime (builds with `--features ort`; give --ort-lib).
    #[arg(long, value_enum, default_value_t = RuntimeArg::Builtin)]
    pub runtime: RuntimeArg,
    /// onnxruntime's shared library for --runtime ort (`libonnxruntime.so*` in the PyPI wheel's
    /// onnxruntime/capi/ folder); default: the ORT_DYLIB_PATH environment variable.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// An out-of-distribution gate (`cxr ood fit`): images it flags are marked, their predictions kept but
    /// flagged as not to be trusted.
    #[arg(long, value_name = "GATE.json")]
    pub ood_gate: Option<PathBuf>,
    #[command(flatten)]
    pub voi: VoiArgs,
    /// Print JSON (one document with every image) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Skip images that cannot be read and report them, instead of stopping.
    #[arg(long)]
    pub keep_going: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar or notes on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeArg {
    Builtin,
    Ort,
}

fn runtime_of(r: RuntimeArg, lib: Option<&Path>, threads: Option<usize>) -> Result<cxr_model::Runtime> {
    Ok(match r {
        RuntimeArg::Builtin => cxr_model::Runtime::Builtin,
        RuntimeArg::Ort => {
            let library = match lib {
                Some(l) => l.to_path_buf(),
                None => std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).context(
                    "--runtime ort needs onnxruntime's shared library: give --ort-lib (libonnxruntime.so from the \
                     PyPI onnxruntime wheel's onnxruntime/capi/ folder) or set ORT_DYLIB_PATH",
                )?,
            };
            cxr_model::Runtime::Ort { library, threads: threads.unwrap_or(0) }
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Explain {
    Occlusion,
    Cam,
}

fn parse_box(s: &str) -> Result<[f64; 4], String> {
    let v: Vec<f64> =
        s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|e| format!("{s:?}: {e}"))?;
    <[f64; 4]>::try_from(v).map_err(|_| format!("{s:?}: give four numbers x0,y0,x1,y1"))
}

#[derive(Debug, serde::Serialize)]
struct Masked {
    /// The masked box, x0,y0,x1,y1 as fractions of the model input (or the region image).
    #[serde(skip_serializing_if = "Option::is_none")]
    r#box: Option<[f64; 4]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// Per label: the score with the box masked, and its change from the unmasked score.
    scores: Vec<(String, f64, f64)>,
}

#[derive(Debug, serde::Serialize)]
struct SegmentResult {
    #[serde(flatten)]
    segment: cxr_model::card::Segment,
    #[serde(skip_serializing_if = "Option::is_none")]
    mask_file: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct ImageResult {
    image: String,
    #[serde(flatten)]
    prediction: Prediction,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    segments: Vec<SegmentResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    heatmaps: Vec<Heatmap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mask: Option<Masked>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ood: Option<OodResult>,
}

#[derive(Debug, serde::Serialize)]
struct Heatmap {
    label: String,
    file: String,
}

fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

fn predict_one(
    p: &Predictor,
    gate: Option<&OodGate>,
    region: Option<(&str, &[bool])>,
    path: &Path,
    a: &PredictArgs,
    stem: &str,
) -> Result<ImageResult> {
    let display = display_of(path, &a.voi)?;
    if p.card.output.kind == OutputKind::Segmentation {
        let mut segments = Vec::new();
        for seg in p.segment(&display)? {
            let mask_file = match &a.masks {
                Some(dir) => {
                    let file = dir.join(format!("{stem}__{}.png", safe_name(&seg.label)));
                    let px: Vec<u8> = seg.mask.iter().map(|&m| if m { 255 } else { 0 }).collect();
                    cxr_io::png16::write_png8(&file, seg.width, seg.height, &px)?;
                    Some(file.display().to_string())
                }
                None => None,
            };
            segments.push(SegmentResult { segment: seg, mask_file });
        }
        let empty = Prediction { labels: Vec::new(), findings: Default::default() };
        let ood = gate.map(|g| g.check(&display));
        return Ok(ImageResult {
            image: path.display().to_string(),
            prediction: empty,
            segments,
            heatmaps: vec![],
            mask: None,
            ood,
        });
    }
    let input = p.input_values(&display);
    let mut heatmaps = Vec::new();
    let s = p.card.input.size;
    let prediction = if let Some(dir) = &a.heatmaps {
        let (maps, (mh, mw), scores) = match a.explain {
            Explain::Occlusion => {
                let o = Occlusion { patch: a.patch, stride: a.stride, batch: a.batch };
                let (maps, scores) = occlusion(p, &input, o)?;
                (maps, (s, s), scores)
            }
            Explain::Cam => {
                let (maps, hw) = cam(p, &input)?;
                (maps, hw, p.scores(input.clone(), 1)?.remove(0))
            }
        };
        let prediction = p.decide(&scores);
        // Overlays at least 512 px wide: the image cropped as the model sees it, the map upsampled bilinearly.
        let side = s.max(512);
        let grey = p.prepared_at(&display, side);
        for (ls, map) in prediction.labels.iter().zip(&maps) {
            if !(ls.positive || a.all_labels) {
                continue;
            }
            let small = Image2 { width: mw, height: mh, pixels: map.clone() };
            let big = cxr_image::resize::resize(&small, side, side, Filter::Bilinear);
            let file = dir.join(format!("{stem}__{}.png", safe_name(&ls.label)));
            cxr_io::png16::write_png_rgb8(&file, side, side, &overlay_rgb(&grey.pixels, &big.pixels))?;
            heatmaps.push(Heatmap { label: ls.label.clone(), file: file.display().to_string() });
        }
        prediction
    } else {
        let scores = p.scores(input.clone(), 1)?.remove(0);
        p.decide(&scores)
    };
    let masked = match (a.mask_box, region) {
        (Some(b), _) => Some((Some(b), None, masked_scores(p, &input, b)?)),
        (None, Some((name, m))) => Some((None, Some(name.to_string()), region_masked_scores(p, &input, m)?)),
        _ => None,
    };
    let mask = masked.map(|(r#box, region, masked)| {
        let scores = prediction.labels.iter().zip(&masked).map(|(l, &m)| (l.label.clone(), m, m - l.score)).collect();
        Masked { r#box, region, scores }
    });
    let ood = gate.map(|g| g.check(&display));
    Ok(ImageResult { image: path.display().to_string(), prediction, segments: Vec::new(), heatmaps, mask, ood })
}

pub fn run(a: PredictArgs) -> Result<()> {
    let runtime = runtime_of(a.runtime, a.ort_lib.as_deref(), a.threads)?;
    let p = Predictor::load_with(&a.model, &runtime)
        .with_context(|| format!("cannot use the model card {}", a.model.display()))?;
    let gate = a.ood_gate.as_deref().map(read_gate).transpose()?;
    // A region image for the mask of truth: prepared as the inputs are, then thresholded.
    let region: Option<(String, Vec<bool>)> = match &a.mask {
        Some(m) => {
            let d = display_of(m, &a.voi).with_context(|| format!("cannot read the mask {}", m.display()))?;
            let prepared = p.prepared(&d);
            let max = prepared.pixels.iter().copied().fold(0f32, f32::max);
            if max <= 0.0 {
                bail!("the mask {} is empty (all zero); non-zero pixels mark the region", m.display());
            }
            let inside: Vec<bool> = prepared.pixels.iter().map(|&v| (v >= max / 2.0) != a.mask_outside).collect();
            let what = if a.mask_outside { "outside" } else { "inside" };
            Some((format!("{what} {}", m.display()), inside))
        }
        None => None,
    };
    for dir in a.heatmaps.iter().chain(&a.masks) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    if p.card.output.kind == OutputKind::Segmentation
        && (a.heatmaps.is_some() || a.mask_box.is_some() || a.mask.is_some())
    {
        bail!(
            "--heatmaps and --mask/--mask-box explain classifier scores; the card {:?} is a segmentation model",
            p.card.name
        );
    }
    let files = images_in(&a.inputs, a.heatmaps.as_deref())?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads.unwrap_or(0)).build()?;
    let bar = progress(files.len() as u64, a.quiet, "predict");
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let stem = format!("{:04}_{}", i + 1, safe_name(&f.file_stem().unwrap_or_default().to_string_lossy()));
        let region = region.as_ref().map(|(n, m)| (n.as_str(), m.as_slice()));
        match pool.install(|| predict_one(&p, gate.as_ref(), region, f, &a, &stem)) {
            Ok(r) => results.push(r),
            Err(e) if a.keep_going => failed.push(format!("{}: {e:#}", f.display())),
            Err(e) => return Err(e.context(format!("cannot predict {} (--keep-going skips such images)", f.display()))),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let card = &p.card;
    let out = if a.json {
        let v = serde_json::json!({
            "model": card.name,
            "demonstration_only": card.demonstration_only,
            "provenance": card.provenance,
            "images": results,
            "failed": failed,
        });
        let mut b = serde_json::to_vec_pretty(&v)?;
        b.push(b'\n');
        b
    } else {
        let mut t = String::new();
        let _ = writeln!(t, "model {}", card.name);
        if card.demonstration_only {
            let _ = writeln!(t, "DEMONSTRATION MODEL: its outputs are not diagnostic.");
        }
        for r in &results {
            let _ = writeln!(t, "\n{}", r.image);
            if let Some(o) = r.ood.filter(|o| o.flagged) {
                let _ = writeln!(
                    t,
                    "  OUT OF DISTRIBUTION (gate score {:.2} > {:.2}): these predictions should not be trusted",
                    o.score, o.threshold
                );
            }
            for sg in &r.segments {
                let file = sg.mask_file.as_deref().map(|f| format!("  mask: {f}")).unwrap_or_default();
                let _ = writeln!(
                    t,
                    "  {:<32} area {:>6.2}% (threshold {}){file}",
                    sg.segment.label,
                    100.0 * sg.segment.area_fraction,
                    sg.segment.threshold
                );
            }
            if !r.segments.is_empty() {
                continue;
            }
            let _ = writeln!(t, "  {:<32} {:>7} {:>11} {:>9}  decision", "label", "score", "probability", "threshold");
            for l in &r.prediction.labels {
                let d = if l.positive { "positive" } else { "negative" };
                let _ =
                    writeln!(t, "  {:<32} {:>7.4} {:>11.4} {:>9.3}  {d}", l.label, l.score, l.probability, l.threshold);
            }
            for h in &r.heatmaps {
                let _ = writeln!(t, "  heatmap ({}): {}", h.label, h.file);
            }
            if let Some(m) = &r.mask {
                match (m.r#box, &m.region) {
                    (Some([x0, y0, x1, y1]), _) => {
                        let _ = writeln!(t, "  masked box {x0},{y0},{x1},{y1} (fractions of the model input):");
                    }
                    (_, region) => {
                        let _ = writeln!(t, "  masked {}:", region.as_deref().unwrap_or("region"));
                    }
                }
                for (label, score, delta) in &m.scores {
                    let _ = writeln!(t, "    {label:<30} {score:>7.4} ({delta:+.4})");
                }
            }
        }
        for f in &failed {
            let _ = writeln!(t, "\nfailed: {f}");
        }
        t.into_bytes()
    };
    emit(a.output.as_deref(), &out)?;
    if !failed.is_empty() && !a.quiet {
        eprintln!("{} of {} images failed (--keep-going): listed in the output", failed.len(), files.len());
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Images (DICOM, PNG, JPEG, .npy) or folders of them.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The model card of an embedding model (`"output": {"kind": "embedding"}`).
    #[arg(long)]
    pub model: PathBuf,
    /// Where to write the vectors (JSON lines: {"id": image path, "vector": [...]}), atomically.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub voi: VoiArgs,
    /// Skip images that cannot be read and report them, instead of stopping.
    #[arg(long)]
    pub keep_going: bool,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(short, long)]
    pub quiet: bool,
}

fn display_of(path: &Path, voi: &VoiArgs) -> Result<Image2<f32>> {
    let r = read_radiograph(path, &Default::default())?;
    let shown = cxr_image::display(&r.stored, &r.transforms, &voi.choice())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(shown.image)
}

/// The images to process: named files as given (a non-image is then an error when read), and the image files
/// inside named folders.
fn images_in(inputs: &[PathBuf], exclude: Option<&Path>) -> Result<Vec<PathBuf>> {
    let files: Vec<PathBuf> =
        walk(inputs, exclude)?.into_iter().filter(|f| inputs.contains(f) || is_radiograph_file(f)).collect();
    if files.is_empty() {
        bail!("no images found in {inputs:?}: give DICOM, PNG, JPEG or .npy files or folders of them");
    }
    Ok(files)
}

pub fn embed(a: EmbedArgs) -> Result<()> {
    let p = Predictor::load(&a.model).with_context(|| format!("cannot use the model card {}", a.model.display()))?;
    let files = images_in(&a.inputs, Some(&a.output))?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads.unwrap_or(0)).build()?;
    let bar = progress(files.len() as u64, a.quiet, "embed");
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for f in &files {
        match pool.install(|| -> Result<Vec<f32>> { Ok(p.embed(&display_of(f, &a.voi)?)?) }) {
            Ok(v) => {
                let line = serde_json::json!({"id": f.display().to_string(), "model": p.card.name, "vector": v});
                out.extend_from_slice(line.to_string().as_bytes());
                out.push(b'\n');
            }
            Err(e) if a.keep_going => failed.push(format!("{}: {e:#}", f.display())),
            Err(e) => return Err(e.context(format!("cannot embed {} (--keep-going skips such images)", f.display()))),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    emit(Some(&a.output), &out)?;
    if !a.quiet {
        eprintln!("wrote {} vectors to {}", files.len() - failed.len(), a.output.display());
        for f in &failed {
            eprintln!("failed: {f}");
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Vectors written by `cxr embed` (JSON lines with "id" and "vector").
    #[arg(long)]
    pub index: PathBuf,
    /// Find the neighbours of this image (embedded with --model).
    #[arg(long, conflicts_with = "query_id", requires = "model")]
    pub query: Option<PathBuf>,
    /// Find the neighbours of this entry of the index.
    #[arg(long)]
    pub query_id: Option<String>,
    /// The embedding model's card (with --query).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// How many neighbours.
    #[arg(short, default_value_t = 10)]
    pub k: usize,
    #[command(flatten)]
    pub voi: VoiArgs,
    #[arg(long)]
    pub json: bool,
}

pub fn search(a: SearchArgs) -> Result<()> {
    let text =
        std::fs::read_to_string(&a.index).with_context(|| format!("cannot read the index {}", a.index.display()))?;
    let mut ids = Vec::new();
    let mut vectors = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
            vector: Vec<f32>,
        }
        let e: Entry = serde_json::from_str(line).with_context(|| {
            format!(
                "{} line {}: not an index entry (a JSON object with \"id\" and \"vector\", as cxr embed writes)",
                a.index.display(),
                i + 1
            )
        })?;
        ids.push(e.id);
        vectors.push(e.vector);
    }
    if vectors.is_empty() {
        bail!("{} holds no vectors", a.index.display());
    }
    let query: Vec<f32> = match (&a.query, &a.query_id, &a.model) {
        (Some(img), _, Some(model)) => {
            let p = Predictor::load(model).with_context(|| format!("cannot use the model card {}", model.display()))?;
            p.embed(&display_of(img, &a.voi)?)?
        }
        (None, Some(id), _) => {
            let at = ids
                .iter()
                .position(|x| x == id)
                .with_context(|| format!("id {id:?} is not in {}", a.index.display()))?;
            vectors[at].clone()
        }
        _ => bail!("give --query IMAGE with --model CARD, or --query-id ID"),
    };
    let dims = vectors.iter().filter(|v| v.len() == query.len()).count();
    if dims == 0 {
        bail!("the query has {} dimensions but no vector in {} does", query.len(), a.index.display());
    }
    let hits = cxr_model::search::cosine_top_k(&vectors, &query, a.k);
    let out = if a.json {
        let v: Vec<serde_json::Value> =
            hits.iter().map(|&(i, s)| serde_json::json!({"id": ids[i], "cosine": s})).collect();
        let mut b = serde_json::to_vec_pretty(&serde_json::json!({"neighbours": v, "searched": dims}))?;
        b.push(b'\n');
        b
    } else {
        let mut t = format!("{:>4}  {:>8}  id\n", "rank", "cosine");
        for (r, &(i, s)) in hits.iter().enumerate() {
            let _ = writeln!(t, "{:>4}  {s:>8.5}  {}", r + 1, ids[i]);
        }
        t.into_bytes()
    };
    emit(None, &out)
}

#[derive(Debug, clap::Args)]
pub struct OodArgs {
    #[command(subcommand)]
    pub command: OodCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OodCommand {
    /// Fit the gate to in-distribution images (the kind the model is meant for; at least 5).
    Fit(OodFitArgs),
    /// Score images against a fitted gate.
    Score(OodScoreArgs),
}

#[derive(Debug, clap::Args)]
pub struct OodFitArgs {
    /// In-distribution images or folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write the gate (JSON), atomically.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The reference images' leave-one-out score quantile used as the threshold.
    #[arg(long, default_value_t = 0.95)]
    pub quantile: f64,
    /// Seed of the random patch positions.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub voi: VoiArgs,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct OodScoreArgs {
    /// Images or folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// A gate written by `cxr ood fit`.
    #[arg(long)]
    pub gate: PathBuf,
    #[command(flatten)]
    pub voi: VoiArgs,
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub keep_going: bool,
}

pub fn read_gate(path: &Path) -> Result<OodGate> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the gate {}", path.display()))?;
    let g: OodGate = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a gate written by `cxr ood fit`", path.display()))?;
    if g.median.len() != cxr_model::ood::FEATURES.len() || g.scale.len() != g.median.len() {
        bail!("{} was fitted with other features than this version computes; fit it again", path.display());
    }
    Ok(g)
}

pub fn ood(a: OodArgs) -> Result<()> {
    match a.command {
        OodCommand::Fit(f) => {
            let files = images_in(&f.inputs, Some(&f.output))?;
            let bar = progress(files.len() as u64, f.quiet, "features");
            let feats: Vec<Vec<f64>> = files
                .iter()
                .map(|p| {
                    bar.inc(1);
                    display_of(p, &f.voi).map(|d| cxr_model::ood::features(&d, f.seed))
                })
                .collect::<Result<_>>()?;
            bar.finish_and_clear();
            let gate = OodGate::fit(&feats, f.quantile, f.seed).map_err(anyhow::Error::msg)?;
            let mut b = serde_json::to_vec_pretty(&gate)?;
            b.push(b'\n');
            emit(Some(&f.output), &b)?;
            if !f.quiet {
                eprintln!(
                    "gate from {} images: threshold {:.3} (the {} quantile of their leave-one-out scores) → {}",
                    gate.references,
                    gate.threshold,
                    gate.quantile,
                    f.output.display()
                );
            }
            Ok(())
        }
        OodCommand::Score(s) => {
            let gate = read_gate(&s.gate)?;
            let files = images_in(&s.inputs, None)?;
            let mut rows = Vec::new();
            for f in &files {
                match display_of(f, &s.voi) {
                    Ok(d) => rows.push((f.display().to_string(), Some(gate.check(&d)), String::new())),
                    Err(e) if s.keep_going => rows.push((f.display().to_string(), None, format!("{e:#}"))),
                    Err(e) => return Err(e.context("--keep-going skips unreadable images")),
                }
            }
            let out = if s.json {
                let v: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(img, r, e)| match r {
                        Some(r) => serde_json::json!({"image": img, "score": r.score, "threshold": r.threshold, "flagged": r.flagged}),
                        None => serde_json::json!({"image": img, "error": e}),
                    })
                    .collect();
                let mut b = serde_json::to_vec_pretty(&v)?;
                b.push(b'\n');
                b
            } else {
                let mut t = format!("{:>8} {:>9}  {:<8}  image\n", "score", "threshold", "verdict");
                for (img, r, e) in &rows {
                    match r {
                        Some(r) => {
                            let v = if r.flagged { "FLAGGED" } else { "ok" };
                            let _ = writeln!(t, "{:>8.3} {:>9.3}  {v:<8}  {img}", r.score, r.threshold);
                        }
                        None => {
                            let _ = writeln!(t, "{:>8} {:>9}  {:<8}  {img}: {e}", "-", "-", "failed");
                        }
                    }
                }
                t.into_bytes()
            };
            emit(None, &out)
        }
    }
}
