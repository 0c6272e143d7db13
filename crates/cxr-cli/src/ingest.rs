//! `cxr inspect` and `cxr convert`: what a radiograph file holds, and bulk conversion to model-ready PNG/JPEG.

use crate::output::{emit, progress, write_atomic};
use anyhow::{bail, Context, Result};
use clap::Args;
use cxr_core::image::{Image2, ModalityLut, PixelTransforms, Voi, VoiChoice, WindowFunction};
use cxr_image::pipeline::{equalize, prepare, prepare_u8_pillow, Equalize, Fit, Prep};
use cxr_image::resize::Filter;
use cxr_io::dicom::{DicomInfo, ReadOptions};
use cxr_io::radiograph::{detect_format, read_radiograph, Format};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How to choose the VOI (shared by inspect and convert).
#[derive(Debug, Args, Clone)]
pub struct VoiArgs {
    /// Use the file's N-th window (0-based) instead of the default (first VOI LUT, else first window).
    #[arg(long, value_name = "N", conflicts_with_all = ["voi_lut", "window_explanation", "window_center", "minmax"])]
    pub window: Option<usize>,
    /// Use the file's N-th VOI LUT (0-based).
    #[arg(long, value_name = "N", conflicts_with_all = ["window_explanation", "window_center", "minmax"])]
    pub voi_lut: Option<usize>,
    /// Use the first window or VOI LUT whose explanation contains this text (e.g. "LUNG").
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["window_center", "minmax"])]
    pub window_explanation: Option<String>,
    /// Your own window centre (with --window-width), in modality units.
    #[arg(long, requires = "window_width", allow_hyphen_values = true, conflicts_with = "minmax")]
    pub window_center: Option<f64>,
    /// Your own window width (with --window-center).
    #[arg(long, requires = "window_center")]
    pub window_width: Option<f64>,
    /// The window function for --window-center/--window-width: linear, linear-exact or sigmoid.
    #[arg(long, default_value = "linear", value_parser = parse_function)]
    pub window_function: WindowFunction,
    /// Ignore the file's VOI and stretch the image's own minimum–maximum.
    #[arg(long)]
    pub minmax: bool,
}

fn parse_bits(s: &str) -> Result<u8, String> {
    match s {
        "8" => Ok(8),
        "16" => Ok(16),
        o => Err(format!("--bits {o}: use 8 or 16")),
    }
}

fn parse_function(s: &str) -> Result<WindowFunction, String> {
    match s.to_ascii_lowercase().replace('_', "-").as_str() {
        "linear" => Ok(WindowFunction::Linear),
        "linear-exact" => Ok(WindowFunction::LinearExact),
        "sigmoid" => Ok(WindowFunction::Sigmoid),
        o => Err(format!("unknown window function '{o}': use linear, linear-exact or sigmoid")),
    }
}

