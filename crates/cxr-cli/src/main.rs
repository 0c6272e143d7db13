//! `cxr` — the cxrkit command-line tool. A thin shell: argument parsing, input/output formats and progress;
//! the work is done by the domain crates.

mod datasets;
mod demo;
mod draft_check;
mod drr;
mod eval;
mod eval_html;
mod eval_maps;
mod ingest;
mod label;
mod output;
mod predict;
mod reports;
mod score;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Chest X-ray AI toolkit: ingest radiographs, label/draft/check reports, score, evaluate, synthesise DRRs.
/// Offline, CPU only.
#[derive(Debug, Parser)]
#[command(name = "cxr", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Label free-text reports with the 14 CheXpert observations (1, 0, -1, blank), with evidence.
    Label(label::LabelArgs),
    /// Report-generation metrics (BLEU, ROUGE-L, CIDEr-D, chrF, clinical F1 …) that equal the references.
    Score(score::ScoreArgs),
    /// Draft a report from findings (templates as data; every sentence grounded in finding ids).
    Draft(draft_check::DraftArgs),
    /// Check a report against findings and against itself (missed, unsupported, contradictions, laterality).
    Check(draft_check::CheckArgs),
    /// Describe radiograph files (DICOM/PNG/JPEG/.npy): syntax, LUTs that will be applied, spacing, view.
    Inspect(ingest::InspectArgs),
    /// Convert a folder of radiographs to model-ready PNG/JPEG with a metadata table (resumable, parallel).
    Convert(ingest::ConvertArgs),
    /// Public datasets' label files harmonised to one schema; splits and statistics.
    Datasets(datasets::DatasetsArgs),
    /// Digitally reconstructed radiographs (and anatomy masks) from CT volumes.
    Drr(drr::DrrArgs),
    /// Model evaluation from prediction files (AUROC with CIs, AP, thresholds, calibration).
    Eval(eval::EvalArgs),
    /// Run an ONNX model described by a model card on radiographs: scores, decisions, findings, heatmaps.
    Predict(predict::PredictArgs),
    /// Embed radiographs with an embedding model (model card): one vector per image, as JSON lines.
    Embed(predict::EmbedArgs),
    /// Nearest images by cosine similarity in vectors written by `cxr embed` (exact search).
    Search(predict::SearchArgs),
    /// Out-of-distribution gate: fit it to in-distribution images, score images against it.
    Ood(predict::OodArgs),
    /// The HTTP API, study store and web viewer: upload, predict, draft, edit and sign; audited.
    Serve(serve::ServeArgs),
    /// Run the main job on bundled sample data and write an HTML page to look at.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    // Third-party pixel decoders may panic on corrupt files; cxr-io catches those panics and reports the file
    // as damaged, so their raw panic message would only be noise. Everything else reports as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_decoder = info.location().is_some_and(|l| l.file().contains("dicom-transfer-syntax-registry"));
        if !in_decoder {
            default_hook(info);
        }
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Label(a) => label::run(a),
        Command::Score(a) => score::run(a),
        Command::Draft(a) => draft_check::draft_cmd(a),
        Command::Check(a) => draft_check::check_cmd(a),
        Command::Inspect(a) => ingest::inspect(a),
        Command::Convert(a) => ingest::convert(a),
        Command::Datasets(a) => datasets::run(a),
        Command::Drr(a) => drr::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Embed(a) => predict::embed(a),
        Command::Search(a) => predict::search(a),
        Command::Ood(a) => predict::ood(a),
        Command::Serve(a) => serve::run(a),
        Command::Demo(a) => demo::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
