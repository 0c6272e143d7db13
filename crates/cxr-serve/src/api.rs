//! Routes, handlers and the JSON error type. Handlers validate, then hand heavy work to a bounded pool.

use crate::analysis::{self, Explain};
use crate::store::{FindingRecord, NewRun, Store, StoreError};
use crate::{Config, Limits};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

const INDEX_HTML: &str = include_str!("viewer/index.html");
const APP_JS: &str = include_str!("viewer/app.js");
const STYLE_CSS: &str = include_str!("viewer/style.css");

/// A JSON error: `{"error": {"status": 404, "code": "not_found", "message": "…"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    fn busy() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "the server's work queue is full; retry in a few seconds")
    }
    fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"status": self.status.as_u16(), "code": self.code, "message": self.message}});
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        r
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoStudy(id) => {
                ApiError::not_found(format!("study {id} does not exist; list studies with GET /api/studies"))
            }
            StoreError::Conflict(m) => ApiError::conflict(m),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
            _ => "bad_request",
        };
        let hint = match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => " (send Content-Type: application/json)",
            _ => "",
        };
        ApiError::new(status, code, format!("{}{hint}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("{} (study ids are integers)", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// A DRR job's state (kept in memory: jobs are transient; their images are stored as objects).
#[derive(Debug, Clone, serde::Serialize)]
struct Job {
    id: u64,
    state: &'static str,
    progress: f64,
    views: Vec<String>,
    done: Vec<Value>,
    error: Option<String>,
}

/// Shared state of the handlers.
#[derive(Debug)]
pub struct AppState {
    store: Arc<Store>,
    predictor: Arc<cxr_model::card::Predictor>,
    card_json: String,
    labeler: Arc<cxr_report::Labeler>,
    scorer: Arc<cxr_metrics::text::suite::Scorer>,
    limits: Limits,
    token: Option<String>,
    workers: Arc<Semaphore>,
    /// A fixed pool for heavy work: a bounded number of threads keeps the allocator's per-thread arenas (and
    /// so the resident memory retained after large decodes) bounded, where tokio's elastic blocking pool would
    /// spread decodes over many threads.
    pool: rayon::ThreadPool,
    uploads: Arc<Semaphore>,
    waiting: AtomicUsize,
    jobs: Mutex<HashMap<u64, Job>>,
    next_job: AtomicU64,
    access_log: bool,
}

type St = Arc<AppState>;

impl AppState {
    pub fn new(store: Store, predictor: cxr_model::card::Predictor, card_json: String, config: &Config) -> St {
        Arc::new(AppState {
            store: Arc::new(store),
            predictor: Arc::new(predictor),
            card_json,
            labeler: Arc::new(cxr_report::Labeler::default()),
            scorer: Arc::new(cxr_metrics::text::suite::Scorer::new()),
            limits: config.limits.clone(),
            token: config.token.clone(),
            workers: Arc::new(Semaphore::new(config.limits.workers.max(1))),
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(config.limits.workers.max(1))
                .thread_name(|i| format!("cxr-worker-{i}"))
                .build()
                .expect("the worker threads start"),
            uploads: Arc::new(Semaphore::new(config.limits.concurrent_uploads.max(1))),
            waiting: AtomicUsize::new(0),
            jobs: Mutex::new(HashMap::new()),
            next_job: AtomicU64::new(1),
            access_log: config.access_log,
        })
    }

    /// Waits for a permit of `sem` unless the queue is full (503).
    async fn permit(&self, sem: &Arc<Semaphore>) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
        /// Leaves the queue when dropped, including when the request is dropped while it waits (a client
        /// that gives up, a timeout): the count must not leak, or the queue would shrink for good.
        struct InQueue<'a>(&'a AtomicUsize);
        impl Drop for InQueue<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _in_queue = InQueue(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.queue {
            return Err(ApiError::busy());
        }
        sem.clone().acquire_owned().await.map_err(|_| ApiError::internal("the worker pool is closed"))
    }

    /// Runs a quick blocking call (a store read) off the async threads, outside the bounded pool: reads
    /// must still answer when the pool is saturated (e.g. the study just stored by an upload).
    async fn light<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(format!("a worker failed: {e}")))
    }

    /// Runs blocking work on the bounded pool (a panic becomes a 500, not a dead worker).
    async fn heavy<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let permit = self.permit(&self.workers).await?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let _permit = permit;
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            _ => Err(ApiError::internal("a worker failed while handling this request; the server is still running")),
        }
    }
}

