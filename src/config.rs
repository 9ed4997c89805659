//! Settings: what an operator can choose, from command-line flags with `GUIDEPOST_*` environment
//! fallbacks and defaults that work out of the box. Tests build [`Settings`] in code.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Guidepost: articles, free-trial memberships and their administration, in one binary.
#[derive(Debug, Parser)]
#[command(name = "guidepost", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "GUIDEPOST_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// SQLite database file (its folder is created when missing), or a postgres:// URL of a
    /// PostgreSQL database that several instances may share (then GUIDEPOST_SECRET_KEY is needed).
    #[arg(
        long,
        env = "GUIDEPOST_DATABASE",
        default_value = "data/guidepost.db",
        global = true,
        hide_env_values = true
    )]
    pub database: crate::db::Database,

    /// Public origin of the site (for canonical links, feeds and the sitemap), e.g.
    /// https://articles.example.com. Defaults to http:// and the --bind address.
    #[arg(long, env = "GUIDEPOST_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Number of HTTP worker threads [default: one per core].
    #[arg(long, env = "GUIDEPOST_WORKERS", global = true,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,

    /// Import the bundled demo articles when the database has none (the default).
    #[arg(long, global = true, overrides_with = "no_demo_content")]
    pub demo_content: bool,

    /// Memory for the cache of finished anonymous pages, in megabytes; 0 turns the cache off
    /// (every request is then rendered, as a benchmark of uncached pages needs).
    #[arg(long, env = "GUIDEPOST_PAGE_CACHE_MB", default_value_t = 8, global = true,
          value_parser = clap::value_parser!(u16).range(0..=4096))]
    pub page_cache_mb: u16,

    /// bcrypt cost for password hashes: 12 in production; below 10 is accepted with a warning
    /// (tests use 4).
    #[arg(long, env = "GUIDEPOST_BCRYPT_COST", default_value_t = 12, global = true,
          value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,

    /// Accounts that may be created from one client address in an hour; 0 turns the limit off.
    #[arg(
        long,
        env = "GUIDEPOST_SIGNUP_LIMIT",
        default_value_t = 20,
        global = true
    )]
    pub signup_limit: u32,

    /// The secret that signs session cookies, at least 64 characters. Give it in the
    /// environment; when unset, a key file is created beside the database.
    #[arg(long, env = "GUIDEPOST_SECRET_KEY", hide_env_values = true, global = true,
          value_parser = secret)]
    pub secret_key: Option<Secret>,

    /// Where mail goes: an SMTP URL such as smtps://user:password@smtp.example.com. When unset,
    /// each message is saved as a file in the `mail` folder beside the database instead.
    #[arg(long, env = "GUIDEPOST_SMTP_URL", hide_env_values = true, global = true,
          value_parser = secret)]
    pub smtp_url: Option<Secret>,

    /// Where mail is saved as files when no SMTP URL is set [default: the `mail` folder beside the
    /// SQLite database, or in the working directory with PostgreSQL].
    #[arg(long, env = "GUIDEPOST_MAIL_FOLDER", global = true)]
    pub mail_folder: Option<PathBuf>,

    /// The sender of the site's mail, e.g. "Guidepost <hello@example.com>" [default: Guidepost
    /// at no-reply@ the site's host].
    #[arg(long, env = "GUIDEPOST_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// Do not count article views (the dashboard's views chart and most-read list stay empty).
    #[arg(long, env = "GUIDEPOST_NO_VIEW_COUNTS", global = true)]
    pub no_view_counts: bool,

    /// Start with an empty site instead of the bundled demo articles.
    #[arg(
        long,
        env = "GUIDEPOST_NO_DEMO_CONTENT",
        global = true,
        overrides_with = "demo_content"
    )]
    pub no_demo_content: bool,

    /// Reverse proxies whose X-Forwarded-For and Forwarded headers are believed: addresses or
    /// ranges, separated by commas (e.g. 127.0.0.1 or 10.0.0.0/8,fd00::/8). From anyone else
    /// those headers are ignored. Empty: the TCP peer is the client.
    #[arg(
        long,
        env = "GUIDEPOST_TRUSTED_PROXY",
        default_value = "",
        global = true
    )]
    pub trusted_proxy: String,

    /// Serve Prometheus metrics at /metrics on this separate address (e.g. 127.0.0.1:9090),
    /// never on the public one. Off when unset.
    #[arg(long, env = "GUIDEPOST_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,

    /// Seconds a client may take to send a request's body, or to take in an answer, or to start
    /// another request on a kept-alive connection, before it is cut off (the first request's head
    /// has at most 5 seconds).
    #[arg(long, env = "GUIDEPOST_CLIENT_TIMEOUT", default_value_t = 20, global = true,
          value_parser = clap::value_parser!(u16).range(2..=600))]
    pub client_timeout: u16,

    /// Stripe's secret key (sk_live_… or sk_test_…): turns paid memberships on. Give it in the
    /// environment.
    #[arg(long, env = "GUIDEPOST_STRIPE_SECRET_KEY", hide_env_values = true, global = true,
          value_parser = secret)]
    pub stripe_secret_key: Option<Secret>,

    /// The signing secret of the webhook endpoint (whsec_…), printed once by `guidepost stripe
    /// setup`. Give it in the environment.
    #[arg(long, env = "GUIDEPOST_STRIPE_WEBHOOK_SECRET", hide_env_values = true, global = true,
          value_parser = secret)]
    pub stripe_webhook_secret: Option<Secret>,

    /// Where Stripe's API is [default: https://api.stripe.com].
    #[arg(long, env = "GUIDEPOST_STRIPE_API_BASE", global = true)]
    pub stripe_api_base: Option<String>,

    /// How log lines are written to standard error: text, or json (one object a line, for log
    /// collectors).
    #[arg(long, env = "GUIDEPOST_LOG_FORMAT", default_value = "text", global = true,
          value_parser = ["text", "json"])]
    pub log_format: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import (or update) the Markdown articles in a folder, matched by slug.
    Import {
        /// Folder of `.md` files with front matter; see the README for the format.
        dir: PathBuf,
    },
    /// Create an admin account, or make an existing account an admin (the password is asked on
    /// the terminal, or read from standard input when it is not one).
    CreateAdmin {
        /// The admin's email address.
        #[arg(long)]
        email: String,
        /// The name shown for them.
        #[arg(long)]
        name: String,
    },
    /// Copy this SQLite site (--database FILE) into an empty PostgreSQL database, then check the
    /// counts of every table. Stop the server first: what is written during the copy is not in it.
    CopyDatabase {
        /// The PostgreSQL database to fill: postgres://user:password@host:port/database
        #[arg(long, value_name = "URL", hide_env_values = true)]
        to: crate::db::Database,
    },
    /// Copy the live database to FILE (a checked, consistent copy; the server may keep running).
    Backup {
        /// Where the copy goes; it must not exist yet.
        file: PathBuf,
    },
    /// Replace the database with the backup FILE (checked first; the server must be stopped).
    /// The replaced database is kept beside it.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Paid memberships through Stripe.
    Stripe {
        #[command(subcommand)]
        command: StripeCommand,
    },
    /// Manage accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Show or change the site's settings from the command line.
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the settings that can be changed here.
    Show,
    /// Change a setting: `members-may-publish on|off`, or `api-origins "https://a.example.com
    /// https://b.example.com"` (an empty value turns cross-origin calls off).
    Set {
        /// members-may-publish or api-origins.
        name: String,
        /// The new value.
        value: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StripeCommand {
    /// Create the membership's product, its monthly and yearly prices and the webhook endpoint
    /// (at the base URL's /stripe/webhook) in the Stripe account of GUIDEPOST_STRIPE_SECRET_KEY,
    /// and keep their ids. Run it again to change the prices: members keep the price they chose.
    Setup {
        /// Three-letter currency code, such as eur, usd or gbp.
        #[arg(long)]
        currency: String,
        /// The monthly price, such as 9.00.
        #[arg(long)]
        monthly: String,
        /// The yearly price, such as 90.00.
        #[arg(long)]
        yearly: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List every account: email, name, role, status, trial end.
    List,
    /// Set an account's password (asked on the terminal, or read from standard input).
    SetPassword {
        /// The account's email address.
        email: String,
    },
    /// Set an account's role: member, editor or admin.
    SetRole {
        /// The account's email address.
        email: String,
        /// member, editor or admin.
        role: String,
    },
}

fn secret(value: &str) -> Result<Secret, String> {
    Ok(Secret::new(value))
}

/// A secret value: usable, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// Everything the application needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database: crate::db::Database,
    /// The public origin; `None` derives it from the address actually bound.
    pub base_url: Option<BaseUrl>,
    pub workers: usize,
    pub demo_content: bool,
    /// Bytes of finished anonymous pages kept in memory; 0 turns the page cache off.
    pub page_cache_bytes: usize,
    pub bcrypt_cost: u32,
    /// Accounts one client address may create in an hour; 0 for no limit.
    pub signup_limit: u32,
    /// The cookie-signing secret; `None` uses the key file beside the database.
    pub secret_key: Option<Secret>,
    /// SMTP server for outgoing mail; `None` saves mail in the `mail` folder beside the database.
    pub smtp_url: Option<Secret>,
    pub mail_from: Option<String>,
    /// Where mail is saved without SMTP; `None` for the default of [`crate::mail::mail_folder`].
    pub mail_folder: Option<PathBuf>,
    /// Count article views per day for the dashboard.
    pub count_views: bool,
    /// Proxies whose forwarding headers name the client (see [`crate::client`]).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// Where `/metrics` is served; `None` turns metrics off.
    pub metrics_bind: Option<SocketAddr>,
    /// How long a client may stall (see [`crate::connections`] and [`crate::requests`]).
    pub client_timeout: std::time::Duration,
    /// Stripe, when paid memberships are on.
    pub stripe: Option<crate::billing::StripeSettings>,
    /// Whether caches follow changes made by other processes and instances (see
    /// [`crate::db::changes`]). Always on but in the test that shows what it is for.
    #[doc(hidden)]
    pub change_feed: bool,
}

impl Settings {
    /// Reads the flags, checking each, so a bad value stops start-up with a clear sentence.
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let bind = cli
            .bind
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--bind {:?} is not an address and port such as 127.0.0.1:8080",
                    cli.bind
                )
            })?;
        cli.database.check().map_err(anyhow::Error::msg)?;
        let base_url = cli.base_url.as_deref().map(BaseUrl::parse).transpose()?;
        let trusted_proxies = crate::client::TrustedProxies::parse(&cli.trusted_proxy)
            .map_err(|problem| anyhow::anyhow!("--trusted-proxy: {problem}"))?;
        let metrics_bind = cli
            .metrics_bind
            .as_deref()
            .map(|text| {
                text.to_socket_addrs()
                    .ok()
                    .and_then(|mut addrs| addrs.next())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--metrics-bind {text:?} is not an address and port such as 127.0.0.1:9090"
                        )
                    })
            })
            .transpose()?;
        if metrics_bind.is_some_and(|m| m == bind && m.port() != 0) {
            anyhow::bail!(
                "--metrics-bind must differ from --bind: metrics are never served on the public address"
            );
        }
        let workers = cli
            .workers
            .map(usize::from)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        Ok(Self {
            bind,
            database: cli.database.clone(),
            base_url,
            workers,
            demo_content: !cli.no_demo_content || cli.demo_content,
            page_cache_bytes: usize::from(cli.page_cache_mb) * 1024 * 1024,
            bcrypt_cost: cli.bcrypt_cost,
            signup_limit: cli.signup_limit,
            secret_key: cli.secret_key.clone(),
            smtp_url: cli.smtp_url.clone(),
            mail_from: cli.mail_from.clone(),
            mail_folder: cli.mail_folder.clone(),
            count_views: !cli.no_view_counts,
            trusted_proxies,
            metrics_bind,
            client_timeout: std::time::Duration::from_secs(u64::from(cli.client_timeout)),
            stripe: stripe_settings(cli)?,
            change_feed: true,
        })
    }
}