impl VoiArgs {
    pub fn choice(&self) -> VoiChoice {
        if self.minmax {
            VoiChoice::MinMax
        } else if let (Some(center), Some(width)) = (self.window_center, self.window_width) {
            VoiChoice::Explicit { center, width, function: self.window_function }
        } else if let Some(i) = self.window {
            VoiChoice::Window(i)
        } else if let Some(i) = self.voi_lut {
            VoiChoice::Lut(i)
        } else if let Some(t) = &self.window_explanation {
            VoiChoice::Explanation(t.clone())
        } else {
            VoiChoice::Default
        }
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// DICOM, PNG, JPEG or .npy files, or folders (searched recursively).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub voi: VoiArgs,
    /// The frame of a multi-frame object to describe (0-based).
    #[arg(long, default_value_t = 0)]
    pub frame: u32,
    /// Also show Patient's Name, ID and Birth Date (never shown otherwise).
    #[arg(long)]
    pub identifiers: bool,
    /// One JSON object per file (a JSON array).
    #[arg(long)]
    pub json: bool,
}

/// What `inspect` reports for one file.
#[derive(Debug, Serialize)]
struct Inspection {
    path: String,
    format: Format,
    #[serde(flatten)]
    info: DicomInfo,
    decodable: bool,
    modality_lut: String,
    windows: Vec<String>,
    voi_luts: Vec<String>,
    voi_applied: String,
    inverted: bool,
    spacing_mm: Option<[f64; 2]>,
    spacing_source: Option<&'static str>,
}

fn describe_modality(m: &ModalityLut) -> String {
    match m {
        ModalityLut::Rescale { slope, intercept } if *slope == 1.0 && *intercept == 0.0 => "identity".into(),
        ModalityLut::Rescale { slope, intercept } => format!("rescale slope {slope} intercept {intercept}"),
        ModalityLut::Table(t) => {
            format!("LUT sequence: {} entries from {}, {} bits", t.data.len(), t.first_mapped, t.bits)
        }
    }
}

fn describe_voi(v: &Voi) -> String {
    match v {
        Voi::Window(w) => format!(
            "window {} centre {} width {}{}",
            w.function.as_dicom_str(),
            w.center,
            w.width,
            w.explanation.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
        ),
        Voi::Table(t) => format!(
            "VOI LUT: {} entries from {}, {} bits{}",
            t.data.len(),
            t.first_mapped,
            t.bits,
            t.explanation.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
        ),
        Voi::MinMax => "min–max of the image".into(),
    }
}

fn voi_choice_error(t: &PixelTransforms, choice: &VoiChoice) -> String {
    format!(
        "the VOI choice {choice:?} matches none of the file's {} window(s) and {} VOI LUT(s); run `cxr inspect` to \
         list them",
        t.windows.len(),
        t.voi_luts.len()
    )
}

fn inspect_one(path: &Path, args: &InspectArgs) -> Result<Inspection> {
    let opts = ReadOptions { frame: args.frame, identifiers: args.identifiers, ..ReadOptions::default() };
    let format = detect_format(path).with_context(|| {
        format!(
            "{}: is not a DICOM, PNG, JPEG or .npy file (checked its first bytes and its name); give a radiograph",
            path.display()
        )
    })?;
    let (info, transforms, decodable) = if format == Format::Dicom {
        let (info, t) = cxr_io::dicom::read_dicom_info(path, &opts)?;
        let decodable = cxr_io::dicom::can_decode(&info);
        (info, t, decodable)
    } else {
        let r = read_radiograph(path, &opts)?;
        (r.info, r.transforms, true)
    };
    let choice = args.voi.choice();
    let voi = transforms.choose_voi(&choice).with_context(|| voi_choice_error(&transforms, &choice))?;
    let spacing = info.patient_spacing();
    Ok(Inspection {
        path: path.display().to_string(),
        format,
        decodable,
        modality_lut: describe_modality(&transforms.modality),
        windows: transforms.windows.iter().map(|w| describe_voi(&Voi::Window(w.clone()))).collect(),
        voi_luts: transforms.voi_luts.iter().map(|l| describe_voi(&Voi::Table(l.clone()))).collect(),
        voi_applied: describe_voi(&voi),
        inverted: transforms.invert,
        spacing_mm: spacing.map(|s| s.0),
        spacing_source: spacing.map(|s| s.1),
        info,
    })
}

fn human(i: &Inspection) -> String {
    let mut s = format!("{}\n", i.path);
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<22} {v}\n"));
    let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    if i.format == Format::Dicom {
        line(
            "transfer syntax",
            format!(
                "{} ({}){}",
                i.info.transfer_syntax,
                i.info.transfer_syntax_uid,
                if i.decodable { "" } else { " — NOT decodable in this build" }
            ),
        );
        line("modality / SOP class", format!("{} / {}", o(&i.info.modality), i.info.sop_class_uid));
    } else {
        line("format", format!("{:?}", i.format).to_lowercase());
    }
    line(
        "size",
        format!(
            "{} × {} (columns × rows), {} frame(s), {} sample(s)/pixel",
            i.info.columns, i.info.rows, i.info.frames, i.info.samples_per_pixel
        ),
    );
    line(
        "pixels",
        format!(
            "{}, {} of {} bits, {}",
            i.info.photometric_interpretation,
            i.info.bits_stored,
            i.info.bits_allocated,
            if i.info.signed { "signed" } else { "unsigned" }
        ),
    );
    line("modality LUT", i.modality_lut.clone());
    for (k, w) in i.windows.iter().enumerate() {
        line(&format!("window {k}"), w.clone());
    }
    for (k, l) in i.voi_luts.iter().enumerate() {
        line(&format!("VOI LUT {k}"), l.clone());
    }
    line("VOI applied", i.voi_applied.clone());
    line(
        "inverted for display",
        if i.inverted {
            format!("yes ({})", i.info.presentation_lut_shape.as_deref().unwrap_or("MONOCHROME1"))
        } else {
            "no".into()
        },
    );
    if let (Some(sp), Some(src)) = (i.spacing_mm, i.spacing_source) {
        line("spacing (mm)", format!("{:.4} × {:.4} (row × column, from {src})", sp[0], sp[1]));
    }
    if i.format == Format::Dicom {
        line("view / laterality", format!("{} / {}", o(&i.info.view_position), o(&i.info.laterality)));
        line("orientation / body", format!("{} / {}", o(&i.info.patient_orientation), o(&i.info.body_part)));
        line("study UID", o(&i.info.study_uid));
        line("SOP instance UID", o(&i.info.sop_instance_uid));
        if i.info.patient_id.is_some() || i.info.patient_name.is_some() {
            line("patient", format!("{} / {}", o(&i.info.patient_id), o(&i.info.patient_name)));
        }
    }
    s
}

