//! Localisation against bounding boxes (ChestX-ray8, Wang et al. CVPR 2017).
//!
//! Boxes are continuous `(x, y, w, h)`, covering `[x, x+w] × [y, y+h]`, area `w·h` (no +1 pixel).
//! IoU = |G∩P| / |G∪P|; IoBB = |G∩P| / |P| (over the *predicted* box, as ChestX-ray8 defines it); a box is
//! correct when the metric is ≥ T. The pointing game (Zhang et al. 2016) scores a hit when the point lies in
//! the closed ground-truth box (optionally grown by a tolerance in pixels).

use serde::Serialize;

/// A box `(x, y, w, h)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct BoxXywh {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl BoxXywh {
    pub fn area(&self) -> f64 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    pub fn intersection(&self, o: &BoxXywh) -> f64 {
        let iw = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let ih = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        iw.max(0.0) * ih.max(0.0)
    }

    /// Whether `(px, py)` lies in the closed box grown by `tolerance` on every side.
    pub fn contains(&self, px: f64, py: f64, tolerance: f64) -> bool {
        px >= self.x - tolerance
            && px <= self.x + self.w + tolerance
            && py >= self.y - tolerance
            && py <= self.y + self.h + tolerance
    }
}

/// IoU of ground truth and prediction (0 when both are empty).
pub fn iou(gt: &BoxXywh, pred: &BoxXywh) -> f64 {
    let i = gt.intersection(pred);
    let u = gt.area() + pred.area() - i;
    if u > 0.0 {
        i / u
    } else {
        0.0
    }
}

/// IoBB: intersection over the predicted box (0 for an empty prediction).
pub fn iobb(gt: &BoxXywh, pred: &BoxXywh) -> f64 {
    let a = pred.area();
    if a > 0.0 {
        gt.intersection(pred) / a
    } else {
        0.0
    }
}

/// The fraction of values ≥ each threshold.
pub fn accuracy_at(values: &[f64], thresholds: &[f64]) -> Vec<(f64, f64)> {
    thresholds
        .iter()
        .map(|&t| (t, values.iter().filter(|&&v| v >= t).count() as f64 / values.len().max(1) as f64))
        .collect()
}

/// ChestX-ray8's thresholds.
pub const T_IOU: [f64; 7] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
pub const T_IOBB: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_measures() {
        let g = BoxXywh { x: 0.0, y: 0.0, w: 10.0, h: 10.0 };
        let p = BoxXywh { x: 5.0, y: 0.0, w: 10.0, h: 5.0 };
        assert_eq!(g.intersection(&p), 25.0);
        assert!((iou(&g, &p) - 25.0 / 125.0).abs() < 1e-15);
        assert!((iobb(&g, &p) - 0.5).abs() < 1e-15);
        assert!(g.contains(10.0, 10.0, 0.0) && !g.contains(10.1, 5.0, 0.0) && g.contains(10.1, 5.0, 1.0));
        assert_eq!(accuracy_at(&[0.2, 0.6], &[0.5]), [(0.5, 0.5)]);
        let empty = BoxXywh { x: 0.0, y: 0.0, w: 0.0, h: 0.0 };
        assert_eq!((iou(&empty, &empty), iobb(&g, &empty)), (0.0, 0.0));
    }
}
