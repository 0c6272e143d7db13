//! Patient-level train/valid/test splits, stratified by label prevalence.
//!
//! Patients (not images) are assigned, so no patient is in two splits; a record without a patient id is its
//! own group. Stratification is the iterative stratification of Sechidis, Tsoumakas & Vlahavas (2011,
//! "On the stratification of multi-label data") on patient label sets (a patient is positive for a label
//! when any of its images is): the label with the fewest unassigned positive patients is handled first, each
//! of its patients going to the split that still wants most of that label (ties: the split that wants most
//! patients, then the lower split index); patients with no positive label fill the splits' remaining
//! quotas. Patient order within a label is a seeded SplitMix64 shuffle, so a seed reproduces a split.

use std::collections::HashMap;

/// A record to split: its patient (or `None`) and which labels are positive.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub patient: Option<&'a str>,
    pub positive: Vec<bool>,
}

/// Split names in output order.
pub const SPLITS: [&str; 3] = ["train", "valid", "test"];

/// Assigns each item a split index (0 train, 1 valid, 2 test). `fractions` need not sum to 1 (they are
/// normalised); all must be ≥ 0 with a positive sum.
pub fn split(items: &[Item], fractions: [f64; 3], seed: u64) -> Result<Vec<usize>, String> {
    let total: f64 = fractions.iter().sum();
    if fractions.iter().any(|f| !f.is_finite() || *f < 0.0) || total <= 0.0 {
        return Err(format!("split fractions {fractions:?} must be non-negative with a positive sum"));
    }
    let frac: Vec<f64> = fractions.iter().map(|f| f / total).collect();
    let n_labels = items.first().map_or(0, |i| i.positive.len());
    // Group items into patients, in first-appearance order.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        match it.patient {
            Some(p) => {
                let g = *index.entry(p).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(i);
            }
            None => groups.push(vec![i]),
        }
    }
    let labels: Vec<Vec<bool>> = groups
        .iter()
        .map(|g| (0..n_labels).map(|k| g.iter().any(|&i| items[i].positive.get(k) == Some(&true))).collect())
        .collect();
    // Seeded order of patients.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| cxr_core::rng::splitmix64(seed, g as u64));
    let n = groups.len() as f64;
    let mut want_patients: Vec<f64> = frac.iter().map(|f| f * n).collect();
    let mut want_label: Vec<Vec<f64>> = frac
        .iter()
        .map(|f| (0..n_labels).map(|k| f * labels.iter().filter(|l| l[k]).count() as f64).collect())
        .collect();
    let mut assigned: Vec<Option<usize>> = vec![None; groups.len()];
    let mut remaining: Vec<usize> = (0..n_labels).map(|k| labels.iter().filter(|l| l[k]).count()).collect();
    let pick = |want_label: &Vec<Vec<f64>>, want_patients: &Vec<f64>, k: Option<usize>| -> usize {
        (0..3)
            .filter(|&s| frac[s] > 0.0)
            .max_by(|&a, &b| {
                let la = k.map_or(0.0, |k| want_label[a][k]);
                let lb = k.map_or(0.0, |k| want_label[b][k]);
                la.total_cmp(&lb).then(want_patients[a].total_cmp(&want_patients[b])).then(b.cmp(&a))
            })
            .unwrap_or(0)
    };
    while let Some(k) = (0..n_labels).filter(|&k| remaining[k] > 0).min_by_key(|&k| (remaining[k], k)) {
        for &g in &order {
            if assigned[g].is_some() || !labels[g][k] {
                continue;
            }
            let s = pick(&want_label, &want_patients, Some(k));
            assigned[g] = Some(s);
            want_patients[s] -= 1.0;
            for l in 0..n_labels {
                if labels[g][l] {
                    want_label[s][l] -= 1.0;
                    remaining[l] -= 1;
                }
            }
        }
    }
    for &g in &order {
        if assigned[g].is_none() {
            let s = pick(&want_label, &want_patients, None);
            assigned[g] = Some(s);
            want_patients[s] -= 1.0;
        }
    }
    let mut out = vec![0; items.len()];
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            out[i] = assigned[g].unwrap_or(0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patients_stay_together_and_rare_labels_spread() {
        // 200 patients with 2 images each; label 0 in every 10th patient, label 1 in every 3rd.
        let names: Vec<String> = (0..200).map(|p| format!("p{p}")).collect();
        let items: Vec<Item> = (0..400)
            .map(|i| {
                let p = i / 2;
                Item { patient: Some(&names[p]), positive: vec![p % 10 == 0, p % 3 == 0] }
            })
            .collect();
        let s = split(&items, [0.7, 0.1, 0.2], 42).unwrap();
        for p in 0..200 {
            assert_eq!(s[2 * p], s[2 * p + 1], "patient {p} split across");
        }
        let count =
            |split: usize, k: usize| (0..200).filter(|&p| s[2 * p] == split && items[2 * p].positive[k]).count();
        assert_eq!((count(0, 0), count(1, 0), count(2, 0)), (14, 2, 4));
        let patients = |split: usize| (0..200).filter(|&p| s[2 * p] == split).count();
        assert_eq!((patients(0), patients(1), patients(2)), (140, 20, 40));
        // Same seed, same split; another seed, another order.
        assert_eq!(split(&items, [0.7, 0.1, 0.2], 42).unwrap(), s);
        assert_ne!(split(&items, [0.7, 0.1, 0.2], 7).unwrap(), s);
        assert!(split(&items, [0.0, 0.0, 0.0], 1).is_err());
    }
}
