//! # cxr-report — radiology report text
//!
//! Sections, sentences and CheXpert-style labeling of free-text chest X-ray reports, with evidence for every
//! label. Rules, lexicons and section headings are data files under `data/`, embedded at build time.
//!
//! ```
//! use cxr_core::{Finding, Label};
//! use cxr_report::Labeler;
//!
//! let labeler = Labeler::default();
//! let r = labeler.label("FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Effusion.");
//! assert_eq!(r.get(Finding::PleuralEffusion), Label::Positive);
//! assert_eq!(r.get(Finding::Pneumothorax), Label::Negative);
//! assert_eq!(r.get(Finding::Edema), Label::NotMentioned);
//! let why = r.evidence(Finding::Pneumothorax).next().unwrap();
//! assert_eq!(r.text_of(why.cue.as_ref().unwrap().span), "No");
//! ```
//!
//! [`draft`] turns labels into a structured [`cxr_core::Findings`] document and drafts reports from one.
//!
//! Modules: [`sections`] (headings), [`sentences`] (splitting), [`text`] (spans, tokens), [`phrase`] (the
//! word-phrase matcher), [`rules`] (lexicon and trigger files), [`labeler`] (the pipeline and its
//! conventions, documented in full there).

pub mod check;
pub mod draft;
pub mod inject;
pub mod labeler;
pub mod phrase;
pub mod plausibility;
pub mod retrieve;
pub mod rules;
pub mod sections;
pub mod sentences;
pub mod text;

pub use check::{check, CheckResult, Flag, FlagKind, Severity};
pub use draft::{draft, findings_from_report, Draft, DraftSentence};
pub use inject::{inject, ErrorType, Injected};
pub use labeler::{Cue, CueKind, Labeler, LabelerOptions, Mention, ReportLabels};
pub use plausibility::{demographic_flags, Demographics, Sex};
pub use retrieve::{edit_to_match, Neighbour, RetrievalIndex, Tversky};
pub use sections::{Section, SectionHeadings, SectionKind};
pub use text::Span;
