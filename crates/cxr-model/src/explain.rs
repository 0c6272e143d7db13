//! Explanations that need nothing but the model's outputs.
//!
//! **Occlusion sensitivity** (Zeiler & Fergus, *Visualizing and Understanding Convolutional Networks*,
//! ECCV 2014): a `patch × patch` square of the model input, moved by `stride`, is replaced by the neutral
//! value (mid-grey after normalisation); the map at a pixel is the mean drop of the label's score over the
//! occlusions covering it (`score(original) − score(occluded)`; positive where the region supported the
//! label). Occluded copies are run `batch` at a time.

use crate::card::Predictor;
use crate::ModelError;

/// Occlusion settings.
#[derive(Debug, Clone, Copy)]
pub struct Occlusion {
    pub patch: usize,
    pub stride: usize,
    pub batch: usize,
}

impl Default for Occlusion {
    fn default() -> Self {
        Occlusion { patch: 16, stride: 8, batch: 16 }
    }
}

/// Occlusion maps of every label, at the model's input size (`size × size`, row-major), for an input
/// already prepared by [`Predictor::input_values`]. Also returns the unoccluded scores.
pub fn occlusion(p: &Predictor, input: &[f32], o: Occlusion) -> Result<(Vec<Vec<f32>>, Vec<f64>), ModelError> {
    let (c, s) = (p.card.input.channels, p.card.input.size);
    if o.patch == 0 || o.stride == 0 || o.batch == 0 || o.patch > s {
        return Err(ModelError::Input(format!(
            "occlusion patch {} / stride {} / batch {} must be positive and the patch at most the input size {s}",
            o.patch, o.stride, o.batch
        )));
    }
    let base = p.scores(input.to_vec(), 1)?.remove(0);
    let k = base.len();
    // Window origins along one axis: every `stride`, plus one flush with the far edge.
    let mut starts: Vec<usize> = (0..=s - o.patch).step_by(o.stride).collect();
    if starts.last() != Some(&(s - o.patch)) {
        starts.push(s - o.patch);
    }
    let windows: Vec<(usize, usize)> = starts.iter().flat_map(|&y| starts.iter().map(move |&x| (y, x))).collect();
    let fill = p.neutral_value();
    let mut sum = vec![vec![0f32; s * s]; k];
    let mut count = vec![0u32; s * s];
    for chunk in windows.chunks(o.batch) {
        let mut batch = Vec::with_capacity(chunk.len() * input.len());
        for &(y0, x0) in chunk {
            let mut img = input.to_vec();
            for ch in 0..c {
                for y in y0..y0 + o.patch {
                    let row = ch * s * s + y * s;
                    img[row + x0..row + x0 + o.patch].fill(fill);
                }
            }
            batch.extend_from_slice(&img);
        }
        let scores = p.scores(batch, chunk.len())?;
        for (&(y0, x0), sc) in chunk.iter().zip(&scores) {
            for y in y0..y0 + o.patch {
                for x in x0..x0 + o.patch {
                    count[y * s + x] += 1;
                    for (l, m) in sum.iter_mut().enumerate() {
                        m[y * s + x] += (base[l] - sc[l]) as f32;
                    }
                }
            }
        }
    }
    for m in &mut sum {
        for (v, &n) in m.iter_mut().zip(&count) {
            if n > 0 {
                *v /= n as f32;
            }
        }
    }
    Ok((sum, base))
}

/// Per-label maps (row-major) and their `(height, width)`.
pub type Maps = (Vec<Vec<f32>>, (usize, usize));

/// Class activation maps of every label at the feature map's resolution (`h × w`, row-major), from one
/// prepared input: `CAM_c = Σ_k W[c, k] · F_k`. For a network that ends in global average pooling and a linear
/// classifier, the mean of `CAM_c` plus the bias is the label's logit. Returns the maps and `(h, w)`.
pub fn cam(p: &Predictor, input: &[f32]) -> Result<Maps, ModelError> {
    let spec = p.card.cam.as_ref().ok_or_else(|| {
        ModelError::Input("the model card has no `cam` section (features and classifier weights)".into())
    })?;
    let (c, s) = (p.card.input.channels, p.card.input.size);
    let out = p.model.run_with(crate::Tensor::float(vec![1, c, s, s], input.to_vec()), &[spec.features.as_str()])?;
    let f = &out[&spec.features];
    if f.shape.len() != 4 || f.shape[0] != 1 {
        return Err(ModelError::Input(format!(
            "cam.features {:?} has shape {:?}, not [1, K, h, w]",
            spec.features, f.shape
        )));
    }
    let (k, h, w) = (f.shape[1], f.shape[2], f.shape[3]);
    let fv = f.to_f32();
    let wt = p.model.graph.initializers[&spec.weights].to_f32();
    let labels = p.card.labels.len();
    let weight = |label: usize, ch: usize| match spec.weights_layout {
        crate::card::WeightsLayout::OutIn => wt[label * k + ch],
        crate::card::WeightsLayout::InOut => wt[ch * labels + label],
    };
    let wk = p.model.graph.initializers[&spec.weights].shape
        [if spec.weights_layout == crate::card::WeightsLayout::OutIn { 1 } else { 0 }];
    if wk != k {
        return Err(ModelError::Input(format!("cam.weights has {wk} inputs but the feature map has {k} channels")));
    }
    let maps = (0..labels)
        .map(|l| {
            let mut m = vec![0f32; h * w];
            for ch in 0..k {
                let wv = weight(l, ch);
                for (v, &x) in m.iter_mut().zip(&fv[ch * h * w..(ch + 1) * h * w]) {
                    *v += wv * x;
                }
            }
            m
        })
        .collect();
    Ok((maps, (h, w)))
}

