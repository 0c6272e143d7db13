//! `cxr serve` as a process: killed mid-upload (SIGKILL, no chance to clean up) and restarted, the store is
//! consistent (no partial study, the half-received file gone, the audit chain intact); `cxr demo --serve`.

#[path = "../../cxr-serve/tests/common/mod.rs"]
mod common;
use common::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `cxr` with `args` (which bind port 0) and returns it with the address it prints in the first line
/// of its standard output that holds `http://` — the port the OS gave it, so parallel tests never collide
/// (choosing a free port first and binding it later races with the other tests).
fn start(args: &[&str], data: &std::path::Path) -> (Child, SocketAddr, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(args)
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (addr, line) = loop {
        let line = lines.next().expect("cxr exited before it printed its address").unwrap();
        if let Some(at) = line.find("http://") {
            let rest = &line[at + 7..];
            let end = rest.find('/').unwrap_or(rest.len());
            break (rest[..end].parse::<SocketAddr>().unwrap(), line);
        }
    };
    // Keep draining the output so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr, line)
}

fn spawn_server(data: &std::path::Path) -> (Child, SocketAddr) {
    let (child, addr, _) = start(&["serve", "--quiet", "--json", "--bind", "127.0.0.1:0", "--data"], data);
    (child, addr)
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn killed_mid_upload_the_store_stays_consistent() {
    let data = std::env::temp_dir().join(format!("cxr-serve-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (mut server, addr) = spawn_server(&data);
    let ok = request(addr, "POST", "/api/studies?label=complete", &[("Content-Type", "image/png")], &small_png(40, 30));
    assert_eq!(ok.status, 201);

    // Announce the whole DICOM, send half of it, and kill the server while it waits for the rest.
    let mut half = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/studies?label=partial HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/dicom\r\nContent-Length: {}\r\n\r\n",
        SAMPLE_DICOM.len()
    );
    half.write_all(head.as_bytes()).unwrap();
    half.write_all(&SAMPLE_DICOM[..SAMPLE_DICOM.len() / 2]).unwrap();
    let tmp = data.join("tmp");
    let t0 = Instant::now();
    while files_in(&tmp) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(30), "the upload never reached tmp/");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    drop(half);
    assert_eq!(files_in(&tmp), 1, "the half upload is left behind by the crash");

    let (mut server, addr) = spawn_server(&data);
    let studies = request(addr, "GET", "/api/studies", &[], b"").json();
    let labels: Vec<&str> =
        studies["studies"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["complete"], "no partial study");
    assert_eq!(files_in(&tmp), 0, "restart removed the partial upload");
    let audit = request(addr, "GET", "/api/audit/verify", &[], b"").json();
    assert_eq!(audit, serde_json::json!({"intact": true, "entries": 1, "broken_at": null}));
    // The store still takes uploads.
    let again =
        request(addr, "POST", "/api/studies?label=after", &[("Content-Type", "application/dicom")], SAMPLE_DICOM);
    assert_eq!(again.status, 201);
    server.kill().unwrap();
    server.wait().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(["serve", "--verify-audit", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 2 entries"));
    let csv = data.join("pairs.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(["serve", "--data"])
        .arg(&data)
        .arg("--export-calibration")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "id\n", "no signed studies yet: a header only");
    let out = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(["serve", "--verify-audit", "--data", "/nonexistent/store"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a cxr study store"));
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn demo_serve_opens_the_reading_room_on_the_bundled_study() {
    let out = std::env::temp_dir().join(format!("cxr-demo-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (mut child, addr, line) = start(&["demo", "--serve", "--bind", "127.0.0.1:0", "--out"], &out);
    assert!(line.ends_with(&format!("http://{addr}/#study=1")), "{line}");
    let studies = request(addr, "GET", "/api/studies", &[], b"").json();
    assert_eq!(studies["studies"][0]["label"], "bundled PA chest CR (pydicom-data RG1)");
    let d = request(addr, "GET", "/api/studies/1", &[], b"").json();
    assert_eq!(d["image"]["info"]["modality"], "CR");
    assert_eq!(request(addr, "GET", "/", &[], b"").status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn serve_refuses_other_addresses_without_a_token_and_uses_the_token_file() {
    let data = std::env::temp_dir().join(format!("cxr-serve-token-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let out = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(["serve", "--bind", "0.0.0.0:0", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without a token") && err.contains("--token-file"), "{err}");
    let missing = Command::new(env!("CARGO_BIN_EXE_cxr"))
        .args(["serve", "--token-file", "/nonexistent/token", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the token file"));

    let token = data.join("token.txt");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(&token, "  correct-horse-battery\n").unwrap();
    let token_path = token.to_str().unwrap();
    let (mut child, addr, _) =
        start(&["serve", "--quiet", "--json", "--bind", "127.0.0.1:0", "--token-file", token_path, "--data"], &data);
    assert_eq!(request(addr, "GET", "/api/studies", &[], b"").status, 401);
    let ok = request(addr, "GET", "/api/studies", &[("Authorization", "Bearer correct-horse-battery")], b"");
    assert_eq!(ok.status, 200, "the file's surrounding white space is not part of the token");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
