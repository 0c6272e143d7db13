//! The HTTP API over real sockets: the review workflow end to end, bad input, limits, auth, the OpenAPI
//! description (every route answers, every JSON body matches its schema), DRR jobs and concurrency.

mod common;
use common::*;
use serde_json::{json, Value};

#[test]
fn review_workflow_upload_predict_draft_edit_sign() {
    let s = TestServer::start("workflow", |_| {});
    let r = s.upload("case%201", "application/dicom", SAMPLE_DICOM);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    check_response("/api/studies", "POST", &r);
    let d = r.json();
    let id = d["study"]["id"].as_i64().unwrap();
    assert_eq!(d["study"]["label"], "case 1");
    assert_eq!(d["study"]["status"], "new");
    assert_eq!((d["image"]["format"].as_str(), d["image"]["width"].as_i64()), (Some("dicom"), Some(1841)));
    assert_eq!(d["image"]["info"]["photometric_interpretation"], "MONOCHROME1");
    assert_eq!(d["image"]["viewer"]["invert"], true);
    // The viewer copy: at most 1024 px on the long side, 2 bytes per pixel.
    let (vw, vh) = (d["image"]["viewer"]["width"].as_u64().unwrap(), d["image"]["viewer"]["height"].as_u64().unwrap());
    assert_eq!(vw.max(vh), 1024);
    let px = s.get(d["image"]["pixels_url"].as_str().unwrap());
    assert_eq!((px.status, px.body.len() as u64), (200, 2 * vw * vh));
    let original = s.get(&format!("/api/studies/{id}/images/0/original"));
    assert_eq!(original.body, SAMPLE_DICOM, "the stored file is the upload, byte for byte");
    assert_eq!(original.header("content-type"), Some("application/dicom"));

    // Drafting needs a model run first (a request without any body takes the defaults).
    let r = request(s.addr, "POST", &format!("/api/studies/{id}/draft"), &[], b"");
    assert_eq!((r.status, r.error_code().as_str()), (409, "conflict"));

    let r = s.json("POST", &format!("/api/studies/{id}/predict"), &json!({"explain": "occlusion"}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    check_response("/api/studies/{id}/predict", "POST", &r);
    let d = r.json();
    assert_eq!(d["study"]["status"], "predicted");
    let findings = d["run"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    assert_eq!(d["run"]["demonstration_only"], true);
    // The card's hash is the provenance of the run.
    assert_eq!(d["run"]["card_sha256"].as_str().unwrap().len(), 64);
    let positives: Vec<&str> =
        findings.iter().filter(|f| f["positive"] == true).map(|f| f["label"].as_str().unwrap()).collect();
    assert_eq!(positives, ["Cardiomegaly", "Pleural Effusion"]);
    let heat = s.get(findings[0]["heatmap_url"].as_str().unwrap());
    assert_eq!(heat.status, 200);
    assert_eq!(png_size(&heat.body), (vw as u32, vh as u32), "heatmaps are drawn at the viewer copy's size");

    let r = s.json("POST", &format!("/api/studies/{id}/draft"), &json!({"base_version": 0}));
    assert_eq!(r.status, 200);
    check_response("/api/studies/{id}/draft", "POST", &r);
    let draft = r.json()["report"].clone();
    assert_eq!(draft["version"], 1);
    let text = draft["text"].as_str().unwrap();
    assert!(text.contains("Cardiomegaly") && text.to_lowercase().contains("pleural effusion"), "{text}");
    assert_eq!(draft["flags"], json!([]), "a draft agrees with its own findings");

    // An edit that contradicts the findings is flagged, with a span the browser can highlight.
    let edited = "FINDINGS: Cardiomegaly. No pleural effusion.\nIMPRESSION: Cardiomegaly.";
    let r = s.json("PUT", &format!("/api/studies/{id}/report"), &json!({"text": edited, "base_version": 1}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    check_response("/api/studies/{id}/report", "PUT", &r);
    let saved = r.json()["report"].clone();
    assert_eq!(saved["version"], 2);
    let flags = saved["flags"].as_array().unwrap();
    let effusion = flags.iter().find(|f| f["finding"] == "Pleural Effusion").expect("the contradiction is flagged");
    let [a, b] = [effusion["span_utf16"][0].as_u64().unwrap(), effusion["span_utf16"][1].as_u64().unwrap()];
    assert!(edited[a as usize..b as usize].contains("No pleural effusion"), "{effusion}");

    // A stale save (someone else saved version 2) is refused.
    let r = s.json("PUT", &format!("/api/studies/{id}/report"), &json!({"text": "x", "base_version": 1}));
    assert_eq!((r.status, r.error_code().as_str()), (409, "conflict"));
    check_response("/api/studies/{id}/report", "PUT", &r);
    // Signing needs a name.
    let r = s.json("POST", &format!("/api/studies/{id}/sign"), &json!({"text": edited, "base_version": 2}));
    assert_eq!(r.status, 422);
    let final_text = "FINDINGS: Cardiomegaly. Small pleural effusion.\nIMPRESSION: Cardiomegaly and small effusion.";
    let r = s.json(
        "POST",
        &format!("/api/studies/{id}/sign"),
        &json!({"text": final_text, "base_version": 2, "author": "Dr Reader"}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    check_response("/api/studies/{id}/sign", "POST", &r);
    assert_eq!(r.json()["report"]["status"], "final");
    // Signed means frozen.
    let r = s.json("PUT", &format!("/api/studies/{id}/report"), &json!({"text": "changed", "base_version": 3}));
    assert_eq!(r.status, 409);

    let r = s.get(&format!("/api/studies/{id}/report"));
    check_response("/api/studies/{id}/report", "GET", &r);
    let versions = r.json()["versions"].as_array().unwrap().clone();
    assert_eq!(versions.iter().map(|v| v["status"].as_str().unwrap()).collect::<Vec<_>>(), ["draft", "draft", "final"]);
    assert_eq!(versions[2]["author"], "Dr Reader");

    let r = s.get(&format!("/api/studies/{id}"));
    check_response("/api/studies/{id}", "GET", &r);
    assert_eq!(r.json()["study"]["status"], "signed");
    let r = s.get("/api/studies");
    check_response("/api/studies", "GET", &r);

    let r = s.get(&format!("/api/studies/{id}/audit"));
    check_response("/api/studies/{id}/audit", "GET", &r);
    let actions: Vec<String> =
        r.json()["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions, ["study.create", "model.run", "report.save", "report.save", "report.sign"]);
    let r = s.get("/api/audit/verify");
    check_response("/api/audit/verify", "GET", &r);
    assert_eq!(r.json(), json!({"intact": true, "entries": 5, "broken_at": null}));

    // Recalibration pairs: the model's probabilities and the signed report's labels.
    let csv = String::from_utf8(s.get("/api/export/calibration.csv").body).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("id,p_Cardiomegaly,"), "{csv}");
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0], id.to_string());
    assert_eq!(&cells[6..], ["1", "", "", "", "1"], "final report: cardiomegaly and effusion positive; {csv}");
    let csv = String::from_utf8(s.get("/api/export/calibration.csv?unmentioned=negative").body).unwrap();
    let cells: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(&cells[6..], ["1", "0", "0", "0", "1"], "{csv}");
    assert_eq!(s.get("/api/export/calibration.csv?unmentioned=maybe").status, 422);
}

#[test]
fn bad_input_gets_json_errors_and_stores_nothing() {
    let s = TestServer::start("bad-input", |c| c.limits.max_upload_bytes = 1 << 20);
    // Wrong content type, empty, corrupt, oversized.
    let r = s.upload("x", "multipart/form-data; boundary=z", b"--z--");
    assert_eq!((r.status, r.error_code().as_str()), (415, "unsupported_media_type"));
    let r = s.upload("x", "image/png", b"");
    assert_eq!(r.status, 400);
    let mut truncated = small_png(64, 64);
    truncated.truncate(60);
    let r = s.upload("x", "image/png", &truncated);
    assert_eq!((r.status, r.error_code().as_str()), (422, "unprocessable"));
    check_response("/api/studies", "POST", &r);
    assert!(!r.json()["error"]["message"].as_str().unwrap().contains(&s.dir.display().to_string()), "no server paths");
    let r = s.upload("x", "application/octet-stream", b"hello, this is not an image at all");
    assert_eq!(r.status, 422);
    let r = s.upload("x", "application/dicom", SAMPLE_DICOM); // 0.65 MB: under the limit
    assert_eq!(r.status, 201);
    let r = request_head_only(s.addr, "POST", "/api/studies", "application/octet-stream", (1 << 20) + 1);
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_large"));
    // Without a Content-Length (chunked), the limit is enforced while streaming to disk.
    let mut raw = format!(
        "POST /api/studies HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        1 << 20
    )
    .into_bytes();
    raw.extend(vec![7u8; 1 << 20]);
    raw.extend(b"\r\n1\r\nx\r\n0\r\n\r\n");
    let r = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(s.addr).unwrap();
        let _ = c.write_all(&raw);
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        parse_response(&out)
    };
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_large"));
    let r = s.upload("bad%01label", "image/png", &small_png(8, 8));
    assert_eq!(r.status, 400);
    // Only the one good upload is stored, and nothing is left in tmp/.
    assert_eq!(s.get("/api/studies").json()["studies"].as_array().unwrap().len(), 1);
    assert_eq!(std::fs::read_dir(s.dir.join("tmp")).unwrap().count(), 0);

    // Ids, routes, methods.
    let r = s.get("/api/studies/999");
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    check_response("/api/studies/{id}", "GET", &r);
    assert_eq!(s.get("/api/studies/abc").status, 400);
    assert_eq!(s.get("/api/studies/1/heatmaps/0").status, 404, "no run yet");
    assert_eq!(s.get("/api/no/such/thing").error_code(), "not_found");
    assert_eq!(s.json("DELETE", "/api/studies", &json!({})).error_code(), "method_not_allowed");

    // Malformed JSON, wrong JSON content type, unknown fields, wrong types.
    let r = request(s.addr, "POST", "/api/label", &[("Content-Type", "application/json")], b"{\"text\": ");
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    let r = request(s.addr, "POST", "/api/label", &[("Content-Type", "text/plain")], b"{\"text\": \"x\"}");
    assert_eq!(r.status, 415);
    assert_eq!(s.json("POST", "/api/label", &json!({"txt": "x"})).status, 422);
    assert_eq!(s.json("PUT", "/api/studies/1/report", &json!({"text": 5, "base_version": 0})).status, 422);
    assert_eq!(s.json("POST", "/api/score", &json!({"refs": ["a"], "hyps": []})).status, 422);
    assert_eq!(s.json("POST", "/api/score", &json!({"refs": ["a"], "hyps": ["a"], "metrics": ["nope"]})).status, 422);
    assert_eq!(
        s.json("POST", "/api/studies/1/predict", &json!({"explain": "cam"})).status,
        422,
        "the demo card has no cam"
    );
}

#[test]
fn token_is_required_when_configured_and_for_other_addresses() {
    let s = TestServer::start("token", |c| c.token = Some("s3cret-token".into()));
    assert_eq!(s.get("/api/studies").error_code(), "unauthorized");
    let wrong = request(s.addr, "GET", "/api/studies", &[("Authorization", "Bearer s3cret-tokeX")], b"");
    assert_eq!(wrong.status, 401);
    let ok = request(s.addr, "GET", "/api/studies", &[("Authorization", "Bearer s3cret-token")], b"");
    assert_eq!(ok.status, 200);
    // The viewer's static files carry no data and load without the token (it then asks for it).
    assert_eq!(s.get("/").status, 200);

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut c = cxr_serve::Config::new(std::env::temp_dir().join(format!("cxr-serve-open-{}", std::process::id())));
    c.bind = "0.0.0.0:0".parse().unwrap();
    let e = rt.block_on(cxr_serve::Server::start(c)).unwrap_err();
    assert!(matches!(e, cxr_serve::ServeError::TokenRequired(_)), "{e}");
    assert!(e.to_string().contains("--token-file"));
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let s = TestServer::start("queue", |c| c.limits.queue = 0);
    let r = s.json("POST", "/api/label", &json!({"text": "No effusion."}));
    assert_eq!((r.status, r.error_code().as_str()), (503, "busy"));
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(s.upload("x", "image/png", &small_png(8, 8)).status, 503);
    assert_eq!(std::fs::read_dir(s.dir.join("tmp")).unwrap().count(), 0);
    // Reads do not queue behind heavy work.
    assert_eq!(s.get("/api/studies").status, 200);
    assert_eq!(s.get("/api/health").status, 200);
}

#[test]
fn every_documented_route_exists_and_the_viewer_is_served() {
    let s = TestServer::start("routes", |_| {});
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut n = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "1").replace("{index}", "0").replace("{view}", "pa");
            let r = request(s.addr, &method.to_uppercase(), &concrete, &[("Content-Type", "application/json")], b"{}");
            // Every documented route is routed (no generic 404/405), and every answer is declared.
            let generic = r.status == 405
                || (r.status == 404 && r.json()["error"]["message"].as_str().unwrap().starts_with("no such endpoint"));
            assert!(!generic, "{method} {path} is documented but not routed");
            check_response(path, method, &r);
            n += 1;
        }
    }
    assert!(n >= 22, "{n} operations");
    let page = String::from_utf8(s.get("/").body).unwrap();
    assert!(page.contains("<script src=\"/app.js\">"));
    let js = s.get("/app.js");
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(String::from_utf8(js.body).unwrap().contains("/api/studies"));
    // No third-party origin anywhere in the viewer (works offline, no CDN).
    for asset in ["/", "/app.js", "/style.css"] {
        let body = String::from_utf8(s.get(asset).body).unwrap();
        assert!(!body.contains("http://") && !body.contains("https://"), "{asset} refers to another origin");
    }
}

#[test]
fn text_endpoints_label_check_and_score() {
    let s = TestServer::start("text", |_| {});
    let r = s.json("POST", "/api/label", &json!({"text": "Mild cardiomegaly. No pleural effusion. Possible edema."}));
    check_response("/api/label", "POST", &r);
    let l = r.json()["labels"].clone();
    assert_eq!(
        (l["Cardiomegaly"].clone(), l["Pleural Effusion"].clone(), l["Edema"].clone()),
        (json!(1), json!(0), json!(-1))
    );
    assert_eq!(l["Pneumothorax"], Value::Null);

    let findings =
        json!({"findings": [{"id": "f1", "finding": "Pneumothorax", "status": "positive", "laterality": "left"}]});
    let r = s.json("POST", "/api/check", &json!({"text": "Right pneumothorax.", "findings": findings}));
    check_response("/api/check", "POST", &r);
    let kinds: Vec<String> =
        r.json()["flags"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string()).collect();
    assert!(kinds.contains(&"laterality-conflict".to_string()), "{kinds:?}");

    let refs = ["the heart is normal in size .", "no pleural effusion or pneumothorax ."];
    let r = s.json("POST", "/api/score", &json!({"refs": refs, "hyps": refs, "metrics": ["bleu", "rouge", "chrf"]}));
    check_response("/api/score", "POST", &r);
    let c = r.json()["corpus"].clone();
    assert!(
        (c["bleu4"].as_f64().unwrap() - 1.0).abs() < 1e-9 && (c["rouge_l"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{c}"
    );
    let r = s.json("POST", "/api/score", &json!({"refs": ["a b c"], "hyps": ["a b c"], "metrics": ["cider"]}));
    assert!(r.json()["note"].as_str().unwrap().contains("one-pair"));
}

#[test]
fn drr_job_reports_progress_and_serves_the_views() {
    let s = TestServer::start("drr", |_| {});
    let r = request(
        s.addr,
        "POST",
        "/api/drr?views=pa,lateral-left&size=64",
        &[("Content-Type", "application/octet-stream")],
        SAMPLE_CT,
    );
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    check_response("/api/drr", "POST", &r);
    let url = r.json()["url"].as_str().unwrap().to_string();
    let job = (0..600)
        .find_map(|_| {
            let j = s.get(&url).json()["job"].clone();
            if j["state"] == "done" || j["state"] == "failed" {
                Some(j)
            } else {
                std::thread::sleep(std::time::Duration::from_millis(50));
                None
            }
        })
        .expect("the job finishes");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["progress"], 1.0);
    assert_eq!(job["done"].as_array().unwrap().len(), 2);
    let pa = s.get(job["done"][0]["url"].as_str().unwrap());
    assert_eq!(png_size(&pa.body), (64, 64));
    // Not a CT: the job fails with a message, the server stays up.
    let r = request(s.addr, "POST", "/api/drr", &[("Content-Type", "application/octet-stream")], b"not a volume");
    let url = r.json()["url"].as_str().unwrap().to_string();
    let job = (0..200)
        .find_map(|_| {
            let j = s.get(&url).json()["job"].clone();
            (j["state"] == "failed" || j["state"] == "done").then_some(j).or_else(|| {
                std::thread::sleep(std::time::Duration::from_millis(25));
                None
            })
        })
        .unwrap();
    assert_eq!(job["state"], "failed");
    assert!(job["error"].as_str().unwrap().contains("not a CT volume"), "{job}");
    assert_eq!(s.json("POST", "/api/drr?views=sideways", &json!({})).status, 422);
    assert_eq!(s.get("/api/jobs/999").status, 404);
}

#[test]
fn concurrent_uploads_and_concurrent_edits() {
    let s = TestServer::start("concurrent", |_| {});
    let png = small_png(96, 80);
    let ids: Vec<i64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..24)
            .map(|k| {
                let (s, png) = (&s, &png);
                sc.spawn(move || {
                    let r = s.upload(&format!("c{k}"), "image/png", png);
                    assert_eq!(r.status, 201);
                    r.json()["study"]["id"].as_i64().unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 24, "every upload is its own study");
    // Identical content is stored once (content addressing).
    let objects: usize = std::fs::read_dir(s.dir.join("objects"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(objects, 2, "one PNG and one viewer copy");

    // Eight editors save on top of version 0 at once: exactly one wins.
    let id = ids[0];
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..8)
            .map(|k| {
                let s = &s;
                sc.spawn(move || {
                    s.json(
                        "PUT",
                        &format!("/api/studies/{id}/report"),
                        &json!({"text": format!("edit {k}"), "base_version": 0}),
                    )
                    .status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|&&c| c == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&c| c == 409).count(), 7, "{statuses:?}");
    assert_eq!(s.get("/api/audit/verify").json()["intact"], true);
}

#[test]
fn a_store_reopens_with_its_studies() {
    let dir = std::env::temp_dir().join(format!("cxr-serve-test-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut s = TestServer::start_in(dir.clone(), |_| {});
        s.keep_dir = true;
        assert_eq!(s.upload("kept", "image/png", &small_png(32, 32)).status, 201);
    }
    let s = TestServer::start_in(dir, |_| {});
    let list = s.get("/api/studies").json();
    assert_eq!(list["studies"][0]["label"], "kept");
}

#[test]
fn a_stalled_upload_times_out_and_leaves_no_file() {
    use std::io::Write;
    let s = TestServer::start("timeout", |c| c.limits.request_timeout = std::time::Duration::from_millis(500));
    let mut c = std::net::TcpStream::connect(s.addr).unwrap();
    let head = format!(
        "POST /api/studies HTTP/1.1\r\nHost: x\r\nContent-Type: application/dicom\r\nContent-Length: {}\r\n\r\n",
        SAMPLE_DICOM.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&SAMPLE_DICOM[..1000]).unwrap();
    let r = parse_response(&read_response(&mut c));
    assert_eq!((r.status, r.error_code().as_str()), (503, "timeout"));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(std::fs::read_dir(s.dir.join("tmp")).unwrap().count(), 0, "the partial file was removed");
    assert_eq!(s.get("/api/studies").json()["studies"], json!([]));
}

#[test]
fn requests_dropped_while_queued_leave_the_queue() {
    let s = TestServer::start("queue-leak", |c| {
        c.limits.request_timeout = std::time::Duration::from_millis(300);
        c.limits.workers = 1;
        c.limits.queue = 1;
    });
    // A DRR job keeps the only worker busy (well past the request timeout).
    let r = request(
        s.addr,
        "POST",
        "/api/drr?views=pa,ap,lateral-left,lateral-right&size=1024",
        &[("Content-Type", "application/octet-stream")],
        SAMPLE_CT,
    );
    assert_eq!(r.status, 202);
    let job = r.json()["url"].as_str().unwrap().to_string();
    // The job takes the worker from a background task: wait until it has, so B really queues behind it.
    let t0 = std::time::Instant::now();
    while s.get(&job).json()["job"]["state"] != "running" {
        assert!(t0.elapsed() < std::time::Duration::from_secs(30), "the DRR job never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // B waits in the queue for the worker and is dropped by the timeout while waiting.
    let b = s.json("POST", "/api/label", &json!({"text": "No effusion."}));
    assert_eq!((b.status, b.error_code().as_str()), (503, "timeout"));
    // C may wait too (the queue has room again) rather than being refused as if B still held its place.
    // (It then gets the worker when the DRR job ends, or times out while waiting: either way it was let in.)
    let c = s.json("POST", "/api/label", &json!({"text": "No effusion."}));
    assert!(c.status == 200 || c.error_code() != "busy", "a dropped request leaked its queue place");
    let state = s.get(&job).json()["job"]["state"].clone();
    assert!(state == "running" || state == "done", "{state}");
}

#[test]
fn studies_take_more_images_and_demographics_reach_the_check() {
    let s = TestServer::start("images", |_| {});
    let r = request(
        s.addr,
        "POST",
        "/api/studies?label=pa%20and%20lateral&sex=M&age=70",
        &[("Content-Type", "image/png")],
        &small_png(64, 64),
    );
    assert_eq!(r.status, 201);
    let d = r.json();
    assert_eq!((d["study"]["sex"].as_str(), d["study"]["age_years"].as_f64()), (Some("male"), Some(70.0)));
    let id = d["study"]["id"].as_i64().unwrap();
    let r = s.upload_to(id, "application/dicom", SAMPLE_DICOM);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    check_response("/api/studies/{id}/images", "POST", &r);
    let d = r.json();
    assert_eq!(d["images"].as_array().unwrap().len(), 2);
    assert_eq!((d["images"][1]["index"].as_i64(), d["images"][1]["format"].as_str()), (Some(1), Some("dicom")));
    let r = s.get(&format!("/api/studies/{id}/images/1/original"));
    check_response("/api/studies/{id}/images/{index}/original", "GET", &r);
    assert_eq!(r.body, SAMPLE_DICOM);
    assert_eq!(s.get(&format!("/api/studies/{id}/images/2/pixels")).status, 404);
    assert_eq!(s.upload_to(999, "image/png", &small_png(8, 8)).status, 404);

    // The model reads the image asked for, and the run says which.
    let r = s.json("POST", &format!("/api/studies/{id}/predict"), &json!({"image": 1, "explain": "none"}));
    assert_eq!(r.status, 200);
    let run = r.json()["run"].clone();
    assert_eq!((run["image_index"].as_i64(), run["findings"][0]["heatmap_url"].clone()), (Some(1), Value::Null));
    assert_eq!(s.json("POST", &format!("/api/studies/{id}/predict"), &json!({"image": 5})).status, 422);

    // A male patient's report that mentions a uterus is flagged as implausible.
    let text = "FINDINGS: Enlarged uterus noted. Cardiomegaly. IMPRESSION: Cardiomegaly.";
    let r = s.json("PUT", &format!("/api/studies/{id}/report"), &json!({"text": text, "base_version": 0}));
    let kinds: Vec<String> = r.json()["report"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"demographic-implausible".to_string()), "{kinds:?}");
    let r = s.json("POST", "/api/check", &json!({"text": text, "sex": "female"}));
    let kinds: Vec<String> =
        r.json()["flags"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string()).collect();
    assert!(!kinds.contains(&"demographic-implausible".to_string()), "{kinds:?}");
    assert_eq!(
        request(s.addr, "POST", "/api/studies?sex=x", &[("Content-Type", "image/png")], &small_png(8, 8)).status,
        422
    );
    assert_eq!(
        request(s.addr, "POST", "/api/studies?age=200", &[("Content-Type", "image/png")], &small_png(8, 8)).status,
        422
    );
    assert_eq!(
        request(s.addr, "POST", "/api/studies?patient=John", &[("Content-Type", "image/png")], &small_png(8, 8)).status,
        400
    );

    // After sign-off the images are frozen too.
    let r = s.json(
        "POST",
        &format!("/api/studies/{id}/sign"),
        &json!({"text": "Cardiomegaly.", "base_version": 1, "author": "Dr R"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(s.upload_to(id, "image/png", &small_png(8, 8)).status, 409);
    let actions: Vec<String> = s.get(&format!("/api/studies/{id}/audit")).json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["study.create", "image.add", "model.run", "report.save", "report.sign"]);
}

#[test]
fn garbage_on_every_route_gets_a_4xx_never_a_5xx() {
    let s = TestServer::start("garbage", |_| {});
    assert_eq!(s.upload("target", "image/png", &small_png(16, 16)).status, 201);
    let random_bytes = |seed: u64, n: usize| -> Vec<u8> {
        (0..n as u64).map(|k| (cxr_core::rng::splitmix64(seed, k) & 0xff) as u8).collect()
    };
    let deep = format!("{{\"text\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{\"text\": 5, \"base_version\": \"x\"}".to_vec(),
        b"{\"text\": \"x\", \"base_version\": 99999999999999999999999}".to_vec(),
        b"{\"refs\": [\"a\"], \"hyps\": [\"b\"], \"metrics\": [5]}".to_vec(),
        b"{\"explain\": \"everything\", \"image\": -1}".to_vec(),
        deep.into_bytes(),
        random_bytes(20261129, 64),
        random_bytes(20261130, 4096),
    ];
    let doc = openapi();
    let mut n = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            for id in ["1", "-1", "99999999999999999999", "x%00y"] {
                let concrete = path.replace("{id}", id).replace("{index}", "0").replace("{view}", "..%2F..%2Fetc");
                for ct in ["application/json", "application/octet-stream", "image/png", "text/plain"] {
                    for body in &bodies {
                        let r = request(s.addr, &method.to_uppercase(), &concrete, &[("Content-Type", ct)], body);
                        assert!(
                            r.status < 500,
                            "{method} {concrete} ({ct}, {} bytes) answered {}",
                            body.len(),
                            r.status
                        );
                        if r.status >= 400 {
                            r.error_code();
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 3000, "{n} requests");
    assert_eq!(s.get("/api/health").status, 200);
    assert_eq!(s.get("/api/audit/verify").json()["intact"], true);
    assert_eq!(std::fs::read_dir(s.dir.join("tmp")).unwrap().count(), 0);
}
