//! What each subcommand does: serve (the default, until SIGINT or SIGTERM), migrate, import.

use anyhow::Context;

use crate::config::{Cli, Command, Settings};
use crate::startup::Application;
use crate::{content, db};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_cli(&cli)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async {
            let shutdown = ShutdownSignal::listen()?;
            let app = Application::build(settings).await?;
            tracing::info!(
                "Guidepost is listening on {}, public address {}",
                app.address(),
                app.base_url()
            );
            let handle = app.handle();
            actix_web::rt::spawn(async move {
                shutdown.wait().await;
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
            let started = std::time::Instant::now();
            let report = content::import_dir(&mut conn, &dir, &mut |done, total| {
                eprintln!("  {done} of {total} files imported");
            })?;
            println!(
                "Imported {} article(s) from {} in {:.1} s.",
                report.imported,
                dir.display(),
                started.elapsed().as_secs_f64()
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

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the moment this is made, so a signal that
/// arrives while the server is still starting is not lost (nor left to kill the process).
struct ShutdownSignal {
    #[cfg(unix)]
    signals: Vec<tokio::signal::unix::Signal>,
}

impl ShutdownSignal {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = [SignalKind::interrupt(), SignalKind::terminate()]
                .into_iter()
                .map(signal)
                .collect::<Result<Vec<_>, _>>()
                .context("cannot listen for SIGINT and SIGTERM")?;
            Ok(Self { signals })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let mut signals = self.signals;
            if let [interrupt, terminate] = signals.as_mut_slice() {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