/// The router with every route, the auth, timeout and logging layers, and JSON fallbacks.
pub fn router(state: St, config: &Config) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/studies", get(list_studies).post(upload_study))
        .route("/studies/{id}", get(get_study))
        .route("/studies/{id}/images", post(add_image))
        .route("/studies/{id}/images/{index}/pixels", get(image_pixels))
        .route("/studies/{id}/images/{index}/original", get(image_original))
        .route("/studies/{id}/heatmaps/{index}", get(study_heatmap))
        .route("/studies/{id}/predict", post(predict))
        .route("/studies/{id}/draft", post(draft))
        .route("/studies/{id}/report", get(get_report).put(put_report))
        .route("/studies/{id}/sign", post(sign))
        .route("/studies/{id}/audit", get(study_audit))
        .route("/audit/verify", get(verify_audit))
        .route("/label", post(label))
        .route("/check", post(check))
        .route("/score", post(score))
        .route("/drr", post(drr_job))
        .route("/jobs/{id}", get(get_job))
        .route("/jobs/{id}/{view}", get(job_image))
        .route("/export/calibration.csv", get(export_calibration))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .route("/", get(|| async { static_asset("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/app.js", get(|| async { static_asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/style.css", get(|| async { static_asset("text/css; charset=utf-8", STYLE_CSS) }))
        .nest("/api", api)
        .fallback(api_not_found)
        .layer(DefaultBodyLimit::max(config.limits.max_json_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timeout_and_log))
        .with_state(state)
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("no such endpoint; the API is described at GET /api/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see GET /api/openapi.json",
    )
}

/// Bearer-token check for `/api` when a token is configured (constant-time comparison).
async fn auth(State(st): State<St>, req: Request, next: Next) -> Response {
    if let Some(token) = &st.token {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let given = given.strip_prefix("Bearer ").unwrap_or("");
        let same =
            given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server needs a token: send `Authorization: Bearer <token>` (the viewer asks for it once)",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// The request timeout, and one access-log line per request: method, route template, status, time. No
/// ids, no query strings, no bodies: nothing that could identify a patient.
async fn timeout_and_log(State(st): State<St>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "(unmatched)".into());
    let start = std::time::Instant::now();
    let resp = match tokio::time::timeout(st.limits.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request took longer than {} s; retry, or send a smaller file",
                st.limits.request_timeout.as_secs()
            ),
        )
        .into_response(),
    };
    if st.access_log {
        eprintln!("{method} {route} {} {:.1} ms", resp.status().as_u16(), start.elapsed().as_secs_f64() * 1e3);
    }
    resp
}

/// The acting user from `X-Cxr-User` (a name, not an identifier of a patient), else "anonymous".
fn actor(headers: &HeaderMap) -> ApiResult<String> {
    match headers.get("x-cxr-user") {
        None => Ok("anonymous".into()),
        Some(v) => {
            let s = v.to_str().map_err(|_| ApiError::bad_request("X-Cxr-User must be plain text"))?.trim();
            check_name(s, "X-Cxr-User")?;
            Ok(s.to_string())
        }
    }
}

fn check_name(s: &str, what: &str) -> ApiResult<()> {
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{what} must be 1–100 printable characters")));
    }
    Ok(())
}

async fn health(State(st): State<St>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "model": {"name": st.predictor.card.name, "demonstration_only": st.predictor.card.demonstration_only, "labels": st.predictor.card.labels},
    }))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI).into_response()
}

