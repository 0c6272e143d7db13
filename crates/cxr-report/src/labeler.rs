//! CheXpert-style labeling of free-text reports, with evidence.
//!
//! # Pipeline
//! 1. **Sections** ([`crate::sections`]): by default FINDINGS and IMPRESSION are labeled; a report with no
//!    heading at all is labeled whole.
//! 2. **Sentences** ([`crate::sentences`]).
//! 3. **Mentions**: lexicon phrases per finding ([`crate::rules`], `data/lexicons/`); a mention overlapping an
//!    exclusion of its finding is dropped ("pericardial effusion" is no Pleural Effusion), and of overlapping
//!    mentions of one finding the longest is kept.
//! 4. **Context**: triggers before or after a mention, within their scope (counted in tokens) and not across a
//!    terminator, negate or hedge it. Precedence follows the CheXpert labeler's three pattern families:
//!    pre-negation uncertainty ("no new X", "cannot exclude X") > negation > uncertainty ("X or Y" is
//!    uncertain, "no X or Y" negative). Of overlapping triggers the longest wins, so pseudo-triggers ("no
//!    change") hide the triggers inside them. "Stable/unchanged" hedges only structure mentions ("stable
//!    cardiomediastinal contour" is uncertain, "stable cardiomegaly" positive). A structure mention is also
//!    reached through its qualifier: "the heart is borderline enlarged" is uncertain.
//! 5. **Aggregation** per report, as the CheXpert labeler's `aggregate.py`: a mention is 0 if negated, else −1
//!    if uncertain, else 1; several mentions of one finding combine by the first rule that applies:
//!    {0,−1} → −1, {0,1} → 1, {−1,1} → 1, otherwise the common value (so {0,−1,1} → −1, as upstream).
//!    "chf"/"heart failure" (positive or uncertain) also make Cardiomegaly uncertain. No Finding is 1 when no
//!    mention of anything but Support Devices — other abnormalities such as emphysema or granuloma included —
//!    is positive or uncertain; otherwise blank, never 0.
//!
//! # Where it departs from the CheXpert labeler, on purpose
//! * Phrases match whole words (upstream matches substrings, so "tube" fires inside "tuberculosis").
//! * Negation and uncertainty come from surface triggers with scopes (like NegEx/ConText), not from
//!   dependency-graph patterns over a BLLIP parse; the parser stack cannot run offline (see the reference
//!   notes) and is ~100× slower.
//! * Structure terms ("heart size", "cardiac silhouette", "mediastinal contour") are positive only with an
//!   abnormality qualifier nearby ("enlarged", "widened"); upstream calls "the cardiac silhouette" positive
//!   whenever nothing negates it.
//! * An empty report is all blank (upstream gives No Finding = 1); callers are told it was empty.

use crate::phrase::{PhraseMatch, PhraseMatcher};
use crate::rules::{Direction, LexiconEntry, RuleError, RuleSet, Target, TriggerCategory, TriggerRule};
use crate::sections::{SectionHeadings, SectionKind};
use crate::sentences::SentenceSplitter;
use crate::text::{tokenize_into, Span, Token};
use cxr_core::{Finding, FindingLabels, Label};
use serde::Serialize;
use std::sync::Arc;

/// Which sections to label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelerOptions {
    /// Sections to label when a report has headings. A report without any heading is labeled whole.
    pub sections: Vec<SectionKind>,
    /// Words on either side of a structure mention in which an abnormality qualifier counts.
    pub qualifier_window: usize,
}

impl Default for LabelerOptions {
    fn default() -> Self {
        LabelerOptions { sections: vec![SectionKind::Findings, SectionKind::Impression], qualifier_window: 6 }
    }
}

/// A trigger or qualifier that decided a mention's label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cue {
    pub category: CueKind,
    /// Where the cue stands in [`ReportLabels::text`] (see [`ReportLabels::text_of`]).
    pub span: Span,
}

/// What a [`Cue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CueKind {
    PreNegationUncertainty,
    Negation,
    Uncertainty,
    StructureUncertainty,
    /// An abnormality qualifier made a structure mention positive.
    Qualifier,
    /// The lexicon phrase is itself a hedge (`[hedged]`).
    HedgedPhrase,
    /// Implied by another mention (CheXpert: heart failure → Cardiomegaly uncertain).
    Implied,
}

/// One mention of a finding (or of another abnormality) and the evidence for its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// The finding; `None` for an abnormality outside the 14 (it blocks No Finding only).
    pub finding: Option<Finding>,
    pub label: Label,
    pub section: SectionKind,
    /// The sentence, as a span of [`ReportLabels::text`].
    pub sentence: Span,
    /// The mention, as a span of [`ReportLabels::text`] (see [`ReportLabels::text_of`]).
    pub span: Span,
    /// The lexicon phrase that matched.
    pub phrase: Arc<str>,
    /// What negated, hedged or qualified it; `None` for a plain positive mention.
    pub cue: Option<Cue>,
}

