//! RadCliQ, the composite of Yu et al. 2023 ("Evaluating progress in automatic chest X-ray radiology report
//! generation"), from its four component scores. Lower is better: it predicts the number of clinically
//! significant errors a radiologist would find.
//!
//! Coefficients, means and scales are those of the published models in rajpurkarlab/CXR-Report-Metric
//! (`CXRMetric/run_eval.py`; v0 = `composite_metric_model.pkl` + `normalizer.pkl`, v1 = `radcliq-v1.pkl`),
//! as read from the pickles in the reference notes. Features, in order: RadGraph combined
//! ((entity F1 + relation F1)/2), BERTScore F1, CheXbert embedding cosine similarity ("semb"), BLEU-2.
//! `score = intercept + Σ c_i·(x_i − μ_i)/σ_i`.
//!
//! RadEval reports `1/mean(v1)` instead ([`radeval_transform`]): v1 is centred near 0, so that transform is
//! not monotone (its sign flips where the mean crosses 0); it is offered only to reproduce RadEval's numbers.

use serde::Serialize;

/// The four component scores of one report pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Components {
    pub radgraph_combined: f64,
    pub bertscore: f64,
    pub semb: f64,
    pub bleu2: f64,
}

struct Model {
    intercept: f64,
    coef: [f64; 4],
    mean: [f64; 4],
    scale: [f64; 4],
}

const V0: Model = Model {
    intercept: 1.641666667,
    coef: [-0.4796252645, -0.6762170542, -0.4636657516, 0.2165861905],
    mean: [0.5398376019, 0.6312549595, 0.7716797867, 0.4607372065],
    scale: [0.3018344441, 0.2246695075, 0.2475033381, 0.3033667094],
};

const V1: Model = Model {
    intercept: 2.466552561e-10,
    coef: [-0.3770836826, -0.3703000997, -0.2526162179, 4.315048405e-12],
    mean: [0.5379231241, 0.6175725628, 0.7647942121, 0.447383354],
    scale: [0.3028258411, 0.2243093846, 0.253943911, 0.2989271671],
};

fn apply(m: &Model, c: &Components) -> f64 {
    let x = [c.radgraph_combined, c.bertscore, c.semb, c.bleu2];
    m.intercept + (0..4).map(|i| m.coef[i] * (x[i] - m.mean[i]) / m.scale[i]).sum::<f64>()
}

/// RadCliQ-v1 of one pair (lower is better).
pub fn radcliq_v1(c: &Components) -> f64 {
    apply(&V1, c)
}

/// RadCliQ-v0 of one pair (lower is better).
pub fn radcliq_v0(c: &Components) -> f64 {
    apply(&V0, c)
}

/// RadEval's reported value: `1 / mean(v1)` (not monotone; see the module docs).
pub fn radeval_transform(mean_v1: f64) -> f64 {
    1.0 / mean_v1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_means_the_score_is_the_intercept() {
        let at = |m: &Model| Components {
            radgraph_combined: m.mean[0],
            bertscore: m.mean[1],
            semb: m.mean[2],
            bleu2: m.mean[3],
        };
        assert!((radcliq_v1(&at(&V1)) - 2.466552561e-10).abs() < 1e-15);
        assert!((radcliq_v0(&at(&V0)) - 1.641666667).abs() < 1e-12);
    }

    #[test]
    fn better_components_lower_the_score() {
        let base = Components { radgraph_combined: 0.3, bertscore: 0.4, semb: 0.5, bleu2: 0.2 };
        let better = Components { radgraph_combined: 0.6, ..base };
        assert!(radcliq_v1(&better) < radcliq_v1(&base));
        assert_eq!(radeval_transform(0.5), 2.0);
    }
}
