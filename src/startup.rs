//! Builds the application: opens the database (migrations, demo content), binds the listener and
//! wires the middleware and routes. The binary and the tests start it the same way.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::config::{BaseUrl, Settings};
use crate::db::cache::ContentCache;
use crate::page_cache::{self, PageCache};
use crate::views::{AppState, Site};
use crate::{compression, content, db, routes, telemetry};

/// The policy every response carries: only our own styles, images and forms; no scripts at all;
/// no framing. `connect-src 'self'` lets tools that inspect a page from inside it (Lighthouse
/// reads robots.txt that way) reach the site; with no script allowed, nothing else can use it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Threads each worker may use for blocking work (database queries, compressing large bodies).
const BLOCKING_THREADS_PER_WORKER: usize = 4;

/// A built, bound application, ready to run.
pub struct Application {
    /// Held while the server runs, so a restore cannot replace the database under it.
    _lock: Option<crate::db::backup::ServerLock>,
    address: SocketAddr,
    base_url: BaseUrl,
    page_cache: Arc<PageCache>,
    writes: Arc<crate::db::writes::Writes>,
    server: Server,
    /// The metrics server, on its own address, when metrics are on.
    metrics: Option<(SocketAddr, Server)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool_size = u32::try_from(settings.workers * 2)
            .unwrap_or(16)
            .clamp(4, 32);
        let database = settings.database.clone();
        let demo_content = settings.demo_content;
        if settings.secret_key.is_none() && database.kind() == db::Kind::Postgres {
            // Said before connecting: the instance could not serve anyone without it.
            crate::auth::Secrets::load(None, &database)?;
        }
        let lock = match database.sqlite_path() {
            Some(path) => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).with_context(|| {
                        format!("cannot create the database folder {}", folder.display())
                    })?;
                }
                Some(crate::db::backup::ServerLock::shared(path)?)
            }
            None => None,
        };
        let pool = web::block(move || -> anyhow::Result<db::DbPool> {
            let pool = db::open(database, pool_size)?;
            if demo_content {
                let mut conn = pool.get().context("cannot connect to the database")?;
                if db::articles::count_all(&mut conn)? == 0 {
                    let report = content::demo::import_demo(&mut conn)?;
                    tracing::info!("imported {} demo articles", report.imported);
                    for failure in report.failed {
                        tracing::warn!("demo article not imported: {failure}");
                    }
                }
            }
            Ok(pool)
        })
        .await
        .context("start-up was interrupted")??;

        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let address = listener
            .local_addr()
            .context("cannot read the listening address")?;
        let base_url = settings
            .base_url
            .clone()
            .unwrap_or_else(|| BaseUrl::for_bind(address));
        let secure = base_url.as_str().starts_with("https://");
        let secret_key = settings.secret_key.clone();
        let key_database = settings.database.clone();
        let (cost, parallel) = (settings.bcrypt_cost, settings.workers.max(1));
        if cost < 10 {
            tracing::warn!(
                "bcrypt cost {cost} is below 10: fine for tests, too weak for real passwords"
            );
        }
        let (secrets, hasher) = web::block(move || -> anyhow::Result<_> {
            let secrets = crate::auth::Secrets::load(
                secret_key.as_ref().map(crate::config::Secret::expose),
                &key_database,
            )?;
            // At most one hash per core: a burst of log-ins leaves the other threads to pages.
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Ok((
                secrets,
                crate::auth::PasswordHasher::new(cost, cores.min(parallel.max(1)).max(1))?,
            ))
        })
        .await
        .context("start-up was interrupted")??;
        if settings.database.kind() == db::Kind::Postgres {
            // Every instance must have the same key: one with another would take every member's
            // cookie for a forgery, and tell their browsers to forget it.
            let fingerprint = secrets.sign(&["the key every instance of this site shares"]);
            let same = db::run(&pool, move |conn| {
                Ok(db::settings::SiteSettings::same_key(conn, &fingerprint)?)
            })
            .await
            .map_err(|error| anyhow::anyhow!("cannot check the key: {error}"))?;
            if !same {
                anyhow::bail!(
                    "GUIDEPOST_SECRET_KEY differs from the key the other instances of this site use: \
                     give every instance the same key (to change it for all of them, stop them, \
                     delete the setting {} in the database, and start them with the new one)",
                    db::settings::KEY_CHECK
                );
            }
        }
        let mailer = crate::mail::Mailer::new(
            settings.smtp_url.as_ref(),
            settings.mail_from.as_deref(),
            &base_url,
            &crate::db::settings::SiteSettings::default().site_title,
            &crate::mail::mail_folder(&settings),
        )?;
        let page_cache = PageCache::new(settings.page_cache_bytes, settings.workers);
        if settings.change_feed {
            let watched = Arc::downgrade(&page_cache);
            let content_changed = Box::new(move |changed: crate::db::changes::Changed<'_>| {
                let Some(cache) = watched.upgrade() else {
                    return false;
                };
                match changed {
                    crate::db::changes::Changed::Everything => cache.invalidate(),
                    crate::db::changes::Changed::Page(path) => cache.invalidate_path(path),
                }
                true
            });
            crate::db::changes::watch(&settings.database, pool.writes(), content_changed);
        }
        let writes = Arc::clone(pool.writes());
        let page_cache_handle = Arc::clone(&page_cache);
        let page_cache = web::Data::new(page_cache);
        let cache: Arc<ContentCache> = match settings.database.kind() {
            db::Kind::Sqlite => Arc::default(),
            db::Kind::Postgres => Arc::new(ContentCache::following(Arc::clone(pool.writes()))),
        };
        let mail_wake = Arc::new(tokio::sync::Notify::new());
        let site = Site::new(base_url.clone());
        let (readership, views) = crate::readership::Readership::new(settings.count_views);
        let readership = web::Data::new(readership);
        actix_web::rt::spawn(
            crate::jobs::Jobs {
                pool: pool.clone(),
                cache: Arc::clone(&cache),
                mailer,
                wake: Arc::clone(&mail_wake),
                base_url: base_url.clone(),
                views,
                payments: settings.stripe.is_some(),
            }
            .run(),
        );
        let session_key = secrets.cookie_key().clone();
        let metrics_pool = pool.clone();
        let session_pool = pool.clone();
        let session_cache = Arc::clone(&cache);
        let session_database = settings.database.clone();
        let auth = crate::auth::Auth {
            secrets,
            hasher,
            origin: base_url.as_str().to_owned(),
            secure,
            signup_limit: settings.signup_limit,
            clients: Arc::new(crate::client::Clients::new(
                settings.trusted_proxies.clone(),
                secure,
            )),
            floods: Arc::default(),
        };
        // The account machinery on its own too, for the extractor that reads the session.
        let auth_data = web::Data::new(auth.clone());
        let billing = settings
            .stripe
            .clone()
            .map(crate::billing::stripe::Stripe::new);
        if let Some(stripe) = &billing
            && stripe.settings().webhook_secret.is_none()
        {
            tracing::warn!(
                "GUIDEPOST_STRIPE_WEBHOOK_SECRET is not set: Stripe's webhook deliveries will be \
                 refused, so payments will not give access (run `guidepost stripe setup`)"
            );
        }
        let state = web::Data::new(AppState {
            pool,
            site,
            cache,
            auth,
            mail: mail_wake,
            pages: Arc::clone(&page_cache_handle),
            mail_folder: crate::mail::mail_folder(&settings),
            database: settings.database.clone(),
            billing: billing.clone(),
        });

        let documents = web::Data::new(routes::feeds::Documents::default());
        let client_timeout = settings.client_timeout;
        let body_deadline = web::Data::new(crate::requests::BodyDeadline(client_timeout));
        let health_check = web::Data::new(routes::health::LastCheck::default());
        let form_targets = billing
            .as_ref()
            .map(|stripe| stripe.settings().hosted_origins())
            .unwrap_or_default();

        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(auth_data.clone())
                .app_data(readership.clone())
                .app_data(page_cache.clone())
                .app_data(documents.clone())
                .app_data(health_check.clone())
                .app_data(body_deadline.clone())
                // Listed innermost first: a request meets the security headers, then the request
                // middleware, then the page cache (which answers anonymous readers), then
                // compression, then the session (loaded only when the cookie is there), then the
                // response finishing touches of accounts, then the members' page cache, then the
                // checks of its size, speed and encoding (see `requests`), then the routes.
                // Bodies are limited per address by `requests::check`; this is only the ceiling.
                .app_data(web::PayloadConfig::new(
                    crate::requests::EDITOR_BYTES.max(crate::requests::UPLOAD_BYTES),
                ))
                .wrap(from_fn(crate::requests::check))
                .wrap(from_fn(crate::member_cache::serve_members))
                .wrap(from_fn(crate::auth::visitor::finish_response))
                .wrap(session_middleware(
                    crate::auth::session_store::DbSessionStore::new(
                        session_pool.clone(),
                        Arc::clone(&session_cache),
                        session_database.clone(),
                    ),
                    session_key.clone(),
                    secure,
                ))
                .wrap(from_fn(compression::compress))
                .wrap(from_fn(page_cache::serve_cached))
                .wrap(from_fn(crate::readership::count_views))
                .wrap(from_fn(telemetry::request_context))
                .wrap(security_headers(secure, &form_targets))
                .configure(routes::configure)
        })
        // No Nagle delay, and stalled clients cut off (see `connections`).
        .on_connect(move |connection, extensions| {
            crate::connections::on_connect(connection, extensions, client_timeout)
        })
        .client_request_timeout(client_timeout.min(FIRST_HEAD_TIMEOUT))
        .workers(settings.workers)
        // Queries and compression of large bodies run on these threads. A few per worker keep
        // the cores busy; more would only queue on the database pool and grow memory.
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        // Signals are handled by the command line (see `cli`), so that SIGINT as well as SIGTERM
        // lets requests in flight finish; tests stop servers by dropping them.
        .disable_signals()
        .listen(listener)
        .context("cannot start the HTTP server")?
        .run();

        let metrics = match settings.metrics_bind {
            Some(bind) => Some(metrics_server(bind, metrics_pool)?),
            None => None,
        };

        Ok(Self {
            _lock: lock,
            address,
            base_url,
            page_cache: page_cache_handle,
            writes,
            server,
            metrics,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The count of writes to the database, which caches of members' sessions follow; tests wait
    /// on it after changing the database behind the server's back, as another process would.
    pub fn writes(&self) -> Arc<crate::db::writes::Writes> {
        Arc::clone(&self.writes)
    }

    /// The cache of finished anonymous pages, for tests and diagnostics.
    pub fn page_cache(&self) -> Arc<PageCache> {
        Arc::clone(&self.page_cache)
    }

    /// The address `/metrics` is served on, when metrics are on.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(address, _)| *address)
    }

    /// Serves until [`ServerHandle::stop`] is called through [`Self::handle`]; the metrics server,
    /// if any, stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let served = self.server.await;
        if let Some(handle) = metrics {
            handle.stop(true).await;
        }
        served
    }

    /// A handle that stops the server, gracefully or not.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }
}