async fn list_studies(State(st): State<St>) -> ApiResult<Json<Value>> {
    let s = st.store.clone();
    let studies = st.light(move || s.list_studies()).await??;
    Ok(Json(json!({ "studies": studies })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    label: Option<String>,
    /// female/male (F/M): only for the report check's plausibility rules.
    sex: Option<String>,
    /// Age in years (0–130): only for the report check's plausibility rules.
    age: Option<f64>,
}

/// A file in `tmp/` that is removed when dropped: a request that fails, or is dropped by the timeout or a
/// client disconnect at any await point, leaves nothing behind (after a rename into `objects/` the removal
/// is a no-op).
#[derive(Debug)]
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Streams the body to `tmp/` under `limit` bytes.
async fn receive(st: &AppState, body: Body, limit: u64, stem: &str) -> ApiResult<TempFile> {
    let tmp = TempFile(st.store.temp_path(stem));
    let result = async {
        let mut f = tokio::fs::File::create(tmp.path())
            .await
            .map_err(|e| ApiError::internal(format!("cannot write the upload: {e}")))?;
        let mut stream = body.into_data_stream();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the upload was interrupted: {e}")))?;
            total += chunk.len() as u64;
            if total > limit {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("the upload is larger than the limit of {limit} bytes"),
                ));
            }
            f.write_all(&chunk).await.map_err(|e| ApiError::internal(format!("cannot write the upload: {e}")))?;
        }
        if total == 0 {
            return Err(ApiError::bad_request("the upload is empty; send the file as the request body"));
        }
        f.flush().await.map_err(|e| ApiError::internal(format!("cannot write the upload: {e}")))?;
        Ok(())
    }
    .await;
    result.map(|()| tmp)
}

fn check_content_length(headers: &HeaderMap, limit: u64) -> ApiResult<()> {
    let len = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if len.is_some_and(|n| n > limit) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the upload is larger than the limit of {limit} bytes"),
        ));
    }
    Ok(())
}

const UPLOAD_TYPES: [&str; 5] =
    ["application/dicom", "image/png", "image/jpeg", "application/octet-stream", "application/x-npy"];

/// Checks the Content-Type and length of a file upload, waits for an upload slot and streams the body to
/// `tmp/`.
async fn receive_image(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<(TempFile, tokio::sync::OwnedSemaphorePermit)> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !UPLOAD_TYPES.contains(&mime.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type {ct:?} is not an image upload; send the file itself as the body with one of {}",
                UPLOAD_TYPES.join(", ")
            ),
        ));
    }
    check_content_length(headers, st.limits.max_upload_bytes)?;
    let slot = st.permit(&st.uploads).await?;
    let tmp = receive(st, body, st.limits.max_upload_bytes, "upload").await?;
    Ok((tmp, slot))
}

/// Sex (female/male, F/M) and age (0–130 years) as a client gives them, for the plausibility rules.
fn demographics(sex: Option<&str>, age: Option<f64>) -> ApiResult<cxr_report::Demographics> {
    let sex = match sex {
        None => None,
        Some(v) => Some(
            v.parse::<cxr_report::Sex>()
                .map_err(|_| ApiError::unprocessable(format!("sex={v:?}: use female or male (F or M)")))?,
        ),
    };
    if age.is_some_and(|a| !(0.0..=130.0).contains(&a)) {
        return Err(ApiError::unprocessable("age must be 0–130 years"));
    }
    Ok(cxr_report::Demographics { age_years: age, sex })
}

fn import_error(e: crate::ImportError) -> ApiError {
    match e {
        crate::ImportError::NotARadiograph(m) => {
            ApiError::unprocessable(format!("the upload is not a radiograph cxr can read: {m}"))
        }
        crate::ImportError::Store(e) => e.into(),
    }
}

async fn upload_study(
    State(st): State<St>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Query(q) = query?;
    let who = actor(&headers)?;
    let label = q.label.unwrap_or_else(|| "unlabelled study".into());
    check_name(&label, "label")?;
    let demo = demographics(q.sex.as_deref(), q.age)?;
    let sex = demo.sex.map(|s| match s {
        cxr_report::Sex::Female => "female".to_string(),
        cxr_report::Sex::Male => "male".to_string(),
    });
    let study = crate::store::NewStudy { label, sex, age_years: demo.age_years };
    let (tmp, _slot) = receive_image(&st, &headers, body).await?;
    let (s, max_pixels) = (st.store.clone(), st.limits.max_pixels);
    let id =
        st.heavy(move || crate::import_study(&s, tmp.path(), &study, &who, max_pixels).map_err(import_error)).await??;
    Ok((StatusCode::CREATED, Json(study_detail(&st, id).await?)))
}

