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
    pipe.write_all(stdin.unwrap_or_default()).expect("write stdin");
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
    let html = std::fs::read_to_string(d.join("index.html")).unwrap();
    assert!(html.contains("<mark class=\"pos\""));
    assert_eq!(std::fs::read_to_string(d.join("labels.csv")).unwrap().lines().count(), 22);
    assert_eq!(std::fs::read_to_string(d.join("labels.jsonl")).unwrap().lines().count(), 21);
}
