//! The `guidepost` command: see `guidepost --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = guidepost::config::Cli::parse();
    let _log = guidepost::telemetry::init();
    match guidepost::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("guidepost: {error:#}");
            ExitCode::FAILURE
        }
    }
}