async fn add_image(
    State(st): State<St>,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Path(id) = id?;
    let who = actor(&headers)?;
    let s = st.store.clone();
    st.light(move || s.study(id)).await??;
    let (tmp, _slot) = receive_image(&st, &headers, body).await?;
    let (s, max_pixels) = (st.store.clone(), st.limits.max_pixels);
    st.heavy(move || crate::import_image(&s, tmp.path(), id, &who, max_pixels).map_err(import_error)).await??;
    Ok((StatusCode::CREATED, Json(study_detail(&st, id).await?)))
}

async fn study_detail(st: &AppState, id: i64) -> ApiResult<Value> {
    let s = st.store.clone();
    let (study, images, run, reports) = st
        .light(move || -> Result<_, StoreError> {
            Ok((s.study(id)?, s.images(id)?, s.latest_run(id)?, s.reports(id)?))
        })
        .await??;
    let run = run.map(|r| {
        let findings: Vec<Value> = r
            .findings
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
                v["heatmap_url"] = match &f.heatmap_sha256 {
                    Some(_) => json!(format!("/api/studies/{id}/heatmaps/{k}")),
                    None => Value::Null,
                };
                v
            })
            .collect();
        json!({"id": r.id, "image_index": r.image_index, "model_name": r.model_name, "card_sha256": r.card_sha256,
               "demonstration_only": r.card.get("demonstration_only").cloned().unwrap_or(json!(false)),
               "explain": r.explain, "created_at": r.created_at, "findings": findings})
    });
    let images: Vec<Value> = images
        .into_iter()
        .enumerate()
        .map(|(k, image)| {
            json!({"index": k, "format": image.format, "bytes": image.bytes, "width": image.width,
                   "height": image.height, "sha256": image.sha256, "info": image.info, "viewer": image.viewer,
                   "pixels_url": format!("/api/studies/{id}/images/{k}/pixels"),
                   "original_url": format!("/api/studies/{id}/images/{k}/original")})
        })
        .collect();
    Ok(json!({
        "study": study,
        "image": images.first(),
        "images": images,
        "run": run,
        "report": reports.last(),
        "report_versions": reports.len(),
    }))
}

async fn get_study(State(st): State<St>, id: Result<Path<i64>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    Ok(Json(study_detail(&st, id).await?))
}

async fn object_response(st: &AppState, sha: String, content_type: &'static str) -> ApiResult<Response> {
    let path = st.store.object_path(&sha).ok_or_else(|| ApiError::internal("a stored name is not a SHA-256"))?;
    let bytes =
        tokio::fs::read(&path).await.map_err(|e| ApiError::internal(format!("a stored file is unreadable: {e}")))?;
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=31536000, immutable")], bytes)
        .into_response())
}

async fn stored_image(st: &AppState, id: i64, k: usize) -> ApiResult<crate::store::ImageRecord> {
    let s = st.store.clone();
    st.light(move || s.image(id, k))
        .await??
        .ok_or_else(|| ApiError::not_found(format!("study {id} has no image {k} (images are numbered from 0)")))
}

async fn image_pixels(State(st): State<St>, p: Result<Path<(i64, usize)>, PathRejection>) -> ApiResult<Response> {
    let Path((id, k)) = p?;
    let image = stored_image(&st, id, k).await?;
    object_response(&st, image.viewer_sha256, "application/octet-stream").await
}

