//! The DICOM grey-scale pipeline: stored values → Modality LUT → VOI LUT → presentation (inversion).
//!
//! Definitions follow DICOM PS3.3 §C.11.1 (Modality LUT), §C.11.2.1.2 (window functions LINEAR,
//! LINEAR_EXACT, SIGMOID) and §C.11.6 (Presentation LUT), and agree with pydicom 3.0's
//! `apply_modality_lut`, `apply_voi_lut` and its MONOCHROME1 inversion (golden tests in `cxr-io`).
//! Display values here are fractions in `[0, 1]` — the window functions' `ymin`/`ymax` are 0 and 1 — so
//! 8- and 16-bit outputs are `round(y · 255)` and `round(y · 65535)`. pydicom instead spans
//! `[ymin, ymax]` of the stored bit range; the two agree after that affine rescaling.

use cxr_core::image::{Image2, Lut, ModalityLut, Voi, Window, WindowFunction};

/// Applies the Modality LUT to stored values.
pub fn modality(stored: &Image2<i32>, lut: &ModalityLut) -> Image2<f32> {
    match lut {
        ModalityLut::Rescale { slope, intercept } if *slope == 1.0 && *intercept == 0.0 => stored.map(|v| v as f32),
        m => stored.map(|v| m.apply(v as f64) as f32),
    }
}

/// One value through a window, to `[0, 1]` (PS3.3 §C.11.2.1.2.1–3).
///
/// * LINEAR: `x ≤ c − ½ − (w−1)/2 → 0`; `x > c − ½ + (w−1)/2 → 1`; else `(x − (c − ½))/(w − 1) + ½`.
///   The standard requires `w ≥ 1`; a width of exactly 1 is a threshold at `c − ½`.
/// * LINEAR_EXACT: `x ≤ c − w/2 → 0`; `x > c + w/2 → 1`; else `(x − c)/w + ½`.
/// * SIGMOID: `1 / (1 + exp(−4 (x − c)/w))`.
pub fn window_value(x: f64, w: &Window) -> f64 {
    let (c, width) = (w.center, w.width);
    match w.function {
        WindowFunction::Linear => {
            let half = (width - 1.0) / 2.0;
            if x <= c - 0.5 - half {
                0.0
            } else if x > c - 0.5 + half {
                1.0
            } else {
                (x - (c - 0.5)) / (width - 1.0) + 0.5
            }
        }
        WindowFunction::LinearExact => {
            if x <= c - width / 2.0 {
                0.0
            } else if x > c + width / 2.0 {
                1.0
            } else {
                (x - c) / width + 0.5
            }
        }
        WindowFunction::Sigmoid => 1.0 / (1.0 + (-4.0 * (x - c) / width).exp()),
    }
}

/// Why a window cannot be applied.
pub fn check_window(w: &Window) -> Result<(), String> {
    let ok = match w.function {
        WindowFunction::Linear => w.width >= 1.0,
        WindowFunction::LinearExact | WindowFunction::Sigmoid => w.width > 0.0,
    };
    if ok && w.center.is_finite() && w.width.is_finite() {
        Ok(())
    } else {
        Err(format!(
            "window width {} is not valid for {} (LINEAR needs ≥ 1, the others > 0); choose another window with \
             --window, or give one with --window-center/--window-width",
            w.width,
            w.function.as_dicom_str()
        ))
    }
}

/// One value through a VOI LUT, to `[0, 1]` (entries are divided by `2^bits − 1`).
pub fn table_value(x: f64, t: &Lut) -> f64 {
    let full = ((1u64 << t.bits.clamp(1, 16)) - 1) as f64;
    t.lookup(x) as f64 / full
}

/// Applies a VOI transform to modality values, giving display fractions in `[0, 1]`.
pub fn voi(values: &Image2<f32>, voi: &Voi) -> Image2<f32> {
    match voi {
        Voi::Window(w) => values.map(|x| window_value(x as f64, w) as f32),
        Voi::Table(t) => values.map(|x| table_value(x as f64, t) as f32),
        Voi::MinMax => {
            let (lo, hi) = min_max(&values.pixels);
            let span = hi - lo;
            values.map(|x| if span > 0.0 { (x - lo) / span } else { 0.0 })
        }
    }
}

/// Inverts display fractions (`1 − y`), as MONOCHROME1 and Presentation LUT Shape INVERSE require.
pub fn invert(display: &mut Image2<f32>) {
    for p in &mut display.pixels {
        *p = 1.0 - *p;
    }
}

/// The smallest and largest finite value (0, 0 for an empty slice).
pub fn min_max(values: &[f32]) -> (f32, f32) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if lo > hi {
        (0.0, 0.0)
    } else {
        (lo, hi)
    }
}

