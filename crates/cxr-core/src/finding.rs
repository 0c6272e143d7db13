//! The 14 CheXpert observations.
//!
//! Order and names follow the CheXpert labeler (`stanfordmlgroup/chexpert-labeler`, `constants.py`
//! `CATEGORIES`), which is also the column order of the CheXpert dataset's CSVs. CheXbert (and RadEval's
//! `f1chexbert`) use a different order with No Finding last; [`Finding::CHEXBERT_ORDER`] gives it.

use std::fmt;
use std::str::FromStr;

/// A CheXpert observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Finding {
    NoFinding,
    EnlargedCardiomediastinum,
    Cardiomegaly,
    LungLesion,
    LungOpacity,
    Edema,
    Consolidation,
    Pneumonia,
    Atelectasis,
    Pneumothorax,
    PleuralEffusion,
    PleuralOther,
    Fracture,
    SupportDevices,
}

impl Finding {
    /// Number of observations.
    pub const COUNT: usize = 14;

    /// CheXpert labeler / dataset column order.
    pub const ALL: [Finding; 14] = [
        Finding::NoFinding,
        Finding::EnlargedCardiomediastinum,
        Finding::Cardiomegaly,
        Finding::LungLesion,
        Finding::LungOpacity,
        Finding::Edema,
        Finding::Consolidation,
        Finding::Pneumonia,
        Finding::Atelectasis,
        Finding::Pneumothorax,
        Finding::PleuralEffusion,
        Finding::PleuralOther,
        Finding::Fracture,
        Finding::SupportDevices,
    ];

    /// CheXbert / RadEval (`f1chexbert`) column order: the 13 conditions, then No Finding.
    pub const CHEXBERT_ORDER: [Finding; 14] = [
        Finding::EnlargedCardiomediastinum,
        Finding::Cardiomegaly,
        Finding::LungOpacity,
        Finding::LungLesion,
        Finding::Edema,
        Finding::Consolidation,
        Finding::Pneumonia,
        Finding::Atelectasis,
        Finding::Pneumothorax,
        Finding::PleuralEffusion,
        Finding::PleuralOther,
        Finding::Fracture,
        Finding::SupportDevices,
        Finding::NoFinding,
    ];

    /// The five findings most report-generation papers average over (R2Gen, CheXbert "5-class"):
    /// Cardiomegaly, Edema, Consolidation, Atelectasis, Pleural Effusion.
    pub const COMMON_FIVE: [Finding; 5] =
        [Finding::Cardiomegaly, Finding::Edema, Finding::Consolidation, Finding::Atelectasis, Finding::PleuralEffusion];

    /// Position in [`Finding::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The CheXpert column name, e.g. `"Pleural Effusion"`.
    pub const fn name(self) -> &'static str {
        match self {
            Finding::NoFinding => "No Finding",
            Finding::EnlargedCardiomediastinum => "Enlarged Cardiomediastinum",
            Finding::Cardiomegaly => "Cardiomegaly",
            Finding::LungLesion => "Lung Lesion",
            Finding::LungOpacity => "Lung Opacity",
            Finding::Edema => "Edema",
            Finding::Consolidation => "Consolidation",
            Finding::Pneumonia => "Pneumonia",
            Finding::Atelectasis => "Atelectasis",
            Finding::Pneumothorax => "Pneumothorax",
            Finding::PleuralEffusion => "Pleural Effusion",
            Finding::PleuralOther => "Pleural Other",
            Finding::Fracture => "Fracture",
            Finding::SupportDevices => "Support Devices",
        }
    }

    /// A file-name friendly key, e.g. `"pleural_effusion"` (the lexicon file stem).
    pub fn key(self) -> String {
        self.name().to_ascii_lowercase().replace(' ', "_")
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Finding> for &'static str {
    fn from(f: Finding) -> Self {
        f.name()
    }
}

/// A string that names no CheXpert observation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding {0:?}: expected one of the 14 CheXpert observations, e.g. \"Pleural Effusion\"")]
pub struct ParseFindingError(pub String);

impl FromStr for Finding {
    type Err = ParseFindingError;

    /// Accepts the CheXpert name or the snake-case key, case-insensitively
    /// (`"Pleural Effusion"`, `"pleural_effusion"`, `"PLEURAL EFFUSION"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String =
            s.trim().chars().map(|c| if c == '_' || c == '-' { ' ' } else { c.to_ascii_lowercase() }).collect();
        Finding::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(&norm))
            .ok_or_else(|| ParseFindingError(s.to_string()))
    }
}

impl TryFrom<String> for Finding {
    type Error = ParseFindingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_index_agree() {
        for (i, f) in Finding::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(f.name().parse::<Finding>().unwrap(), *f);
            assert_eq!(f.key().parse::<Finding>().unwrap(), *f);
        }
        let mut chexbert = Finding::CHEXBERT_ORDER.to_vec();
        chexbert.sort();
        assert_eq!(chexbert, Finding::ALL.to_vec());
        assert_eq!(Finding::CHEXBERT_ORDER[13], Finding::NoFinding);
    }

    #[test]
    fn unknown_name_is_an_error() {
        let e = "pleural thing".parse::<Finding>().unwrap_err();
        assert!(e.to_string().contains("pleural thing"));
    }

    #[test]
    fn serde_uses_the_chexpert_name() {
        let s = serde_json::to_string(&Finding::LungOpacity).unwrap();
        assert_eq!(s, "\"Lung Opacity\"");
        let back: Finding = serde_json::from_str(&s).unwrap();
        assert_eq!(back, Finding::LungOpacity);
    }
}
