//! The synchronous work behind the endpoints: validating and decoding uploads, the viewer's pixel copy,
//! model runs with heatmaps placed on the viewer image, drafts and checks. No HTTP here.

use cxr_core::image::{Image2, Voi, VoiChoice};
use cxr_core::{Finding, FindingEntry, Findings, Status};
use cxr_model::card::{FitSpec, Predictor};
use cxr_report::{CheckResult, Demographics, Labeler};
use std::path::Path;

/// The viewer's copy of a radiograph: modality values (before VOI and inversion, so the viewer can window
/// them) at most this many pixels on the long side.
pub const VIEWER_MAX_SIDE: usize = 1024;

/// An upload, validated and decoded.
#[derive(Debug)]
pub struct Ingested {
    pub format: &'static str,
    pub width: usize,
    pub height: usize,
    /// Header facts worth showing (no patient identifiers: DICOM is read without them).
    pub info: serde_json::Value,
    /// The viewer copy as little-endian u16 and its description.
    pub viewer_pixels: Vec<u8>,
    pub viewer: serde_json::Value,
}

/// Decodes an uploaded file (DICOM, PNG, JPEG, `.npy`) to check it is a radiograph we can show and run
/// models on, and makes the viewer copy. Errors say what is wrong with the file.
pub fn ingest(path: &Path, max_pixels: u64) -> Result<Ingested, String> {
    let opts = cxr_io::dicom::ReadOptions { max_pixels, identifiers: false, ..Default::default() };
    let r = cxr_io::radiograph::read_radiograph(path, &opts).map_err(|e| e.to_string())?;
    // The default VOI must be usable (a broken window is an error here, not in the viewer or a model run).
    let voi = r.transforms.choose_voi(&VoiChoice::Default);
    if let Some(Voi::Window(win)) = &voi {
        cxr_image::lut::check_window(win)?;
    }
    let (w, h) = (r.stored.width, r.stored.height);
    let values = cxr_image::lut::modality(&r.stored, &r.transforms.modality);
    let (vw, vh) =
        if w.max(h) > VIEWER_MAX_SIDE { cxr_image::resize::fit_longer_side(w, h, VIEWER_MAX_SIDE) } else { (w, h) };
    let small = if (vw, vh) == (w, h) {
        values
    } else {
        cxr_image::resize::resize(&values, vw, vh, cxr_image::resize::Filter::Box)
    };
    let (lo, hi) = cxr_image::lut::min_max(&small.pixels);
    let span = (hi - lo).max(f32::MIN_POSITIVE);
    let viewer_pixels: Vec<u8> = small
        .pixels
        .iter()
        .flat_map(|&v| (((v - lo) / span * 65535.0).round().clamp(0.0, 65535.0) as u16).to_le_bytes())
        .collect();
    let (center, width, window_source) = match voi {
        Some(Voi::Window(win)) => (win.center, win.width, "file window"),
        _ => ((lo as f64 + hi as f64) / 2.0, (hi - lo) as f64, "min-max"),
    };
    let viewer = serde_json::json!({
        "width": vw, "height": vh, "min": lo, "max": hi,
        "window": {"center": center, "width": width, "source": window_source},
        "invert": r.transforms.invert,
        "encoding": "u16le, value = min + q / 65535 · (max − min)",
    });
    let info = serde_json::json!({
        "modality": r.info.modality, "view_position": r.info.view_position,
        "photometric_interpretation": r.info.photometric_interpretation,
        "bits_stored": r.info.bits_stored, "transfer_syntax": r.info.transfer_syntax,
        "pixel_spacing": r.info.pixel_spacing, "imager_pixel_spacing": r.info.imager_pixel_spacing,
        "laterality": r.info.laterality, "body_part": r.info.body_part,
    });
    let format = match r.format {
        cxr_io::radiograph::Format::Dicom => "dicom",
        cxr_io::radiograph::Format::Png => "png",
        cxr_io::radiograph::Format::Jpeg => "jpeg",
        cxr_io::radiograph::Format::Npy => "npy",
    };
    Ok(Ingested { format, width: w, height: h, info, viewer_pixels, viewer })
}

