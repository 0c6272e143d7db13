//! One adapter per dataset. Each follows the torchxrayvision 1.5.7 loader named in its comment; the
//! `txv_compat` branches reproduce it exactly, the default branches fix its quirks.

use crate::table::{first_row_per_key, group_first, read_csv, read_file_bytes, Table};
use crate::{Attributes, DataError, Dataset, Harmonized, Options, Record, Value};
use aho_corasick::AhoCorasick;
use cxr_core::hash::FxHashMap as HashMap;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

const SYNONYMS: &str = include_str!("../data/synonyms.tsv");

fn synonyms(dataset: &str, pathology: &str) -> Vec<&'static str> {
    SYNONYMS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            (f.next() == Some(dataset) && f.next() == Some(pathology)).then(|| f.next()).flatten()
        })
        .collect()
}

/// Harmonises one dataset from its files (in the order [`Dataset::info`] lists them).
pub fn harmonize(dataset: Dataset, files: &[PathBuf], opts: &Options) -> Result<Harmonized, DataError> {
    let need = |n: usize| -> Result<(), DataError> {
        if files.len() < n {
            Err(DataError::Usage(format!(
                "{} needs {n} file(s): {} (got {})",
                dataset.name(),
                dataset.info().files,
                files.len()
            )))
        } else {
            Ok(())
        }
    };
    need(1)?;
    let mut h = match dataset {
        Dataset::Nih => nih(&files[0], opts)?,
        Dataset::NihGoogle => nih_google(&files[0], opts)?,
        Dataset::Chexpert => chexpert(&files[0], files.get(1).map(PathBuf::as_path), opts)?,
        Dataset::Mimic => {
            need(2)?;
            mimic(&files[0], &files[1], files.get(2).map(PathBuf::as_path), opts)?
        }
        Dataset::Padchest => padchest(&files[0], opts)?,
        Dataset::Vindr => vindr(&files[0], opts)?,
        Dataset::Rsna => {
            need(2)?;
            rsna(&files[0], &files[1], opts)?
        }
        Dataset::Siim => siim(&files[0], opts)?,
        Dataset::Openi => {
            need(2)?;
            openi(&files[0], &files[1], files.get(2).map(PathBuf::as_path), opts)?
        }
    };
    if opts.unique_patients {
        h.notes.push(if opts.txv_compat {
            "one row per patient by pandas groupby().first(): each column takes its first non-missing value, so \
             a row can mix cells of different images (torchxrayvision quirk, reproduced)"
                .into()
        } else {
            "one row per patient: the patient's first image, whole (torchxrayvision's groupby().first() would mix \
             cells of different images)"
                .into()
        });
    }
    Ok(h)
}

/// Fails on the first image id (in sorted order) listed more than once.
fn no_duplicates(path: &Path, t: &Table, col: &str, dataset: Dataset) -> Result<(), DataError> {
    let c = t.col(col);
    // Fast path: sorted 64-bit hashes of the ids. Distinct hashes prove distinct ids; only when two agree (a
    // real duplicate, or — rarely — two ids with one hash) are the ids themselves counted.
    let hasher = cxr_core::hash::FxBuildHasher::default();
    let mut prints: Vec<u64> = (0..t.len()).filter_map(|r| t.get(r, c)).map(|id| hasher.hash_one(id)).collect();
    prints.sort_unstable();
    if prints.windows(2).all(|w| w[0] != w[1]) {
        return Ok(());
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity_and_hasher(t.len(), Default::default());
    for r in 0..t.len() {
        if let Some(id) = t.get(r, c) {
            *seen.entry(id).or_default() += 1;
        }
    }
    if let Some((id, n)) = seen.into_iter().filter(|(_, n)| *n > 1).min_by(|a, b| a.0.cmp(b.0)) {
        return Err(DataError::Duplicate {
            path: path.to_path_buf(),
            id: id.to_string(),
            count: n,
            dataset: dataset.name(),
        });
    }
    Ok(())
}

/// torchxrayvision's `limit_to_selected_views`: a missing view is `UNKNOWN`; `None` or `*` keeps all.
fn filter_views(t: &mut Table, view_col: usize, views: &Option<Vec<String>>) {
    for r in 0..t.len() {
        if t.get(r, view_col).is_none() {
            t.set(r, view_col, Some("UNKNOWN"));
        }
    }
    if let Some(v) = views {
        if !v.iter().any(|x| x == "*") {
            t.retain(|t, r| t.get(r, view_col).is_some_and(|x| v.iter().any(|w| w == x)));
        }
    }
}

fn unique(t: &Table, key: usize, opts: &Options) -> Table {
    if opts.txv_compat {
        group_first(t, key)
    } else {
        first_row_per_key(t, key)
    }
}

/// Substring tests of many patterns at once (one Aho–Corasick pass per text): which of several label
/// groups (a name and its synonyms) occur in a text, as pandas' `str.contains` per pattern would say.
struct Substrings {
    ac: AhoCorasick,
    group_of: Vec<usize>,
    groups: usize,
}

impl Substrings {
    fn new(groups: &[Vec<String>]) -> Substrings {
        let mut patterns = Vec::new();
        let mut group_of = Vec::new();
        for (g, pats) in groups.iter().enumerate() {
            for p in pats {
                patterns.push(p.clone());
                group_of.push(g);
            }
        }
        let ac =
            AhoCorasick::new(&patterns).unwrap_or_else(|_| AhoCorasick::new(["\u{0}"]).expect("trivial automaton"));
        Substrings { ac, group_of, groups: groups.len() }
    }

    fn matches(&self, text: &str) -> Vec<bool> {
        let mut hit = vec![false; self.groups];
        for m in self.ac.find_overlapping_iter(text) {
            hit[self.group_of[m.pattern().as_usize()]] = true;
        }
        hit
    }
}

fn num(s: Option<&str>) -> Option<f64> {
    s.and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite())
}

/// Whether `word` occurs in `text` as a whole word (letters/digits on neither side), allowing a plural
/// `s`/`es` — the default-mode replacement for torchxrayvision's bare substring test.
fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let start = from + i;
        let end = start + word.len();
        let before = text[..start].chars().next_back();
        let rest = &text[end..];
        let after_plain = rest.chars().next();
        let plural_ok = rest.strip_prefix("es").or_else(|| rest.strip_prefix('s')).map(|r| !is_word(r.chars().next()));
        if !is_word(before) && (!is_word(after_plain) || plural_ok == Some(true)) {
            return true;
        }
        from = start + word.len().max(1);
    }
    false
}