async fn image_original(State(st): State<St>, p: Result<Path<(i64, usize)>, PathRejection>) -> ApiResult<Response> {
    let Path((id, k)) = p?;
    let image = stored_image(&st, id, k).await?;
    let ct = match image.format.as_str() {
        "dicom" => "application/dicom",
        "png" => "image/png",
        "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    object_response(&st, image.sha256, ct).await
}

async fn study_heatmap(State(st): State<St>, p: Result<Path<(i64, usize)>, PathRejection>) -> ApiResult<Response> {
    let Path((id, k)) = p?;
    let s = st.store.clone();
    let run = st.light(move || s.study(id).and_then(|_| s.latest_run(id))).await??;
    let sha = run.and_then(|r| r.findings.get(k).and_then(|f| f.heatmap_sha256.clone())).ok_or_else(|| {
        ApiError::not_found(format!("study {id} has no heatmap {k}; run predict with an explanation first"))
    })?;
    object_response(&st, sha, "image/png").await
}

/// A JSON body that may be left out entirely (no body, no Content-Type): then every field takes its default.
fn optional_json<T: Default>(headers: &HeaderMap, body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    match body {
        Ok(Json(b)) => Ok(b),
        Err(JsonRejection::MissingJsonContentType(_))
            if headers.get(header::CONTENT_LENGTH).is_none_or(|v| v == "0") =>
        {
            Ok(T::default())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PredictBody {
    #[serde(default)]
    explain: Option<Explain>,
    /// Which image of the study (0-based; default 0).
    #[serde(default)]
    image: usize,
}

async fn predict(
    State(st): State<St>,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<PredictBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    let who = actor(&headers)?;
    let body = optional_json(&headers, body)?;
    let explain = body.explain.unwrap_or(Explain::Occlusion);
    if explain == Explain::Cam && st.predictor.card.cam.is_none() {
        return Err(ApiError::unprocessable("this model's card has no `cam` section; use explain: occlusion"));
    }
    let (s, p, card_json, max_pixels) =
        (st.store.clone(), st.predictor.clone(), st.card_json.clone(), st.limits.max_pixels);
    st.heavy(move || -> ApiResult<()> {
        let image_index = body.image;
        let image = s.image(id, image_index)?.ok_or_else(|| {
            ApiError::unprocessable(format!("study {id} has no image {image_index} (images are numbered from 0)"))
        })?;
        let path = s.object_path(&image.sha256).ok_or_else(|| ApiError::internal("bad stored name"))?;
        let viewer = (
            image.viewer["width"].as_u64().unwrap_or(1) as usize,
            image.viewer["height"].as_u64().unwrap_or(1) as usize,
        );
        let results = analysis::predict(&p, &path, max_pixels, explain, viewer).map_err(ApiError::unprocessable)?;
        let mut findings = Vec::new();
        for r in results {
            let heatmap_sha256 = match &r.heatmap_png {
                Some(png) => Some(s.put_bytes(png)?),
                None => None,
            };
            findings.push(FindingRecord {
                label: r.score.label.clone(),
                finding: r.score.finding.map(|f| f.name().to_string()),
                score: r.score.score,
                probability: r.score.probability,
                threshold: r.score.threshold,
                positive: r.score.positive,
                heatmap_sha256,
            });
        }
        let explain_name = match explain {
            Explain::Occlusion => Some("occlusion".to_string()),
            Explain::Cam => Some("cam".to_string()),
            Explain::None => None,
        };
        let run = NewRun {
            image_index: image_index as i64,
            model_name: p.card.name.clone(),
            card_json,
            explain: explain_name,
            findings,
        };
        s.add_run(id, &who, &run)?;
        Ok(())
    })
    .await??;
    Ok(Json(study_detail(&st, id).await?))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DraftBody {
    #[serde(default)]
    base_version: i64,
}

async fn draft(
    State(st): State<St>,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<DraftBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    let body = optional_json(&headers, body)?;
    let (s, labeler) = (st.store.clone(), st.labeler.clone());
    let report = st
        .heavy(move || -> ApiResult<_> {
            let demo = analysis::demographics(&s.study(id)?);
            let run = s.latest_run(id)?.ok_or_else(|| {
                ApiError::conflict(format!(
                    "study {id} has no model run to draft from; POST /api/studies/{id}/predict first"
                ))
            })?;
            let doc = analysis::findings_of(&run);
            let text = cxr_report::draft(&doc).text();
            let flags = analysis::check(&labeler, &text, Some(&doc), &demo);
            Ok(s.save_report(id, body.base_version, &text, &format!("cxr draft ({})", run.model_name), false, &flags)?)
        })
        .await??;
    Ok(Json(json!({ "report": report })))
}

async fn get_report(State(st): State<St>, id: Result<Path<i64>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    let s = st.store.clone();
    let versions = st.light(move || s.study(id).and_then(|_| s.reports(id))).await??;
    Ok(Json(json!({ "report": versions.last(), "versions": versions })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    text: String,
    base_version: i64,
    #[serde(default)]
    author: Option<String>,
}

const MAX_REPORT_CHARS: usize = 100_000;

async fn save(st: &AppState, id: i64, headers: &HeaderMap, body: ReportBody, final_: bool) -> ApiResult<Value> {
    let author = match body.author {
        Some(a) => {
            check_name(a.trim(), "author")?;
            a.trim().to_string()
        }
        None => actor(headers)?,
    };
    if final_ && author == "anonymous" {
        return Err(ApiError::unprocessable("signing needs the signer's name: give `author` (or X-Cxr-User)"));
    }
    if body.text.chars().count() > MAX_REPORT_CHARS {
        return Err(ApiError::unprocessable(format!("the report is longer than {MAX_REPORT_CHARS} characters")));
    }
    if final_ && body.text.trim().is_empty() {
        return Err(ApiError::unprocessable("an empty report cannot be signed"));
    }
    let (s, labeler) = (st.store.clone(), st.labeler.clone());
    let report = st
        .heavy(move || -> ApiResult<_> {
            let demo = analysis::demographics(&s.study(id)?);
            let doc = s.latest_run(id)?.map(|r| analysis::findings_of(&r));
            let flags = analysis::check(&labeler, &body.text, doc.as_ref(), &demo);
            Ok(s.save_report(id, body.base_version, &body.text, &author, final_, &flags)?)
        })
        .await??;
    Ok(json!({ "report": report }))
}

async fn put_report(
    State(st): State<St>,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let (Path(id), Json(body)) = (id?, body?);
    Ok(Json(save(&st, id, &headers, body, false).await?))
}

async fn sign(
    State(st): State<St>,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let (Path(id), Json(body)) = (id?, body?);
    Ok(Json(save(&st, id, &headers, body, true).await?))
}

async fn study_audit(State(st): State<St>, id: Result<Path<i64>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    let s = st.store.clone();
    let entries = st.light(move || s.study(id).and_then(|_| s.audit_log(Some(id)))).await??;
    Ok(Json(json!({ "entries": entries })))
}

async fn verify_audit(State(st): State<St>) -> ApiResult<Json<Value>> {
    let s = st.store.clone();
    let r = st.light(move || s.verify_audit()).await??;
    Ok(Json(match r {
        Ok(n) => json!({"intact": true, "entries": n, "broken_at": null}),
        Err(seq) => json!({"intact": false, "entries": null, "broken_at": seq}),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    text: String,
    #[serde(default)]
    findings: Option<cxr_core::Findings>,
    /// For /api/check: the patient's sex (female/male) and age in years, for the plausibility rules.
    #[serde(default)]
    sex: Option<String>,
    #[serde(default)]
    age: Option<f64>,
}

async fn label(State(st): State<St>, body: Result<Json<TextBody>, JsonRejection>) -> ApiResult<Json<Value>> {
    let Json(b) = body?;
    let l = st.labeler.clone();
    Ok(Json(st.heavy(move || analysis::label(&l, &b.text)).await?))
}

async fn check(State(st): State<St>, body: Result<Json<TextBody>, JsonRejection>) -> ApiResult<Json<Value>> {
    let Json(b) = body?;
    let l = st.labeler.clone();
    let demo = demographics(b.sex.as_deref(), b.age)?;
    let flags = st.heavy(move || analysis::check(&l, &b.text, b.findings.as_ref(), &demo)).await?;
    Ok(Json(json!({ "flags": flags })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreBody {
    refs: Vec<String>,
    hyps: Vec<String>,
    #[serde(default)]
    metrics: Option<Vec<String>>,
}

async fn score(State(st): State<St>, body: Result<Json<ScoreBody>, JsonRejection>) -> ApiResult<Json<Value>> {
    use cxr_metrics::text::suite::{corpus_values, Family, ScoreOptions};
    let Json(b) = body?;
    if b.refs.len() != b.hyps.len() || b.refs.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "refs and hyps must be non-empty and pair up one to one (got {} refs, {} hyps)",
            b.refs.len(),
            b.hyps.len()
        )));
    }
    let available: Vec<Family> = Family::ALL.iter().copied().filter(|f| *f != Family::Meteor).collect();
    let families = match &b.metrics {
        None => available.clone(),
        Some(names) => names
            .iter()
            .map(|n| {
                available.iter().copied().find(|f| f.name() == n).ok_or_else(|| {
                    let known: Vec<&str> = available.iter().map(|f| f.name()).collect();
                    ApiError::unprocessable(format!(
                        "unknown metric {n:?}; choose from {} (METEOR needs its resources: use `cxr score --meteor-data`)",
                        known.join(", ")
                    ))
                })
            })
            .collect::<ApiResult<Vec<_>>>()?,
    };
    let scorer = st.scorer.clone();
    let v = st
        .heavy(move || {
            let opts = ScoreOptions { families, ..ScoreOptions::default() };
            let refs: Vec<&str> = b.refs.iter().map(String::as_str).collect();
            let hyps: Vec<&str> = b.hyps.iter().map(String::as_str).collect();
            let rs = scorer.reference_stats(&refs, &opts);
            let sys = scorer.score(&hyps, &refs, &opts);
            let corpus = corpus_values(sys.pairs.iter().zip(rs.iter()), &opts);
            json!({
                "pairs": refs.len(),
                "corpus": corpus.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "note": if refs.len() == 1 && opts.families.contains(&Family::Cider) {
                    Some("CIDEr-D's document frequencies come from the references: a one-pair corpus scores 0")
                } else { None },
            })
        })
        .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
struct DrrQuery {
    views: Option<String>,
    size: Option<usize>,
}

async fn drr_job(
    State(st): State<St>,
    query: Result<Query<DrrQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    use cxr_drr::geometry::View;
    let Query(q) = query?;
    let who = actor(&headers)?;
    let views: Vec<View> = q
        .views
        .as_deref()
        .unwrap_or("pa,lateral-left")
        .split(',')
        .map(|v| v.trim().parse::<View>().map_err(|e| ApiError::unprocessable(format!("views: {e}"))))
        .collect::<ApiResult<_>>()?;
    let size = q.size.unwrap_or(256);
    if !(16..=1024).contains(&size) {
        return Err(ApiError::unprocessable("size must be 16–1024 pixels"));
    }
    check_content_length(&headers, st.limits.max_ct_bytes)?;
    let _upload = st.permit(&st.uploads).await?;
    let tmp = receive(&st, body, st.limits.max_ct_bytes, "ct").await?;
    let id = st.next_job.fetch_add(1, Ordering::SeqCst);
    let job = Job {
        id,
        state: "queued",
        progress: 0.0,
        views: views.iter().map(|v| v.name().to_string()).collect(),
        done: vec![],
        error: None,
    };
    st.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert(id, job.clone());
    let st2 = st.clone();
    tokio::spawn(async move {
        let st3 = st2.clone();
        let r = st2.heavy(move || render_drr_job(&st3, id, tmp.path(), &views, size, &who)).await;
        let mut jobs = st2.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(j) = jobs.get_mut(&id) {
            match r {
                Ok(Ok(())) => {
                    j.state = "done";
                    j.progress = 1.0;
                }
                Ok(Err(e)) => {
                    j.state = "failed";
                    j.error = Some(e);
                }
                Err(e) => {
                    j.state = "failed";
                    j.error = Some(e.message);
                }
            }
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "job": job, "url": format!("/api/jobs/{id}") }))))
}

/// Renders each view (physical mode, SID 1800 mm, 43 cm panel), storing 8-bit PNGs; updates progress.
fn render_drr_job(
    st: &AppState,
    id: u64,
    tmp: &std::path::Path,
    views: &[cxr_drr::geometry::View],
    size: usize,
    who: &str,
) -> Result<(), String> {
    use cxr_drr::geometry::Detector;
    use cxr_drr::{Mode, Projector, Renderer};
    let set = |f: &dyn Fn(&mut Job)| {
        if let Some(j) = st.jobs.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&id) {
            f(j);
        }
    };
    set(&|j| j.state = "running");
    // Name the temporary file by its content so the volume reader picks the format.
    let head = std::fs::read(tmp).map_err(|e| e.to_string())?;
    let ext = if head.starts_with(&[0x1f, 0x8b]) {
        "nii.gz"
    } else if head.starts_with(b"ObjectType") || head.starts_with(b"NDims") {
        "mha"
    } else {
        "nii"
    };
    let named = tmp.with_extension(ext);
    std::fs::rename(tmp, &named).map_err(|e| e.to_string())?;
    let vol = cxr_io::read_volume(&named);
    let _ = std::fs::remove_file(&named);
    let ct = vol.map_err(|e| {
        format!(
            "the upload is not a CT volume cxr can read (NIfTI or MetaImage): {}",
            e.to_string().replace(&named.display().to_string(), "the upload")
        )
    })?;
    let proj = Projector::new(&ct, None, Mode::physical()).map_err(|e| e.to_string())?;
    let det = Detector::square(size, 430.0, 1800.0);
    for (k, view) in views.iter().enumerate() {
        let p = proj.render(&det, &view.pose(1800.0), Renderer::Siddon, None);
        let y8: Vec<u8> = cxr_io::png16::to_u16_minmax(&p.image).iter().map(|&g| (g >> 8) as u8).collect();
        let rgba: Vec<u8> = y8.iter().flat_map(|&g| [g, g, g, 255]).collect();
        let png = cxr_io::png16::encode_png_rgba8(size, size, &rgba)?;
        let sha = st.store.put_bytes(&png).map_err(|e| e.to_string())?;
        let entry = json!({"view": view.name(), "url": format!("/api/jobs/{id}/{}", view.name()), "sha256": sha,
                           "hit_volume": p.hit, "geometry": p.geometry});
        set(&|j| {
            j.done.push(entry.clone());
            j.progress = (k + 1) as f64 / views.len() as f64;
        });
    }
    st.store
        .audit(who, "drr.render", None, &format!("job {id}: {} view(s) at {size}²", views.len()))
        .map_err(|e| e.to_string())
}

async fn get_job(State(st): State<St>, id: Result<Path<u64>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    let job = st.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
    let job = job
        .ok_or_else(|| ApiError::not_found(format!("job {id} does not exist (jobs live until the server restarts)")))?;
    Ok(Json(json!({ "job": job })))
}

async fn job_image(State(st): State<St>, p: Result<Path<(u64, String)>, PathRejection>) -> ApiResult<Response> {
    let Path((id, view)) = p?;
    let sha = {
        let jobs = st.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.get(&id)
            .and_then(|j| j.done.iter().find(|d| d["view"] == view.as_str()))
            .and_then(|d| d["sha256"].as_str().map(str::to_string))
    };
    let sha = sha.ok_or_else(|| ApiError::not_found(format!("job {id} has no finished view {view:?}")))?;
    object_response(&st, sha, "image/png").await
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    unmentioned: Option<String>,
}

async fn export_calibration(
    State(st): State<St>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let negative = match q.unmentioned.as_deref() {
        None | Some("blank") => false,
        Some("negative") => true,
        Some(other) => return Err(ApiError::unprocessable(format!("unmentioned={other:?}: use blank or negative"))),
    };
    let s = st.store.clone();
    let csv = st.light(move || crate::calibration_csv(&s, negative)).await??;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}
