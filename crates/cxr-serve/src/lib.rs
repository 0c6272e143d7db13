//! # cxr-serve — the reading room as a service
//!
//! An HTTP API (axum on tokio) over a [`store::Store`] (SQLite plus content-addressed files), with a web
//! viewer embedded in the binary (no CDN): studies come in, a model run attaches findings and heatmaps, a
//! draft report is made from the findings, a radiologist edits it (check flags are highlighted) and signs;
//! every step is stored and written to a hash-chained, append-only audit log.
//!
//! The API is described by `openapi.json` (served at `/api/openapi.json`; the tests check every route
//! and response against it). Everything domain-specific is delegated to the domain crates: `cxr-io`
//! decodes uploads, `cxr-model` runs the model and explains it, `cxr-report` labels, drafts and checks,
//! `cxr-metrics` scores, `cxr-drr` renders DRRs.
//!
//! Safe by default:
//! * binds `127.0.0.1`; any other address needs a token (`Authorization: Bearer …` on every `/api` call);
//! * uploads are streamed to disk under a size limit, decoded (dimension limit) before they are stored,
//!   and stored atomically: the file is renamed into place before the one transaction that adds the study;
//! * heavy work (decoding, models, DRRs) runs on a bounded pool with a bounded queue (503 when full);
//! * every request has a timeout; every error is a JSON body with a 4xx/5xx status;
//! * the access log has methods, route templates, statuses and times: no identifiers, no report text;
//! * files are addressed by SHA-256 or by study id, never by a client-supplied path.
//!
//! ```no_run
//! # async fn run() -> Result<(), cxr_serve::ServeError> {
//! let config = cxr_serve::Config::new("cxr-data".into());
//! let server = cxr_serve::Server::start(config).await?;
//! println!("listening on http://{}", server.addr());
//! server.wait().await;
//! # Ok(()) }
//! ```

pub mod analysis;
mod api;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The OpenAPI description of the API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The bundled demonstration model (weights set by hand, not trained, not diagnostic) and its card.
const DEMO_MODEL: &[u8] = include_bytes!("../../cxr-model/tests/data/demo_findings.onnx");
const DEMO_CARD: &[u8] = include_bytes!("../../cxr-model/tests/data/demo_findings.card.json");

/// Limits that keep one machine responsive under load and bad input.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest radiograph upload (bytes).
    pub max_upload_bytes: u64,
    /// Largest CT upload for DRR jobs (bytes).
    pub max_ct_bytes: u64,
    /// Largest decoded image (pixels), checked from the header before decoding.
    pub max_pixels: u64,
    /// Largest JSON body (bytes).
    pub max_json_bytes: usize,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Heavy jobs (decode, model, DRR) run at once.
    pub workers: usize,
    /// Heavy jobs that may wait; more get 503.
    pub queue: usize,
    /// Uploads streamed to disk at once (the others wait in the queue).
    pub concurrent_uploads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 64 << 20,
            max_ct_bytes: 1 << 30,
            max_pixels: 50_000_000,
            max_json_bytes: 4 << 20,
            request_timeout: Duration::from_secs(120),
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            queue: 1024,
            concurrent_uploads: 16,
        }
    }
}

/// How to run the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// The study store folder (created if missing).
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    /// Required on every `/api` request when set; required to bind to a non-loopback address.
    pub token: Option<String>,
    /// The model card to run; `None` runs the bundled demonstration model.
    pub model_card: Option<PathBuf>,
    pub limits: Limits,
    /// Print one access-log line per request to stderr.
    pub access_log: bool,
}

impl Config {
    /// Defaults: `127.0.0.1:8080`, no token, the demo model, default limits, access log on.
    pub fn new(data_dir: PathBuf) -> Self {
        Config {
            data_dir,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            model_card: None,
            limits: Limits::default(),
            access_log: true,
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on {0} without a token: other machines could reach the study store. Give a token (--token-file), or bind 127.0.0.1")]
    TokenRequired(SocketAddr),
    #[error("the token is empty; put a long random string in the token file")]
    EmptyToken,
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the model {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source} (is another server using the port? choose another with --bind)")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    handle: tokio::task::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// What opening the store found (schema version, cleaned temporary files and orphans).
    pub opened: store::OpenReport,
}

impl Server {
    /// Opens the store, loads the model and starts listening (returns once the socket is bound).
    pub async fn start(config: Config) -> Result<Server, ServeError> {
        if let Some(t) = &config.token {
            if t.trim().is_empty() {
                return Err(ServeError::EmptyToken);
            }
        } else if !config.bind.ip().is_loopback() {
            return Err(ServeError::TokenRequired(config.bind));
        }
        let data_dir = config.data_dir.clone();
        let model_card = config.model_card.clone();
        let (store, opened, predictor, card_json) = tokio::task::spawn_blocking(move || {
            let (store, opened) = store::Store::open(&data_dir)?;
            let card_path = match model_card {
                Some(p) => p,
                None => install_demo_model(&data_dir)?,
            };
            let model_err = |message: String| ServeError::Model { path: card_path.clone(), message };
            let card_json = std::fs::read_to_string(&card_path).map_err(|e| model_err(e.to_string()))?;
            let predictor = cxr_model::card::Predictor::load(&card_path).map_err(|e| model_err(e.to_string()))?;
            Ok::<_, ServeError>((store, opened, predictor, card_json))
        })
        .await
        .expect("the store opening task does not panic")?;
        let state = api::AppState::new(store, predictor, card_json, &config);
        let app = api::router(state, &config);
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServeError::Bind { addr: config.bind, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: config.bind, source })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                eprintln!("cxr serve: the server stopped: {e}");
            }
        });
        Ok(Server { addr, handle, shutdown: Some(tx), opened })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs until the server stops.
    pub async fn wait(self) {
        let _ = self.handle.await;
    }

    /// Stops accepting connections and waits for the open ones to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.handle.await;
    }
}

