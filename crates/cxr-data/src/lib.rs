//! # cxr-data — public CXR datasets, harmonised
//!
//! Reads the label and metadata files of the public chest X-ray datasets and maps them to **one schema**
//! (image, patient, study, view, sex, age, the 18 torchxrayvision pathologies and each dataset's extra
//! labels), the way torchxrayvision's dataset classes do — so a model trained on one dataset can be tested
//! on another, and `cxr eval` can read any of them.
//!
//! * [`Dataset`] — NIH ChestX-ray14, NIH Google relabels, CheXpert (with CheXpert Plus's demographics and
//!   report sections when its file is given: [`Attributes`]), MIMIC-CXR-JPG, PadChest, VinDr-CXR,
//!   RSNA Pneumonia, SIIM-ACR Pneumothorax, IU X-Ray/OpenI; [`Dataset::info`] gives source, licence, files
//!   and value conventions (from `data/catalog.tsv`).
//! * [`harmonize`] — one dataset's files → [`Harmonized`] rows. [`Options::txv_compat`] reproduces
//!   torchxrayvision 1.5.7's mapping exactly, quirks included (`groupby().first()` mixing cells of different
//!   images of a patient, substring label matching, SIIM labels per annotation row, MIMIC's healthy rule
//!   touching Support Devices, PadChest's age filter); the default fixes them, and [`Harmonized::notes`]
//!   says what changed. Label values: 1 positive, 0 negative, −1 uncertain (CheXpert/MIMIC, default mode
//!   only; torchxrayvision makes them NaN), missing.
//! * [`split`] — patient-level, seeded, label-stratified train/valid/test splits.
//! * [`stats`] — counts, prevalence and demographics.
//! * [`siim_rle_decode`] — SIIM-ACR masks from Kaggle's relative column-major RLE.
//!
//! The definitions follow `torchxrayvision/datasets.py` of the 1.5.7 wheel (loader line numbers in each
//! adapter's comment); the golden test compares row counts and per-pathology positive/negative/missing
//! counts with torchxrayvision's own classes on excerpts of the real files, and `bench/datasets.sh` does so
//! on the full files.

mod adapters;
mod csvscan;
pub mod split;
pub mod stats;
pub mod table;

pub use adapters::harmonize;

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The 18 torchxrayvision `default_pathologies`, in its order.
pub const TXV_PATHOLOGIES: [&str; 18] = [
    "Atelectasis",
    "Consolidation",
    "Infiltration",
    "Pneumothorax",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Effusion",
    "Pneumonia",
    "Pleural_Thickening",
    "Cardiomegaly",
    "Nodule",
    "Mass",
    "Hernia",
    "Lung Lesion",
    "Fracture",
    "Lung Opacity",
    "Enlarged Cardiomediastinum",
];

/// Errors reading dataset files.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {problem}")]
    Format { path: PathBuf, problem: String },
    #[error("{path}: missing column(s) {}; expected {expected}", missing.join(", "))]
    Columns { path: PathBuf, missing: Vec<String>, expected: String },
    #[error("{path}: image id '{id}' appears {count} times; each image must be listed once (is this the right file for {dataset}?)")]
    Duplicate { path: PathBuf, id: String, count: usize, dataset: &'static str },
    #[error("{0}")]
    Usage(String),
}

impl DataError {
    pub(crate) fn format(path: &Path, problem: impl Into<String>) -> Self {
        DataError::Format { path: path.to_path_buf(), problem: problem.into() }
    }
}

/// The datasets cxrkit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    Nih,
    NihGoogle,
    Chexpert,
    Mimic,
    Padchest,
    Vindr,
    Rsna,
    Siim,
    Openi,
}

/// What the catalogue says about a dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    pub name: &'static str,
    pub title: &'static str,
    pub files: &'static str,
    pub source: &'static str,
    pub licence: &'static str,
    pub conventions: &'static str,
}

const CATALOG: &str = include_str!("../data/catalog.tsv");

