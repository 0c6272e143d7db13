//! Separable convolution resampling, defined as Pillow's `Image.resize` defines it (`libImaging/Resample.c`):
//! for each output pixel `x`, centre `(x + ½)·s` in input pixels (`s` = input/output size), the filter
//! stretched by `max(s, 1)` so that downscaling averages instead of aliasing, taps cut to the image, weights
//! normalised to sum 1. Rows are resampled first, then columns.
//!
//! * [`Filter::Box`] — area averaging (Pillow `BOX`; for integer factors the same as OpenCV `INTER_AREA`).
//! * [`Filter::Bilinear`] — the triangle filter (Pillow `BILINEAR`, antialiased when shrinking).
//! * [`Filter::Lanczos3`] — `sinc(x)·sinc(x/3)` on `|x| < 3` (Pillow `LANCZOS`).
//!
//! Pillow computes 8-bit images in fixed point with an 8-bit intermediate; [`resize`] (in `f32`) agrees
//! with it to ±1 grey level and [`resize_u8_pillow`] reproduces that arithmetic.

use cxr_core::image::Image2;

/// A resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    Box,
    Bilinear,
    #[default]
    Lanczos3,
}

impl Filter {
    fn support(self) -> f64 {
        match self {
            Filter::Box => 0.5,
            Filter::Bilinear => 1.0,
            Filter::Lanczos3 => 3.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        match self {
            // Pillow's interval ends: box (−½, ½], Lanczos [−3, 3).
            Filter::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Filter::Bilinear => (1.0 - x.abs()).max(0.0),
            Filter::Lanczos3 => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "box" | "area" => Ok(Filter::Box),
            "bilinear" | "linear" => Ok(Filter::Bilinear),
            "lanczos" | "lanczos3" => Ok(Filter::Lanczos3),
            other => Err(format!("unknown resize filter '{other}': use area, bilinear or lanczos")),
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Taps of one output coordinate: first input index and normalised weights.
struct Taps {
    start: Vec<usize>,
    weights: Vec<Vec<f32>>,
}

fn taps(in_size: usize, out_size: usize, filter: Filter) -> Taps {
    let (start, weights) = taps_f64(in_size, out_size, filter);
    Taps { start, weights: weights.into_iter().map(|w| w.into_iter().map(|v| v as f32).collect()).collect() }
}

#[allow(clippy::type_complexity)]
fn taps_f64(in_size: usize, out_size: usize, filter: Filter) -> (Vec<usize>, Vec<Vec<f64>>) {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter.support() * filter_scale;
    let mut start = Vec::with_capacity(out_size);
    let mut weights = Vec::with_capacity(out_size);
    for x in 0..out_size {
        let center = (x as f64 + 0.5) * scale;
        // Pillow truncates `center ± support + ½` toward zero; both are ≥ −½ so floor is the same
        // except in (−½, 0), which the clamp to 0 covers.
        let lo = ((center - support + 0.5).floor().max(0.0) as usize).min(in_size.saturating_sub(1));
        let hi = ((center + support + 0.5).floor() as usize).clamp(lo + 1, in_size);
        let mut w: Vec<f64> = (lo..hi).map(|i| filter.weight((i as f64 - center + 0.5) / filter_scale)).collect();
        let sum: f64 = w.iter().sum();
        if sum != 0.0 {
            w.iter_mut().for_each(|v| *v /= sum);
        }
        start.push(lo);
        weights.push(w);
    }
    (start, weights)
}

/// Pillow's fixed-point precision for 8-bit images (`32 − 8 − 2` bits).
const PRECISION_BITS: u32 = 22;

fn fixed_point(weights: &[Vec<f64>]) -> Vec<Vec<i32>> {
    let one = (1i64 << PRECISION_BITS) as f64;
    weights.iter().map(|w| w.iter().map(|&k| (k * one).round() as i32).collect()).collect()
}

// Sums stay within i32 as in Pillow: 255 · 2^22 · Σ|k| (≤ 1.3 for Lanczos-3) < 2^31.
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resamples an 8-bit image exactly as Pillow's 8-bit path does: weights rounded to 22-bit fixed point,
/// the horizontal pass rounded and clipped to 8 bits before the vertical pass. Use it to reproduce
/// Pillow-made training data bit for bit; [`resize`] (floating point, one rounding) is the more accurate.
pub fn resize_u8_pillow(img: &Image2<u8>, width: usize, height: usize, filter: Filter) -> Image2<u8> {
    if width == 0 || height == 0 || img.width == 0 || img.height == 0 {
        return Image2 { width, height, pixels: vec![0; width * height] };
    }
    let half = 1i32 << (PRECISION_BITS - 1);
    let tmp = if width != img.width {
        let (start, w) = taps_f64(img.width, width, filter);
        let k = fixed_point(&w);
        let mut tmp = vec![0u8; width * img.height];
        for (row_in, row_out) in img.pixels.chunks_exact(img.width).zip(tmp.chunks_exact_mut(width)) {
            for (x, out) in row_out.iter_mut().enumerate() {
                let acc: i32 = k[x].iter().zip(&row_in[start[x]..]).map(|(k, &v)| k * v as i32).sum();
                *out = clip8(acc + half);
            }
        }
        tmp
    } else {
        img.pixels.clone()
    };
    if height == img.height {
        return Image2 { width, height, pixels: tmp };
    }
    let (start, w) = taps_f64(img.height, height, filter);
    let k = fixed_point(&w);
    let mut out = vec![0u8; width * height];
    let mut acc = vec![0i32; width];
    for (y, row_out) in out.chunks_exact_mut(width).enumerate() {
        // Whole rows at a time: memory in order, and the inner loop vectorises.
        acc.fill(half);
        for (j, &kj) in k[y].iter().enumerate() {
            let row = &tmp[(start[y] + j) * width..(start[y] + j + 1) * width];
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += kj * v as i32;
            }
        }
        for (o, &a) in row_out.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
    Image2 { width, height, pixels: out }
}

/// Resamples to `width × height`. Sizes of zero give an empty image.
pub fn resize(img: &Image2<f32>, width: usize, height: usize, filter: Filter) -> Image2<f32> {
    if width == 0 || height == 0 || img.width == 0 || img.height == 0 {
        return Image2 { width, height, pixels: vec![0.0; width * height] };
    }
    // Horizontal pass: every input row to `width` columns.
    let h = taps(img.width, width, filter);
    let mut tmp = vec![0f32; width * img.height];
    for (row_in, row_out) in img.pixels.chunks_exact(img.width).zip(tmp.chunks_exact_mut(width)) {
        for (x, out) in row_out.iter_mut().enumerate() {
            let s = h.start[x];
            *out = h.weights[x].iter().zip(&row_in[s..]).map(|(w, v)| w * v).sum();
        }
    }
    // Vertical pass: accumulate whole rows, which walks memory in order.
    let v = taps(img.height, height, filter);
    let mut out = vec![0f32; width * height];
    for (y, row_out) in out.chunks_exact_mut(width).enumerate() {
        let s = v.start[y];
        for (k, &w) in v.weights[y].iter().enumerate() {
            let row_in = &tmp[(s + k) * width..(s + k + 1) * width];
            for (o, &p) in row_out.iter_mut().zip(row_in) {
                *o += w * p;
            }
        }
    }
    Image2 { width, height, pixels: out }
}

/// The output size that fits the longer side to `size`, keeping the aspect ratio (at least 1 pixel).
pub fn fit_longer_side(width: usize, height: usize, size: usize) -> (usize, usize) {
    let long = width.max(height).max(1) as f64;
    let f = size as f64 / long;
    (((width as f64 * f).round() as usize).max(1), ((height as f64 * f).round() as usize).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_filter_averages_blocks_exactly() {
        let img = Image2::new(4, 2, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]).unwrap();
        let out = resize(&img, 2, 1, Filter::Box);
        assert_eq!(out.pixels, vec![(0.0 + 2.0 + 8.0 + 10.0) / 4.0, (4.0 + 6.0 + 12.0 + 14.0) / 4.0]);
    }

    #[test]
    fn constant_images_stay_constant_under_every_filter() {
        let img = Image2::new(37, 23, vec![0.25f32; 37 * 23]).unwrap();
        for f in [Filter::Box, Filter::Bilinear, Filter::Lanczos3] {
            for (w, h) in [(10, 7), (80, 50), (37, 23)] {
                let out = resize(&img, w, h, f);
                assert!(out.pixels.iter().all(|&p| (p - 0.25).abs() < 1e-6), "{f:?} {w}x{h}");
            }
        }
    }

    #[test]
    fn same_size_is_identity_and_bilinear_upscale_interpolates() {
        let img = Image2::new(3, 1, vec![0.0, 3.0, 6.0]).unwrap();
        for f in [Filter::Box, Filter::Bilinear, Filter::Lanczos3] {
            let same = resize(&img, 3, 1, f);
            assert!(same.pixels.iter().zip(&img.pixels).all(|(a, b)| (a - b).abs() < 1e-6));
        }
        // 3 → 6: output centres at input coordinates 0.25, 0.75, … ; linear between pixel centres.
        let up = resize(&img, 6, 1, Filter::Bilinear);
        assert!((up.pixels[1] - 0.75).abs() < 1e-6 && (up.pixels[2] - 2.25).abs() < 1e-6, "{:?}", up.pixels);
        assert_eq!(fit_longer_side(1841, 1955, 512), (482, 512));
        assert_eq!("area".parse::<Filter>(), Ok(Filter::Box));
        assert!("cubic".parse::<Filter>().is_err());
    }
}