/// The labels of one report, with evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLabels {
    /// The text the spans point into.
    pub text: String,
    pub labels: FindingLabels,
    /// Every mention in report order.
    pub mentions: Vec<Mention>,
    /// Nothing to label (empty or white space only, or none of the selected sections present).
    pub empty: bool,
}

impl ReportLabels {
    /// The label of one finding.
    pub fn get(&self, f: Finding) -> Label {
        self.labels.get(f)
    }

    /// The text at `span`, e.g. a mention's or a cue's as written.
    pub fn text_of(&self, span: Span) -> &str {
        span.of(&self.text)
    }

    /// The mentions that decided `f`'s label.
    pub fn evidence(&self, f: Finding) -> impl Iterator<Item = &Mention> {
        self.mentions.iter().filter(move |m| m.finding == Some(f))
    }
}

/// The labeler. Build once, label many reports; it is `Sync`, so share it across threads.
#[derive(Debug, Clone)]
pub struct Labeler {
    options: LabelerOptions,
    lexicon: Vec<LexiconEntry>,
    triggers: Vec<TriggerRule>,
    /// Lexicon phrases, then triggers, then qualifiers, in one matcher so a sentence is scanned once:
    /// ids `0..lexicon.len()` are lexicon entries, the next `triggers.len()` triggers, the rest qualifiers.
    matcher: PhraseMatcher,
    headings: SectionHeadings,
    splitter: SentenceSplitter,
}

impl Default for Labeler {
    fn default() -> Self {
        Labeler::new(RuleSet::default(), LabelerOptions::default()).expect("embedded rules compile (tested)")
    }
}

struct Candidate {
    entry: usize,
    tokens: PhraseMatch,
}

impl Labeler {
    /// Builds a labeler from a rule set.
    pub fn new(rules: RuleSet, options: LabelerOptions) -> Result<Self, RuleError> {
        let compile = |m: &mut PhraseMatcher, file: &str, i: usize, p: &str| {
            m.add(p).map(|_| ()).map_err(|e| RuleError { file: file.into(), line: i + 1, problem: e.to_string() })
        };
        let mut matcher = PhraseMatcher::new();
        for (i, e) in rules.lexicon.iter().enumerate() {
            compile(&mut matcher, "lexicon", i, &e.phrase)?;
        }
        for (i, t) in rules.triggers.iter().enumerate() {
            compile(&mut matcher, "triggers", i, &t.phrase)?;
        }
        for (i, q) in rules.qualifiers.iter().enumerate() {
            compile(&mut matcher, "qualifiers", i, q)?;
        }
        Ok(Labeler {
            options,
            lexicon: rules.lexicon,
            triggers: rules.triggers,
            matcher,
            headings: SectionHeadings::default(),
            splitter: SentenceSplitter::default(),
        })
    }

    /// The default rules with other options.
    pub fn with_options(options: LabelerOptions) -> Self {
        Labeler { options, ..Labeler::default() }
    }

    pub fn options(&self) -> &LabelerOptions {
        &self.options
    }

    /// Labels a whole report: splits it into sections and labels the selected ones (all of it if it has no
    /// headings).
    pub fn label(&self, report: &str) -> ReportLabels {
        let sections = self.headings.split(report);
        let has_headings = sections.iter().any(|s| s.heading.is_some());
        let chosen: Vec<(SectionKind, Span)> = sections
            .iter()
            .filter(|s| !has_headings || self.options.sections.contains(&s.kind))
            .map(|s| (s.kind, s.body))
            .collect();
        self.label_spans(report.to_string(), &chosen)
    }

