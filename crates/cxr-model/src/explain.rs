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

/// Blue (0) → cyan → yellow → red (1).
fn ramp(t: f32) -> (f32, f32, f32) {
    let r = (1.5 - (4.0 * t - 3.0).abs()).clamp(0.0, 1.0);
    let g = (1.5 - (4.0 * t - 2.0).abs()).clamp(0.0, 1.0);
    let b = (1.5 - (4.0 * t - 1.0).abs()).clamp(0.0, 1.0);
    (r * 255.0, g * 255.0, b * 255.0)
}