/// The server of `/metrics`, on its own address with one worker: the outbox's backlog is read
/// when it is scraped, everything else is counted as it happens (see [`crate::metrics`]).
fn metrics_server(bind: SocketAddr, pool: db::DbPool) -> anyhow::Result<(SocketAddr, Server)> {
    crate::metrics::enable();
    let listener =
        TcpListener::bind(bind).with_context(|| format!("cannot listen for metrics on {bind}"))?;
    let address = listener
        .local_addr()
        .context("cannot read the metrics address")?;
    let pool = web::Data::new(pool);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/metrics", web::get().to(serve_metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .context("cannot start the metrics server")?
    .run();
    tracing::info!("metrics are served at http://{address}/metrics");
    Ok((address, server))
}

async fn serve_metrics(pool: web::Data<db::DbPool>) -> actix_web::HttpResponse {
    let backlog = db::run(&pool, |conn| Ok(crate::db::outbox::Message::backlog(conn)?)).await;
    match backlog {
        Ok((pending, failed)) => crate::metrics::outbox(pending, failed),
        Err(error) => tracing::warn!("metrics cannot read the outbox: {error}"),
    }
    match crate::metrics::render() {
        Ok(text) => actix_web::HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(_) => actix_web::HttpResponse::InternalServerError().finish(),
    }
}

