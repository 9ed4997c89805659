//! The `guidepost` command: see `guidepost --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = guidepost::config::Cli::parse();
    let log = guidepost::telemetry::init(cli.log_format == "json");
    let result = guidepost::cli::run(cli);
    // Write out buffered log lines before the final word, so they stay in order.
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("guidepost: {error:#}");
            ExitCode::FAILURE
        }
    }
}