/// The "mask of truth" experiment: the scores with a box of the model input set to the neutral value.
/// `box_frac` is `[x0, y0, x1, y1]` as fractions of the input side.
pub fn masked_scores(p: &Predictor, input: &[f32], box_frac: [f64; 4]) -> Result<Vec<f64>, ModelError> {
    let [x0, y0, x1, y1] = box_frac;
    let inside = (0.0..=1.0).contains(&x0) && (0.0..=1.0).contains(&y0) && x0 < x1 && x1 <= 1.0 && y0 < y1 && y1 <= 1.0;
    if !inside {
        return Err(ModelError::Input(format!(
            "mask box {box_frac:?} is not x0,y0,x1,y1 fractions with 0 ≤ x0 < x1 ≤ 1 and 0 ≤ y0 < y1 ≤ 1"
        )));
    }
    let s = p.card.input.size;
    let px = |f: f64| ((f * s as f64).round() as usize).min(s);
    let (cx0, cy0, cx1, cy1) = (px(x0), px(y0), px(x1), px(y1));
    let mask: Vec<bool> = (0..s * s).map(|i| (cy0..cy1).contains(&(i / s)) && (cx0..cx1).contains(&(i % s))).collect();
    region_masked_scores(p, input, &mask)
}

/// The scores with the pixels where `mask` (`size × size`, row-major, at the model input) is true set to the
/// neutral value — a region from a segmentation (the lungs), or its complement (outside the lungs).
pub fn region_masked_scores(p: &Predictor, input: &[f32], mask: &[bool]) -> Result<Vec<f64>, ModelError> {
    let (c, s) = (p.card.input.channels, p.card.input.size);
    if mask.len() != s * s {
        return Err(ModelError::Input(format!("the mask has {} pixels, not {s} × {s}", mask.len())));
    }
    let mut img = input.to_vec();
    let fill = p.neutral_value();
    for ch in 0..c {
        for (v, &m) in img[ch * s * s..(ch + 1) * s * s].iter_mut().zip(mask) {
            if m {
                *v = fill;
            }
        }
    }
    Ok(p.scores(img, 1)?.remove(0))
}

/// An RGB overlay of a heatmap on a grey image (both `size × size`): the map's positive part, scaled to
/// its maximum, blended in a blue→red colour ramp over the grey.
pub fn overlay_rgb(grey: &[f32], map: &[f32]) -> Vec<u8> {
    let max = map.iter().copied().fold(0f32, f32::max);
    let mut out = Vec::with_capacity(grey.len() * 3);
    for (&g, &m) in grey.iter().zip(map) {
        let base = g.clamp(0.0, 1.0) * 255.0;
        let t = if max > 0.0 { (m / max).clamp(0.0, 1.0) } else { 0.0 };
        let (r, gg, b) = ramp(t);
        let a = 0.6 * t;
        for col in [r, gg, b] {
            out.push((base * (1.0 - a) + col * a).round().clamp(0.0, 255.0) as u8);
        }
    }
    out
}

/// A heatmap as RGBA for drawing over an image: the same colour ramp as [`overlay_rgb`], with opacity
/// rising with the value (0 is fully transparent, the maximum 60 % opaque), so viewers can toggle it.
pub fn heat_rgba(map: &[f32]) -> Vec<u8> {
    let max = map.iter().copied().fold(0f32, f32::max);
    let mut out = Vec::with_capacity(map.len() * 4);
    for &m in map {
        let t = if max > 0.0 { (m / max).clamp(0.0, 1.0) } else { 0.0 };
        let (r, g, b) = ramp(t);
        out.extend([r as u8, g as u8, b as u8, (0.6 * t * 255.0).round() as u8]);
    }
    out
}

/// Blue (0) → cyan → yellow → red (1).
fn ramp(t: f32) -> (f32, f32, f32) {
    let r = (1.5 - (4.0 * t - 3.0).abs()).clamp(0.0, 1.0);
    let g = (1.5 - (4.0 * t - 2.0).abs()).clamp(0.0, 1.0);
    let b = (1.5 - (4.0 * t - 1.0).abs()).clamp(0.0, 1.0);
    (r * 255.0, g * 255.0, b * 255.0)
}