fn sex_code(s: Option<&str>) -> Option<String> {
    let v = s?.trim();
    let is = |word: &str| v.eq_ignore_ascii_case(word);
    if is("m") || is("male") {
        Some("M".into())
    } else if is("f") || is("female") {
        Some("F".into())
    } else {
        None
    }
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn b(v: bool) -> Value {
    Some(v as i8)
}

/// Counts, per pathology, the cells where default and compat matching disagree — to say what the fix changed.
fn matching_note(pathologies: &[String], compat: &[Vec<Value>], fixed: &[Vec<Value>], what: &str) -> Option<String> {
    let mut changes = Vec::new();
    for (k, p) in pathologies.iter().enumerate() {
        let (mut gained, mut lost) = (0, 0);
        for (c, f) in compat.iter().zip(fixed) {
            match (c[k], f[k]) {
                (Some(1), Some(0)) => lost += 1,
                (Some(0), Some(1)) => gained += 1,
                _ => {}
            }
        }
        if gained + lost > 0 {
            changes.push(format!("{p} {:+}", gained as i64 - lost as i64));
        }
    }
    (!changes.is_empty()).then(|| {
        format!(
            "labels matched as whole words{what} instead of torchxrayvision's substrings; positives changed: {}",
            changes.join(", ")
        )
    })
}

// ---- NIH ChestX-ray14: NIH_Dataset (datasets.py 388-558) ----

/// NIH's 14 findings: the first 14 of torchxrayvision's default pathologies, which were taken from NIH.
fn nih_14() -> &'static [&'static str] {
    &crate::TXV_PATHOLOGIES[..14]
}

fn nih(path: &Path, opts: &Options) -> Result<Harmonized, DataError> {
    let expected = "NIH ChestX-ray14 Data_Entry_2017_v2020.csv (columns Image Index, Finding Labels, Patient ID, \
                    Patient Age, Patient Gender or Patient Sex, View Position)";
    let cols =
        ["Image Index", "Finding Labels", "Patient ID", "Patient Age", "Patient Gender|Patient Sex", "View Position"];
    let mut t = read_csv(path, &cols, expected)?;
    no_duplicates(path, &t, "Image Index", Dataset::Nih)?;
    filter_views(&mut t, 5, &opts.views);
    if opts.unique_patients {
        t = unique(&t, 2, opts);
    }
    let pathologies = sorted(nih_14());
    // txv: `Finding Labels.str.contains(name)`, case-sensitive.
    let subs = Substrings::new(&pathologies.iter().map(|p| vec![p.clone()]).collect::<Vec<_>>());
    let (mut compat_l, mut fixed_l) = (Vec::new(), Vec::new());
    let records = (0..t.len())
        .map(|r| {
            let text = t.get(r, 1);
            let hits = text.map(|s| subs.matches(s));
            let compat: Vec<Value> = (0..pathologies.len()).map(|k| hits.as_ref().map(|h| h[k] as i8)).collect();
            let labels = if opts.txv_compat {
                compat
            } else {
                compat_l.push(compat);
                let fixed: Vec<Value> =
                    pathologies.iter().map(|p| text.map(|s| s.split('|').any(|tok| tok.trim() == p) as i8)).collect();
                fixed_l.push(fixed.clone());
                fixed
            };
            Record {
                image_id: t.get(r, 0).unwrap_or_default().to_string(),
                patient_id: t.get(r, 2).map(str::to_string),
                study_id: None,
                view: t.get(r, 5).unwrap_or_default().to_string(),
                sex: sex_code(t.get(r, 4)),
                age: num(t.get(r, 3)),
                split: None,
                labels,
            }
        })
        .collect();
    let mut notes = Vec::new();
    if !opts.txv_compat {
        notes.extend(matching_note(&pathologies, &compat_l, &fixed_l, " ('|'-separated names)"));
    }
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Nih,
        pathologies,
        records,
        unknown_values: BTreeMap::new(),
        notes,
    })
}

// ---- Google relabels of NIH: NIH_Google_Dataset (722-825) ----

fn nih_google(path: &Path, opts: &Options) -> Result<Harmonized, DataError> {
    let own = ["Airspace opacity", "Fracture", "Nodule or mass", "Pneumothorax"]; // sorted, as txv
    let cols = ["Image Index", "Patient ID", "Patient Age", "Patient Gender|Patient Sex", "View Position", "Set Id"];
    let mut all: Vec<&str> = cols.to_vec();
    all.extend(own);
    let expected = "Google's NIH relabels google2019_nih-chest-xray-labels.csv (four_findings_expert_labels)";
    let mut t = read_csv(path, &all, expected)?;
    no_duplicates(path, &t, "Image Index", Dataset::NihGoogle)?;
    filter_views(&mut t, 4, &opts.views);
    if opts.unique_patients {
        t = unique(&t, 1, opts);
    }
    let mut unknown = BTreeMap::new();
    let records = (0..t.len())
        .map(|r| {
            let labels = (0..4)
                .map(|k| {
                    let v = t.get(r, 6 + k);
                    match (opts.txv_compat, v) {
                        (true, v) => b(v == Some("YES")),
                        (false, Some("YES")) => Some(1),
                        (false, Some("NO")) => Some(0),
                        (false, None) => None,
                        (false, Some(other)) => {
                            *unknown.entry(format!("{}={other}", own[k])).or_insert(0) += 1;
                            None
                        }
                    }
                })
                .collect();
            Record {
                image_id: t.get(r, 0).unwrap_or_default().to_string(),
                patient_id: t.get(r, 1).map(str::to_string),
                study_id: None,
                view: t.get(r, 4).unwrap_or_default().to_string(),
                sex: sex_code(t.get(r, 3)),
                age: num(t.get(r, 2)),
                split: t.get(r, 5).map(str::to_string),
                labels,
            }
        })
        .collect();
    let pathologies = vec!["Lung Opacity".into(), "Fracture".into(), "Nodule/Mass".into(), "Pneumothorax".into()];
    let mut notes =
        vec!["Airspace opacity → Lung Opacity, Nodule or mass → Nodule/Mass (torchxrayvision names)".into()];
    if opts.txv_compat {
        notes.push("a blank label counts as NO (torchxrayvision's == 'YES')".into());
    }
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::NihGoogle,
        pathologies,
        records,
        unknown_values: unknown,
        notes,
    })
}