/// Stripe's settings, when its secret key is given.
fn stripe_settings(cli: &Cli) -> anyhow::Result<Option<crate::billing::StripeSettings>> {
    let Some(secret_key) = cli.stripe_secret_key.clone() else {
        if cli.stripe_webhook_secret.is_some() {
            tracing::warn!(
                "GUIDEPOST_STRIPE_WEBHOOK_SECRET is set without GUIDEPOST_STRIPE_SECRET_KEY: payments stay off"
            );
        }
        return Ok(None);
    };
    let api_base = match cli.stripe_api_base.as_deref() {
        Some(base) => BaseUrl::parse(base)
            .map_err(|_| {
                anyhow::anyhow!(
                    "GUIDEPOST_STRIPE_API_BASE {base:?} must be an origin such as https://api.stripe.com"
                )
            })?
            .as_str()
            .to_owned(),
        None => crate::billing::DEFAULT_API_BASE.to_owned(),
    };
    Ok(Some(crate::billing::StripeSettings {
        secret_key,
        webhook_secret: cli.stripe_webhook_secret.clone(),
        api_base,
    }))
}

/// The public origin, without a trailing slash: `https://example.com` or `http://127.0.0.1:8080`.
/// Canonical links are built from it and never from a request's Host header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let trimmed = text.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"));
        match rest {
            Some(host)
                if !host.is_empty()
                    && !host.contains(['/', '?', '#', ' ', '"', '<', '>', '\\'])
                    && host.is_ascii() =>
            {
                Ok(Self(trimmed.to_owned()))
            }
            _ => anyhow::bail!(
                "--base-url {text:?} must be an origin such as https://articles.example.com, without a path"
            ),
        }
    }

    /// The origin a browser on this machine would use for the listening address.
    pub fn for_bind(bind: SocketAddr) -> Self {
        let host = match bind.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        Self(format!("http://{host}:{}", bind.port()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of a site path that starts with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_is_an_origin_without_a_path() {
        assert_eq!(
            BaseUrl::parse("https://example.com/").unwrap().as_str(),
            "https://example.com"
        );
        for bad in [
            "example.com",
            "ftp://x",
            "https://",
            "https://x.com/blog",
            "http://a b",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_in_the_settings_never_show_in_debug_output() {
        let secret = Secret::new("smtps://user:hunter2@mail.example.com");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn the_default_base_url_follows_the_bind_address() {
        let bind: SocketAddr = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(BaseUrl::for_bind(bind).as_str(), "http://127.0.0.1:9000");
    }
}
