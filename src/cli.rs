//! What each subcommand does: serve (the default, until SIGINT or SIGTERM), migrate, import.

use anyhow::Context;

use crate::config::{Cli, Command, Settings};
use crate::startup::Application;
use crate::{content, db};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_cli(&cli)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async {
            let app = Application::build(settings).await?;
            tracing::info!(
                "Guidepost is listening on {}, public address {}",
                app.address(),
                app.base_url()
            );
            let handle = app.handle();
            actix_web::rt::spawn(async move {
                shutdown_signal().await;
                tracing::info!("stopping: finishing the requests in flight");
                handle.stop(true).await;
            });
            app.run_until_stopped()
                .await
                .context("the server stopped with an error")
        }),
        Command::Migrate => {
            db::open(&settings.database, 1)?;
            println!(
                "The database at {} is up to date.",
                settings.database.display()
            );
            Ok(())
        }
        Command::Import { dir } => {
            let pool = db::open(&settings.database, 1)?;
            let mut conn = pool.get().context("cannot connect to the database")?;
            let report = content::import_dir(&mut conn, &dir)?;
            println!(
                "Imported {} article(s) from {}.",
                report.imported,
                dir.display()
            );
            for failure in &report.failed {
                eprintln!("not imported: {failure}");
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} file(s) could not be imported", report.failed.len())
            }
        }
    }
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM, only for Ctrl-C: {error}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
