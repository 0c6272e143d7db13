//! # cxr-core — the vocabulary every cxrkit crate shares
//!
//! This crate holds the nouns the rest of the toolkit speaks in and nothing else: no file I/O, no heavy
//! dependencies. Domain crates (`cxr-report`, `cxr-metrics`, …) depend on it; it depends on none of them.
//!
//! * [`Finding`] — the 14 CheXpert observations, with their names in the CheXpert and CheXbert column orders.
//! * [`Label`] — the CheXpert label values: 1 positive, 0 negative, −1 uncertain, blank not mentioned.
//! * [`FindingLabels`] — one label per finding, i.e. one row of a CheXpert-style label file.
//! * [`Findings`] — a structured findings document (status, laterality, severity, region, source per finding).
//! * [`image`] — [`Image2`], a grey radiograph, and the DICOM pixel transforms ([`PixelTransforms`]) to display it.
//! * [`Volume`] — a 3-D scalar volume with its affine (world mm from voxel indices) and provenance.
//! * [`hash`] — a fast hasher for short keys (words, n-grams), shared by the text crates.
//! * [`pipe`] — read a stream on a second thread (inflate while parsing), shared by the table readers.
//!
//! ```
//! use cxr_core::{Finding, Label, FindingLabels};
//! let mut row = FindingLabels::default();
//! row.set(Finding::Cardiomegaly, Label::Positive);
//! assert_eq!(row.get(Finding::Cardiomegaly).as_chexpert_str(), "1");
//! assert_eq!(row.get(Finding::Edema).as_chexpert_str(), "");
//! assert_eq!("pleural effusion".parse::<Finding>().unwrap(), Finding::PleuralEffusion);
//! ```

pub mod atomic;
mod finding;
pub mod findings;
pub mod hash;
pub mod image;
mod label;
pub mod pipe;
pub mod rng;
pub mod volume;

pub use finding::{Finding, ParseFindingError};
pub use findings::{FindingEntry, Findings, Laterality, Status};
pub use image::{Image2, PixelTransforms};
pub use label::{FindingLabels, Label, ParseLabelError};
pub use volume::{Affine, Volume};
