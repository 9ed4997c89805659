//! The database: SQLite through Diesel. Opening it (folder, pragmas, migrations), the connection
//! pool, and [`run`], the one way handlers reach a connection, which keeps queries off the async
//! workers. One module per table group holds its row types and queries.
//!
//! Durability: the database runs in WAL mode with `synchronous = FULL`, so a transaction that has
//! been reported committed survives a power cut or an operating-system crash, not only a crash of
//! Guidepost. `NORMAL` would save one fsync per commit but may lose the last commits on power loss;
//! members' sign-ups are worth the fsync.

pub mod articles;
pub mod audit;
pub mod billing;
pub mod cache;
pub mod editing;
pub mod health;
pub mod images;
pub mod outbox;
#[cfg(test)]
mod query_plans;
pub mod redirects;
pub mod revenue;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod signups;
pub mod taxonomy;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod views;
pub mod worker;
pub mod writes;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

/// The connection pool, with the count of the writes made through it (see [`writes`]).
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    writes: Arc<writes::Writes>,
    health: Arc<health::WriteHealth>,
}

impl DbPool {
    /// A connection, waiting for one to be free if need be.
    pub fn get(
        &self,
    ) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, diesel::r2d2::PoolError>
    {
        self.pool.get()
    }

    /// The count of writes to this database.
    pub fn writes(&self) -> &Arc<writes::Writes> {
        &self.writes
    }

    /// Whether writes have been failing lately.
    pub fn health(&self) -> &health::WriteHealth {
        &self.health
    }
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool")
            .field("writes", &self.writes)
            .finish_non_exhaustive()
    }
}

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a connection waits for another writer before SQLite answers "busy".
pub(crate) const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Pragmas every pooled connection gets. `busy_timeout` comes first so the others can wait too.
#[derive(Debug)]
struct ConnectionPragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionPragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Opens (creating if needed) the database file and its folder, switches it to WAL, applies any
/// pending migrations and returns a pool of `size` connections.
pub fn open(path: &Path, size: u32) -> anyhow::Result<DbPool> {
    let url = database_url(path)?;
    let mut conn = SqliteConnection::establish(&url)
        .with_context(|| format!("cannot open the database at {}", path.display()))?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
    ))
    .with_context(|| format!("cannot use the database at {}", path.display()))?;
    migrate(&mut conn)?;
    let rewritten = articles::rederive_teasers(&mut conn)
        .context("cannot make the teasers of the articles again")?;
    if rewritten > 0 {
        tracing::info!("made the teasers and search entries of {rewritten} article(s) again");
    }
    drop(conn);

    let pool = Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionPragmas))
        .build(ConnectionManager::new(url))
        .context("cannot open the database connection pool")?;
    Ok(DbPool {
        pool,
        writes: Arc::default(),
        health: Arc::default(),
    })
}

/// Applies the embedded migrations that have not run yet.
pub fn migrate(conn: &mut SqliteConnection) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("cannot apply the database migrations: {e}"))?;
    Ok(())
}

/// Creates the database's folder and turns its path into the text SQLite opens.
fn database_url(path: &Path) -> anyhow::Result<String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
    }
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("the database path {} is not valid UTF-8", path.display()))
}

/// Runs `query` with a pooled connection on the blocking thread pool, so neither a slow query nor
/// a wait for the write lock holds up an async worker. A call that changed a row is counted (see
/// [`writes`]) before it returns.
pub async fn run<T, F>(pool: &DbPool, query: F) -> Result<T, AppError>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let asked = std::time::Instant::now();
    web::block(move || {
        let mut conn = pool.get()?;
        crate::metrics::database_wait(asked.elapsed().as_secs_f64());
        let before = writes::changes_on(&mut conn);
        let result = query(&mut conn);
        if before.is_none() || writes::changes_on(&mut conn) != before {
            pool.writes.note();
            if result.is_ok() {
                pool.health.succeeded();
            }
        }
        if let Err(AppError::WriteUnavailable(problem)) = &result {
            pool.health.failed(*problem);
            crate::metrics::write_failure(*problem);
        }
        result
    })
    .await?
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE`, which takes the write lock first (a read
/// that later turned into a write could fail with "busy" without waiting), or a savepoint when the
/// caller's transaction is already open.
pub fn write_transaction<T, E, F>(conn: &mut SqliteConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        conn.transaction(f)
    } else {
        conn.immediate_transaction(f)
    }
}

/// A URI opening the database read-only, so a watcher can never create or change a file.
pub fn read_only_url(database: &Path) -> String {
    let path = database
        .to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    format!("file:{path}?mode=ro")
}

/// Current time in UTC, as stored in every timestamp column.
pub fn now() -> time::PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    time::PrimitiveDateTime::new(now.date(), now.time())
}