// ---- CheXpert: CheX_Dataset (1015-1163); MIMIC-CXR: MIMIC_Dataset (1418-1549) ----

const CHEX_13: [&str; 13] = [
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
];

/// CheXpert-convention cells: 1 / 0 / −1 / blank (as `1.0`, `0`, `-1.0` …); anything else is counted.
/// Label cells outside a dataset's conventions, as `column=value`, gathered per row (most rows have none, and
/// an empty `Vec` does not allocate) so that rows can be read in parallel and counted afterwards.
type UnknownCells = Vec<String>;

fn count_unknown(into: &mut BTreeMap<String, usize>, cells: UnknownCells) {
    for c in cells {
        *into.entry(c).or_insert(0) += 1;
    }
}

fn chexpert_value(cell: Option<&str>, column: &str, unknown: &mut UnknownCells) -> Value {
    let cell = cell?;
    // The spellings the files use, without parsing; anything else goes through the number parser.
    match cell {
        "1.0" | "1" => return Some(1),
        "0.0" | "0" => return Some(0),
        "-1.0" | "-1" => return Some(-1),
        _ => {}
    }
    match cell.trim().parse::<f64>() {
        Ok(1.0) => Some(1),
        Ok(0.0) => Some(0),
        Ok(-1.0) => Some(-1),
        _ => {
            unknown.push(format!("{column}={cell}"));
            None
        }
    }
}

/// CheXpert-style label columns → values, with the healthy rule and the uncertain policy.
/// `healthy_touches_support_devices`: MIMIC's loader zeroes Support Devices too when No Finding = 1, CheXpert's
/// does not.
fn chexpert_labels(
    t: &Table,
    row: usize,
    first_label_col: usize,
    compat: bool,
    healthy_touches_support_devices: bool,
    unknown: &mut UnknownCells,
) -> Vec<Value> {
    let no_finding = chexpert_value(t.get(row, first_label_col), "No Finding", unknown);
    CHEX_SORTED
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut v = chexpert_value(t.get(row, first_label_col + 1 + k), name, unknown);
            if no_finding == Some(1) && (*name != "Support Devices" || healthy_touches_support_devices) {
                v = Some(0);
            }
            if compat && v == Some(-1) {
                v = None;
            }
            v
        })
        .collect()
}

/// [`CHEX_13`] in torchxrayvision's (alphabetical) order.
const CHEX_SORTED: [&str; 13] = [
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Fracture",
    "Lung Lesion",
    "Lung Opacity",
    "Pleural Effusion",
    "Pleural Other",
    "Pneumonia",
    "Pneumothorax",
    "Support Devices",
];

fn chexpert_pathologies() -> Vec<String> {
    sorted(&CHEX_13).into_iter().map(|p| if p == "Pleural Effusion" { "Effusion".into() } else { p }).collect()
}

fn chexpert(path: &Path, plus: Option<&Path>, opts: &Options) -> Result<Harmonized, DataError> {
    let mut cols = vec!["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", "No Finding"];
    cols.extend(CHEX_SORTED);
    let expected = "CheXpert train.csv/valid.csv (v1.0 or -small: Path, Sex, Age, Frontal/Lateral, AP/PA and the 14 \
                    observation columns)";
    let mut t = read_csv(path, &cols, expected)?;
    no_duplicates(path, &t, "Path", Dataset::Chexpert)?;
    // View: AP/PA for frontal images, L for laterals (1083-1085); patient from the path.
    t.add_column("view", |t, r| match t.get(r, 3) {
        Some("Frontal") => t.get(r, 4).map(Cow::Borrowed),
        Some("Lateral") => Some(Cow::Borrowed("L")),
        other => other.map(Cow::Borrowed),
    });
    t.add_column("patient", |t, r| {
        let p = t.get(r, 0)?;
        let i = p.find("patient")?;
        let digits = p[i + 7..].bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0).then(|| Cow::Borrowed(&p[i..i + 7 + digits]))
    });
    let (view_col, patient_col) = (t.columns.len() - 2, t.columns.len() - 1);
    filter_views(&mut t, view_col, &opts.views);
    if opts.unique_patients {
        t = unique(&t, patient_col, opts);
    }
    // Rows are independent: built in parallel, collected in order.
    let rows: Vec<(Record, UnknownCells)> = (0..t.len())
        .into_par_iter()
        .map(|r| {
            let path = t.get(r, 0).unwrap_or_default();
            let study = path.split('/').find(|s| s.starts_with("study"));
            let patient = t.get(r, patient_col).map(|p| p.trim_start_matches("patient"));
            let age = num(t.get(r, 2)).filter(|&a| opts.txv_compat || a > 0.0);
            let mut unknown = UnknownCells::new();
            let record = Record {
                study_id: study.map(|s| format!("{}/{s}", patient.unwrap_or_default())),
                image_id: path.to_string(),
                patient_id: patient.map(str::to_string),
                view: t.get(r, view_col).unwrap_or_default().to_string(),
                sex: sex_code(t.get(r, 1)),
                age,
                split: None,
                labels: chexpert_labels(&t, r, 5, opts.txv_compat, false, &mut unknown),
            };
            (record, unknown)
        })
        .collect();
    let mut unknown = BTreeMap::new();
    let records: Vec<Record> = rows
        .into_iter()
        .map(|(record, cells)| {
            count_unknown(&mut unknown, cells);
            record
        })
        .collect();
    let mut notes = vec![
        "No Finding = 1 sets every other label to 0 except Support Devices (torchxrayvision's healthy rule)".into(),
        "Pleural Effusion → Effusion".into(),
    ];
    notes.push(if opts.txv_compat {
        "uncertain (-1) → missing, as torchxrayvision".into()
    } else {
        "uncertain kept as -1 (torchxrayvision makes it missing); age 0 → missing (its fix runs too late)".into()
    });
    let attributes = match plus {
        Some(p) => chexpert_plus(p, &records, &mut notes)?,
        None => Attributes::default(),
    };
    Ok(Harmonized {
        attributes,
        dataset: Dataset::Chexpert,
        pathologies: chexpert_pathologies(),
        records,
        unknown_values: unknown,
        notes,
    })
}