    /// Labels report parts that arrive already separated (e.g. the `findings` and `impression` columns of a
    /// CSV). Parts are joined as `FINDINGS: …\n\nIMPRESSION: …` into [`ReportLabels::text`]; empty parts are
    /// left out. Every given part is labeled, whatever [`LabelerOptions::sections`] says.
    pub fn label_sections(&self, parts: &[(SectionKind, &str)]) -> ReportLabels {
        let mut text = String::new();
        let mut spans = Vec::new();
        for (kind, part) in parts {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&kind.name().to_ascii_uppercase());
            text.push_str(": ");
            let start = text.len();
            text.push_str(part);
            spans.push((*kind, Span::new(start, text.len())));
        }
        self.label_spans(text, &spans)
    }

    fn label_spans(&self, text: String, spans: &[(SectionKind, Span)]) -> ReportLabels {
        let lower = text.to_ascii_lowercase();
        let empty = spans.iter().all(|(_, s)| s.of(&text).trim().is_empty());
        let mut mentions = Vec::new();
        let mut scratch = Scratch::default();
        let mut tokens = Vec::with_capacity(64);
        for &(kind, span) in spans {
            for sentence in self.splitter.split(&text, span) {
                tokens.clear();
                tokenize_into(sentence.of(&lower), sentence.start, &mut tokens);
                self.label_sentence(&tokens, kind, sentence, &mut scratch, &mut mentions);
            }
        }
        let labels = if empty { FindingLabels::default() } else { aggregate(&mentions) };
        ReportLabels { text, labels, mentions, empty }
    }

    fn label_sentence(
        &self,
        tokens: &[Token<'_>],
        section: SectionKind,
        sentence: Span,
        scratch: &mut Scratch,
        out: &mut Vec<Mention>,
    ) {
        scratch.all.clear();
        self.matcher.find_all(tokens, &mut scratch.all);
        let (n_lex, n_trig) = (self.lexicon.len(), self.triggers.len());
        scratch.matches.clear();
        scratch.triggers.clear();
        scratch.qualifiers.clear();
        for m in &scratch.all {
            let (list, base) = if m.id < n_lex {
                (&mut scratch.matches, 0)
            } else if m.id < n_lex + n_trig {
                (&mut scratch.triggers, n_lex)
            } else {
                (&mut scratch.qualifiers, n_lex + n_trig)
            };
            list.push(PhraseMatch { id: m.id - base, ..*m });
        }
        if !scratch.matches.iter().any(|m| !self.lexicon[m.id].exclusion) {
            return;
        }
        let candidates = self.candidates(&scratch.matches);
        let triggers = resolve_overlaps(&scratch.triggers);

        let cue_of = |m: &PhraseMatch, category: CueKind| {
            let span = Span::new(tokens[m.start].span.start, tokens[m.end - 1].span.end);
            Cue { category, span }
        };
        for c in candidates {
            let entry = &self.lexicon[c.entry];
            let m = c.tokens;
            let qualifier = if entry.structure {
                scratch
                    .qualifiers
                    .iter()
                    .find(|q| self.within(tokens, &triggers, q, &m, self.options.qualifier_window, false))
            } else {
                None
            };
            let mut best: Option<(u8, &PhraseMatch, TriggerCategory)> = None;
            for t in &triggers {
                let rule = &self.triggers[t.id];
                let rank = match rule.category {
                    TriggerCategory::PreNegationUncertainty => 3,
                    TriggerCategory::Negation => 2,
                    TriggerCategory::Uncertainty => 1,
                    TriggerCategory::StructureUncertainty if entry.structure && qualifier.is_none() => 1,
                    _ => continue,
                };
                if best.is_some_and(|(r, _, _)| r >= rank) {
                    continue;
                }
                // A structure mention is also negated or hedged through its qualifier ("borderline enlarged").
                let reaches_any = std::iter::once(&m).chain(qualifier).any(|target| {
                    let reaches = matches!(
                        (rule.direction, t.end <= target.start, t.start >= target.end),
                        (Direction::Forward | Direction::Both, true, _)
                            | (Direction::Backward | Direction::Both, _, true)
                    );
                    let negation = rule.category == TriggerCategory::Negation;
                    reaches && self.within(tokens, &triggers, t, target, rule.scope.unwrap_or(usize::MAX), negation)
                });
                if reaches_any {
                    best = Some((rank, t, rule.category));
                }
            }
            let (label, cue) = match best {
                Some((_, t, TriggerCategory::Negation)) => (Label::Negative, Some(cue_of(t, CueKind::Negation))),
                Some((_, t, TriggerCategory::PreNegationUncertainty)) => {
                    (Label::Uncertain, Some(cue_of(t, CueKind::PreNegationUncertainty)))
                }
                Some((_, t, TriggerCategory::StructureUncertainty)) => {
                    (Label::Uncertain, Some(cue_of(t, CueKind::StructureUncertainty)))
                }
                Some((_, t, _)) => (Label::Uncertain, Some(cue_of(t, CueKind::Uncertainty))),
                None if entry.hedged => (Label::Uncertain, Some(cue_of(&m, CueKind::HedgedPhrase))),
                None if entry.structure => match qualifier {
                    Some(q) => (Label::Positive, Some(cue_of(q, CueKind::Qualifier))),
                    None => continue, // a structure named, nothing said about it
                },
                None => (Label::Positive, None),
            };
            let span = Span::new(tokens[m.start].span.start, tokens[m.end - 1].span.end);
            let finding = match entry.target {
                Target::Finding(f) => Some(f),
                Target::OtherAbnormality => None,
            };
            let mention = Mention { finding, label, section, sentence, span, phrase: entry.phrase.clone(), cue };
            if entry.cardiomegaly_uncertain && label.is_present_or_uncertain() {
                let implied = Mention {
                    finding: Some(Finding::Cardiomegaly),
                    label: Label::Uncertain,
                    cue: Some(Cue { category: CueKind::Implied, span }),
                    ..mention.clone()
                };
                out.push(mention);
                out.push(implied);
            } else {
                out.push(mention);
            }
        }
    }

    /// Mentions that survive exclusions and same-finding overlaps, in sentence order.
    fn candidates(&self, matches: &[PhraseMatch]) -> Vec<Candidate> {
        let lex = &self.lexicon;
        let mut cands: Vec<&PhraseMatch> = matches
            .iter()
            .filter(|m| !lex[m.id].exclusion)
            .filter(|m| {
                !matches.iter().any(|x| {
                    lex[x.id].exclusion && lex[x.id].target == lex[m.id].target && x.start < m.end && m.start < x.end
                })
            })
            .collect();
        // Longest first within a target, so shorter overlapping ones are dropped.
        cands.sort_by_key(|m| (lex[m.id].target, std::cmp::Reverse(m.end - m.start), m.start));
        let mut kept: Vec<&PhraseMatch> = Vec::with_capacity(cands.len());
        for m in cands {
            let clash = kept.iter().any(|k| lex[k.id].target == lex[m.id].target && k.start < m.end && m.start < k.end);
            if !clash {
                kept.push(m);
            }
        }
        kept.sort_by_key(|m| (m.start, m.end));
        kept.into_iter().map(|m| Candidate { entry: m.id, tokens: *m }).collect()
    }

    /// Whether `cue` reaches `mention`: at most `max_gap` tokens apart and no terminator between them.
    fn within(
        &self,
        tokens: &[Token<'_>],
        triggers: &[PhraseMatch],
        cue: &PhraseMatch,
        mention: &PhraseMatch,
        max_gap: usize,
        negation: bool,
    ) -> bool {
        let (a, b) = if cue.end <= mention.start {
            (cue.end, mention.start)
        } else if cue.start >= mention.end {
            (mention.end, cue.start)
        } else {
            return false; // overlapping the mention itself
        };
        if b - a > max_gap || b > tokens.len() {
            return false;
        }
        !triggers.iter().any(|t| {
            let r = &self.triggers[t.id];
            r.category == TriggerCategory::Terminate
                && (negation || !r.stops_only_negation)
                && t.start >= a
                && t.end <= b
        })
    }
}

#[derive(Default)]
struct Scratch {
    all: Vec<PhraseMatch>,
    matches: Vec<PhraseMatch>,
    triggers: Vec<PhraseMatch>,
    qualifiers: Vec<PhraseMatch>,
}

/// A trigger is hidden by a longer trigger it overlaps ("no change" hides "no"); triggers of equal length
/// all stay, whether they share a span (one phrase listed with several directions) or only part of one
/// ("are clear" and "clear of" in "lungs are clear of pneumonia").
fn resolve_overlaps(found: &[PhraseMatch]) -> Vec<PhraseMatch> {
    let len = |m: &PhraseMatch| m.end - m.start;
    found
        .iter()
        .filter(|m| !found.iter().any(|k| len(k) > len(m) && k.start < m.end && m.start < k.end))
        .copied()
        .collect()
}

/// CheXpert aggregation (see the module docs).
fn aggregate(mentions: &[Mention]) -> FindingLabels {
    let mut seen = [[false; 3]; Finding::COUNT]; // [positive, negative, uncertain]
    let mut first = [Label::NotMentioned; Finding::COUNT];
    let mut no_finding = true;
    for m in mentions {
        if m.finding != Some(Finding::SupportDevices) && m.label.is_present_or_uncertain() {
            no_finding = false;
        }
        if let Some(f) = m.finding {
            let slot = match m.label {
                Label::Positive => 0,
                Label::Negative => 1,
                Label::Uncertain => 2,
                Label::NotMentioned => continue,
            };
            seen[f.index()][slot] = true;
            if first[f.index()] == Label::NotMentioned {
                first[f.index()] = m.label;
            }
        }
    }
    let mut out = FindingLabels::default();
    for f in Finding::ALL {
        let [pos, neg, unc] = seen[f.index()];
        let label = if neg && unc {
            Label::Uncertain
        } else if pos && (neg || unc) {
            Label::Positive
        } else {
            first[f.index()]
        };
        out.set(f, label);
    }
    if no_finding {
        out.set(Finding::NoFinding, Label::Positive);
    }
    out
}
