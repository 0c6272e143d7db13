//! The geometric half of preprocessing as one step: make square (or not), resize, and optionally
//! equalise — what `cxr convert` and model input preparation share.

use crate::prep;
use crate::resize::{fit_longer_side, resize, Filter};
use cxr_core::image::Image2;

/// How an image is brought to the requested size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// The longer side becomes `size`; the aspect ratio is kept.
    #[default]
    Longer,
    /// Centre square crop, then `size × size`.
    Crop,
    /// Pad to a square with black, then `size × size`.
    Pad,
    /// Resize to `size × size`, distorting the aspect ratio.
    Stretch,
}

impl std::str::FromStr for Fit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "longer" => Ok(Fit::Longer),
            "crop" => Ok(Fit::Crop),
            "pad" => Ok(Fit::Pad),
            "stretch" => Ok(Fit::Stretch),
            o => Err(format!("unknown fit '{o}': use longer, crop, pad or stretch")),
        }
    }
}

/// Contrast equalisation of the 8-bit output.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Equalize {
    #[default]
    None,
    /// Global histogram equalisation ([`prep::equalize_hist`]).
    Hist,
    /// CLAHE ([`prep::clahe`]) with a clip limit and a tiles × tiles grid.
    Clahe { clip_limit: f64, tiles: usize },
}

/// Geometry of preprocessing.
#[derive(Debug, Clone, Default)]
pub struct Prep {
    /// Target size in pixels; `None` keeps the size (after any crop/pad).
    pub size: Option<usize>,
    pub fit: Fit,
    pub filter: Filter,
}

/// A prepared image and how many input pixels one output pixel spans (rows, columns), to carry the spacing.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub image: Image2<f32>,
    pub input_pixels_per_output: [f64; 2],
}

/// Crops or pads as asked, then resizes.
pub fn prepare(display: &Image2<f32>, p: &Prep) -> Prepared {
    let squared = match p.fit {
        Fit::Crop => prep::center_crop_square(display),
        Fit::Pad => prep::pad_square(display, 0.0),
        Fit::Longer | Fit::Stretch => display.clone(),
    };
    let (w, h) = match (p.size, p.fit) {
        (None, _) => (squared.width, squared.height),
        (Some(s), Fit::Longer) => fit_longer_side(squared.width, squared.height, s),
        (Some(s), _) => (s, s),
    };
    let image =
        if (w, h) == (squared.width, squared.height) { squared.clone() } else { resize(&squared, w, h, p.filter) };
    let scale = [squared.height as f64 / h.max(1) as f64, squared.width as f64 / w.max(1) as f64];
    Prepared { image, input_pixels_per_output: scale }
}

/// Like [`prepare`], but quantises to 8 bits first and resizes with Pillow's fixed-point arithmetic
/// ([`crate::resize::resize_u8_pillow`]): the output equals a pydicom + Pillow pipeline's bit for bit.
pub fn prepare_u8_pillow(display: &Image2<f32>, p: &Prep) -> (Image2<u8>, [f64; 2]) {
    let y8 = crate::lut::to_u8(display);
    let squared = match p.fit {
        Fit::Crop => prep::center_crop_square(&y8),
        Fit::Pad => prep::pad_square(&y8, 0),
        Fit::Longer | Fit::Stretch => y8,
    };
    let (w, h) = match (p.size, p.fit) {
        (None, _) => (squared.width, squared.height),
        (Some(s), Fit::Longer) => fit_longer_side(squared.width, squared.height, s),
        (Some(s), _) => (s, s),
    };
    let scale = [squared.height as f64 / h.max(1) as f64, squared.width as f64 / w.max(1) as f64];
    if (w, h) == (squared.width, squared.height) {
        return (squared, scale);
    }
    (crate::resize::resize_u8_pillow(&squared, w, h, p.filter), scale)
}

/// Applies an equalisation to an 8-bit image.
pub fn equalize(img: &Image2<u8>, e: Equalize) -> Image2<u8> {
    match e {
        Equalize::None => img.clone(),
        Equalize::Hist => prep::equalize_hist(img),
        Equalize::Clahe { clip_limit, tiles } => prep::clahe(img, clip_limit, tiles),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_give_the_promised_sizes_and_scales() {
        let img = Image2::new(200, 100, vec![0.5f32; 20_000]).unwrap();
        let go = |fit, size| {
            let p = prepare(&img, &Prep { size, fit, filter: Filter::Box });
            (p.image.width, p.image.height, p.input_pixels_per_output)
        };
        assert_eq!(go(Fit::Longer, Some(50)), (50, 25, [4.0, 4.0]));
        assert_eq!(go(Fit::Crop, Some(50)), (50, 50, [2.0, 2.0]));
        assert_eq!(go(Fit::Pad, Some(50)), (50, 50, [4.0, 4.0]));
        assert_eq!(go(Fit::Stretch, Some(50)), (50, 50, [2.0, 4.0]));
        assert_eq!(go(Fit::Longer, None), (200, 100, [1.0, 1.0]));
        let padded = prepare(&img, &Prep { size: None, fit: Fit::Pad, filter: Filter::Box });
        assert_eq!(padded.image.get(0, 0), 0.0);
        assert_eq!(padded.image.get(100, 100), 0.5);
        assert!("square".parse::<Fit>().is_err());
    }
}
