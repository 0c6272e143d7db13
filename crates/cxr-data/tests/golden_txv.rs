//! torchxrayvision 1.5.7 compatibility on excerpts of the real label files: with `txv_compat`, the row count
//! and every pathology's positive/negative/NaN counts equal what torchxrayvision's own dataset classes report
//! (`tests/data/expected.json`, made by `make_excerpts.py`), in its default settings (PA, one row per patient)
//! and with all views and images. The full files are checked by `bench/datasets.sh`.

use cxr_data::{harmonize, Dataset, Harmonized, Options};
use serde_json::Value;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn files(d: Dataset) -> Vec<PathBuf> {
    let names: &[&str] = match d {
        Dataset::Nih => &["nih_excerpt.csv.gz"],
        Dataset::NihGoogle => &["google_excerpt.csv.gz"],
        Dataset::Chexpert => &["chexpert_train_excerpt.csv.gz"],
        Dataset::Padchest => &["padchest_excerpt.csv.gz"],
        Dataset::Vindr => &["vindr_excerpt.csv.gz"],
        Dataset::Rsna => &["rsna_labels_excerpt.csv.gz", "rsna_headers_excerpt.csv.gz"],
        Dataset::Siim => &["siim_excerpt.csv.gz"],
        Dataset::Openi => {
            &["openi_reports_excerpt.tgz", "openi_dicom_metadata_excerpt.csv.gz", "openi_tsne_excerpt.csv.gz"]
        }
        Dataset::Mimic => &[],
    };
    names.iter().map(|n| data(n)).collect()
}

fn check(h: &Harmonized, exp: &Value, what: &str) {
    assert_eq!(h.records.len() as u64, exp["n"].as_u64().unwrap(), "{what}: rows");
    let names: Vec<&str> = exp["pathologies"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(h.pathologies, names, "{what}: pathology names and order");
    for (name, c) in h.totals() {
        let e = &exp["totals"][&name];
        let got = [c.pos as u64, c.neg as u64, (c.missing + c.uncertain) as u64];
        let want = [e["pos"].as_u64().unwrap(), e["neg"].as_u64().unwrap(), e["nan"].as_u64().unwrap()];
        assert_eq!(got, want, "{what}: {name} pos/neg/nan");
    }
}

#[test]
fn compat_counts_equal_torchxrayvision_on_every_excerpt() {
    let exp: Value = serde_json::from_str(&std::fs::read_to_string(data("expected.json")).unwrap()).unwrap();
    let mut checked = 0;
    for (key, e) in exp.as_object().unwrap() {
        let (name, mode) = key.split_once('/').unwrap();
        let d: Dataset = name.parse().unwrap();
        let opts = if mode == "default" {
            Options::txv_defaults()
        } else {
            Options { views: None, unique_patients: false, txv_compat: true, tsne_view: false }
        };
        let h = harmonize(d, &files(d), &opts).unwrap_or_else(|err| panic!("{key}: {err}"));
        check(&h, e, key);
        checked += 1;
    }
    assert_eq!(checked, 14);
}

#[test]
fn default_mode_fixes_the_quirks_and_says_so() {
    let unique = Options { views: Some(vec!["PA".into()]), unique_patients: true, txv_compat: false, tsne_view: false };
    let compat = Options { txv_compat: true, ..unique.clone() };
    // CheXpert: uncertain kept as -1; patient rows are whole first images, not pandas' column mix.
    let fixed = harmonize(Dataset::Chexpert, &files(Dataset::Chexpert), &unique).unwrap();
    let txv = harmonize(Dataset::Chexpert, &files(Dataset::Chexpert), &compat).unwrap();
    assert_eq!(fixed.records.len(), txv.records.len());
    assert!(fixed.totals().iter().any(|(_, c)| c.uncertain > 0));
    assert!(txv.totals().iter().all(|(_, c)| c.uncertain == 0));
    let differing = fixed
        .records
        .iter()
        .zip(&txv.records)
        .filter(|(a, b)| a.labels.iter().zip(&b.labels).any(|(x, y)| x != y && *x != Some(-1)))
        .count();
    assert!(differing > 0, "groupby().first() mixing should change some patient rows");
    assert!(fixed.notes.iter().any(|n| n.contains("first image, whole")));
    // SIIM: one row per image instead of one per annotation.
    let all = Options::default();
    let siim = harmonize(Dataset::Siim, &files(Dataset::Siim), &all).unwrap();
    let siim_txv =
        harmonize(Dataset::Siim, &files(Dataset::Siim), &Options { txv_compat: true, ..all.clone() }).unwrap();
    assert!(siim.records.len() < siim_txv.records.len());
    let mut ids: Vec<&str> = siim.records.iter().map(|r| r.image_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), siim.records.len());
    // PadChest: children kept; whole-word matching reported when it changes a count.
    let pc = harmonize(Dataset::Padchest, &files(Dataset::Padchest), &all).unwrap();
    let pc_txv = harmonize(Dataset::Padchest, &files(Dataset::Padchest), &Options { txv_compat: true, ..all }).unwrap();
    assert!(pc.records.len() > pc_txv.records.len(), "no age filter in default mode");
    assert!(pc.notes.iter().any(|n| n.contains("no age filter")));
}

