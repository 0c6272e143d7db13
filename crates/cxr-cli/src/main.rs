//! `cxr` — the cxrkit command-line tool. A thin shell: argument parsing, input/output formats and progress;
//! the work is done by the domain crates.

mod demo;
mod draft_check;
mod drr;
mod eval;
mod eval_html;
mod eval_maps;
mod label;
mod output;
mod reports;
mod score;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Chest X-ray AI toolkit: label reports, and more as capabilities land. Offline, CPU only.
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
    /// Digitally reconstructed radiographs (and anatomy masks) from CT volumes.
    Drr(drr::DrrArgs),
    /// Model evaluation from prediction files (AUROC with CIs, AP, thresholds, calibration).
    Eval(eval::EvalArgs),
    /// Run the main job on bundled sample data and write an HTML page to look at.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Label(a) => label::run(a),
        Command::Score(a) => score::run(a),
        Command::Draft(a) => draft_check::draft_cmd(a),
        Command::Check(a) => draft_check::check_cmd(a),
        Command::Drr(a) => drr::run(a),
        Command::Eval(a) => eval::run(a),
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
