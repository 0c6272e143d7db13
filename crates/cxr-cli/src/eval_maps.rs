//! `cxr eval segment|localize|quality|fid|saliency`: evaluation of masks, boxes, images, feature sets and
//! saliency maps. Thin shells over `cxr_metrics::{segment, localize, quality, saliency}`.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use cxr_io::grid::{read_grid, Grid};
use cxr_metrics::{localize, quality, saliency, segment};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct SegmentArgs {
    /// Reference mask (PNG, .npy, CSV, NIfTI, MetaImage) or a folder of them.
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Predicted mask, or a folder with files of the same names.
    #[arg(long)]
    pub pred: PathBuf,
    /// A value above this is inside the mask.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct LocalizeArgs {
    /// Ground-truth boxes CSV: columns id, label, x, y, w, h (ChestX-ray8's BBox_List_2017.csv also works).
    #[arg(long)]
    pub gt: PathBuf,
    /// Predicted boxes CSV with the same columns, joined on (id, label); optional px, py columns give the
    /// pointing-game point (default: the box centre).
    #[arg(long)]
    pub pred: PathBuf,
    /// Pointing-game tolerance in pixels around the ground-truth box (Zhang et al. 2016 use 15).
    #[arg(long, default_value_t = 0.0)]
    pub tolerance: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct QualityArgs {
    /// Reference image or volume (or a folder).
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Synthetic image or volume (or a folder with the same names).
    #[arg(long)]
    pub pred: PathBuf,
    /// Data range for PSNR and SSIM (default: 255 for 8-bit PNG, 65535 for 16-bit PNG, else the reference's
    /// max − min).
    #[arg(long)]
    pub data_range: Option<f64>,
    /// SynthRAD2025 metrics of 3-D volumes inside this mask (MAE in HU, PSNR over [−1024, 3071], masked
    /// MS-SSIM with the challenge's conventions); a file, or a folder with the same names.
    #[arg(long)]
    pub synthrad_mask: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct FidArgs {
    /// Features of real images: CSV, one row per image.
    #[arg(long)]
    pub real: PathBuf,
    /// Features of synthetic images.
    #[arg(long)]
    pub fake: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SaliencyArgs {
    /// The model's saliency map, or a folder of maps (then --fixations and --density are folders with files
    /// of the same names, and the cases are evaluated in parallel).
    #[arg(long)]
    pub saliency: PathBuf,
    /// Binary fixation map (non-zero = fixated), or a folder of them.
    #[arg(long)]
    pub fixations: PathBuf,
    /// Fixation density map (for CC, KLD, SIM, EMD), or a folder of them; without it those are left out.
    #[arg(long)]
    pub density: Option<PathBuf>,
    /// AUC-Borji splits and seed (counter-mode SplitMix64 sampler).
    #[arg(long, default_value_t = 100)]
    pub splits: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// EMD (with --density): block size of the block means the maps are reduced to first (32 = the MIT
    /// benchmark's 1/32 scale; the map sides must be multiples of it).
    #[arg(long, default_value_t = 32)]
    pub emd_block: usize,
    /// Folders: skip cases that cannot be read or evaluated, list them, and score the rest.
    #[arg(long)]
    pub keep_going: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    #[arg(long)]
    pub json: bool,
}

/// Pairs of files: one pair, or the files of two folders matched by name.
fn pairs(a: &Path, b: &Path) -> Result<Vec<(String, PathBuf, PathBuf)>> {
    if a.is_dir() != b.is_dir() {
        bail!("{} and {} must both be files or both be folders", a.display(), b.display());
    }
    if !a.is_dir() {
        return Ok(vec![(
            a.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            a.into(),
            b.into(),
        )]);
    }
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(a)
        .with_context(|| format!("cannot list {}", a.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    for p in names {
        let name = p.file_name().unwrap_or_default().to_os_string();
        let q = b.join(&name);
        if !q.is_file() {
            bail!("{} has no file {} to match {}", b.display(), name.to_string_lossy(), p.display());
        }
        out.push((name.to_string_lossy().into_owned(), p, q));
    }
    if out.is_empty() {
        bail!("folder {} is empty", a.display());
    }
    Ok(out)
}

fn same_size(a: &Grid, b: &Grid, pa: &Path, pb: &Path) -> Result<()> {
    if a.dims != b.dims {
        bail!("{} is {:?} but {} is {:?}: compare maps of the same size", pa.display(), a.dims, pb.display(), b.dims);
    }
    Ok(())
}

fn finish(json: bool, value: serde_json::Value, table: String) -> Result<()> {
    let bytes = if json {
        let mut b = serde_json::to_vec_pretty(&value)?;
        b.push(b'\n');
        b
    } else {
        table.into_bytes()
    };
    emit(None, &bytes)
}

fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{x:.4}"))
}

pub fn segment_cmd(a: SegmentArgs) -> Result<()> {
    let mut rows = Vec::new();
    let mut t = format!(
        "{:<28} {:>7} {:>7} {:>8} {:>9} {:>9} {:>8} {:>8}\n",
        "case", "Dice", "IoU", "HD", "HD95 MON", "HD95 med", "ASSD", "ASSD med"
    );
    let (mut dsum, mut n) = (0.0, 0usize);
    for (name, pa, pb) in pairs(&a.reference, &a.pred)? {
        let (ga, gb) = (read_grid(&pa)?, read_grid(&pb)?);
        same_size(&ga, &gb, &pa, &pb)?;
        let ma: Vec<bool> = ga.data.iter().map(|&v| v > a.threshold).collect();
        let mb: Vec<bool> = gb.data.iter().map(|&v| v > a.threshold).collect();
        let s = segment::segmentation_scores(&ma, &mb, ga.dims, ga.spacing);
        let _ = writeln!(
            t,
            "{:<28} {:>7.4} {:>7.4} {:>8} {:>9} {:>9} {:>8} {:>8}",
            name,
            s.dice,
            s.iou,
            opt(s.hd),
            opt(s.hd95_monai),
            opt(s.hd95_medpy),
            opt(s.assd),
            opt(s.assd_medpy)
        );
        dsum += s.dice;
        n += 1;
        rows.push(serde_json::json!({"case": name, "scores": s}));
    }
    let _ = writeln!(t, "\nmean Dice {:.4} over {n} cases. Distances in mm (voxel spacing), border-to-border; HD95 MON = max of directed 95th percentiles (MONAI), med = pooled (medpy 0.5.2); both masks empty: Dice 1, distances 0; one empty: distances undefined", dsum / n as f64);
    finish(a.json, serde_json::json!({"cases": rows, "mean_dice": dsum / n as f64}), t)
}

/// One box row: image id, finding label, the box, and an optional pointing-game point.
struct BoxRow {
    id: String,
    label: String,
    bx: localize::BoxXywh,
    point: Option<(f64, f64)>,
}

struct Boxes {
    rows: Vec<BoxRow>,
}

fn read_boxes(p: &Path) -> Result<Boxes> {
    let bytes = cxr_io::read_bytes(p)?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(&bytes[..]);
    let h: Vec<String> = rdr.headers()?.iter().map(|x| x.trim().to_ascii_lowercase()).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| h.iter().position(|x| x == n));
    let id = find(&["id", "image index", "image"])
        .with_context(|| format!("{}: no id / Image Index column; columns {h:?}", p.display()))?;
    let label = find(&["label", "finding label", "finding"])
        .with_context(|| format!("{}: no label / Finding Label column", p.display()))?;
    let x = find(&["x", "bbox [x"]).with_context(|| format!("{}: no x column", p.display()))?;
    let (y, w, hh) = (x + 1, x + 2, x + 3);
    let (px, py) = (find(&["px"]), find(&["py"]));
    let mut rows = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.with_context(|| format!("{} line {}", p.display(), i + 2))?;
        let num = |c: usize| -> Result<f64> {
            r.get(c)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .with_context(|| format!("{} line {}: column {} is not a number", p.display(), i + 2, c + 1))
        };
        let b = localize::BoxXywh { x: num(x)?, y: num(y)?, w: num(w)?, h: num(hh)? };
        if b.w < 0.0 || b.h < 0.0 {
            bail!("{} line {}: negative box size", p.display(), i + 2);
        }
        let point = match (px, py) {
            (Some(a), Some(b)) => Some((num(a)?, num(b)?)),
            _ => None,
        };
        rows.push(BoxRow { id: r[id].to_string(), label: r[label].to_string(), bx: b, point });
    }
    Ok(Boxes { rows })
}

pub fn localize_cmd(a: LocalizeArgs) -> Result<()> {
    let gt = read_boxes(&a.gt)?;
    let pred = read_boxes(&a.pred)?;
    let (mut ious, mut iobbs, mut hits, mut rows) = (Vec::new(), Vec::new(), 0usize, Vec::new());
    for BoxRow { id, label, bx: g, .. } in &gt.rows {
        let Some(BoxRow { bx: p, point, .. }) = pred.rows.iter().find(|r| &r.id == id && &r.label == label) else {
            bail!("no predicted box for {id} / {label} in {}", a.pred.display());
        };
        let (i, o) = (localize::iou(g, p), localize::iobb(g, p));
        let (cx, cy) = point.unwrap_or((p.x + p.w / 2.0, p.y + p.h / 2.0));
        let hit = g.contains(cx, cy, a.tolerance);
        ious.push(i);
        iobbs.push(o);
        hits += usize::from(hit);
        rows.push(serde_json::json!({"id": id, "label": label, "iou": i, "iobb": o, "pointing_hit": hit}));
    }
    let n = ious.len().max(1) as f64;
    let tiou = localize::accuracy_at(&ious, &localize::T_IOU);
    let tiobb = localize::accuracy_at(&iobbs, &localize::T_IOBB);
    let mut t = format!("{} boxes\n", ious.len());
    let _ = writeln!(
        t,
        "accuracy at T(IoU):  {}",
        tiou.iter().map(|(k, v)| format!("{k}: {v:.3}")).collect::<Vec<_>>().join("  ")
    );
    let _ = writeln!(
        t,
        "accuracy at T(IoBB): {}",
        tiobb.iter().map(|(k, v)| format!("{k}: {v:.3}")).collect::<Vec<_>>().join("  ")
    );
    let _ = writeln!(t, "pointing game: {:.3} (tolerance {} px)\nIoBB = intersection / predicted box area (ChestX-ray8); correct iff metric >= T", hits as f64 / n, a.tolerance);
    finish(
        a.json,
        serde_json::json!({"boxes": rows, "accuracy_t_iou": tiou, "accuracy_t_iobb": tiobb, "pointing_game": hits as f64 / n}),
        t,
    )
}

fn image(g: &Grid) -> quality::Image<'_> {
    quality::Image { width: g.dims[0], height: g.dims[1], pixels: &g.data[..] }
}

pub fn quality_cmd(a: QualityArgs) -> Result<()> {
    if let Some(mask) = &a.synthrad_mask {
        return synthrad_cmd(&a, mask);
    }
    let mut rows = Vec::new();
    let mut t = format!(
        "{:<28} {:>10} {:>9} {:>8} {:>10} {:>10} {:>10} {:>10}\n",
        "case", "MSE", "MAE", "PSNR", "SSIM skim", "SSIM Wang", "SSIM tm", "MS-SSIM tm"
    );
    for (name, pa, pb) in pairs(&a.reference, &a.pred)? {
        let (ga, gb) = (read_grid(&pa)?, read_grid(&pb)?);
        same_size(&ga, &gb, &pa, &pb)?;
        let range = a.data_range.unwrap_or_else(|| {
            let png = pa.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
            let (lo, hi) = ga.data.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            if png && hi <= 255.0 {
                255.0
            } else if png {
                65535.0
            } else {
                hi - lo
            }
        });
        let (m, e, p) = (
            quality::mse(&ga.data, &gb.data),
            quality::mae(&ga.data, &gb.data),
            quality::psnr(&ga.data, &gb.data, range),
        );
        let (ia, ib) = (image(&ga), image(&gb));
        let ssim = |v| (ga.dims[2] == 1).then(|| quality::ssim(ia, ib, range, v)).flatten();
        let (s1, s2) = (ssim(quality::SsimVariant::SkimageDefault), ssim(quality::SsimVariant::Wang2004));
        let flat = ga.dims[2] == 1;
        let s3 = flat.then(|| quality::ssim_torchmetrics(ia, ib, range)).flatten();
        let s4 = flat.then(|| quality::ms_ssim_torchmetrics(ia, ib, range)).flatten();
        let _ = writeln!(
            t,
            "{:<28} {:>10.4} {:>9.4} {:>8.3} {:>10} {:>10} {:>10} {:>10}",
            name,
            m,
            e,
            p,
            opt(s1),
            opt(s2),
            opt(s3),
            opt(s4)
        );
        rows.push(serde_json::json!({"case": name, "data_range": range, "mse": m, "mae": e, "psnr": p,
            "ssim_skimage_default": s1, "ssim_wang2004": s2, "ssim_torchmetrics": s3, "ms_ssim_torchmetrics": s4}));
    }
    let _ = writeln!(t, "\nSSIM skim = scikit-image defaults (uniform 7x7, sample covariance); Wang = Gaussian sigma 1.5, 11 taps; tm = torchmetrics defaults (whole-image mean; MS-SSIM needs sides > 160 px); 2-D images only");
    finish(a.json, serde_json::json!({"cases": rows}), t)
}

/// SynthRAD2025 MAE, PSNR and masked MS-SSIM of each (reference, prediction, mask) triple.
fn synthrad_cmd(a: &QualityArgs, mask: &Path) -> Result<()> {
    use cxr_metrics::synthrad;
    let mut rows = Vec::new();
    let mut t =
        format!("{:<28} {:>10} {:>9} {:>14} {:>16}\n", "case", "MAE (HU)", "PSNR", "MS-SSIM (mask)", "MS-SSIM (whole)");
    for (name, pa, pb) in pairs(&a.reference, &a.pred)? {
        let pm = if mask.is_dir() { mask.join(pa.file_name().unwrap_or_default()) } else { mask.to_path_buf() };
        let (ga, gb, gm) = (read_grid(&pa)?, read_grid(&pb)?, read_grid(&pm)?);
        same_size(&ga, &gb, &pa, &pb)?;
        same_size(&ga, &gm, &pa, &pm)?;
        if !gm.data.iter().any(|&v| v > 0.0) {
            bail!("{}: the mask is empty; SynthRAD2025 metrics are defined inside the mask", pm.display());
        }
        let dims = [ga.dims[2], ga.dims[1], ga.dims[0]];
        let (e, p) = (synthrad::mae(&ga.data, &gb.data, &gm.data), synthrad::psnr(&ga.data, &gb.data, &gm.data));
        let (masked, whole) = synthrad::ms_ssim(dims, &ga.data, &gb.data, &gm.data)
            .with_context(|| format!("{}: volumes and mask must have the same shape", pa.display()))?;
        let _ = writeln!(t, "{:<28} {:>10.4} {:>9.4} {:>14.6} {:>16.6}", name, e, p, masked, whole);
        rows.push(
            serde_json::json!({"case": name, "mae_hu": e, "psnr": p, "ms_ssim_masked": masked, "ms_ssim_whole": whole}),
        );
    }
    let _ = writeln!(t, "\nSynthRAD2025 conventions: outside the mask set to -1024 HU; dynamic range [-1024, 3071]; 3-D MS-SSIM, 5 levels");
    finish(a.json, serde_json::json!({"cases": rows}), t)
}

fn read_features(p: &Path) -> Result<Vec<Vec<f64>>> {
    let g = read_grid(p)?;
    if g.dims[2] != 1 {
        bail!("{}: features must be a 2-D table (one row per image)", p.display());
    }
    Ok(g.data.chunks(g.dims[0]).map(<[f64]>::to_vec).collect())
}

pub fn fid_cmd(a: FidArgs) -> Result<()> {
    let (r, f) = (read_features(&a.real)?, read_features(&a.fake)?);
    if r[0].len() != f[0].len() {
        bail!(
            "feature dimensions differ: {} has {}, {} has {}",
            a.real.display(),
            r[0].len(),
            a.fake.display(),
            f[0].len()
        );
    }
    let fid = quality::fid(&r, &f).context("FID needs at least two rows in each set")?;
    let kid = quality::kid(&r, &f).context("KID needs at least two rows in each set")?;
    let t = format!("FID {fid:.6}\nKID {kid:.6} (unbiased MMD², cubic polynomial kernel, full sets)\n{} real and {} synthetic feature vectors of dimension {}\n", r.len(), f.len(), r[0].len());
    finish(
        a.json,
        serde_json::json!({"fid": fid, "kid": kid, "n_real": r.len(), "n_fake": f.len(), "dim": r[0].len()}),
        t,
    )
}

/// Reads and checks one saliency case, then scores it.
fn saliency_case(
    a: &SaliencyArgs,
    sp: &Path,
    fp: &Path,
    dp: Option<&Path>,
    options: &saliency::SaliencyOptions,
) -> Result<saliency::SaliencyScores> {
    let finite = |g: &Grid, p: &Path| -> Result<()> {
        if let Some(i) = g.data.iter().position(|v| !v.is_finite()) {
            bail!(
                "{} has a non-finite value ({}) at x {}, y {}: saliency metrics need finite maps; fill missing values first",
                p.display(),
                g.data[i],
                i % g.dims[0].max(1),
                i / g.dims[0].max(1)
            );
        }
        Ok(())
    };
    let s = read_grid(sp)?;
    finite(&s, sp)?;
    let fx = read_grid(fp)?;
    same_size(&s, &fx, sp, fp)?;
    let fix: Vec<bool> = fx.data.iter().map(|&v| v > 0.0).collect();
    if !fix.iter().any(|&v| v) {
        bail!("{} has no fixated pixel (no value above 0)", fp.display());
    }
    let (w, h) = (s.dims[0], s.dims[1]);
    let density = match dp {
        Some(d) => {
            let g = read_grid(d)?;
            same_size(&s, &g, sp, d)?;
            finite(&g, d)?;
            if a.emd_block == 0 || !w.is_multiple_of(a.emd_block) || !h.is_multiple_of(a.emd_block) {
                bail!(
                    "--emd-block {} does not divide the {w}×{h} maps of {}; choose a divisor (e.g. 4 for 64×64, 32 for 224×224 → 7×7)",
                    a.emd_block,
                    sp.display()
                );
            }
            Some(g)
        }
        None => None,
    };
    Ok(saliency::evaluate(&s.data, &fix, density.as_ref().map(|g| &g.data[..]), w, h, options))
}

/// One saliency case: its name and the saliency, fixation and (optional) density files.
type SaliencyCase = (String, PathBuf, PathBuf, Option<PathBuf>);

/// The cases: one triple of files, or the files of the saliency folder matched by name in the others.
fn saliency_cases(a: &SaliencyArgs) -> Result<Vec<SaliencyCase>> {
    let pairs = pairs(&a.saliency, &a.fixations)?;
    pairs
        .into_iter()
        .map(|(name, sp, fp)| {
            let dp = match &a.density {
                Some(d) if d.is_dir() => {
                    let q = d.join(&name);
                    if !q.is_file() {
                        bail!("{} has no file {name} to match {}", d.display(), sp.display());
                    }
                    Some(q)
                }
                Some(_) if a.saliency.is_dir() => {
                    bail!("--saliency is a folder, so --density must be a folder with files of the same names")
                }
                other => other.clone(),
            };
            Ok((name, sp, fp, dp))
        })
        .collect()
}

const SALIENCY_NAMES: [&str; 9] =
    ["nss_matlab", "nss_pysaliency", "auc_judd", "auc_borji", "cc", "kld", "sim_matlab", "sim_pysaliency", "emd"];

fn saliency_values(s: &saliency::SaliencyScores) -> [Option<f64>; 9] {
    [s.nss_matlab, s.nss_pysaliency, s.auc_judd, s.auc_borji, s.cc, s.kld, s.sim_matlab, s.sim_pysaliency, s.emd]
}

pub fn saliency_cmd(a: SaliencyArgs) -> Result<()> {
    use rayon::prelude::*;
    let options =
        saliency::SaliencyOptions { borji_splits: a.splits, borji_step: 0.1, seed: a.seed, emd_block: a.emd_block };
    let mut conventions = format!(
        "MATLAB = MIT saliency benchmark code; pysaliency variants named; AUC-Borji {} splits, seed {}",
        a.splits, a.seed
    );
    if a.density.is_some() {
        let _ = write!(conventions, "; EMD on {}x{} block means", a.emd_block, a.emd_block);
    }
    let cases = saliency_cases(&a)?;
    let with_density = a.density.is_some();
    let shown: Vec<usize> = (0..9).filter(|&k| with_density || k < 4).collect();
    if !a.saliency.is_dir() {
        let (_, sp, fp, dp) = &cases[0];
        let scores = saliency_case(&a, sp, fp, dp.as_deref(), &options)?;
        let values = saliency_values(&scores);
        let mut v = serde_json::Map::new();
        let mut t = String::new();
        for &k in &shown {
            v.insert(SALIENCY_NAMES[k].into(), serde_json::json!(values[k]));
            let _ = writeln!(
                t,
                "{:<16} {}",
                SALIENCY_NAMES[k],
                values[k].map_or("undefined".into(), |x| format!("{x:.6}"))
            );
        }
        let _ = writeln!(t, "{conventions}");
        return finish(a.json, serde_json::Value::Object(v), t);
    }
    let pb = crate::output::progress(cases.len() as u64, a.quiet, "saliency");
    let results: Vec<Result<saliency::SaliencyScores>> = cases
        .par_iter()
        .map(|(_, sp, fp, dp)| {
            let r = saliency_case(&a, sp, fp, dp.as_deref(), &options);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    let (mut rows, mut skipped) = (Vec::new(), Vec::new());
    let mut t = format!("{:<28}", "case");
    for &k in &shown {
        let _ = write!(t, " {:>10}", SALIENCY_NAMES[k].replace("_pysaliency", "_pys").replace("_matlab", "_mat"));
    }
    t.push('\n');
    let (mut sums, mut counts) = ([0.0f64; 9], [0usize; 9]);
    for ((name, sp, ..), r) in cases.iter().zip(results) {
        let scores = match r {
            Ok(s) => s,
            Err(e) if a.keep_going => {
                skipped.push(serde_json::json!({"case": name, "error": format!("{e:#}")}));
                continue;
            }
            Err(e) => return Err(e.context(format!("case {} (use --keep-going to skip bad cases)", sp.display()))),
        };
        let values = saliency_values(&scores);
        let _ = write!(t, "{name:<28}");
        for &k in &shown {
            let _ = write!(t, " {:>10}", values[k].map_or("—".into(), |x| format!("{x:.4}")));
            if let Some(x) = values[k] {
                sums[k] += x;
                counts[k] += 1;
            }
        }
        t.push('\n');
        rows.push(serde_json::json!({"case": name, "scores": scores}));
    }
    if rows.is_empty() {
        bail!("no case of {} could be scored ({} skipped)", a.saliency.display(), skipped.len());
    }
    let mut means = serde_json::Map::new();
    let _ = write!(t, "{:<28}", format!("mean of {}", rows.len()));
    for &k in &shown {
        let m = (counts[k] > 0).then(|| sums[k] / counts[k] as f64);
        means.insert(SALIENCY_NAMES[k].into(), serde_json::json!(m));
        let _ = write!(t, " {:>10}", m.map_or("—".into(), |x| format!("{x:.4}")));
    }
    let _ = writeln!(t, "\n{conventions}; means over the cases where a metric is defined");
    for s in &skipped {
        let _ = writeln!(t, "skipped {}: {}", s["case"].as_str().unwrap_or(""), s["error"].as_str().unwrap_or(""));
    }
    finish(a.json, serde_json::json!({"cases": rows, "mean": means, "skipped": skipped}), t)
}
