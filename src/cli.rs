//! What each subcommand does: serve (the default), migrate, import.

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
                "Guidepost is serving {} on http://{}",
                app.base_url(),
                app.address()
            );
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