/// How a model run explains its decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Explain {
    /// Occlusion sensitivity (any model).
    Occlusion,
    /// Class activation maps (cards with a `cam` section).
    Cam,
    None,
}

/// One label's result with its heatmap (an RGBA PNG the size of the viewer copy).
#[derive(Debug)]
pub struct LabelResult {
    pub score: cxr_model::card::LabelScore,
    pub heatmap_png: Option<Vec<u8>>,
}

/// Runs the model on a stored radiograph; heatmaps are placed where the model's crop/pad put its input.
pub fn predict(
    p: &Predictor,
    path: &Path,
    max_pixels: u64,
    explain: Explain,
    viewer: (usize, usize),
) -> Result<Vec<LabelResult>, String> {
    let opts = cxr_io::dicom::ReadOptions { max_pixels, identifiers: false, ..Default::default() };
    let r = cxr_io::radiograph::read_radiograph(path, &opts).map_err(|e| e.to_string())?;
    let shown = cxr_image::display(&r.stored, &r.transforms, &VoiChoice::Default)?;
    let input = p.input_values(&shown.image);
    let side = p.card.input.size;
    // Maps with their (width, height).
    type Maps = Option<(Vec<Vec<f32>>, (usize, usize))>;
    let (maps, scores): (Maps, Vec<f64>) = match explain {
        Explain::Occlusion => {
            let (m, s) = cxr_model::explain::occlusion(p, &input, cxr_model::explain::Occlusion::default())
                .map_err(|e| e.to_string())?;
            (Some((m, (side, side))), s)
        }
        Explain::Cam => {
            let (m, (mh, mw)) = cxr_model::explain::cam(p, &input).map_err(|e| e.to_string())?;
            let s = p.scores(input.clone(), 1).map_err(|e| e.to_string())?.remove(0);
            (Some((m, (mw, mh))), s)
        }
        Explain::None => (None, p.scores(input, 1).map_err(|e| e.to_string())?.remove(0)),
    };
    let decided = p.decide(&scores);
    Ok(decided
        .labels
        .into_iter()
        .enumerate()
        .map(|(k, score)| {
            let heatmap_png = maps.as_ref().and_then(|(m, dims)| {
                let rgba =
                    place_heatmap(m.get(k)?, *dims, (r.stored.width, r.stored.height), viewer, p.card.preprocess.fit);
                cxr_io::png16::encode_png_rgba8(viewer.0, viewer.1, &rgba).ok()
            });
            LabelResult { score, heatmap_png }
        })
        .collect())
}

/// A map (`dims` = width, height) over the model input, drawn as RGBA on the viewer image (`viewer` = its size; `image` =
/// the original's): the input is the centred square crop (or pad, or stretch) of the original.
pub fn place_heatmap(
    map: &[f32],
    dims: (usize, usize),
    image: (usize, usize),
    viewer: (usize, usize),
    fit: FitSpec,
) -> Vec<u8> {
    let (w, h) = (image.0 as f64, image.1 as f64);
    let (vw, vh) = viewer;
    let f = vw as f64 / w;
    // The input square in original pixels: origin and side (x and y sides differ only for stretch).
    let (x0, y0, sx, sy) = match fit {
        FitSpec::Crop => {
            let side = w.min(h);
            (((w - side) / 2.0).floor(), ((h - side) / 2.0).floor(), side, side)
        }
        FitSpec::Pad => {
            let side = w.max(h);
            (-((side - w) / 2.0).floor(), -((side - h) / 2.0).floor(), side, side)
        }
        FitSpec::Stretch => (0.0, 0.0, w, h),
    };
    let small = Image2 { width: dims.0, height: dims.1, pixels: map.to_vec() };
    let (pw, ph) = (((sx * f).round() as usize).max(1), ((sy * f).round() as usize).max(1));
    let big = cxr_image::resize::resize(&small, pw, ph, cxr_image::resize::Filter::Bilinear);
    let (ox, oy) = ((x0 * f).round() as i64, (y0 * f).round() as i64);
    let mut canvas = vec![0f32; vw * vh];
    for y in 0..ph {
        let cy = oy + y as i64;
        if cy < 0 || cy >= vh as i64 {
            continue;
        }
        for x in 0..pw {
            let cx = ox + x as i64;
            if cx >= 0 && cx < vw as i64 {
                canvas[cy as usize * vw + cx as usize] = big.pixels[y * pw + x].max(0.0);
            }
        }
    }
    cxr_model::explain::heat_rgba(&canvas)
}

