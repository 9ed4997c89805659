//! What each subcommand does: serve (the default, until SIGINT or SIGTERM), migrate, import,
//! backup and restore, and the account commands (`users list`, `users set-password`, ...).

use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use crate::config::{Cli, Command, Settings, SettingsCommand, StripeCommand, UsersCommand};
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
            println!("The database at {} is up to date.", settings.database);
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
        Command::CopyDatabase { to } => {
            let started = std::time::Instant::now();
            let copied = db::copy::copy(&settings.database, &to, |table, rows| {
                eprintln!("  {table}: {rows} row(s)");
            })?;
            let rows: i64 = copied.tables.iter().map(|(_, rows)| rows).sum();
            println!(
                "Copied {rows} row(s) of {} tables from {} to {to} in {:.1} s; every table's count \
                 matches. Start the instances with --database set to the new database.",
                copied.tables.len(),
                settings.database,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Backup { file } => {
            let database = sqlite_only(&settings.database, "backup")?;
            let mut last = std::time::Instant::now();
            let report = crate::db::backup::backup(database, &file, |done, total| {
                if last.elapsed() >= std::time::Duration::from_secs(1) {
                    last = std::time::Instant::now();
                    eprintln!("  {} of {} copied", megabytes(done), megabytes(total));
                }
            })?;
            println!(
                "Backed up {} to {} in {:.1} s; the copy passed SQLite's integrity check.",
                megabytes(report.bytes),
                file.display(),
                report.took.as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file } => {
            let database = sqlite_only(&settings.database, "restore")?;
            let kept = crate::db::backup::restore(database, &file)?;
            println!("Restored {} to {}.", file.display(), database.display());
            if let Some(kept) = kept {
                println!("The database it replaced was kept as {}.", kept.display());
            }
            Ok(())
        }
        Command::Stripe {
            command:
                StripeCommand::Setup {
                    currency,
                    monthly,
                    yearly,
                },
        } => crate::billing::setup::run(
            &settings,
            &crate::billing::setup::Request {
                currency: &currency,
                monthly: &monthly,
                yearly: &yearly,
            },
        ),
        Command::Users { command } => users(&settings, command),
        Command::Settings { command } => site_settings(&settings, command),
        Command::CreateAdmin { email, name } => create_admin(&settings, &email, &name),
    }
}

/// "12.3 MB".
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn site_settings(settings: &Settings, command: SettingsCommand) -> anyhow::Result<()> {
    use crate::db::settings::{API_ORIGINS, MEMBERS_MAY_PUBLISH, SiteSettings, parse_origin};
    let pool = db::open(&settings.database, 1)?;
    let mut conn = pool.get().context("cannot connect to the database")?;
    let show = |site: &SiteSettings| {
        let on = if site.members_may_publish {
            "on"
        } else {
            "off"
        };
        println!("members-may-publish  {on}");
        println!("api-origins          {}", site.api_origins.join(" "));
    };
    match command {
        SettingsCommand::Show => show(&SiteSettings::load(&mut conn)?),
        SettingsCommand::Set { name, value } => {
            let (key, stored) = match name.as_str() {
                "members-may-publish" => match value.trim() {
                    "on" | "true" | "yes" => (MEMBERS_MAY_PUBLISH, "true".to_owned()),
                    "off" | "false" | "no" => (MEMBERS_MAY_PUBLISH, "false".to_owned()),
                    _ => anyhow::bail!("members-may-publish is on or off"),
                },
                "api-origins" => {
                    let mut origins = Vec::new();
                    for raw in value.split_whitespace() {
                        let Some(origin) = parse_origin(raw) else {
                            anyhow::bail!(
                                "{raw:?} is not an origin: give one such as https://app.example.com"
                            );
                        };
                        origins.push(origin);
                    }
                    (API_ORIGINS, origins.join(" "))
                }
                other => anyhow::bail!(
                    "there is no setting {other:?} here: members-may-publish or api-origins \
                     (the others are on the admin area's settings page)"
                ),
            };
            db::write_transaction(&mut conn, |conn| SiteSettings::set(conn, key, &stored))?;
            show(&SiteSettings::load(&mut conn)?);
        }
    }
    Ok(())
}

fn users(settings: &Settings, command: UsersCommand) -> anyhow::Result<()> {
    use crate::db::users::Member;
    let pool = db::open(&settings.database, 1)?;
    let mut conn = pool.get().context("cannot connect to the database")?;
    match command {
        UsersCommand::List => {
            let members = Member::all(&mut conn)?;
            println!(
                "{:<40} {:<28} {:<7} {:<9} trial ends",
                "email", "name", "role", "status"
            );
            for m in &members {
                println!(
                    "{:<40} {:<28} {:<7} {:<9} {}",
                    m.email,
                    m.name.chars().take(28).collect::<String>(),
                    m.role,
                    m.status,
                    m.trial_ends_at
                        .map(crate::views::format::date_iso)
                        .unwrap_or_else(|| "-".to_owned())
                );
            }
            println!("{} account(s).", members.len());
            Ok(())
        }
        UsersCommand::SetPassword { email } => {
            let email = crate::domain::Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let member = Member::find_by_email(&mut conn, &email)?
                .with_context(|| format!("no account uses {email}"))?;
            let password = read_password(&format!("New password for {email}: "))?;
            let password =
                crate::domain::NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = bcrypt::hash(password.expose(), settings.bcrypt_cost)
                .context("cannot hash the password")?;
            let secrets = crate::auth::Secrets::load(
                settings
                    .secret_key
                    .as_ref()
                    .map(crate::config::Secret::expose),
                &settings.database,
            )?;
            let account_key = crate::limits::account_key(&secrets, email.as_str());
            crate::db::write_transaction(&mut conn, |conn| {
                Member::set_password_hash(conn, member.id, &crate::db::users::PasswordHash(hash))?;
                crate::db::sessions::SessionRow::delete_all_for(conn, member.id)?;
                crate::db::tokens::EmailToken::forget_unused(conn, member.id)?;
                crate::db::throttle::clear(
                    conn,
                    crate::db::throttle::LOGIN_BY_ACCOUNT,
                    &account_key,
                )?;
                let actor = crate::db::audit::Actor {
                    id: member.id,
                    name: "the command line".to_owned(),
                };
                crate::db::audit::record(
                    conn,
                    &actor,
                    "change password",
                    &crate::db::audit::member_subject(member.id),
                    "",
                    "set on the command line",
                )
            })?;
            println!("The password of {email} was changed, and every session of theirs ended.");
            Ok(())
        }
        UsersCommand::SetRole { email, role } => {
            let email = crate::domain::Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let role = crate::db::users::ROLES
                .into_iter()
                .find(|r| *r == role)
                .with_context(|| format!("{role:?} is not a role: use member, editor or admin"))?;
            crate::db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
                let member = Member::find_by_email(conn, &email)?
                    .with_context(|| format!("no account uses {email}"))?;
                if member.role == crate::db::users::ADMIN
                    && role != crate::db::users::ADMIN
                    && Member::count_active_admins(conn)? <= 1
                {
                    anyhow::bail!("{email} is the last admin: make someone else an admin first");
                }
                Member::set_role(conn, member.id, role)?;
                let actor = crate::db::audit::Actor {
                    id: member.id,
                    name: "the command line".to_owned(),
                };
                crate::db::audit::record(
                    conn,
                    &actor,
                    "change role",
                    &crate::db::audit::member_subject(member.id),
                    &member.role,
                    role,
                )?;
                Ok(())
            })?;
            println!("{email} is now {role}.");
            Ok(())
        }
    }
}