impl Dataset {
    pub const ALL: [Dataset; 9] = [
        Dataset::Nih,
        Dataset::NihGoogle,
        Dataset::Chexpert,
        Dataset::Mimic,
        Dataset::Padchest,
        Dataset::Vindr,
        Dataset::Rsna,
        Dataset::Siim,
        Dataset::Openi,
    ];

    /// The command-line name (`nih`, `nih-google`, `chexpert`, …).
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Nih => "nih",
            Dataset::NihGoogle => "nih-google",
            Dataset::Chexpert => "chexpert",
            Dataset::Mimic => "mimic",
            Dataset::Padchest => "padchest",
            Dataset::Vindr => "vindr",
            Dataset::Rsna => "rsna",
            Dataset::Siim => "siim",
            Dataset::Openi => "openi",
        }
    }

    /// Source, licence, expected files and value conventions.
    pub fn info(self) -> DatasetInfo {
        let line = CATALOG
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .find(|l| l.split('\t').next() == Some(self.name()))
            .unwrap_or("");
        let f: Vec<&'static str> = line.split('\t').collect();
        let at = |i: usize| f.get(i).copied().unwrap_or("");
        DatasetInfo { name: self.name(), title: at(1), files: at(2), source: at(3), licence: at(4), conventions: at(5) }
    }
}

impl std::str::FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n = s.to_ascii_lowercase().replace('_', "-");
        Dataset::ALL.into_iter().find(|d| d.name() == n).ok_or_else(|| {
            format!(
                "unknown dataset '{s}': use one of {}",
                Dataset::ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

/// How to harmonise.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep only these views (`PA`, `AP`, `L`, `AP Supine`, …; a missing view is `UNKNOWN`); `None` keeps all.
    /// Datasets without views (VinDr, SIIM) ignore it, as torchxrayvision does.
    pub views: Option<Vec<String>>,
    /// One row per patient (torchxrayvision's `unique_patients=True`).
    pub unique_patients: bool,
    /// Reproduce torchxrayvision 1.5.7 exactly, quirks included.
    pub txv_compat: bool,
    /// OpenI only: take the view from the bundled t-SNE file instead of the DICOM header.
    pub tsne_view: bool,
}

impl Options {
    /// torchxrayvision's constructor defaults: PA only, one image per patient, its quirks.
    pub fn txv_defaults() -> Self {
        Options { views: Some(vec!["PA".into()]), unique_patients: true, txv_compat: true, tsne_view: false }
    }
}

/// A label value.
pub type Value = Option<i8>;

/// One harmonised image.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub image_id: String,
    pub patient_id: Option<String>,
    pub study_id: Option<String>,
    /// `PA`, `AP`, `L`, `AP Supine`, …, `UNKNOWN` when the file says nothing; empty for datasets without views.
    pub view: String,
    /// `M` or `F`.
    pub sex: Option<String>,
    pub age: Option<f64>,
    /// The dataset's official split, when its files give one (MIMIC `split.csv`, Google `Set Id`).
    pub split: Option<String>,
    /// Aligned with [`Harmonized::pathologies`].
    pub labels: Vec<Value>,
}

/// A harmonised dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Harmonized {
    pub dataset: Dataset,
    /// The dataset's own labels under torchxrayvision's names, in torchxrayvision's order.
    pub pathologies: Vec<String>,
    pub records: Vec<Record>,
    /// Label cells with values the dataset's conventions do not allow (`column=value` → count).
    pub unknown_values: BTreeMap<String, usize>,
    /// What was done that changes numbers: quirks reproduced (compat) or fixed (default), filters applied.
    pub notes: Vec<String>,
    /// Per-image attributes beyond the common schema (CheXpert Plus: race, ethnicity, report sections, …).
    pub attributes: Attributes,
}

/// Named per-image attributes, aligned with [`Harmonized::records`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attributes {
    pub names: Vec<String>,
    /// Per record, one value per name (`None` when the source has none).
    pub values: Vec<Vec<Option<String>>>,
}

impl Attributes {
    /// The value of `name` for record `row`.
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        let k = self.names.iter().position(|n| n == name)?;
        self.values.get(row)?.get(k)?.as_deref()
    }
}