/// Files under the inputs: files as given, folders walked recursively ([`cxr_io::files_under`]).
pub fn walk(inputs: &[PathBuf], exclude: Option<&Path>) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for i in inputs {
        if i.is_dir() {
            out.extend(cxr_io::files_under(i, exclude)?);
        } else if i.exists() {
            out.push(i.clone());
        } else {
            bail!("input {} does not exist", i.display());
        }
    }
    Ok(out)
}

pub fn inspect(args: InspectArgs) -> Result<()> {
    let files = walk(&args.inputs, None)?;
    let explicit: std::collections::HashSet<&PathBuf> = args.inputs.iter().collect();
    // Inside folders only recognised images count; a file named explicitly is always tried.
    let files: Vec<PathBuf> =
        files.into_iter().filter(|f| explicit.contains(f) || detect_format(f).is_some()).collect();
    if files.is_empty() {
        bail!("no DICOM, PNG, JPEG or .npy files found under the given inputs");
    }
    let mut done = Vec::new();
    let mut failed = 0;
    for f in &files {
        match inspect_one(f, &args) {
            Ok(i) => done.push(i),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    let text = if args.json {
        serde_json::to_string_pretty(&done)? + "\n"
    } else {
        done.iter().map(human).collect::<Vec<_>>().join("\n")
    };
    emit(None, text.as_bytes())?;
    if failed > 0 {
        bail!("{failed} of {} file(s) could not be read (reasons above)", files.len());
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// A folder of radiographs (searched recursively) or one file.
    pub input: PathBuf,
    /// The output folder; the input's folder structure is mirrored inside it.
    pub output: PathBuf,
    /// Output format.
    #[arg(long, default_value = "png", value_parser = ["png", "jpg", "jpeg"])]
    pub format: String,
    /// Output size in pixels (see --fit); omit to keep the size.
    #[arg(long)]
    pub size: Option<usize>,
    /// How to reach --size: longer (longer side = size, aspect kept), crop or pad (to a square), stretch.
    #[arg(long, default_value = "longer")]
    pub fit: Fit,
    /// Resampling filter: area, bilinear or lanczos (Pillow-compatible definitions).
    #[arg(long, default_value = "area")]
    pub filter: Filter,
    /// Bits per output pixel: 8, or 16 (PNG only).
    #[arg(long, default_value_t = 8, value_parser = parse_bits)]
    pub bits: u8,
    /// Contrast equalisation of 8-bit output: none, hist (global) or clahe.
    #[arg(long, default_value = "none", value_parser = ["none", "hist", "clahe"])]
    pub equalize: String,
    /// CLAHE clip limit (OpenCV convention).
    #[arg(long, default_value_t = 2.0)]
    pub clahe_clip: f64,
    /// CLAHE grid (tiles per side).
    #[arg(long, default_value_t = 8)]
    pub clahe_tiles: usize,
    /// 8-bit output made as pydicom + Pillow make it (quantise, then Pillow's fixed-point resize): bit for
    /// bit the same as that pipeline, instead of resizing in floating point (more accurate, ±1 level).
    #[arg(long)]
    pub pillow_exact: bool,
    /// Also write the three horizontal lung-field bands (`NAME_upper`, `_middle`, `_lower`; equal thirds of the
    /// output), the pre-processing of the multi-model "Automated Chest X-Ray Report Generator" (8-bit only).
    #[arg(long)]
    pub lung_bands: bool,
    /// JPEG quality (MIMIC-CXR-JPG used 95).
    #[arg(long, default_value_t = 95, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    #[command(flatten)]
    pub voi: VoiArgs,
    /// The frame of multi-frame objects (0-based).
    #[arg(long, default_value_t = 0)]
    pub frame: u32,
    /// Refuse images with more pixels than this before decoding.
    #[arg(long, default_value_t = 100_000_000)]
    pub max_pixels: u64,
    /// The metadata table (default OUTPUT/metadata.csv).
    #[arg(long)]
    pub metadata: Option<PathBuf>,
    /// Leave patient name, ID and birth date out of the table, band ages over 89 as "90+" and replace UIDs
    /// by stable pseudonyms (so studies still group).
    #[arg(long)]
    pub deidentify: bool,
    /// Convert again even when the output exists (by default finished outputs are skipped: resumable).
    #[arg(long)]
    pub overwrite: bool,
    /// Record failures in the table and go on, instead of stopping at the first.
    #[arg(long)]
    pub keep_going: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print a JSON summary instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// One row of the metadata table.
#[derive(Debug, Serialize, Default, Clone)]
struct Row {
    input: String,
    output: String,
    status: String,
    format: String,
    transfer_syntax_uid: String,
    transfer_syntax: String,
    sop_class_uid: String,
    modality: String,
    study_uid: String,
    series_uid: String,
    sop_instance_uid: String,
    patient_id: String,
    patient_name: String,
    patient_birth_date: String,
    patient_sex: String,
    patient_age: String,
    view_position: String,
    laterality: String,
    patient_orientation: String,
    body_part: String,
    photometric_interpretation: String,
    bits_stored: String,
    rows: String,
    columns: String,
    spacing_row_mm: String,
    spacing_col_mm: String,
    spacing_source: String,
    output_rows: String,
    output_columns: String,
    output_spacing_row_mm: String,
    output_spacing_col_mm: String,
    voi: String,
    inverted: String,
}

/// A stable pseudonym of an identifier (FNV-1a 64-bit): the same UID always maps to the same value.
fn pseudonym(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("anon-{h:016x}")
}

/// DICOM ages (`065Y`, `018M` …); ages over 89 years are banded as `90+` (HIPAA Safe Harbor).
fn band_age(age: &str) -> String {
    let years = age.strip_suffix('Y').and_then(|n| n.parse::<u32>().ok());
    match years {
        Some(y) if y > 89 => "90+".into(),
        _ => age.to_string(),
    }
}

fn fill_row(row: &mut Row, format: Format, info: &DicomInfo, deidentify: bool) {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let uid = |v: &Option<String>| if deidentify { pseudonym(&o(v)) } else { o(v) };
    row.format = format!("{format:?}").to_lowercase();
    row.transfer_syntax_uid = info.transfer_syntax_uid.clone();
    row.transfer_syntax = info.transfer_syntax.clone();
    row.sop_class_uid = info.sop_class_uid.clone();
    row.modality = o(&info.modality);
    row.study_uid = uid(&info.study_uid);
    row.series_uid = uid(&info.series_uid);
    row.sop_instance_uid = uid(&info.sop_instance_uid);
    if !deidentify {
        row.patient_id = o(&info.patient_id);
        row.patient_name = o(&info.patient_name);
        row.patient_birth_date = o(&info.patient_birth_date);
    }
    row.patient_sex = o(&info.patient_sex);
    row.patient_age = if deidentify { band_age(&o(&info.patient_age)) } else { o(&info.patient_age) };
    row.view_position = o(&info.view_position);
    row.laterality = o(&info.laterality);
    row.patient_orientation = o(&info.patient_orientation);
    row.body_part = o(&info.body_part);
    row.photometric_interpretation = info.photometric_interpretation.clone();
    row.bits_stored = info.bits_stored.to_string();
    row.rows = info.rows.to_string();
    row.columns = info.columns.to_string();
    if let Some((sp, src)) = info.patient_spacing() {
        row.spacing_row_mm = format!("{}", sp[0]);
        row.spacing_col_mm = format!("{}", sp[1]);
        row.spacing_source = src.to_string();
    }
}

struct Job<'a> {
    args: &'a ConvertArgs,
    root: PathBuf,
    prep: Prep,
    equalize: Equalize,
    choice: VoiChoice,
    ext: &'static str,
}

impl Job<'_> {
    fn output_for(&self, input: &Path) -> PathBuf {
        let rel = input.strip_prefix(&self.root).unwrap_or(input);
        let rel = if rel.as_os_str().is_empty() { Path::new(input.file_name().unwrap_or_default()) } else { rel };
        let mut out = self.args.output.join(rel);
        let keep_ext = out.extension().is_some_and(|e| {
            let e = e.to_string_lossy().to_ascii_lowercase();
            !["dcm", "dicom", "png", "jpg", "jpeg", "npy"].contains(&e.as_str())
        });
        if keep_ext || out.extension().is_none() {
            let name = format!("{}.{}", out.file_name().unwrap_or_default().to_string_lossy(), self.ext);
            out.set_file_name(name);
        } else {
            out.set_extension(self.ext);
        }
        out
    }

    fn convert(&self, input: &Path) -> Row {
        let out = self.output_for(input);
        let mut row = Row {
            input: input.strip_prefix(&self.root).unwrap_or(input).display().to_string(),
            output: out.strip_prefix(&self.args.output).unwrap_or(&out).display().to_string(),
            ..Row::default()
        };
        if input == self.root && row.input.is_empty() {
            row.input = input.display().to_string();
        }
        let opts = ReadOptions {
            frame: self.args.frame,
            max_pixels: self.args.max_pixels,
            identifiers: !self.args.deidentify,
        };
        if out.exists() && !self.args.overwrite {
            // Resumable: describe the finished image from its header only.
            let format = detect_format(input).unwrap_or(Format::Dicom);
            let info = if format == Format::Dicom {
                cxr_io::dicom::read_dicom_info(input, &opts).map(|(i, _)| i)
            } else {
                read_radiograph(input, &opts).map(|r| r.info)
            };
            match info {
                Ok(info) => {
                    fill_row(&mut row, format, &info, self.args.deidentify);
                    // The finished output's size (from its header) gives the output columns.
                    if let Some((w, h)) = cxr_io::radiograph::image_size(&out) {
                        self.fill_output_geometry(&mut row, &info, w, h);
                    }
                }
                Err(e) => row.status = format!("failed: {e}"),
            }
            if row.status.is_empty() {
                row.status = "exists".into();
            }
            return row;
        }
        match self.convert_pixels(input, &out, &opts, &mut row) {
            Ok(()) => row.status = "ok".into(),
            Err(e) => row.status = format!("failed: {e:#}"),
        }
        row
    }

    /// Output size and spacing columns for an output of `w × h`, made from an input described by `info`.
    /// (The scale is the one `prepare` applies: the squared input side over the output side.)
    fn fill_output_geometry(&self, row: &mut Row, info: &DicomInfo, w: usize, h: usize) {
        row.output_rows = h.to_string();
        row.output_columns = w.to_string();
        let (iw, ih) = (info.columns as f64, info.rows as f64);
        let (sw, sh) = match self.prep.fit {
            Fit::Crop => (iw.min(ih), iw.min(ih)),
            Fit::Pad => (iw.max(ih), iw.max(ih)),
            Fit::Longer | Fit::Stretch => (iw, ih),
        };
        if let Some((sp, _)) = info.patient_spacing() {
            row.output_spacing_row_mm = format!("{:.6}", sp[0] * sh / h.max(1) as f64);
            row.output_spacing_col_mm = format!("{:.6}", sp[1] * sw / w.max(1) as f64);
        }
    }

    fn convert_pixels(&self, input: &Path, out: &Path, opts: &ReadOptions, row: &mut Row) -> Result<()> {
        let r = read_radiograph(input, opts)?;
        fill_row(row, r.format, &r.info, self.args.deidentify);
        let shown = cxr_image::display(&r.stored, &r.transforms, &self.choice)
            .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
        row.voi = describe_voi(&shown.voi);
        row.inverted = shown.inverted.to_string();
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
        }
        if self.args.bits == 16 {
            let img = cxr_image::lut::to_u16(&prepare(&shown.image, &self.prep).image);
            self.fill_output_geometry(row, &r.info, img.width, img.height);
            cxr_io::png16::write_png16(out, img.width, img.height, &img.pixels)?;
        } else {
            let y8 = if self.args.pillow_exact {
                prepare_u8_pillow(&shown.image, &self.prep).0
            } else {
                cxr_image::lut::to_u8(&prepare(&shown.image, &self.prep).image)
            };
            self.fill_output_geometry(row, &r.info, y8.width, y8.height);
            let img: Image2<u8> = equalize(&y8, self.equalize);
            let write = |path: &Path, im: &Image2<u8>| -> Result<()> {
                if self.ext == "png" {
                    cxr_io::png16::write_png8(path, im.width, im.height, &im.pixels)?;
                } else {
                    cxr_io::radiograph::write_jpeg_grey(path, im.width, im.height, &im.pixels, self.args.quality)?;
                }
                Ok(())
            };
            if self.args.lung_bands {
                // The bands first: the main output existing is what marks the image as finished.
                let stem = out.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                for (band, name) in cxr_image::prep::lung_bands(&img).iter().zip(["upper", "middle", "lower"]) {
                    write(&out.with_file_name(format!("{stem}_{name}.{}", self.ext)), band)?;
                }
            }
            write(out, &img)?;
        }
        Ok(())
    }
}

const HEADER_NOTE: &str = "status is ok (converted), exists (finished earlier; skipped) or failed: reason";

pub fn convert(args: ConvertArgs) -> Result<()> {
    let ext = if args.format == "png" { "png" } else { "jpg" };
    if args.bits == 16 && ext != "png" {
        bail!("--bits 16 needs --format png (baseline JPEG is 8-bit)");
    }
    let equalize = match args.equalize.as_str() {
        "hist" => Equalize::Hist,
        "clahe" => Equalize::Clahe { clip_limit: args.clahe_clip, tiles: args.clahe_tiles.max(1) },
        _ => Equalize::None,
    };
    if args.bits == 16 && args.lung_bands {
        bail!("--lung-bands writes 8-bit bands; drop it or use --bits 8");
    }
    if args.bits == 16 && args.pillow_exact {
        bail!("--pillow-exact reproduces Pillow's 8-bit resize; it does not apply to --bits 16");
    }
    if args.bits == 16 && equalize != Equalize::None {
        bail!("--equalize works on 8-bit output; drop it or use --bits 8");
    }
    if args.size == Some(0) || args.size.is_some_and(|s| s > 16384) {
        bail!("--size must be between 1 and 16384 pixels");
    }
    if !args.input.exists() {
        bail!("input {} does not exist", args.input.display());
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create the output folder {}", args.output.display()))?;
    let out_canon = args.output.canonicalize().ok();
    let root = if args.input.is_dir() {
        args.input.clone()
    } else {
        args.input.parent().unwrap_or(Path::new("")).to_path_buf()
    };
    let files: Vec<PathBuf> = walk(std::slice::from_ref(&args.input), out_canon.as_deref())?;
    let given_file = args.input.is_file();
    let (images, ignored): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| given_file || detect_format(f).is_some());
    if images.is_empty() {
        bail!(
            "no DICOM, PNG, JPEG or .npy files found in {} ({} other file(s) ignored)",
            args.input.display(),
            ignored.len()
        );
    }
    let job = Job {
        args: &args,
        root,
        prep: Prep { size: args.size, fit: args.fit, filter: args.filter },
        equalize,
        choice: args.voi.choice(),
        ext,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let pb = progress(images.len() as u64, args.quiet, "converting");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let rows: Vec<Option<Row>> = pool.install(|| {
        images
            .par_iter()
            .with_max_len(1)
            .map(|f| {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return None;
                }
                let row = job.convert(f);
                if row.status.starts_with("failed") && !args.keep_going {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                pb.inc(1);
                Some(row)
            })
            .collect()
    });
    pb.finish_and_clear();
    let done: Vec<Row> = rows.into_iter().flatten().collect();
    let failed: Vec<&Row> = done.iter().filter(|r| r.status.starts_with("failed")).collect();
    if !failed.is_empty() && !args.keep_going {
        let first = failed[0].status.trim_start_matches("failed: ");
        bail!(
            "{first}\nstopped after {} of {} image(s); finished outputs are kept and skipped on a rerun. Use \
             --keep-going to record failures in the table and continue",
            done.len(),
            images.len()
        );
    }
    let table = args.metadata.clone().unwrap_or_else(|| args.output.join("metadata.csv"));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &done {
        w.serialize(r).context("cannot format the metadata table")?;
    }
    let bytes = w.into_inner().context("cannot format the metadata table")?;
    write_atomic(&table, &bytes)?;
    let count = |s: &str| done.iter().filter(|r| r.status == s).count();
    let (ok, exists) = (count("ok"), count("exists"));
    if args.json {
        let summary = serde_json::json!({
            "converted": ok, "skipped_existing": exists, "failed": failed.len(),
            "ignored_non_images": ignored.len(), "metadata": table.display().to_string(),
            "failures": failed.iter().map(|r| serde_json::json!({"input": r.input, "reason": r.status})).collect::<Vec<_>>(),
        });
        emit(None, (serde_json::to_string_pretty(&summary)? + "\n").as_bytes())?;
    } else {
        eprintln!(
            "converted {ok}, skipped {exists} finished earlier, failed {}, ignored {} non-image file(s); table: {} ({HEADER_NOTE})",
            failed.len(),
            ignored.len(),
            table.display()
        );
    }
    if !failed.is_empty() {
        eprintln!("{} image(s) failed (--keep-going): see the status column of {}", failed.len(), table.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_and_ages_banded() {
        assert_eq!(pseudonym("1.2.3"), pseudonym("1.2.3"));
        assert_ne!(pseudonym("1.2.3"), pseudonym("1.2.4"));
        assert_eq!(pseudonym(""), "");
        assert_eq!(band_age("091Y"), "90+");
        assert_eq!(band_age("065Y"), "065Y");
        assert_eq!(band_age("018M"), "018M");
    }
}