/// CheXpert Plus (Chambon et al. 2024, Stanford AIMI; `df_chexpert_plus_240401.csv`, 27 columns, one row per
/// image): the attributes added to CheXpert's images, as (our name, its column).
const CHEXPERT_PLUS_ATTRIBUTES: [(&str, &str); 8] = [
    ("race", "race"),
    ("ethnicity", "ethnicity"),
    ("interpreter_needed", "interpreter_needed"),
    ("insurance_type", "insurance_type"),
    ("recent_bmi", "recent_bmi"),
    ("deceased", "deceased"),
    ("report_findings", "section_findings"),
    ("report_impression", "section_impression"),
];

/// The part of a CheXpert image path both releases share: from the split folder (`train/`, `valid/`,
/// `test/`) on, without the extension (CheXpert lists `.jpg`; CheXpert Plus ships PNGs).
fn chexpert_image_key(path: &str) -> &str {
    let from = ["train/", "valid/", "test/"]
        .iter()
        .filter_map(|p| if path.starts_with(p) { Some(0) } else { path.find(&format!("/{p}")).map(|i| i + 1) })
        .min()
        .unwrap_or(0);
    let rest = &path[from..];
    match rest.rfind('.') {
        Some(dot) if !rest[dot..].contains('/') => &rest[..dot],
        _ => rest,
    }
}

/// Joins CheXpert Plus's report and demographic file to the images by path.
fn chexpert_plus(path: &Path, records: &[Record], notes: &mut Vec<String>) -> Result<Attributes, DataError> {
    let mut cols = vec!["path_to_image"];
    cols.extend(CHEXPERT_PLUS_ATTRIBUTES.iter().map(|a| a.1));
    let t = read_csv(
        path,
        &cols,
        "CheXpert Plus df_chexpert_plus_240401.csv (path_to_image, race, ethnicity, interpreter_needed, \
         insurance_type, recent_bmi, deceased, section_findings, section_impression, …)",
    )?;
    let mut rows: HashMap<&str, usize> = HashMap::default();
    let mut duplicates = 0;
    for r in 0..t.len() {
        let Some(p) = t.get(r, 0) else { continue };
        // The first row of a repeated path wins.
        match rows.entry(chexpert_image_key(p)) {
            std::collections::hash_map::Entry::Occupied(_) => duplicates += 1,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(r);
            }
        }
    }
    let mut matched = 0;
    let values = records
        .iter()
        .map(|rec| match rows.get(chexpert_image_key(&rec.image_id)) {
            Some(&r) => {
                matched += 1;
                (1..=CHEXPERT_PLUS_ATTRIBUTES.len()).map(|c| t.get(r, c).map(str::to_string)).collect()
            }
            None => vec![None; CHEXPERT_PLUS_ATTRIBUTES.len()],
        })
        .collect();
    notes.push(format!(
        "CheXpert Plus: {matched} of {} images matched by path in {}{}",
        records.len(),
        path.display(),
        if duplicates > 0 {
            format!(" ({duplicates} repeated paths there: the first row of each kept)")
        } else {
            String::new()
        }
    ));
    Ok(Attributes { names: CHEXPERT_PLUS_ATTRIBUTES.iter().map(|a| a.0.to_string()).collect(), values })
}

fn mimic(labels: &Path, meta: &Path, split: Option<&Path>, opts: &Options) -> Result<Harmonized, DataError> {
    let mut cols = vec!["subject_id", "study_id", "No Finding"];
    cols.extend(CHEX_SORTED);
    let lt = read_csv(labels, &cols, "MIMIC-CXR-JPG mimic-cxr-2.0.0-chexpert.csv or -negbio.csv")?;
    let mt = read_csv(
        meta,
        &["dicom_id", "subject_id", "study_id", "ViewPosition"],
        "MIMIC-CXR-JPG mimic-cxr-2.0.0-metadata.csv",
    )?;
    no_duplicates(meta, &mt, "dicom_id", Dataset::Mimic)?;
    let splits: HashMap<String, String> = match split {
        Some(p) => {
            let st = read_csv(p, &["dicom_id", "split"], "MIMIC-CXR-JPG mimic-cxr-2.0.0-split.csv")?;
            (0..st.len()).filter_map(|r| Some((st.get(r, 0)?.to_string(), st.get(r, 1)?.to_string()))).collect()
        }
        None => HashMap::default(),
    };
    // pandas join on (subject_id, study_id): each label row × its images in metadata order; a study without
    // images keeps one row with missing metadata.
    let mut by_study: HashMap<(&str, &str), Vec<usize>> = HashMap::default();
    for r in 0..mt.len() {
        if let (Some(s), Some(st)) = (mt.get(r, 1), mt.get(r, 2)) {
            by_study.entry((s, st)).or_default().push(r);
        }
    }
    let mut names: Vec<&str> = lt.columns.iter().map(String::as_str).collect();
    names.extend(["dicom_id", "view"]);
    let mut t = Table::new(&names);
    for r in 0..lt.len() {
        let base: Vec<Option<&str>> = (0..lt.columns.len()).map(|c| lt.get(r, c)).collect();
        let key = (lt.get(r, 0).unwrap_or(""), lt.get(r, 1).unwrap_or(""));
        match by_study.get(&key) {
            Some(images) => {
                for &i in images {
                    let mut row = base.clone();
                    row.extend([mt.get(i, 0), mt.get(i, 3)]);
                    t.push_row(&row);
                }
            }
            None => {
                let mut row = base.clone();
                row.extend([None, None]);
                t.push_row(&row);
            }
        }
    }
    let (dicom_col, view_col) = (t.columns.len() - 2, t.columns.len() - 1);
    filter_views(&mut t, view_col, &opts.views);
    if opts.unique_patients {
        t = unique(&t, 0, opts);
    }
    let mut unknown = BTreeMap::new();
    let records = (0..t.len())
        .map(|r| {
            let image = t.get(r, dicom_col).unwrap_or_default().to_string();
            let mut cells = UnknownCells::new();
            let labels = chexpert_labels(&t, r, 2, opts.txv_compat, opts.txv_compat, &mut cells);
            count_unknown(&mut unknown, cells);
            Record {
                split: splits.get(&image).cloned(),
                image_id: image,
                patient_id: t.get(r, 0).map(str::to_string),
                study_id: t.get(r, 1).map(str::to_string),
                view: t.get(r, view_col).unwrap_or_default().to_string(),
                sex: None,
                age: None,
                labels,
            }
        })
        .collect();
    let notes = vec![
        if opts.txv_compat {
            "No Finding = 1 sets every other label to 0, Support Devices included (torchxrayvision's MIMIC loader; \
             its CheXpert loader spares Support Devices)"
                .into()
        } else {
            "No Finding = 1 sets every other label to 0 except Support Devices (as for CheXpert; torchxrayvision's \
             MIMIC loader zeroes Support Devices too)"
                .into()
        },
        if opts.txv_compat { "uncertain (-1) → missing".into() } else { "uncertain kept as -1".into() },
    ];
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Mimic,
        pathologies: chexpert_pathologies(),
        records,
        unknown_values: unknown,
        notes,
    })
}