#[test]
fn bad_files_fail_with_what_was_expected() {
    let e = harmonize(Dataset::Chexpert, &files(Dataset::Nih), &Options::default()).unwrap_err().to_string();
    assert!(e.contains("missing column(s)") && e.contains("Frontal/Lateral") && e.contains("CheXpert"), "{e}");
    let e = harmonize(Dataset::Rsna, &files(Dataset::Siim), &Options::default()).unwrap_err().to_string();
    assert!(e.contains("needs 2 file(s)"), "{e}");
    // A duplicated image id.
    let dir = std::env::temp_dir().join(format!("cxr-data-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dup = dir.join("dup.csv");
    std::fs::write(
        &dup,
        "Image Index,Finding Labels,Patient ID,Patient Age,Patient Gender,View Position\n\
         a.png,No Finding,1,50,M,PA\na.png,Mass,1,50,M,PA\n",
    )
    .unwrap();
    let e = harmonize(Dataset::Nih, &[dup], &Options::default()).unwrap_err().to_string();
    assert!(e.contains("'a.png' appears 2 times"), "{e}");
    // Unknown label values are counted, not fatal.
    let odd = dir.join("odd.csv");
    let mut text = String::from("Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices\n");
    text.push_str("train/patient1/study1/view1_frontal.jpg,Female,60,Frontal,PA,,yes,1.0,,,,,,,,,,,\n");
    std::fs::write(&odd, text).unwrap();
    let h = harmonize(Dataset::Chexpert, &[odd], &Options::default()).unwrap();
    assert_eq!(h.unknown_values.get("Enlarged Cardiomediastinum=yes"), Some(&1));
    assert_eq!(h.records[0].patient_id.as_deref(), Some("1"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mimic_joins_studies_to_images_and_reads_the_official_split() {
    let dir = std::env::temp_dir().join(format!("cxr-data-mimic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let labels = dir.join("chexpert.csv");
    let header = "subject_id,study_id,Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged Cardiomediastinum,Fracture,Lung Lesion,Lung Opacity,No Finding,Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,Support Devices\n";
    std::fs::write(
        &labels,
        format!("{header}10,50,1.0,,,-1.0,,,,,,,,,,\n10,51,,,,,,,,,1.0,,,,,1.0\n11,52,0.0,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    let meta = dir.join("metadata.csv");
    std::fs::write(
        &meta,
        "dicom_id,subject_id,study_id,ViewPosition\nd1,10,50,PA\nd2,10,50,LATERAL\nd3,10,51,AP\nd4,11,52,\n",
    )
    .unwrap();
    let split = dir.join("split.csv");
    std::fs::write(&split, "dicom_id,study_id,subject_id,split\nd1,50,10,train\nd4,52,11,test\n").unwrap();
    let files = [labels, meta, split];
    let h = harmonize(Dataset::Mimic, &files, &Options::default()).unwrap();
    assert_eq!(h.records.len(), 4);
    let atel = |r: usize| h.value(&h.records[r], "Atelectasis");
    assert_eq!((atel(0), atel(1), atel(3)), (Some(1), Some(1), Some(0)));
    assert_eq!(h.value(&h.records[0], "Edema"), Some(-1));
    assert_eq!(h.records[3].view, "UNKNOWN");
    assert_eq!(h.records[0].split.as_deref(), Some("train"));
    // Healthy rule: No Finding = 1 zeroes the others; Support Devices is spared by default, not in compat.
    assert_eq!(h.value(&h.records[2], "Cardiomegaly"), Some(0));
    assert_eq!(h.value(&h.records[2], "Support Devices"), Some(1));
    let c = harmonize(Dataset::Mimic, &files, &Options { txv_compat: true, ..Options::default() }).unwrap();
    assert_eq!(c.value(&c.records[2], "Support Devices"), Some(0));
    assert_eq!(c.value(&c.records[0], "Edema"), None);
    let pa =
        harmonize(Dataset::Mimic, &files, &Options { views: Some(vec!["PA".into()]), ..Options::default() }).unwrap();
    assert_eq!(pa.records.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn siim_mask_of_the_first_positive_row_matches_the_reference() {
    // shared/reference/eval/small_fixtures.json, "siim_rle_first_positive" (txv rle2mask + .T).
    let h =
        harmonize(Dataset::Siim, &files(Dataset::Siim), &Options { txv_compat: true, ..Options::default() }).unwrap();
    let first = h.records.iter().position(|r| r.labels[0] == Some(1)).unwrap();
    assert_eq!(h.records[first].image_id, "1.2.276.0.7230010.3.1.4.8323329.13666.1517875247.117800");
    let t = cxr_data::table::read_csv(&data("siim_excerpt.csv.gz"), &["ImageId", " EncodedPixels"], "SIIM").unwrap();
    let rle = t.get(first, 1).unwrap().to_string();
    assert_eq!(rle.split_whitespace().count() / 2, 252);
    let mask = cxr_data::siim_rle_decode(&rle, 1024, 1024).unwrap();
    let on: Vec<(usize, usize)> = (0..1024 * 1024).filter(|&i| mask[i]).map(|i| (i / 1024, i % 1024)).collect();
    assert_eq!(on.len(), 30859);
    let (rmin, rmax) = (on.iter().map(|p| p.0).min().unwrap(), on.iter().map(|p| p.0).max().unwrap());
    let (cmin, cmax) = (on.iter().map(|p| p.1).min().unwrap(), on.iter().map(|p| p.1).max().unwrap());
    assert_eq!([rmin, rmax, cmin, cmax], [125, 390, 544, 795]);
    let centroid = on.iter().map(|p| p.0 as f64).sum::<f64>() / on.len() as f64;
    assert!((centroid - 241.38987005411713).abs() < 1e-9);
}

#[test]
fn chexpert_plus_adds_demographics_and_report_sections_by_path() {
    let mut f = files(Dataset::Chexpert);
    f.push(data("chexpert_plus_synthetic.csv"));
    let h = harmonize(Dataset::Chexpert, &f, &Options::default()).unwrap();
    let without = harmonize(Dataset::Chexpert, &files(Dataset::Chexpert), &Options::default()).unwrap();
    // The join adds attributes and changes nothing else.
    assert_eq!(h.records.len(), without.records.len());
    assert_eq!(h.totals(), without.totals());
    assert!(without.attributes.names.is_empty());
    let a = &h.attributes;
    assert_eq!(a.names[..2], ["race", "ethnicity"]);
    assert_eq!(a.values.len(), h.records.len());
    let row = |path: &str| h.records.iter().position(|r| r.image_id.ends_with(path)).unwrap();
    let (p1, p2s2, p2s1) = (
        row("patient00001/study1/view1_frontal.jpg"),
        row("patient00002/study2/view1_frontal.jpg"),
        row("patient00002/study1/view1_frontal.jpg"),
    );
    assert_eq!(a.get(p1, "race"), Some("White"));
    assert_eq!(a.get(p1, "recent_bmi"), Some("22.2"));
    // Multi-line, quoted report text survives the CSV.
    assert_eq!(a.get(p1, "report_findings"), Some("Endotracheal tube in place.\nNo pneumothorax."));
    assert_eq!(a.get(p1, "report_impression"), Some("1. \"Stable\" support devices."));
    // A repeated path: the first row wins, and the note says so.
    assert_eq!(a.get(p2s2, "race"), Some("Asian"));
    // A blank cell is missing; "Patient Refused" is a value.
    assert_eq!(a.get(p2s1, "race"), None);
    assert_eq!(a.get(p2s1, "ethnicity"), Some("Patient Refused"));
    // Images CheXpert Plus does not list have no attributes.
    let other = (0..h.records.len()).find(|&i| ![p1, p2s2, p2s1].contains(&i)).unwrap();
    assert!(a.values[other].iter().all(Option::is_none));
    let note = h.notes.iter().find(|n| n.starts_with("CheXpert Plus")).unwrap();
    assert!(note.contains("3 of 6000 images matched") && note.contains("1 repeated path"), "{note}");
    // Demographics appear in the statistics.
    let s = cxr_data::stats::stats(&h);
    assert_eq!(s.demographics["race"]["White"], 1);
    assert_eq!(s.demographics["race"]["missing"], h.records.len() - 2);
    // A file without the expected columns names them.
    let e = harmonize(Dataset::Chexpert, &[f[0].clone(), f[0].clone()], &Options::default()).unwrap_err().to_string();
    assert!(e.contains("path_to_image") && e.contains("CheXpert Plus"), "{e}");
}
