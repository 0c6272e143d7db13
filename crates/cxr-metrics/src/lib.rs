//! # cxr-metrics — metrics that agree with the reference implementations
//!
//! Every metric names the implementation it reproduces and the definition it follows, and is tested against
//! that implementation's output at a stated tolerance (`tests/`). Conventions that change numbers
//! (tokenizer, brevity penalty, CIDEr document frequency, uncertain-as-positive …) are explicit parameters.
//!
//! * [`text`] — report-generation metrics: COCO BLEU/ROUGE-L/CIDEr-D on the PTB tokenization, rouge-score
//!   ROUGE-L, sacrebleu BLEU and chrF.
//! * [`classify`] — AUROC (DeLong and bootstrap CIs, paired test), AP, threshold metrics, Youden, calibration.
//! * [`calibrate`] — Platt scaling and isotonic regression fitted on one split, split-conformal LAC sets.
//! * [`fairness`] — per-subgroup TPR/FPR/AUROC, gaps, equalized odds, underdiagnosis.
//! * [`localize`] — IoU, IoBB, ChestX-ray8 T(·) accuracies, pointing game.
//! * [`segment`] — Dice, IoU, HD, HD95 and ASSD with MONAI's and medpy's definitions named.
//! * [`quality`] — MSE, MAE, PSNR, SSIM (scikit-image default and Wang 2004 settings), FID, KID.
//! * [`saliency`] — saliency vs gaze: NSS, CC, KLD, SIM, AUC-Judd, AUC-Borji (MIT benchmark and pysaliency variants).
//! * [`clinical`] — clinical efficacy: precision/recall/F1 of CheXpert labels with named conventions.
//! * [`radcliq`] — the RadCliQ composite from its component scores.
//! * [`stats`] — seeded bootstrap confidence intervals and the paired approximate randomization test.
//!
//! ```
//! use cxr_metrics::text::{bleu, ptb};
//! let hyp = ptb::coco_tokenize("No pleural effusion.");
//! let reference = ptb::coco_tokenize("No pleural effusion or pneumothorax.");
//! let b = bleu::segment_stats(&hyp, &[reference.as_str()]).scores();
//! assert!(b[0] > 0.5 && b[0] < 1.0); // brevity penalty: 3 words against 5
//! ```

pub mod calibrate;
pub mod classify;
pub mod clinical;
pub mod fairness;
pub mod localize;
pub mod quality;
pub mod radcliq;
pub mod saliency;
pub mod segment;
pub mod stats;
pub mod synthrad;
pub mod text;