// ---- PadChest: PC_Dataset (827-1013) ----

/// PadChest's 28 labels in torchxrayvision (datasets.py 870-887): NIH's 14 and these 14; `Tube'` is
/// torchxrayvision's marker for "findings ending in 'tube'".
const PADCHEST_EXTRA: [&str; 14] = [
    "Fracture",
    "Granuloma",
    "Flattened Diaphragm",
    "Bronchiectasis",
    "Aortic Elongation",
    "Scoliosis",
    "Hilar Enlargement",
    "Tuberculosis",
    "Air Trapping",
    "Costophrenic Angle Blunting",
    "Aortic Atheromatosis",
    "Hemidiaphragm Elevation",
    "Support Devices",
    "Tube'",
];

/// Images torchxrayvision drops because their PNGs are missing or broken (927-952).
const PADCHEST_BROKEN: [&str; 21] = [
    "216840111366964012819207061112010307142602253_04-014-084.png",
    "216840111366964012989926673512011074122523403_00-163-058.png",
    "216840111366964012959786098432011033083840143_00-176-115.png",
    "216840111366964012558082906712009327122220177_00-102-064.png",
    "216840111366964012339356563862009072111404053_00-043-192.png",
    "216840111366964013076187734852011291090445391_00-196-188.png",
    "216840111366964012373310883942009117084022290_00-064-025.png",
    "216840111366964012283393834152009033102258826_00-059-087.png",
    "216840111366964012373310883942009170084120009_00-097-074.png",
    "216840111366964012819207061112010315104455352_04-024-184.png",
    "216840111366964012819207061112010306085429121_04-020-102.png",
    "216840111366964012989926673512011083134050913_00-168-009.png",
    "216840111366964012373310883942009152114636712_00-102-045.png",
    "216840111366964012819207061112010281134410801_00-129-131.png",
    "216840111366964012487858717522009280135853083_00-075-001.png",
    "216840111366964012989926673512011151082430686_00-157-045.png",
    "216840111366964013686042548532013208193054515_02-026-007.png",
    "216840111366964013590140476722013058110301622_02-056-111.png",
    "216840111366964013590140476722013043111952381_02-065-198.png",
    "216840111366964013829543166512013353113303615_02-092-190.png",
    "216840111366964013962490064942014134093945580_01-178-104.png",
];

/// The findings of a PadChest `Labels` cell (a Python list string), lower-cased and trimmed.
fn padchest_tokens(labels: &str) -> Vec<String> {
    labels
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|t| t.trim().trim_matches(|c| c == '\'' || c == '"').trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

fn padchest(path: &Path, opts: &Options) -> Result<Harmonized, DataError> {
    let cols = [
        "ImageID",
        "StudyID",
        "PatientID",
        "PatientBirth",
        "PatientSex_DICOM",
        "Projection",
        "Labels",
        "StudyDate_DICOM",
    ];
    let expected = "PadChest PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv";
    let mut t = read_csv(path, &cols, expected)?;
    no_duplicates(path, &t, "ImageID", Dataset::Padchest)?;
    for r in 0..t.len() {
        if t.get(r, 5) == Some("AP_horizontal") {
            t.set(r, 5, Some("AP Supine"));
        }
    }
    filter_views(&mut t, 5, &opts.views);
    let before = t.len();
    t.retain(|t, r| t.get(r, 6).is_some());
    let no_labels = before - t.len();
    let broken: cxr_core::hash::FxHashSet<&str> = PADCHEST_BROKEN.into_iter().collect();
    t.retain(|t, r| !t.get(r, 0).is_some_and(|id| broken.contains(id)));
    if opts.unique_patients {
        t = unique(&t, 2, opts);
    }
    t.sort_by_column(0);
    let mut notes = vec![
        format!("{no_labels} row(s) without Labels and the 21 images torchxrayvision lists as missing or broken are dropped"),
        "AP_horizontal → AP Supine; Tube' (findings ending in 'tube' or 'stent') → Tube".into(),
    ];
    if opts.txv_compat {
        let before = t.len();
        t.retain(|t, r| num(t.get(r, 3)).is_some_and(|birth| 2019.0 - birth > 10.0));
        notes.push(format!(
            "{} row(s) dropped by torchxrayvision's age filter (2019 − birth year > 10; a missing birth year drops \
             the row)",
            before - t.len()
        ));
    }
    let names = sorted(&[nih_14(), &PADCHEST_EXTRA[..]].concat());
    let syn: Vec<Vec<&str>> = names.iter().map(|n| synonyms("padchest", n)).collect();
    // txv: `Labels.str.contains(name.lower())` or any synonym, on the raw (case-sensitive) cell.
    let groups: Vec<Vec<String>> = names
        .iter()
        .zip(&syn)
        .map(|(n, s)| std::iter::once(n.to_lowercase()).chain(s.iter().map(|x| x.to_lowercase())).collect())
        .collect();
    let subs = Substrings::new(&groups);
    let fixed_patterns: Vec<Vec<String>> =
        groups.iter().map(|g| g.iter().map(|p| p.replace('_', " ")).collect()).collect();
    let fixed_labels = |raw: &str| -> Vec<Value> {
        let tokens = padchest_tokens(raw);
        fixed_patterns
            .iter()
            .map(|pats| {
                let hit = |pat: &str| match pat.strip_suffix('\'') {
                    // "the finding ends with this word"
                    Some(end) => tokens
                        .iter()
                        .any(|t| t.rsplit(' ').next().is_some_and(|w| w == end || w.strip_suffix('s') == Some(end))),
                    None => tokens.iter().any(|t| has_word(t, pat)),
                };
                b(pats.iter().any(|p| hit(p)))
            })
            .collect()
    };
    // Many images share one `Labels` cell (`['normal']` most of all): each distinct cell is read once (both
    // label versions outside compat mode, for the note on how often they differ).
    let mut cell_ids: HashMap<&str, u32> = HashMap::default();
    let mut cells: Vec<&str> = Vec::new();
    let cell_of: Vec<u32> = (0..t.len())
        .map(|r| {
            let raw = t.get(r, 6).unwrap_or("");
            *cell_ids.entry(raw).or_insert_with(|| {
                cells.push(raw);
                (cells.len() - 1) as u32
            })
        })
        .collect();
    let cell_labels: Vec<(Vec<Value>, Option<Vec<Value>>)> = cells
        .par_iter()
        .map(|raw| {
            let compat: Vec<Value> = subs.matches(raw).into_iter().map(b).collect();
            if opts.txv_compat {
                (compat, None)
            } else {
                (fixed_labels(raw), Some(compat))
            }
        })
        .collect();
    // Rows are independent: built in parallel, collected in order.
    let rows: Vec<(Record, Option<Vec<Value>>)> = (0..t.len())
        .into_par_iter()
        .map(|r| {
            let (labels, compat) = cell_labels[cell_of[r] as usize].clone();
            let birth = num(t.get(r, 3));
            let study_year = t.get(r, 7).and_then(|d| d.get(..4)).and_then(|y| y.parse::<f64>().ok());
            let age =
                if opts.txv_compat { birth.map(|b| 2017.0 - b) } else { study_year.zip(birth).map(|(y, b)| y - b) };
            let record = Record {
                image_id: t.get(r, 0).unwrap_or_default().to_string(),
                patient_id: t.get(r, 2).map(str::to_string),
                study_id: t.get(r, 1).map(str::to_string),
                view: t.get(r, 5).unwrap_or_default().to_string(),
                sex: sex_code(t.get(r, 4)),
                age,
                split: None,
                labels,
            };
            (record, compat)
        })
        .collect();
    let (mut compat_l, mut fixed_l) = (Vec::new(), Vec::new());
    let records: Vec<Record> = rows
        .into_iter()
        .map(|(record, compat)| {
            if let Some(c) = compat {
                compat_l.push(c);
                fixed_l.push(record.labels.clone());
            }
            record
        })
        .collect();
    let pathologies: Vec<String> = names.iter().map(|n| n.trim_end_matches('\'').to_string()).collect();
    if !opts.txv_compat {
        notes.extend(matching_note(&pathologies, &compat_l, &fixed_l, " within each finding (plural allowed)"));
        notes.push("no age filter (torchxrayvision drops patients ≤ 10 years); age = study year − birth year".into());
    }
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Padchest,
        pathologies,
        records,
        unknown_values: BTreeMap::new(),
        notes,
    })
}

