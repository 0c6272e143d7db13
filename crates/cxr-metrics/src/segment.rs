//! Segmentation overlap and surface distances of binary masks, with the definitions of MONAI and medpy named.
//!
//! * Dice `2|A∩B|/(|A|+|B|)`, IoU `|A∩B|/|A∪B|`.
//! * Border of a mask: `m XOR erosion(m)` with the 4-connected cross (2-D) or 6-connected (3-D) element;
//!   outside the image counts as background. Distances are Euclidean (with voxel spacing) from each border
//!   pixel of one mask to the nearest border pixel of the other, computed exactly.
//! * HD = the larger directed maximum. HD95: [`Hd95::MonaiMaxOfDirected`] = max of the two directed 95th
//!   percentiles (MONAI `HausdorffDistanceMetric(percentile=95)`, used by SynthRAD2025) or
//!   [`Hd95::MedpyPooled`] = the 95th percentile of both directions pooled (medpy 0.5.2). Percentiles are
//!   numpy's linear (type 7).
//! * ASSD: [`Assd::MeanOfDirectedMeans`] (the classic definition) or [`Assd::MedpyPooledMean`] (medpy 0.5.2).
//! * Empty masks are explicit ([`Empty`]): both empty → Dice 1 and distances 0; one empty → Dice 0 and
//!   distances undefined (`None`), where MONAI returns NaN or ∞.

use crate::stats::quantile;
use serde::Serialize;

/// Which HD95 definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Hd95 {
    MonaiMaxOfDirected,
    MedpyPooled,
}

/// Which ASSD definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Assd {
    MeanOfDirectedMeans,
    MedpyPooledMean,
}

/// How the two masks' emptiness came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Empty {
    Neither,
    Both,
    One,
}

/// Overlap and distances of two masks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentationScores {
    pub dice: f64,
    pub iou: f64,
    pub n_a: usize,
    pub n_b: usize,
    pub n_intersection: usize,
    pub n_border_a: usize,
    pub n_border_b: usize,
    pub hd: Option<f64>,
    pub hd95_monai: Option<f64>,
    pub hd95_medpy: Option<f64>,
    pub assd: Option<f64>,
    pub assd_medpy: Option<f64>,
    pub empty: Empty,
}

/// Border voxels of a mask (dims `[nx, ny, nz]`, x fastest; use nz = 1 for 2-D), as coordinates.
fn border(mask: &[bool], dims: [usize; 3]) -> Vec<[usize; 3]> {
    let [nx, ny, nz] = dims;
    let at = |x: i64, y: i64, z: i64| -> bool {
        x >= 0
            && y >= 0
            && z >= 0
            && (x as usize) < nx
            && (y as usize) < ny
            && (z as usize) < nz
            && mask[x as usize + nx * (y as usize + ny * z as usize)]
    };
    let mut out = Vec::new();
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                if !mask[x + nx * (y + ny * z)] {
                    continue;
                }
                let (xi, yi, zi) = (x as i64, y as i64, z as i64);
                let mut interior = at(xi - 1, yi, zi) && at(xi + 1, yi, zi) && at(xi, yi - 1, zi) && at(xi, yi + 1, zi);
                if nz > 1 {
                    interior &= at(xi, yi, zi - 1) && at(xi, yi, zi + 1);
                }
                if !interior {
                    out.push([x, y, z]);
                }
            }
        }
    }
    out
}

/// Distance from each point of `from` to the nearest point of `to` (exact; spacing in mm per axis).
fn directed(from: &[[usize; 3]], to: &[[usize; 3]], spacing: [f64; 3]) -> Vec<f64> {
    from.iter()
        .map(|p| {
            to.iter()
                .map(|q| (0..3).map(|a| ((p[a] as f64 - q[a] as f64) * spacing[a]).powi(2)).sum::<f64>())
                .fold(f64::INFINITY, f64::min)
                .sqrt()
        })
        .collect()
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Scores mask `a` (reference) against mask `b` (prediction); both `dims` long, x fastest.
pub fn segmentation_scores(a: &[bool], b: &[bool], dims: [usize; 3], spacing: [f64; 3]) -> SegmentationScores {
    let n_a = a.iter().filter(|&&v| v).count();
    let n_b = b.iter().filter(|&&v| v).count();
    let n_i = a.iter().zip(b).filter(|(x, y)| **x && **y).count();
    let empty = match (n_a == 0, n_b == 0) {
        (true, true) => Empty::Both,
        (false, false) => Empty::Neither,
        _ => Empty::One,
    };
    let dice = if n_a + n_b == 0 { 1.0 } else { 2.0 * n_i as f64 / (n_a + n_b) as f64 };
    let union = n_a + n_b - n_i;
    let iou = if union == 0 { 1.0 } else { n_i as f64 / union as f64 };
    let (ba, bb) = (border(a, dims), border(b, dims));
    let mut s = SegmentationScores {
        dice,
        iou,
        n_a,
        n_b,
        n_intersection: n_i,
        n_border_a: ba.len(),
        n_border_b: bb.len(),
        hd: None,
        hd95_monai: None,
        hd95_medpy: None,
        assd: None,
        assd_medpy: None,
        empty,
    };
    match empty {
        Empty::Both => {
            s.hd = Some(0.0);
            s.hd95_monai = Some(0.0);
            s.hd95_medpy = Some(0.0);
            s.assd = Some(0.0);
            s.assd_medpy = Some(0.0);
        }
        Empty::One => {}
        Empty::Neither => {
            let dab = sorted(directed(&ba, &bb, spacing));
            let dba = sorted(directed(&bb, &ba, spacing));
            let pooled = sorted(dab.iter().chain(&dba).copied().collect());
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            s.hd = Some(dab[dab.len() - 1].max(dba[dba.len() - 1]));
            s.hd95_monai = Some(quantile(&dab, 0.95).max(quantile(&dba, 0.95)));
            s.hd95_medpy = Some(quantile(&pooled, 0.95));
            s.assd = Some((mean(&dab) + mean(&dba)) / 2.0);
            s.assd_medpy = Some(mean(&pooled));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(n: usize, x0: usize, y0: usize, side: usize) -> Vec<bool> {
        (0..n * n).map(|i| (i % n) >= x0 && (i % n) < x0 + side && (i / n) >= y0 && (i / n) < y0 + side).collect()
    }

    #[test]
    fn shifted_squares() {
        let a = square(20, 2, 2, 6);
        let b = square(20, 4, 2, 6);
        let s = segmentation_scores(&a, &b, [20, 20, 1], [1.0; 3]);
        assert_eq!(s.n_intersection, 24);
        assert!((s.dice - 48.0 / 72.0).abs() < 1e-15);
        assert_eq!(s.n_border_a, 20);
        assert_eq!(s.hd, Some(2.0));
    }

    #[test]
    fn empty_conventions() {
        let z = vec![false; 16];
        let s = segmentation_scores(&z, &z, [4, 4, 1], [1.0; 3]);
        assert_eq!((s.dice, s.hd, s.empty), (1.0, Some(0.0), Empty::Both));
        let one = square(4, 0, 0, 2);
        let s = segmentation_scores(&one, &z, [4, 4, 1], [1.0; 3]);
        assert_eq!((s.dice, s.hd, s.empty), (0.0, None, Empty::One));
    }
}