/// Sessions in our own store; the cookie (HttpOnly, SameSite=Lax, and `Secure` with the `__Host-`
/// prefix over HTTPS) holds only the signed random key. Lifetimes are enforced by the store from
/// the settings, so the cookie itself lasts as long as the browser keeps it.
fn session_middleware(
    store: crate::auth::session_store::DbSessionStore,
    key: actix_web::cookie::Key,
    secure: bool,
) -> actix_session::SessionMiddleware<crate::auth::session_store::DbSessionStore> {
    use crate::auth::session_store::{COOKIE, SECURE_COOKIE};
    actix_session::SessionMiddleware::builder(store, key)
        .cookie_name(if secure { SECURE_COOKIE } else { COOKIE }.to_owned())
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(actix_web::cookie::SameSite::Lax)
        .cookie_path("/".to_owned())
        .session_lifecycle(
            actix_session::config::PersistentSession::default()
                .session_ttl(actix_web::cookie::time::Duration::days(30)),
        )
        .build()
}

/// The longest a client may take to send the head of its first request on a connection.
pub const FIRST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Headers every response carries, whatever produced it.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    (
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    ),
];

/// What HTTPS sites add: browsers that saw it once use HTTPS for a year, whatever link they follow.
/// Subdomains are left alone: they may be other sites of the publisher's.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The headers every response carries. With payments on, forms may also lead to Stripe's hosted
/// pages (a form posts here, and the answer sends the browser there): browsers hold a redirect
/// after a form to the policy's `form-action` too.
fn security_headers(https: bool, form_targets: &[String]) -> DefaultHeaders {
    let headers = SECURITY_HEADERS
        .iter()
        .fold(DefaultHeaders::new(), |headers, (name, value)| {
            if *name == "Content-Security-Policy" && !form_targets.is_empty() {
                let policy = value.replace(
                    "form-action 'self'",
                    &format!("form-action 'self' {}", form_targets.join(" ")),
                );
                headers.add((*name, policy))
            } else {
                headers.add((*name, *value))
            }
        });
    if https {
        headers.add(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    } else {
        headers
    }
}