// ---- VinDr-CXR: VinDr_Dataset (2369-2552) ----

const VINDR_14: [&str; 14] = [
    "Aortic enlargement",
    "Atelectasis",
    "Calcification",
    "Cardiomegaly",
    "Consolidation",
    "ILD",
    "Infiltration",
    "Lung Opacity",
    "Nodule/Mass",
    "Other Lesion",
    "Effusion",
    "Pleural_Thickening",
    "Pneumothorax",
    "Pulmonary Fibrosis",
];

fn vindr(path: &Path, opts: &Options) -> Result<Harmonized, DataError> {
    let t = read_csv(
        path,
        &["image_id", "class_name", "rad_id"],
        "VinDr-CXR train.csv (image_id, class_name, rad_id, boxes)",
    )?;
    // One row per image: the union of the readers' class names (txv joins the unique names with '|').
    let mut per_image: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in 0..t.len() {
        if let Some(id) = t.get(r, 0) {
            let e = per_image.entry(id).or_default();
            if let Some(c) = t.get(r, 1) {
                if !e.contains(&c) {
                    e.push(c);
                }
            }
        }
    }
    let names = sorted(&VINDR_14);
    let syn: Vec<Vec<&str>> = names.iter().map(|n| synonyms("vindr", n)).collect();
    let groups: Vec<Vec<String>> = names
        .iter()
        .zip(&syn)
        .map(|(n, s)| std::iter::once(n.to_lowercase()).chain(s.iter().map(|x| x.to_lowercase())).collect())
        .collect();
    let subs = Substrings::new(&groups);
    let records = per_image
        .into_iter()
        .map(|(id, mut classes)| {
            let labels = if opts.txv_compat {
                classes.sort();
                subs.matches(&classes.join("|").to_lowercase()).into_iter().map(b).collect()
            } else {
                groups.iter().map(|g| b(classes.iter().any(|c| g.iter().any(|x| c.eq_ignore_ascii_case(x))))).collect()
            };
            Record {
                image_id: id.to_string(),
                patient_id: None,
                study_id: None,
                view: String::new(),
                sex: None,
                age: None,
                split: None,
                labels,
            }
        })
        .collect();
    let notes = vec![
        "a finding is positive when any of the image's readers marked it (union over the 3 readers); VinDr has no \
         patient ids or views, so --unique-patients and --views do not apply"
            .into(),
        if opts.txv_compat {
            "class names matched by lower-case substring, as torchxrayvision".into()
        } else {
            "class names matched exactly (case-insensitive), with Pleural effusion → Effusion and Pleural thickening \
             → Pleural_Thickening"
                .into()
        },
    ];
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Vindr,
        pathologies: names,
        records,
        unknown_values: BTreeMap::new(),
        notes,
    })
}

// ---- RSNA Pneumonia: RSNA_Pneumonia_Dataset (561-720) ----

