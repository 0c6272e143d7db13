//! # cxr-image — from stored pixels to model-ready radiographs
//!
//! * [`lut`] — the DICOM grey-scale pipeline: Modality LUT, VOI (windows LINEAR/LINEAR_EXACT/SIGMOID or a
//!   VOI LUT), inversion for MONOCHROME1 / Presentation LUT INVERSE; [`display`] runs all of it.
//! * [`resize`] — Pillow-compatible area, bilinear and Lanczos-3 resampling.
//! * [`prep`] — square crop/pad, histogram equalisation, CLAHE, torchxrayvision and ImageNet normalisation,
//!   lung-field bands.
//! * [`pipeline`] — crop/pad + resize + equalisation as one step, carrying the pixel-size change.
//!
//! ```
//! use cxr_core::image::{Image2, PixelTransforms, ModalityLut, VoiChoice};
//! let stored = Image2::new(2, 1, vec![0, 4095]).unwrap();
//! let t = PixelTransforms { modality: ModalityLut::IDENTITY, windows: vec![], voi_luts: vec![],
//!                           invert: true, modality_range: (0.0, 4095.0) };
//! let shown = cxr_image::display(&stored, &t, &VoiChoice::Default).unwrap();
//! assert_eq!(shown.image.pixels, vec![1.0, 0.0]); // min–max, then MONOCHROME1 inversion
//! ```

pub mod lut;
pub mod pipeline;
pub mod prep;
pub mod resize;

use cxr_core::image::{Image2, PixelTransforms, Voi, VoiChoice};

/// A radiograph ready to show or to preprocess, with the VOI that made it.
#[derive(Debug, Clone)]
pub struct Display {
    /// Display fractions in `[0, 1]` (0 black), inversion applied.
    pub image: Image2<f32>,
    pub voi: Voi,
    pub inverted: bool,
}

/// Stored values → display fractions, applying in DICOM order the Modality LUT, the chosen VOI and the
/// inversion. Errors name the problem when the choice matches nothing or the window is invalid.
pub fn display(stored: &Image2<i32>, t: &PixelTransforms, choice: &VoiChoice) -> Result<Display, String> {
    let voi = t.choose_voi(choice).ok_or_else(|| {
        format!(
            "the file has {} window(s) and {} VOI LUT(s); {choice:?} matches none of them",
            t.windows.len(),
            t.voi_luts.len()
        )
    })?;
    if let Voi::Window(w) = &voi {
        lut::check_window(w)?;
    }
    // Stored values are integers over a bounded range, so the whole chain is one table lookup per pixel:
    // build `stored → display` for the range present (same arithmetic as the step-by-step path below).
    let (lo, hi) = stored.pixels.iter().fold((i32::MAX, i32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    if !stored.pixels.is_empty() && (hi as i64 - lo as i64) < (1 << 20) {
        let ramp = Image2 { width: (hi as i64 - lo as i64 + 1) as usize, height: 1, pixels: (lo..=hi).collect() };
        let values = lut::modality(&ramp, &t.modality);
        // Min–max must span the modality values of the *image*, i.e. of every stored value present.
        let voi_used = match &voi {
            Voi::MinMax => {
                let mut present = vec![false; ramp.width];
                stored.pixels.iter().for_each(|&v| present[(v - lo) as usize] = true);
                let (a, b) = values
                    .pixels
                    .iter()
                    .zip(&present)
                    .filter(|(_, &p)| p)
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), (&v, _)| (a.min(v), b.max(v)));
                Some((a, b))
            }
            _ => None,
        };
        let mut table = match voi_used {
            Some((a, b)) => values.map(|x| if b > a { (x - a) / (b - a) } else { 0.0 }),
            None => lut::voi(&values, &voi),
        };
        if t.invert {
            lut::invert(&mut table);
        }
        let image = stored.map(|v| table.pixels[(v - lo) as usize]);
        return Ok(Display { image, voi, inverted: t.invert });
    }
    let values = lut::modality(stored, &t.modality);
    let mut image = lut::voi(&values, &voi);
    if t.invert {
        lut::invert(&mut image);
    }
    Ok(Display { image, voi, inverted: t.invert })
}
