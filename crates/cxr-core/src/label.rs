//! CheXpert label values.

use crate::Finding;
use std::fmt;
use std::str::FromStr;

/// The value of one observation in one report, as the CheXpert labeler writes it.
///
/// `1` positive, `0` negative, `-1` uncertain, blank not mentioned. "Not mentioned" is a value in its own
/// right: it is neither negative nor uncertain, and metrics must choose explicitly how to treat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Positive,
    Negative,
    Uncertain,
    #[default]
    NotMentioned,
}

impl Label {
    /// The CheXpert CSV cell: `"1"`, `"0"`, `"-1"` or `""`.
    pub const fn as_chexpert_str(self) -> &'static str {
        match self {
            Label::Positive => "1",
            Label::Negative => "0",
            Label::Uncertain => "-1",
            Label::NotMentioned => "",
        }
    }

    /// The numeric value, `None` when not mentioned.
    pub const fn value(self) -> Option<i8> {
        match self {
            Label::Positive => Some(1),
            Label::Negative => Some(0),
            Label::Uncertain => Some(-1),
            Label::NotMentioned => None,
        }
    }

    /// `true` for positive or uncertain: the finding is asserted or entertained.
    pub const fn is_present_or_uncertain(self) -> bool {
        matches!(self, Label::Positive | Label::Uncertain)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_chexpert_str())
    }
}

/// A cell that is not a CheXpert label value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label value {0:?}: expected 1, 0, -1 (or 1.0, 0.0, -1.0) or an empty cell")]
pub struct ParseLabelError(pub String);

impl FromStr for Label {
    type Err = ParseLabelError;

    /// Parses CheXpert cells: `1`, `0`, `-1`, their float spellings (`1.0`), and blank/`nan` as not mentioned.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" => Ok(Label::NotMentioned),
            t if t.eq_ignore_ascii_case("nan") => Ok(Label::NotMentioned),
            "1" | "1.0" => Ok(Label::Positive),
            "0" | "0.0" | "-0.0" => Ok(Label::Negative),
            "-1" | "-1.0" => Ok(Label::Uncertain),
            _ => Err(ParseLabelError(s.to_string())),
        }
    }
}

/// One label per [`Finding`], indexed in CheXpert order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FindingLabels([Label; Finding::COUNT]);

impl FindingLabels {
    pub fn get(&self, f: Finding) -> Label {
        self.0[f.index()]
    }

    pub fn set(&mut self, f: Finding, l: Label) {
        self.0[f.index()] = l;
    }

    /// `(finding, label)` pairs in CheXpert order.
    pub fn iter(&self) -> impl Iterator<Item = (Finding, Label)> + '_ {
        Finding::ALL.iter().map(move |&f| (f, self.get(f)))
    }

    /// `true` when every finding is not mentioned.
    pub fn is_blank(&self) -> bool {
        self.0.iter().all(|l| *l == Label::NotMentioned)
    }
}

/// Serialized as a map from CheXpert name to value: `{"No Finding": 1, "Edema": null, …}`.
impl serde::Serialize for FindingLabels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(Finding::COUNT))?;
        for (f, l) in self.iter() {
            m.serialize_entry(f.name(), &l.value())?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_labels_serialize_as_a_map() {
        let mut r = FindingLabels::default();
        r.set(Finding::Edema, Label::Uncertain);
        let v = serde_json::to_value(r).unwrap();
        assert_eq!(v["Edema"], -1);
        assert!(v["No Finding"].is_null());
        assert_eq!(v.as_object().unwrap().len(), 14);
    }

    #[test]
    fn parses_chexpert_cells() {
        for (cell, want) in [
            ("1.0", Label::Positive),
            ("0", Label::Negative),
            ("-1.0", Label::Uncertain),
            ("", Label::NotMentioned),
            (" nan ", Label::NotMentioned),
        ] {
            assert_eq!(cell.parse::<Label>().unwrap(), want, "{cell:?}");
        }
        assert!("2".parse::<Label>().is_err());
        assert!("yes".parse::<Label>().unwrap_err().to_string().contains("yes"));
    }

    #[test]
    fn round_trips_through_the_chexpert_string() {
        for l in [Label::Positive, Label::Negative, Label::Uncertain, Label::NotMentioned] {
            assert_eq!(l.as_chexpert_str().parse::<Label>().unwrap(), l);
        }
        assert_eq!(Label::Uncertain.value(), Some(-1));
        assert!(Label::Uncertain.is_present_or_uncertain());
        assert!(!Label::Negative.is_present_or_uncertain());
    }

    #[test]
    fn finding_labels_default_is_blank() {
        let mut r = FindingLabels::default();
        assert!(r.is_blank());
        r.set(Finding::Edema, Label::Negative);
        assert!(!r.is_blank());
        assert_eq!(r.iter().filter(|(_, l)| *l != Label::NotMentioned).count(), 1);
    }
}