fn rsna(labels: &Path, headers: &Path, opts: &Options) -> Result<Harmonized, DataError> {
    let lt = read_csv(
        labels,
        &["patientId", "Target", "x"],
        "RSNA stage_2_train_labels.csv (patientId, x, y, width, height, Target)",
    )?;
    let ht = read_csv(
        headers,
        &["PatientID", "ViewPosition", "PatientAge", "PatientSex"],
        "the RSNA DICOM header table (kaggle_stage_2_train_images_dicom_headers.csv: PatientID, ViewPosition, PatientAge, PatientSex)",
    )?;
    let header: HashMap<&str, usize> = (0..ht.len()).filter_map(|r| Some((ht.get(r, 0)?, r))).collect();
    // Any positive box row makes the image positive (txv takes the first row's Target; they agree in the file).
    let mut any_positive: HashMap<&str, bool> = HashMap::default();
    for r in 0..lt.len() {
        if let Some(id) = lt.get(r, 0) {
            *any_positive.entry(id).or_insert(false) |= lt.get(r, 1) == Some("1");
        }
    }
    // Box rows → one row per image (txv: groupby(patientId).first(), always, whatever unique_patients says).
    let g = if opts.txv_compat { group_first(&lt, 0) } else { first_row_per_key(&lt, 0) };
    let mut t = Table::new(&["id", "Target", "view", "age", "sex"]);
    for r in 0..g.len() {
        let id = g.get(r, 0).unwrap_or("");
        let h = header.get(id).copied();
        let target = if opts.txv_compat {
            g.get(r, 1)
        } else {
            Some(if any_positive.get(id) == Some(&true) { "1" } else { "0" })
        };
        let hv = |c: usize| h.and_then(|h| ht.get(h, c));
        t.push_row(&[g.get(r, 0), target, hv(1), hv(2), hv(3)]);
    }
    filter_views(&mut t, 2, &opts.views);
    let mut unknown = BTreeMap::new();
    let records = (0..t.len())
        .map(|r| {
            let v: Value = match t.get(r, 1) {
                Some("1") => Some(1),
                Some("0") => Some(0),
                None => None,
                Some(other) => {
                    *unknown.entry(format!("Target={other}")).or_insert(0) += 1;
                    None
                }
            };
            Record {
                image_id: t.get(r, 0).unwrap_or_default().to_string(),
                patient_id: t.get(r, 0).map(str::to_string),
                study_id: None,
                view: t.get(r, 2).unwrap_or_default().to_string(),
                sex: sex_code(t.get(r, 4)),
                age: num(t.get(r, 3)),
                split: None,
                labels: vec![v, v],
            }
        })
        .collect();
    let notes = vec!["Lung Opacity and Pneumonia are both the challenge's Target (as torchxrayvision)".into()];
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Rsna,
        pathologies: vec!["Lung Opacity".into(), "Pneumonia".into()],
        records,
        unknown_values: unknown,
        notes,
    })
}

// ---- SIIM-ACR Pneumothorax: SIIM_Pneumothorax_Dataset (2224-2367) ----

fn siim(path: &Path, opts: &Options) -> Result<Harmonized, DataError> {
    let t = read_csv(path, &["ImageId", " EncodedPixels"], "SIIM-ACR train-rle.csv (ImageId, ' EncodedPixels')")?;
    let record = |id: String, v: Value| Record {
        image_id: id,
        patient_id: None,
        study_id: None,
        view: String::new(),
        sex: None,
        age: None,
        split: None,
        labels: vec![v],
    };
    let (records, note): (Vec<Record>, String) = if opts.txv_compat {
        (
            (0..t.len())
                .map(|r| {
                    record(t.get(r, 0).unwrap_or_default().to_string(), b(t.get(r, 1).map(str::trim) != Some("-1")))
                })
                .collect(),
            "one row per annotation, as torchxrayvision: an image with several pneumothorax annotations appears \
             several times"
                .into(),
        )
    } else {
        let mut per: BTreeMap<String, bool> = BTreeMap::new();
        for r in 0..t.len() {
            let pos = t.get(r, 1).map(str::trim) != Some("-1");
            *per.entry(t.get(r, 0).unwrap_or_default().to_string()).or_insert(false) |= pos;
        }
        (
            per.into_iter().map(|(id, pos)| record(id, b(pos))).collect(),
            "one row per image, positive when any annotation is (torchxrayvision keeps one row per annotation)".into(),
        )
    };
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Siim,
        pathologies: vec!["Pneumothorax".into()],
        records,
        unknown_values: BTreeMap::new(),
        notes: vec![note],
    })
}

// ---- IU X-Ray / OpenI: Openi_Dataset (1702-1875) ----

const OPENI_18: [&str; 18] = [
    "Atelectasis",
    "Fibrosis",
    "Pneumonia",
    "Effusion",
    "Lesion",
    "Cardiomegaly",
    "Calcified Granuloma",
    "Fracture",
    "Edema",
    "Granuloma",
    "Emphysema",
    "Hernia",
    "Mass",
    "Nodule",
    "Opacity",
    "Infiltration",
    "Pleural_Thickening",
    "Pneumothorax",
];

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Texts of every `<tag>…</tag>` (no attributes on these tags in the OpenI reports).
fn xml_texts(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let (find_open, find_close) = (memchr::memmem::Finder::new(&open), memchr::memmem::Finder::new(&close));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = find_open.find(rest.as_bytes()) {
        let after = &rest[i + open.len()..];
        let Some(j) = find_close.find(after.as_bytes()) else { break };
        out.push(xml_unescape(after[..j].trim()));
        rest = &after[j + close.len()..];
    }
    out
}

/// Values of `attr` on every `<tag …>` element.
fn xml_attrs(xml: &str, tag: &str, attr: &str) -> Vec<String> {
    let open = format!("<{tag} ");
    let key = format!("{attr}=\"");
    let find_open = memchr::memmem::Finder::new(&open);
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = find_open.find(rest.as_bytes()) {
        let after = &rest[i + open.len()..];
        let end = memchr::memchr(b'>', after.as_bytes()).unwrap_or(after.len());
        if let Some(k) = after[..end].find(&key) {
            let v = &after[k + key.len()..end];
            if let Some(q) = v.find('"') {
                out.push(xml_unescape(&v[..q]));
            }
        }
        rest = &after[end..];
    }
    out
}

/// The `.xml` members of a tar archive (gzip-compressed or not), in archive order.
fn tar_xml_members(path: &Path) -> Result<Vec<(String, String)>, DataError> {
    let bytes = read_file_bytes(path)?;
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let h = &bytes[at..at + 512];
        if h.iter().all(|&x| x == 0) {
            break;
        }
        let name_end = h[..100].iter().position(|&x| x == 0).unwrap_or(100);
        let mut name = String::from_utf8_lossy(&h[..name_end]).into_owned();
        let prefix_end = h[345..500].iter().position(|&x| x == 0).unwrap_or(155);
        if h[257..262] == *b"ustar" && prefix_end > 0 {
            name = format!("{}/{}", String::from_utf8_lossy(&h[345..345 + prefix_end]), name);
        }
        let size_field = String::from_utf8_lossy(&h[124..136]);
        let size = usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c.is_whitespace()), 8)
            .map_err(|_| DataError::format(path, format!("is not a readable tar archive (bad size for {name})")))?;
        let start = at + 512;
        let data = bytes
            .get(start..start + size)
            .ok_or_else(|| DataError::format(path, format!("is truncated inside member {name}")))?;
        if (h[156] == b'0' || h[156] == 0) && name.ends_with(".xml") {
            out.push((name, String::from_utf8_lossy(data).into_owned()));
        }
        at = start + size.div_ceil(512) * 512;
    }
    if out.is_empty() {
        return Err(DataError::format(
            path,
            "holds no .xml reports; expected NLMCXR_reports.tgz (ecgen-radiology/*.xml)",
        ));
    }
    Ok(out)
}

