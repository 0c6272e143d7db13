//! `cxr serve`: the HTTP API, study store and web viewer (crate `cxr-serve`), plus the store's offline
//! tools: exporting (AI score, final label) pairs for recalibration and verifying the audit log.

use crate::output::write_atomic;
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The study store folder (SQLite database and files; created if missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Address to listen on. Anything but a loopback address needs --token-file.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// A file holding the access token (required on every /api request when given). Open the viewer at
    /// http://HOST:PORT/#token=TOKEN, or type it when asked.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// The model card to run (default: the bundled demonstration model, which is not diagnostic).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Largest radiograph upload, in MiB.
    #[arg(long, default_value_t = 64)]
    pub max_upload_mb: u64,
    /// Largest decoded image, in megapixels.
    #[arg(long, default_value_t = 50)]
    pub max_megapixels: u64,
    /// Heavy jobs (decoding, models, DRRs) at once (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Requests that may wait for a worker before the server answers 503.
    #[arg(long, default_value_t = 1024)]
    pub queue: usize,
    /// Whole-request timeout, in seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout_s: u64,
    /// No access log.
    #[arg(long)]
    pub quiet: bool,
    /// Do not serve: write the (AI probability, final-report label) pairs of every signed study as CSV
    /// (`id,p_<finding>…,y_<finding>…`, the layout `cxr eval classify --pred` reads) and exit.
    #[arg(long, value_name = "CSV")]
    pub export_calibration: Option<PathBuf>,
    /// With --export-calibration: write findings the signed report does not mention as 0 (negative) rather
    /// than blank (which `cxr eval` treats as unlabelled).
    #[arg(long)]
    pub unmentioned_negative: bool,
    /// Do not serve: recompute the audit log's hash chain, report, and exit (non-zero when broken).
    #[arg(long)]
    pub verify_audit: bool,
    /// Print the startup facts (or the export/verify result) as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ServeArgs) -> Result<()> {
    if a.export_calibration.is_some() || a.verify_audit {
        return offline(&a);
    }
    let token = match &a.token_file {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the token file {}", p.display()))?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let mut config = cxr_serve::Config::new(a.data.clone());
    config.bind = a.bind;
    config.token = token;
    config.model_card = a.model.clone();
    config.access_log = !a.quiet;
    config.limits.max_upload_bytes = a.max_upload_mb << 20;
    config.limits.max_pixels = a.max_megapixels * 1_000_000;
    config.limits.queue = a.queue;
    config.limits.request_timeout = std::time::Duration::from_secs(a.timeout_s.max(1));
    if let Some(w) = a.workers {
        config.limits.workers = w.max(1);
    }
    let json = a.json;
    let data = a.data.clone();
    cxr_serve::run_blocking(config, |addr, opened| {
        if json {
            let v = serde_json::json!({"url": format!("http://{addr}/"), "data": data, "store": opened});
            println!("{v}");
        } else {
            println!("cxr serve: http://{addr}/  (study store {}; schema v{})", data.display(), opened.schema_version);
            if opened.removed_temp_files + opened.removed_orphan_objects > 0 {
                println!(
                    "  cleaned up after an interrupted run: {} partial upload(s), {} unreferenced file(s)",
                    opened.removed_temp_files, opened.removed_orphan_objects
                );
            }
            println!("  Ctrl-C stops the server.");
        }
    })
    .with_context(|| format!("cxr serve --data {}", a.data.display()))
}

fn offline(a: &ServeArgs) -> Result<()> {
    if !a.data.join("cxr.sqlite").is_file() {
        bail!(
            "{} is not a cxr study store (no cxr.sqlite in it); give the folder `cxr serve --data` used",
            a.data.display()
        );
    }
    let (store, _) = cxr_serve::store::Store::open(&a.data).with_context(|| format!("opening {}", a.data.display()))?;
    if let Some(out) = &a.export_calibration {
        let csv = cxr_serve::calibration_csv(&store, a.unmentioned_negative)?;
        write_atomic(out, csv.as_bytes())?;
        let rows = csv.lines().count().saturating_sub(1);
        if a.json {
            println!("{}", serde_json::json!({"studies": rows, "output": out}));
        } else {
            println!("Wrote {rows} signed studies' (probability, final label) pairs to {}", out.display());
        }
    }
    if a.verify_audit {
        match store.verify_audit()? {
            Ok(n) => {
                if a.json {
                    println!("{}", serde_json::json!({"intact": true, "entries": n}));
                } else {
                    println!("The audit log is intact: {n} entries, hash chain verified.");
                }
            }
            Err(seq) => bail!("the audit log is broken at entry {seq}: its hash does not match its contents or its predecessor (the database was edited outside cxr)"),
        }
    }
    Ok(())
}
