//! Radiographs as data: a grey 2-D image, and the pixel transforms a DICOM file asks for.
//!
//! The readers (`cxr-io`) fill these in from file headers; the preprocessing crate (`cxr-image`) applies
//! them. Keeping them here means neither crate depends on the other.

use serde::{Deserialize, Serialize};

/// A grey image stored row-major: `pixels[row * width + col]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image2<T> {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<T>,
}

impl<T: Copy> Image2<T> {
    /// An image from row-major pixels; `None` when the length is not `width × height`.
    pub fn new(width: usize, height: usize, pixels: Vec<T>) -> Option<Self> {
        (width.checked_mul(height) == Some(pixels.len())).then_some(Image2 { width, height, pixels })
    }

    /// The pixel at (`row`, `col`).
    pub fn get(&self, row: usize, col: usize) -> T {
        self.pixels[row * self.width + col]
    }

    /// The same image with every pixel mapped.
    pub fn map<U: Copy>(&self, f: impl Fn(T) -> U) -> Image2<U> {
        Image2 { width: self.width, height: self.height, pixels: self.pixels.iter().map(|&p| f(p)).collect() }
    }
}

/// A lookup table as DICOM defines it (LUT Descriptor + LUT Data): inputs below `first_mapped` take the
/// first entry, inputs past the end take the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lut {
    /// The stored (or modality) value mapped to `data[0]`.
    pub first_mapped: i64,
    /// Bits per entry (from the descriptor's third value); outputs span `0 ..= 2^bits − 1`.
    pub bits: u16,
    pub data: Vec<u16>,
    /// LUT Explanation, when the file gives one.
    pub explanation: Option<String>,
}

impl Lut {
    /// The entry for input `x` (clamped to the table).
    pub fn lookup(&self, x: f64) -> u16 {
        let last = self.data.len().saturating_sub(1) as i64;
        let i = (x.floor() as i64).saturating_sub(self.first_mapped).clamp(0, last);
        self.data.get(i as usize).copied().unwrap_or(0)
    }
}

/// The Modality LUT: stored values → modality values (e.g. Hounsfield units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModalityLut {
    /// `slope · x + intercept` (Rescale Slope/Intercept; identity when absent).
    Rescale { slope: f64, intercept: f64 },
    /// The Modality LUT Sequence.
    Table(Lut),
}

impl ModalityLut {
    /// The identity (no Rescale tags, no LUT).
    pub const IDENTITY: ModalityLut = ModalityLut::Rescale { slope: 1.0, intercept: 0.0 };

    /// One stored value through the LUT (PS3.3 §C.11.1).
    pub fn apply(&self, stored: f64) -> f64 {
        match self {
            ModalityLut::Rescale { slope, intercept } => stored * slope + intercept,
            ModalityLut::Table(t) => t.lookup(stored) as f64,
        }
    }
}

/// The VOI LUT Function (0028,1056) of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WindowFunction {
    #[default]
    Linear,
    LinearExact,
    Sigmoid,
}

impl WindowFunction {
    /// The DICOM term (`LINEAR`, `LINEAR_EXACT`, `SIGMOID`).
    pub fn as_dicom_str(self) -> &'static str {
        match self {
            WindowFunction::Linear => "LINEAR",
            WindowFunction::LinearExact => "LINEAR_EXACT",
            WindowFunction::Sigmoid => "SIGMOID",
        }
    }
}

/// One window (Window Center/Width pair).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub center: f64,
    pub width: f64,
    pub function: WindowFunction,
    /// Window Center & Width Explanation, when given.
    pub explanation: Option<String>,
}

/// The VOI transform chosen for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Voi {
    Window(Window),
    Table(Lut),
    /// No VOI in the file: the modality values' own minimum and maximum span the output.
    MinMax,
}