fn openi(reports: &Path, dicom_meta: &Path, tsne: Option<&Path>, opts: &Options) -> Result<Harmonized, DataError> {
    let members = tar_xml_members(reports)?;
    let meta = read_csv(
        dicom_meta,
        &["imageid", "View Position"],
        "OpenI nlmcxr_dicom_metadata.csv (imageid, View Position, …)",
    )?;
    let view_of: HashMap<&str, Option<&str>> =
        (0..meta.len()).filter_map(|r| Some((meta.get(r, 0)?, meta.get(r, 1)))).collect();
    let tsne_t = match tsne {
        Some(p) => Some(read_csv(p, &["imageid", "tsne-view"], "OpenI nlmcxr_tsne_pa.csv (imageid, tsne-view)")?),
        None => None,
    };
    if opts.tsne_view && tsne_t.is_none() {
        return Err(DataError::Usage("--tsne-view needs the third OpenI file, nlmcxr_tsne_pa.csv".into()));
    }
    let tsne_of: HashMap<&str, Option<&str>> = tsne_t
        .as_ref()
        .map(|t| (0..t.len()).filter_map(|r| Some((t.get(r, 0)?, t.get(r, 1)))).collect())
        .unwrap_or_default();
    let mut t = Table::new(&["uid", "imageid", "automatic", "view"]);
    for (_, xml) in &members {
        let uid = xml_attrs(xml, "uId", "id").into_iter().next();
        let mut auto: Vec<String> = xml_texts(xml, "automatic").into_iter().map(|s| s.to_lowercase()).collect();
        auto.sort();
        auto.dedup();
        let auto = auto.join("|");
        for image in xml_attrs(xml, "parentImage", "id") {
            let view = if opts.tsne_view {
                tsne_of.get(image.as_str()).copied().flatten()
            } else {
                view_of.get(image.as_str()).copied().flatten()
            };
            t.push_row(&[uid.as_deref(), Some(image.as_str()), Some(auto.as_str()), view]);
        }
    }
    filter_views(&mut t, 3, &opts.views);
    if opts.unique_patients {
        t = unique(&t, 0, opts);
    }
    let names = sorted(&OPENI_18);
    let syn: Vec<Vec<&str>> = names.iter().map(|n| synonyms("openi", n)).collect();
    let groups: Vec<Vec<String>> = names
        .iter()
        .zip(&syn)
        .map(|(n, s)| std::iter::once(n.to_lowercase()).chain(s.iter().map(|x| x.to_lowercase())).collect())
        .collect();
    let subs = Substrings::new(&groups);
    let (mut compat_l, mut fixed_l) = (Vec::new(), Vec::new());
    let records = (0..t.len())
        .map(|r| {
            let text = t.get(r, 2).unwrap_or("");
            let compat: Vec<Value> = subs.matches(text).into_iter().map(b).collect();
            let labels = if opts.txv_compat {
                compat
            } else {
                let fixed: Vec<Value> =
                    groups.iter().map(|g| b(g.iter().any(|p| has_word(text, &p.replace('_', " "))))).collect();
                compat_l.push(compat);
                fixed_l.push(fixed.clone());
                fixed
            };
            Record {
                image_id: t.get(r, 1).unwrap_or_default().to_string(),
                patient_id: t.get(r, 0).map(str::to_string),
                study_id: t.get(r, 0).map(str::to_string),
                view: t.get(r, 3).unwrap_or_default().to_string(),
                sex: None,
                age: None,
                split: None,
                labels,
            }
        })
        .collect();
    let pathologies: Vec<String> = names
        .iter()
        .map(|n| match n.as_str() {
            "Opacity" => "Lung Opacity".to_string(),
            "Lesion" => "Lung Lesion".to_string(),
            o => o.to_string(),
        })
        .collect();
    let mut notes = vec![
        "labels from the MeSH automatic terms of each report; one row per image; Opacity → Lung Opacity, Lesion → \
         Lung Lesion; the report uid is the patient id (OpenI has no patient ids)"
            .into(),
    ];
    if !opts.txv_compat {
        notes.extend(matching_note(&pathologies, &compat_l, &fixed_l, " in the MeSH terms (plural allowed)"));
    }
    Ok(Harmonized {
        attributes: Attributes::default(),
        dataset: Dataset::Openi,
        pathologies,
        records,
        unknown_values: BTreeMap::new(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chexpert_paths_match_across_releases() {
        let key = chexpert_image_key;
        assert_eq!(
            key("CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg"),
            "train/patient00001/study1/view1_frontal"
        );
        assert_eq!(key("train/patient00001/study1/view1_frontal.png"), "train/patient00001/study1/view1_frontal");
        assert_eq!(
            key("/data/CheXpert-v1.0/valid/patient64541/study1/view1_frontal.jpg"),
            "valid/patient64541/study1/view1_frontal"
        );
        assert_eq!(key("odd/name"), "odd/name");
    }

    #[test]
    fn whole_word_matching() {
        assert!(has_word("pleural effusion", "effusion"));
        assert!(has_word("multiple nodules", "nodule"));
        assert!(!has_word("pseudonodule", "nodule"));
        assert!(has_word("hiatal hernia", "hernia"));
        assert!(!has_word("nodule2", "nodule"));
        assert!(has_word("x|masses|y", "mass"));
        assert_eq!(padchest_tokens("['pleural effusion', ' kyphosis']"), vec!["pleural effusion", "kyphosis"]);
    }

    #[test]
    fn xml_helpers() {
        let x = r#"<uId id="CXR1"/><MeSH><major>Cardiomegaly/mild</major><automatic>Opacity &amp; more</automatic></MeSH><parentImage id="CXR1_1_IM-0001-3001">"#;
        assert_eq!(xml_attrs(x, "uId", "id"), vec!["CXR1"]);
        assert_eq!(xml_texts(x, "automatic"), vec!["Opacity & more"]);
        assert_eq!(xml_attrs(x, "parentImage", "id"), vec!["CXR1_1_IM-0001-3001"]);
    }
}