fn create_admin(settings: &Settings, email: &str, name: &str) -> anyhow::Result<()> {
    use crate::db::users::Member;
    let email = crate::domain::Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name =
        crate::domain::DisplayName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let password = read_password(&format!("Password for {email}: "))?;
    let password =
        crate::domain::NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = bcrypt::hash(password.expose(), settings.bcrypt_cost)
        .context("cannot hash the password")?;
    let pool = db::open(&settings.database, 1)?;
    let mut conn = pool.get().context("cannot connect to the database")?;
    let admin = crate::db::write_transaction(&mut conn, |conn| {
        let admin = Member::make_admin(conn, &email, &name, &crate::db::users::PasswordHash(hash))?;
        let actor = crate::db::audit::Actor {
            id: admin.id,
            name: "the command line".to_owned(),
        };
        crate::db::audit::record(
            conn,
            &actor,
            "create admin",
            &crate::db::audit::member_subject(admin.id),
            "",
            "admin",
        )?;
        Ok::<_, diesel::result::Error>(admin)
    })?;
    println!(
        "{} <{}> is an admin: log in at /login and open /admin.",
        admin.name, admin.email
    );
    Ok(())
}

/// A password typed on the terminal without echo, or the first line of standard input when it is
/// not a terminal (a script, a pipe).
fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).context("cannot read the password from the terminal")
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
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

/// The SQLite file of a command that works on one; PostgreSQL has its own tools for it.
fn sqlite_only<'a>(
    database: &'a db::Database,
    command: &str,
) -> anyhow::Result<&'a std::path::Path> {
    database.sqlite_path().ok_or_else(|| {
        anyhow::anyhow!(
            "`guidepost {command}` copies a SQLite file; a PostgreSQL database is backed up and \
             restored with PostgreSQL's own pg_dump and pg_restore (see the README)"
        )
    })
}