/// Display fractions to 8 bits (`round(y · 255)`).
pub fn to_u8(display: &Image2<f32>) -> Image2<u8> {
    // `+ ½` then truncation is round-half-up, the same as `round` for these non-negative values (and no
    // libm call per pixel).
    display.map(|y| (y.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
}

/// Display fractions to 16 bits (`round(y · 65535)`).
pub fn to_u16(display: &Image2<f32>) -> Image2<u16> {
    display.map(|y| (y.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(center: f64, width: f64, function: WindowFunction) -> Window {
        Window { center, width, function, explanation: None }
    }

    // Hand-computed from the PS3.3 formulas.
    #[test]
    fn linear_window_matches_the_standard() {
        let win = w(100.0, 11.0, WindowFunction::Linear);
        // Lower edge c − ½ − (w−1)/2 = 94.5, upper c − ½ + (w−1)/2 = 104.5.
        assert_eq!(window_value(94.5, &win), 0.0);
        assert!((window_value(95.0, &win) - 0.05).abs() < 1e-12); // (95 − 99.5)/10 + ½
        assert!((window_value(99.5, &win) - 0.5).abs() < 1e-12);
        assert!((window_value(104.5, &win) - 1.0).abs() < 1e-12);
        assert_eq!(window_value(104.6, &win), 1.0);
        // Width 1 is a threshold at c − ½.
        let t = w(10.0, 1.0, WindowFunction::Linear);
        assert_eq!(window_value(9.5, &t), 0.0);
        assert_eq!(window_value(9.6, &t), 1.0);
        assert!(check_window(&w(10.0, 0.5, WindowFunction::Linear)).is_err());
    }

    #[test]
    fn linear_exact_window_matches_the_standard() {
        let win = w(100.0, 10.0, WindowFunction::LinearExact);
        assert_eq!(window_value(95.0, &win), 0.0); // x ≤ c − w/2
        assert!((window_value(95.5, &win) - 0.05).abs() < 1e-12);
        assert!((window_value(100.0, &win) - 0.5).abs() < 1e-12);
        assert!((window_value(105.0, &win) - 1.0).abs() < 1e-12); // x = c + w/2 is still inside
        assert_eq!(window_value(105.01, &win), 1.0);
        // Unlike LINEAR, a width below 1 is allowed.
        let narrow = w(0.0, 0.5, WindowFunction::LinearExact);
        assert!(check_window(&narrow).is_ok());
        assert!((window_value(0.125, &narrow) - 0.75).abs() < 1e-12);
        assert!(check_window(&w(0.0, 0.0, WindowFunction::LinearExact)).is_err());
    }

    #[test]
    fn sigmoid_window_matches_the_standard() {
        let win = w(40.0, 400.0, WindowFunction::Sigmoid);
        assert!((window_value(40.0, &win) - 0.5).abs() < 1e-12);
        // x = c + w/4 → 1/(1 + e^−1)
        assert!((window_value(140.0, &win) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
        // Symmetric about the centre, never reaching 0 or 1.
        assert!((window_value(-60.0, &win) + window_value(140.0, &win) - 1.0).abs() < 1e-12);
        assert!(window_value(-1e4, &win) >= 0.0 && window_value(1e4, &win) <= 1.0);
        assert!(check_window(&w(0.0, 0.0, WindowFunction::Sigmoid)).is_err());
    }

    #[test]
    fn modality_rescale_and_table() {
        let img = Image2::new(3, 1, vec![0, 1000, 2000]).unwrap();
        let hu = modality(&img, &ModalityLut::Rescale { slope: 1.0, intercept: -1024.0 });
        assert_eq!(hu.pixels, vec![-1024.0, -24.0, 976.0]);
        let half = modality(&img, &ModalityLut::Rescale { slope: 0.5, intercept: 0.0 });
        assert_eq!(half.pixels, vec![0.0, 500.0, 1000.0]);
        let t = Lut { first_mapped: 1000, bits: 12, data: vec![7, 8], explanation: None };
        assert_eq!(modality(&img, &ModalityLut::Table(t)).pixels, vec![7.0, 7.0, 8.0]);
    }

    #[test]
    fn voi_table_minmax_and_inversion() {
        let img = Image2::new(3, 1, vec![10.0f32, 20.0, 30.0]).unwrap();
        let t = Lut { first_mapped: 20, bits: 8, data: vec![0, 255], explanation: None };
        assert_eq!(voi(&img, &Voi::Table(t)).pixels, vec![0.0, 0.0, 1.0]);
        let mut mm = voi(&img, &Voi::MinMax);
        assert_eq!(mm.pixels, vec![0.0, 0.5, 1.0]);
        invert(&mut mm);
        assert_eq!(mm.pixels, vec![1.0, 0.5, 0.0]);
        assert_eq!(to_u8(&mm).pixels, vec![255, 128, 0]);
        assert_eq!(to_u16(&mm).pixels, vec![65535, 32768, 0]);
        let flat = Image2::new(2, 1, vec![5.0f32, 5.0]).unwrap();
        assert_eq!(voi(&flat, &Voi::MinMax).pixels, vec![0.0, 0.0]);
    }
}