/// Why a file could not become a study.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a radiograph we can decode (the message says why; no path in it).
    #[error("{0}")]
    NotARadiograph(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Makes a study of a file in the store's `tmp/` folder (see [`store::Store::temp_path`]): decodes it
/// (refusing more than `max_pixels`), moves it into the object store and adds the study with its audit
/// entry in one transaction. The temporary file is consumed either way.
pub fn import_study(
    store: &store::Store,
    tmp: &std::path::Path,
    study: &store::NewStudy,
    actor: &str,
    max_pixels: u64,
) -> Result<i64, ImportError> {
    let rec = stored_image(store, tmp, max_pixels)?;
    Ok(store.create_study(study, actor, &rec)?)
}

/// Adds a file in `tmp/` to an existing study as its next image (e.g. the lateral view); returns its index.
pub fn import_image(
    store: &store::Store,
    tmp: &std::path::Path,
    study: i64,
    actor: &str,
    max_pixels: u64,
) -> Result<i64, ImportError> {
    store.study(study)?;
    let rec = stored_image(store, tmp, max_pixels)?;
    Ok(store.add_image(study, actor, &rec)?)
}

/// Decodes, then stores the file and its viewer copy as objects.
fn stored_image(
    store: &store::Store,
    tmp: &std::path::Path,
    max_pixels: u64,
) -> Result<store::ImageRecord, ImportError> {
    let ing = match analysis::ingest(tmp, max_pixels) {
        Ok(i) => i,
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            return Err(ImportError::NotARadiograph(e.replace(&tmp.display().to_string(), "the file")));
        }
    };
    let bytes = std::fs::metadata(tmp).map(|m| m.len() as i64).unwrap_or(0);
    let sha = store.put_file(tmp)?;
    let viewer_sha = store.put_bytes(&ing.viewer_pixels)?;
    Ok(store::ImageRecord {
        sha256: sha,
        format: ing.format.into(),
        bytes,
        width: ing.width as i64,
        height: ing.height as i64,
        info: ing.info,
        viewer_sha256: viewer_sha,
        viewer: ing.viewer,
    })
}

/// Runs the server on its own runtime until Ctrl-C (then finishes the open requests). `ready` is called
/// once the socket is bound, with the address and what opening the store found.
pub fn run_blocking(config: Config, ready: impl FnOnce(SocketAddr, &store::OpenReport)) -> Result<(), ServeError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Bind { addr: config.bind, source })?;
    rt.block_on(async move {
        let server = Server::start(config).await?;
        ready(server.addr(), &server.opened);
        let _ = tokio::signal::ctrl_c().await;
        server.stop().await;
        Ok(())
    })
}

/// Writes the bundled demo model into `data_dir/models/demo/` (when missing) and returns its card path.
fn install_demo_model(data_dir: &std::path::Path) -> Result<PathBuf, ServeError> {
    let dir = data_dir.join("models").join("demo");
    let io = |source: std::io::Error| store::StoreError::Io { path: dir.clone(), source };
    std::fs::create_dir_all(&dir).map_err(io)?;
    for (name, bytes) in [("demo_findings.onnx", DEMO_MODEL), ("demo_findings.card.json", DEMO_CARD)] {
        let p = dir.join(name);
        if std::fs::read(&p).ok().as_deref() != Some(bytes) {
            cxr_io::write_atomic(&p, bytes)
                .map_err(|e| ServeError::Model { path: p.clone(), message: e.to_string() })?;
        }
    }
    Ok(dir.join("demo_findings.card.json"))
}

/// Rows for per-site recalibration: one per signed study and model label that names a finding, with the
/// model's probability and the final report's label for that finding (CheXpert values: 1, 0, -1, blank).
/// As CSV in the wide layout `cxr eval classify --pred` reads: `id,p_<finding>…,y_<finding>…`.
/// With `unmentioned_negative`, a finding the signed report does not mention is written as 0 (reports rarely
/// list every normal finding) instead of blank (which `cxr eval` treats as unlabelled).
pub fn calibration_csv(store: &store::Store, unmentioned_negative: bool) -> Result<String, store::StoreError> {
    let rows = store.calibration_rows()?;
    let labeler = cxr_report::Labeler::default();
    let mut findings: Vec<String> = Vec::new();
    for r in &rows {
        if !findings.contains(&r.finding) {
            findings.push(r.finding.clone());
        }
    }
    let mut out = String::from("id");
    for f in &findings {
        out += &format!(",{}", csv_field(&format!("p_{f}")));
    }
    for f in &findings {
        out += &format!(",{}", csv_field(&format!("y_{f}")));
    }
    out.push('\n');
    let mut k = 0;
    while k < rows.len() {
        let study = rows[k].study_id;
        let group: Vec<&store::CalibrationRow> = rows[k..].iter().take_while(|r| r.study_id == study).collect();
        k += group.len();
        let labels = labeler.label(&group[0].final_text);
        let mut line = study.to_string();
        for f in &findings {
            let p = group.iter().find(|r| &r.finding == f).map(|r| r.probability.to_string()).unwrap_or_default();
            line += &format!(",{p}");
        }
        for f in &findings {
            let y = f
                .parse::<cxr_core::Finding>()
                .ok()
                .map(|x| labels.get(x).value())
                .map(|v| match v {
                    Some(v) => v.to_string(),
                    None if unmentioned_negative => "0".to_string(),
                    None => String::new(),
                })
                .unwrap_or_default();
            line += &format!(",{y}");
        }
        out += &line;
        out.push('\n');
    }
    Ok(out)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
