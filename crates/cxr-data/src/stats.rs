//! Per-dataset statistics: counts, views, sex, age and label prevalence.

use crate::{Counts, Harmonized};
use cxr_core::hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::BTreeMap;

/// A summary of a harmonised dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub dataset: &'static str,
    pub images: usize,
    /// Distinct patient ids (0 when the dataset has none).
    pub patients: usize,
    pub views: BTreeMap<String, usize>,
    pub sex: BTreeMap<String, usize>,
    pub age: Option<AgeSummary>,
    /// Counts of categorical demographic attributes when the files give them (CheXpert Plus: race,
    /// ethnicity, insurance type, interpreter needed, deceased).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub demographics: BTreeMap<String, BTreeMap<String, usize>>,
    pub labels: Vec<LabelStats>,
    pub unknown_values: BTreeMap<String, usize>,
}

/// Age distribution (years) over images with an age.
#[derive(Debug, Clone, Serialize)]
pub struct AgeSummary {
    pub n: usize,
    pub mean: f64,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// One label's counts and prevalence (positives over labelled images: positive + negative + uncertain).
#[derive(Debug, Clone, Serialize)]
pub struct LabelStats {
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub prevalence: Option<f64>,
}

/// Attributes counted as demographic categories.
const DEMOGRAPHIC_ATTRIBUTES: [&str; 5] = ["race", "ethnicity", "insurance_type", "interpreter_needed", "deceased"];

/// numpy's default (type 7) quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Statistics of a harmonised dataset.
pub fn stats(h: &Harmonized) -> Stats {
    // Counted under borrowed keys (hundreds of thousands of records, a handful of distinct values), then
    // turned into sorted owned maps.
    let owned = |m: FxHashMap<&str, usize>| -> BTreeMap<String, usize> {
        m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    let mut views: FxHashMap<&str, usize> = FxHashMap::default();
    let mut sex: FxHashMap<&str, usize> = FxHashMap::default();
    let mut patients: FxHashSet<&str> = FxHashSet::with_capacity_and_hasher(h.records.len(), Default::default());
    let mut ages = Vec::new();
    for r in &h.records {
        if !r.view.is_empty() {
            *views.entry(&r.view).or_insert(0) += 1;
        }
        *sex.entry(r.sex.as_deref().unwrap_or("unknown")).or_insert(0) += 1;
        if let Some(p) = &r.patient_id {
            patients.insert(p.as_str());
        }
        if let Some(a) = r.age {
            ages.push(a);
        }
    }
    let (views, sex) = (owned(views), owned(sex));
    ages.sort_by(f64::total_cmp);
    let mut demographics = BTreeMap::new();
    for name in DEMOGRAPHIC_ATTRIBUTES {
        let Some(k) = h.attributes.names.iter().position(|n| n == name) else { continue };
        let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
        for v in &h.attributes.values {
            *counts.entry(v[k].as_deref().unwrap_or("missing")).or_insert(0) += 1;
        }
        demographics.insert(name.to_string(), owned(counts));
    }
    let age = (!ages.is_empty()).then(|| AgeSummary {
        n: ages.len(),
        mean: ages.iter().sum::<f64>() / ages.len() as f64,
        min: ages[0],
        q1: quantile(&ages, 0.25),
        median: quantile(&ages, 0.5),
        q3: quantile(&ages, 0.75),
        max: ages[ages.len() - 1],
    });
    let labels = h
        .totals()
        .into_iter()
        .map(|(name, c)| {
            let labelled = c.pos + c.neg + c.uncertain;
            LabelStats { name, counts: c, prevalence: (labelled > 0).then(|| c.pos as f64 / labelled as f64) }
        })
        .collect();
    Stats {
        dataset: h.dataset.name(),
        images: h.records.len(),
        patients: patients.len(),
        views,
        sex,
        age,
        demographics,
        labels,
        unknown_values: h.unknown_values.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&[5.0], 0.75), 5.0);
    }
}
