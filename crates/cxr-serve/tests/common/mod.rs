//! Test harness: a server on a free loopback port over a fresh store, a minimal HTTP/1.1 client (std only,
//! so the tests exercise the real socket path), and a JSON-Schema subset validator for the OpenAPI file.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;

pub const SAMPLE_DICOM: &[u8] = include_bytes!("../../../cxr-io/tests/data/dicom/RG1_J2KI.dcm");
pub const SAMPLE_CT: &[u8] = include_bytes!("../../../cxr-drr/tests/data/small_ct.nii.gz");

/// A running server and its runtime; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    /// Leave the store folder on drop (to reopen it).
    pub keep_dir: bool,
    rt: Option<tokio::runtime::Runtime>,
    server: Option<cxr_serve::Server>,
}

impl TestServer {
    pub fn start(name: &str, tweak: impl FnOnce(&mut cxr_serve::Config)) -> TestServer {
        let dir = std::env::temp_dir().join(format!("cxr-serve-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self::start_in(dir, tweak)
    }

    pub fn start_in(dir: PathBuf, tweak: impl FnOnce(&mut cxr_serve::Config)) -> TestServer {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let mut config = cxr_serve::Config::new(dir.clone());
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.access_log = false;
        tweak(&mut config);
        let server = rt.block_on(cxr_serve::Server::start(config)).expect("server starts");
        TestServer { addr: server.addr(), dir, keep_dir: false, rt: Some(rt), server: Some(server) }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn get(&self, path: &str) -> Resp {
        request(self.addr, "GET", path, &[], b"")
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> Resp {
        request(self.addr, method, path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
    }

    pub fn upload_to(&self, study: i64, content_type: &str, bytes: &[u8]) -> Resp {
        request(self.addr, "POST", &format!("/api/studies/{study}/images"), &[("Content-Type", content_type)], bytes)
    }

    pub fn upload(&self, label: &str, content_type: &str, bytes: &[u8]) -> Resp {
        request(self.addr, "POST", &format!("/api/studies?label={label}"), &[("Content-Type", content_type)], bytes)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let (Some(rt), Some(server)) = (self.rt.take(), self.server.take()) {
            rt.block_on(server.stop());
            rt.shutdown_background();
        }
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("status {}: body is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body))
        })
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The error body's code, asserting the error shape.
    pub fn error_code(&self) -> String {
        let v = self.json();
        assert_eq!(v["error"]["status"], self.status, "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        v["error"]["code"].as_str().unwrap().to_string()
    }
}

/// One HTTP/1.1 request with `Connection: close`; reads the whole response.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(120))).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).unwrap();
    // A server that refuses early (e.g. 413 from the Content-Length) may close before the body is sent.
    let _ = s.write_all(body);
    parse_response(&read_response(&mut s))
}

/// Reads one response: up to the end of the headers, then Content-Length bytes, else to the end of a
/// chunked body, else to EOF (some servers, e.g. chromedriver, keep the socket open after the response).
pub fn read_response(s: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let complete = raw.windows(4).position(|w| w == b"\r\n\r\n").is_some_and(|end| {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)));
            match len {
                Some(n) => raw.len() >= end + 4 + n,
                None => head.contains("chunked") && raw.ends_with(b"0\r\n\r\n"),
            }
        });
        if complete {
            return raw;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return raw,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends only the head of a request that announces `content_length` bytes, then reads the answer (for
/// refusals that must come before the body: a server that closes with unread data may reset the socket).
pub fn request_head_only(addr: SocketAddr, method: &str, path: &str, content_type: &str, content_length: u64) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {content_length}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    parse_response(&read_response(&mut s))
}

pub fn parse_response(raw: &[u8]) -> Resp {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    Resp { status, headers, body }
}

/// The OpenAPI document.
pub fn openapi() -> Value {
    serde_json::from_str(cxr_serve::OPENAPI).expect("openapi.json is JSON")
}

/// Validates a response body against the OpenAPI schema of `path` (the template), `method` and the status.
pub fn check_response(path: &str, method: &str, resp: &Resp) {
    let doc = openapi();
    let op = &doc["paths"][path][method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {path} is not in openapi.json");
    let status = resp.status.to_string();
    let mut declared = op["responses"][&status].clone();
    assert!(declared.is_object(), "{method} {path} answered {status}, which openapi.json does not declare");
    if let Some(r) = declared.get("$ref").and_then(Value::as_str) {
        declared = resolve(&doc, r).clone();
    }
    if let Some(schema) = declared.pointer("/content/application~1json/schema") {
        let body = resp.json();
        if let Err(e) = validate(&doc, schema, &body, "$") {
            panic!("{method} {path} {status}: the body does not match openapi.json: {e}\n{body}");
        }
    }
}

fn resolve<'a>(doc: &'a Value, r: &str) -> &'a Value {
    doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}"))
}

/// A JSON-Schema subset: $ref, type (one or several), enum, required, properties, additionalProperties
/// (false or a schema), items, oneOf.
pub fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return validate(doc, resolve(doc, r), v, at);
    }
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let ok = alts.iter().filter(|s| validate(doc, s, v, at).is_ok()).count();
        return if ok == 1 { Ok(()) } else { Err(format!("{at}: matches {ok} of the oneOf alternatives")) };
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: {v} is not of type {types:?}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for k in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let k = k.as_str().unwrap();
            if !obj.contains_key(k) {
                return Err(format!("{at}: missing required property {k:?}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(doc, s, val, &format!("{at}.{k}"))?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Err(format!("{at}: unexpected property {k:?}")),
                    Some(s @ Value::Object(_)) => validate(doc, s, val, &format!("{at}.{k}"))?,
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// PNG width and height from the IHDR chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()))
}

/// A small 8-bit grey PNG (a gradient), made here so tests need no extra fixture.
pub fn small_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        let px: Vec<u8> = (0..w * h).map(|i| ((i % w) * 255 / w.max(1)) as u8).collect();
        wr.write_image_data(&px).unwrap();
    }
    out
}
