//! End to end in headless Chromium, driven over WebDriver (`chromedriver`, Debian `chromium-driver`):
//! upload the bundled radiograph, run the model, see findings and the heatmap overlay, draft, edit (see the
//! check flags), sign, reload and see the signed report persisted. Screenshots are saved as artefacts in
//! `target/test-artifacts/browser/`.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them and sets `CXR_REQUIRE_BROWSER=1`, which
//! turns a missing browser into a failure); elsewhere the test says it is skipped.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_in_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
}

struct Driver {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    session: String,
}

impl Driver {
    fn start(driver: &std::path::Path, chromium: &std::path::Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let t0 = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(20), "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut d = Driver { child, addr, session: String::new() };
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1400,900"]}}}});
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["sessionId"].as_str().expect("a WebDriver session").to_string();
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = request(self.addr, method, path, &[("Content-Type", "application/json")], body.as_bytes());
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        assert!(r.status == 200, "WebDriver {method} {path}: {} {v}", r.status);
        v["value"].clone()
    }

    fn s(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    fn el(&self, css: &str) -> String {
        let v = self.call("POST", &self.s("/element"), Some(json!({"using": "css selector", "value": css})));
        v[ELEMENT].as_str().unwrap().to_string()
    }

    fn click(&self, css: &str) {
        let e = self.el(css);
        self.call("POST", &self.s(&format!("/element/{e}/click")), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.el(css);
        self.call("POST", &self.s(&format!("/element/{e}/value")), Some(json!({ "text": text })));
    }

    fn clear(&self, css: &str) {
        let e = self.el(css);
        self.call("POST", &self.s(&format!("/element/{e}/clear")), Some(json!({})));
    }

    fn js(&self, script: &str) -> Value {
        self.call("POST", &self.s("/execute/sync"), Some(json!({"script": script, "args": []})))
    }

    /// Waits until `expr` (a JS expression) is true; fails with the page's status line otherwise.
    fn wait(&self, expr: &str, what: &str) {
        let t0 = Instant::now();
        loop {
            if self.js(&format!("return !!({expr});")) == json!(true) {
                return;
            }
            if t0.elapsed() > Duration::from_secs(60) {
                let status = self.js("return document.getElementById('status').textContent;");
                panic!("timed out waiting for {what}; the page says {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, name: &str) -> Vec<u8> {
        let b64 = self.call("GET", &self.s("/screenshot"), None);
        let png = base64_decode(b64.as_str().unwrap());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts/browser");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        png
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(self.addr, "DELETE", &format!("/session/{}", self.session), &[], b"");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).map(val).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for q in bytes.chunks(4) {
        let n = q.iter().enumerate().fold(0u32, |acc, (i, &v)| acc | (v as u32) << (18 - 6 * i));
        out.extend(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..q.len() - 1]);
    }
    out
}

#[test]
fn review_in_the_browser_upload_predict_draft_edit_sign_reload() {
    let driver = find_in_path("chromedriver");
    let chromium = find_in_path("chromium").or_else(|| find_in_path("chromium-browser"));
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        assert!(
            std::env::var_os("CXR_REQUIRE_BROWSER").is_none(),
            "CXR_REQUIRE_BROWSER is set but chromium/chromedriver are missing (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED: the browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let server = TestServer::start("browser", |_| {});
    let upload = server.dir.join("sample_chest_pa.dcm");
    std::fs::write(&upload, SAMPLE_DICOM).unwrap();
    let d = Driver::start(&driver, &chromium);

    d.goto(&server.url());
    d.wait("document.getElementById('status').textContent === 'Ready.'", "the viewer to load");
    assert!(d
        .js("return document.getElementById('model-name').textContent;")
        .as_str()
        .unwrap()
        .contains("cxrkit-demo"));

    // Upload the bundled radiograph through the form.
    d.type_into("#file", upload.to_str().unwrap());
    d.type_into("#study-label", "browser test");
    d.click("#upload");
    d.wait(
        "document.querySelectorAll('#worklist li').length === 1 && document.getElementById('study-title').textContent.includes('browser test')",
        "the uploaded study to open",
    );
    // The radiograph is drawn: the canvas has the viewer copy's size and is not blank.
    let drawn = d.js(
        "const c = document.getElementById('image'); const x = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         let lo = 255, hi = 0; for (let i = 0; i < x.length; i += 4 * 97) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
         return [c.width, c.height, lo, hi];",
    );
    assert_eq!((drawn[0].as_u64(), drawn[1].as_u64()), (Some(964), Some(1024)), "{drawn}");
    assert!(drawn[3].as_u64().unwrap() - drawn[2].as_u64().unwrap() > 100, "the image has contrast: {drawn}");
    d.screenshot("1-uploaded");

    // Window/level changes the pixels.
    let before = d.js("return document.getElementById('wl-readout').textContent;");
    d.js("const w = document.getElementById('ww'); w.value = w.value / 4; w.dispatchEvent(new Event('input')); return 0;");
    assert_ne!(d.js("return document.getElementById('wl-readout').textContent;"), before);
    d.click("#wl-reset");

    // Run the model: findings and the heatmap overlay appear; the toggle hides it.
    d.click("#predict");
    d.wait("document.querySelectorAll('#findings tbody tr').length === 5", "the findings");
    d.wait(
        "!document.getElementById('heat').hidden && document.getElementById('heat').naturalWidth === 964",
        "the heatmap",
    );
    let positive =
        d.js("return [...document.querySelectorAll('#findings tr.positive td:first-child')].map(e => e.textContent);");
    assert_eq!(positive, json!(["Cardiomegaly", "Pleural Effusion"]));
    d.screenshot("2-findings-and-heatmap");
    d.click("#heat-toggle");
    assert_eq!(d.js("return document.getElementById('heat').hidden;"), json!(true));
    d.click("#heat-toggle");
    d.wait("!document.getElementById('heat').hidden", "the heatmap to come back");

    // A second image (here the same file again, standing in for a lateral): the selector switches images,
    // and the heatmap shows only on the image the model read.
    d.type_into("#file", upload.to_str().unwrap());
    d.click("#add-image");
    d.wait("document.querySelectorAll('#image-index option').length === 2", "the second image");
    d.wait("document.getElementById('image-index').value === '1'", "the new image to be selected");
    d.wait("document.getElementById('heat').hidden", "the heatmap to hide on the other image");
    d.click("#image-index option[value='0']");
    d.wait("!document.getElementById('heat').hidden", "the heatmap on the model's image");

    // Draft, then edit into a contradiction: the flag is highlighted in the text.
    d.click("#draft");
    d.wait("document.getElementById('report-text').value.includes('Cardiomegaly')", "the draft");
    d.clear("#report-text");
    d.type_into("#report-text", "FINDINGS: Cardiomegaly. No pleural effusion.\nIMPRESSION: Cardiomegaly.");
    d.click("#save");
    d.wait("document.querySelector('#flagged-text mark') !== null", "the check flag highlight");
    let marked = d.js("return document.querySelector('#flagged-text mark').textContent;");
    assert!(marked.as_str().unwrap().contains("No pleural effusion"), "{marked}");
    d.screenshot("3-edited-with-flags");

    // Sign.
    let final_text = "FINDINGS: Cardiomegaly. Small pleural effusion.\nIMPRESSION: Cardiomegaly, small effusion.";
    d.clear("#report-text");
    d.type_into("#report-text", final_text);
    d.type_into("#signer", "Dr Browser");
    d.click("#sign");
    d.wait("document.getElementById('report-status').textContent.includes('Signed by Dr Browser')", "the signature");

    // Reload: the signed report is there, read-only.
    d.call("POST", &d.s("/refresh"), Some(json!({})));
    d.wait("document.getElementById('status').textContent === 'Ready.'", "the reload");
    d.click("#worklist li");
    d.wait(
        "document.getElementById('report-status').textContent.includes('Signed by Dr Browser')",
        "the persisted signature",
    );
    assert_eq!(d.js("return document.getElementById('report-text').value;"), json!(final_text));
    assert_eq!(d.js("return document.getElementById('report-text').disabled;"), json!(true));
    let shot = d.screenshot("4-after-reload");
    assert_eq!(png_size(&shot).0, 1400);

    // And the server agrees.
    let r = server.get("/api/studies/1/report").json();
    assert_eq!((r["report"]["status"].as_str(), r["report"]["author"].as_str()), (Some("final"), Some("Dr Browser")));
    assert_eq!(server.get("/api/audit/verify").json()["intact"], true);
}