/// Positive/negative/uncertain/missing counts of one label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pos: usize,
    pub neg: usize,
    pub uncertain: usize,
    pub missing: usize,
}

impl Harmonized {
    /// Counts per own pathology.
    pub fn totals(&self) -> Vec<(String, Counts)> {
        self.pathologies.iter().cloned().zip(self.counts()).collect()
    }

    /// Counts of every pathology in one pass over the records (each record's labels are read once).
    fn counts(&self) -> Vec<Counts> {
        let mut counts = vec![Counts::default(); self.pathologies.len()];
        for r in &self.records {
            for (c, v) in counts.iter_mut().zip(&r.labels) {
                match v {
                    Some(1) => c.pos += 1,
                    Some(0) => c.neg += 1,
                    Some(_) => c.uncertain += 1,
                    None => c.missing += 1,
                }
            }
        }
        counts
    }

    /// Counts for a requested pathology list (torchxrayvision's `relabel_dataset`): a pathology the dataset
    /// lacks is all missing.
    pub fn totals_for(&self, names: &[&str]) -> Vec<(String, Counts)> {
        let counts = self.counts();
        names
            .iter()
            .map(|n| {
                let c = match self.pathologies.iter().position(|p| p == n) {
                    Some(k) => counts[k],
                    None => Counts { missing: self.records.len(), ..Counts::default() },
                };
                (n.to_string(), c)
            })
            .collect()
    }

    /// The value of a named pathology in a record (missing when the dataset lacks it).
    pub fn value(&self, record: &Record, name: &str) -> Value {
        self.pathologies.iter().position(|p| p == name).and_then(|k| record.labels[k])
    }
}

/// Decodes a SIIM-ACR Pneumothorax mask: Kaggle's *relative* run-length encoding (pairs of gap since the
/// previous run's end, run length) over the image in **column-major** order, as torchxrayvision's
/// `rle2mask` then `.T` reads it. Returns a row-major `height × width` mask; `"-1"` gives an empty mask.
pub fn siim_rle_decode(rle: &str, width: usize, height: usize) -> Result<Vec<bool>, String> {
    let mut mask = vec![false; width * height];
    let rle = rle.trim();
    if rle == "-1" || rle.is_empty() {
        return Ok(mask);
    }
    let nums: Vec<usize> = rle
        .split_whitespace()
        .map(|t| t.parse::<usize>().map_err(|_| format!("'{t}' is not a run-length number")))
        .collect::<Result<_, _>>()?;
    if nums.len() & 1 == 1 {
        return Err(format!("{} numbers: run-length pairs need an even count", nums.len()));
    }
    let mut cur = 0usize;
    for pair in nums.chunks_exact(2) {
        cur += pair[0];
        let end = cur + pair[1];
        if end > width * height {
            return Err(format!("a run ends at pixel {end}, past the {width}×{height} image"));
        }
        for p in cur..end {
            // Column-major index p → (row = p % height, col = p / height).
            mask[(p % height) * width + p / height] = true;
        }
        cur = end;
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rle_is_relative_and_column_major() {
        // 3×2 image (width 3, height 2): column-major pixels 0..6. Gap 1, run 2 → pixels 1, 2;
        // gap 1, run 1 → pixel 4.
        let m = siim_rle_decode("1 2 1 1", 3, 2).unwrap();
        // pixel 1 = (row 1, col 0); pixel 2 = (row 0, col 1); pixel 4 = (row 0, col 2).
        assert_eq!(m, vec![false, true, true, true, false, false]);
        assert!(siim_rle_decode("-1", 3, 2).unwrap().iter().all(|&v| !v));
        assert!(siim_rle_decode("1 2 3", 3, 2).is_err());
        assert!(siim_rle_decode("5 9", 3, 2).is_err());
    }

    #[test]
    fn catalog_has_every_dataset() {
        for d in Dataset::ALL {
            let i = d.info();
            assert!(!i.title.is_empty() && !i.licence.is_empty() && !i.files.is_empty(), "{}", d.name());
            assert_eq!(d.name().parse::<Dataset>(), Ok(d));
        }
        assert!("chexpert_plus".parse::<Dataset>().is_err());
    }
}