/// Every display transform a file declares, in the order DICOM applies them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PixelTransforms {
    pub modality: ModalityLut,
    /// Windows in file order (several centre/width values make several windows).
    pub windows: Vec<Window>,
    /// VOI LUT Sequence items in file order.
    pub voi_luts: Vec<Lut>,
    /// Whether the display must be inverted (MONOCHROME1, or Presentation LUT Shape INVERSE).
    pub invert: bool,
    /// The range of modality values the stored bits can produce (`ymin`, `ymax` of the window functions when
    /// no VOI LUT gives its own): the stored range mapped through the modality LUT.
    pub modality_range: (f64, f64),
}

impl PixelTransforms {
    /// Chooses a VOI: by window index, by explanation (case-insensitive substring), else the first VOI LUT,
    /// else the first window, else min–max (pydicom's `apply_voi_lut(prefer_lut=True)` order: DICOM leaves
    /// the choice to the application, and a VOI LUT is usually the vendor's tuned curve). `None` when the index or explanation matches nothing.
    pub fn choose_voi(&self, choice: &VoiChoice) -> Option<Voi> {
        match choice {
            VoiChoice::Default => Some(if let Some(l) = self.voi_luts.first() {
                Voi::Table(l.clone())
            } else if let Some(w) = self.windows.first() {
                Voi::Window(w.clone())
            } else {
                Voi::MinMax
            }),
            VoiChoice::MinMax => Some(Voi::MinMax),
            VoiChoice::Window(i) => self.windows.get(*i).cloned().map(Voi::Window),
            VoiChoice::Lut(i) => self.voi_luts.get(*i).cloned().map(Voi::Table),
            VoiChoice::Explanation(text) => {
                let t = text.to_lowercase();
                let hit = |e: &Option<String>| e.as_deref().is_some_and(|e| e.to_lowercase().contains(&t));
                self.windows
                    .iter()
                    .find(|w| hit(&w.explanation))
                    .cloned()
                    .map(Voi::Window)
                    .or_else(|| self.voi_luts.iter().find(|l| hit(&l.explanation)).cloned().map(Voi::Table))
            }
            VoiChoice::Explicit { center, width, function } => Some(Voi::Window(Window {
                center: *center,
                width: *width,
                function: *function,
                explanation: Some("given by the user".into()),
            })),
        }
    }
}

/// How the user picks among a file's VOI transforms.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum VoiChoice {
    /// The first VOI LUT, else the first window, else min–max.
    #[default]
    Default,
    /// Ignore the file's VOI and stretch min–max.
    MinMax,
    /// The `i`-th window (0-based).
    Window(usize),
    /// The `i`-th VOI LUT (0-based).
    Lut(usize),
    /// The first window or LUT whose explanation contains this text.
    Explanation(String),
    /// A window given on the command line.
    Explicit { center: f64, width: f64, function: WindowFunction },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_lookup_clamps_at_both_ends() {
        let lut = Lut { first_mapped: -2, bits: 8, data: vec![10, 20, 30], explanation: None };
        assert_eq!(lut.lookup(-5.0), 10);
        assert_eq!(lut.lookup(-2.0), 10);
        assert_eq!(lut.lookup(-1.0), 20);
        assert_eq!(lut.lookup(0.0), 30);
        assert_eq!(lut.lookup(9.0), 30);
    }

    #[test]
    fn voi_choice_by_explanation_and_index() {
        let w = |c: f64, e: &str| Window {
            center: c,
            width: 10.0,
            function: WindowFunction::Linear,
            explanation: Some(e.into()),
        };
        let t = PixelTransforms {
            modality: ModalityLut::IDENTITY,
            windows: vec![w(1.0, "NORMAL"), w(2.0, "HARDER")],
            voi_luts: vec![],
            invert: false,
            modality_range: (0.0, 4095.0),
        };
        assert_eq!(t.choose_voi(&VoiChoice::Explanation("hard".into())), Some(Voi::Window(w(2.0, "HARDER"))));
        assert_eq!(t.choose_voi(&VoiChoice::Window(0)), Some(Voi::Window(w(1.0, "NORMAL"))));
        assert_eq!(t.choose_voi(&VoiChoice::Window(2)), None);
        assert_eq!(t.choose_voi(&VoiChoice::Lut(0)), None);
        assert!(Image2::new(2, 2, vec![0u8; 3]).is_none());
    }
}