/// A findings document from a stored run (labels that name a finding).
pub fn findings_of(run: &crate::store::RunRecord) -> Findings {
    let findings = run
        .findings
        .iter()
        .enumerate()
        .filter_map(|(k, f)| {
            let finding: Finding = f.finding.as_deref()?.parse().ok()?;
            let status = if f.positive { Status::Positive } else { Status::Negative };
            let mut e = FindingEntry::new(format!("f{}", k + 1), finding, status);
            e.probability = Some(f.probability);
            e.source = Some(run.model_name.clone());
            Some(e)
        })
        .collect();
    Findings { findings, other_abnormalities: vec![] }
}

/// Check flags as JSON, with each span also in UTF-16 code units (what a browser's string indices count).
fn flags_json(result: &CheckResult) -> serde_json::Value {
    let utf16 = |byte: usize| result.text.get(..byte).map(|s| s.encode_utf16().count());
    serde_json::Value::Array(
        result
            .flags
            .iter()
            .map(|f| {
                serde_json::json!({
                    "kind": f.kind, "severity": f.severity, "finding": f.finding.map(|x| x.name()),
                    "why": f.why, "span": f.span,
                    "span_utf16": f.span.and_then(|s| Some([utf16(s.start)?, utf16(s.end)?])),
                    "text": f.span.map(|s| s.of(&result.text)),
                })
            })
            .collect(),
    )
}

/// Checks a report against the findings (when any) and, when the study has them, the patient's sex and age
/// (`cxr check`'s plausibility rules).
pub fn check(labeler: &Labeler, text: &str, findings: Option<&Findings>, demo: &Demographics) -> serde_json::Value {
    let mut result = cxr_report::check(labeler, text, findings);
    result.flags.extend(cxr_report::demographic_flags(text, demo));
    flags_json(&result)
}

/// The demographics stored with a study.
pub fn demographics(study: &crate::store::StudySummary) -> Demographics {
    Demographics { age_years: study.age_years, sex: study.sex.as_deref().and_then(|s| s.parse().ok()) }
}

/// Labels a report: labels plus the mentions with their evidence spans.
pub fn label(labeler: &Labeler, text: &str) -> serde_json::Value {
    let l = labeler.label(text);
    serde_json::json!({
        "labels": Finding::ALL.iter().map(|&f| (f.name().to_string(), serde_json::json!(l.get(f).value()))).collect::<serde_json::Map<_, _>>(),
        "empty": l.empty,
        "mentions": l.mentions.iter().map(|m| serde_json::json!({
            "finding": m.finding.map(|f| f.name()),
            "label": m.label.value(),
            "text": l.text_of(m.span),
            "span": m.span,
            "cue": m.cue.as_ref().map(|c| serde_json::json!({"category": c.category, "text": l.text_of(c.span)})),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_lands_in_the_crop_square() {
        // A 4 × 2 image cropped to its central 2 × 2; a map hot everywhere covers columns 1..3 only.
        let rgba = place_heatmap(&[1.0; 4], (2, 2), (4, 2), (4, 2), FitSpec::Crop);
        let alpha: Vec<u8> = rgba.chunks(4).map(|p| p[3]).collect();
        assert_eq!(alpha, [0, 153, 153, 0, 0, 153, 153, 0]);
        // Padding a 2 × 4 image to 4 × 4: the map's left and right quarters fall outside the image.
        let mut m = vec![0.0; 16];
        m[0] = 1.0; // top-left of the padded square: outside the image, not drawn
        m[5] = 1.0; // row 1, column 1: the image's column 0
        let rgba = place_heatmap(&m, (4, 4), (2, 4), (2, 4), FitSpec::Pad);
        let alpha: Vec<u8> = rgba.chunks(4).map(|p| p[3]).collect();
        assert!(alpha[2] > 0 && alpha[1] == 0 && alpha[0] == 0, "{alpha:?}");
    }
}
