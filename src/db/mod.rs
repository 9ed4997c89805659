//! The database: SQLite (the default) or PostgreSQL, through Diesel. Opening it (folder, pragmas,
//! migrations), the connection pool, [`run`], the one way handlers reach a connection, which keeps
//! queries off the async workers, and [`write_transaction`], the one way to write safely. One module
//! per table group holds its row types and queries; [`connection`] says where backend-specific code
//! goes.
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, so a transaction that has
//! been reported committed survives a power cut or an operating-system crash, not only a crash of
//! Guidepost. `NORMAL` would save one fsync per commit but may lose the last commits on power loss;
//! members' sign-ups are worth the fsync.

pub mod api;
pub mod article_writes;
pub mod articles;
pub mod audit;
pub mod backup;
pub mod billing;
pub mod cache;
pub mod changes;
pub mod comments;
pub mod connection;
pub mod copy;
pub mod database;
pub mod editing;
pub mod health;
pub mod images;
pub mod member_admin;
pub mod outbox;
pub mod pool;
pub mod profiles;
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
use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use connection::{DbConn, Kind};
pub use database::Database;
use pool::ConnectionSettings;
pub use pool::{Manager, Pooled, establish};

use crate::error::AppError;

/// The connection pool, with the count of the writes made through it (see [`writes`]).
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<Manager>,
    database: Database,
    writes: Arc<writes::Writes>,
    health: Arc<health::WriteHealth>,
}

impl DbPool {
    /// A connection, waiting for one to be free if need be.
    pub fn get(&self) -> Result<PooledConnection<Manager>, diesel::r2d2::PoolError> {
        // (A `PooledConnection` derefs to a [`Pooled`], which derefs to a [`DbConn`].)
        self.pool.get()
    }

    /// Where the data lives.
    pub fn database(&self) -> &Database {
        &self.database
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
            .field("database", &self.database)
            .field("writes", &self.writes)
            .finish_non_exhaustive()
    }
}

/// The SQLite migrations. Each backend has its own folder, with the same version names, so a
/// database of either kind says which versions it has in the same words (compared by a test).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a connection waits for another writer before SQLite answers "busy" (and, on
/// PostgreSQL, for the write lock of [`write_transaction`]).
pub(crate) const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Opens (creating if needed) the database, applies any pending migrations and returns a pool of
/// `size` connections. A SQLite file's folder is created and the file switched to WAL.
pub fn open(database: impl Into<Database>, size: u32) -> anyhow::Result<DbPool> {
    let database = database.into();
    if let Database::Sqlite(path) = &database
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
    }
    let mut conn =
        establish(&database).with_context(|| format!("cannot open the database at {database}"))?;
    if conn.kind() == Kind::Sqlite {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
        ))
        .with_context(|| format!("cannot use the database at {database}"))?;
    } else {
        conn.batch_execute("SET TIME ZONE 'UTC'")
            .with_context(|| format!("cannot use the database at {database}"))?;
    }
    // Migrations and the teasers derived again after them run under the migration lock on
    // PostgreSQL: an instance starting beside another waits for it, then finds both done.
    with_migration_lock(&mut conn, |conn| {
        migrate_unlocked(conn)?;
        let rewritten = article_writes::rederive_teasers(conn)
            .context("cannot make the teasers of the articles again")?;
        if rewritten > 0 {
            tracing::info!("made the teasers and search entries of {rewritten} article(s) again");
        }
        let named = profiles::derive_handles(conn).context("cannot give people their handles")?;
        if named > 0 {
            tracing::info!("gave {named} person(s) a handle made from their name");
        }
        Ok(())
    })?;
    drop(conn);

    // PostgreSQL's connections are opened as they are needed (each is a server process, and
    // several instances share the server's limit); SQLite's all at once, as they cost nothing.
    let min_idle = match database.kind() {
        Kind::Sqlite => None,
        Kind::Postgres => Some(1),
    };
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(min_idle)
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSettings))
        .build(Manager {
            database: database.clone(),
        })
        .context("cannot open the database connection pool")?;
    Ok(DbPool {
        pool,
        database,
        writes: Arc::default(),
        health: Arc::default(),
    })
}

/// Applies the embedded migrations that have not run yet. On PostgreSQL they run under an
/// advisory lock, so instances starting together apply them once, one after the other.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<()> {
    with_migration_lock(conn, migrate_unlocked)
}

fn migrate_unlocked(conn: &mut DbConn) -> anyhow::Result<()> {
    let applied = match conn {
        DbConn::Sqlite(conn) => conn.run_pending_migrations(MIGRATIONS).map(|_| ()),
        DbConn::Postgres(conn) => conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    applied.map_err(|e| anyhow::anyhow!("cannot apply the database migrations: {e}"))
}

/// Runs `f` holding PostgreSQL's migration lock (a session advisory lock, waited for); on SQLite
/// the migrations' own transactions are enough.
fn with_migration_lock(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if conn.kind() == Kind::Sqlite {
        return f(conn);
    }
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .context("cannot take the migration lock")?;
    let done = f(conn);
    let unlocked = conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    done.and_then(|()| unlocked.context("cannot give the migration lock back"))
}

/// The advisory lock migrations take on PostgreSQL ("guidepost" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x6775_6964_6570_6f73;
/// The advisory lock every write transaction takes on PostgreSQL (see [`write_transaction`]).
const WRITE_LOCK: i64 = 0x6775_6964_6577_7269;

/// Runs `query` with a pooled connection on the blocking thread pool, so neither a slow query nor
/// a wait for the write lock holds up an async worker. A call that changed a row is counted (see
/// [`writes`]) before it returns: the connection's count of its own writes is read after the
/// query and compared with what it was when the connection was last used (one read, which on
/// PostgreSQL is a round trip; a connection used outside `run` only costs a spurious count).
pub async fn run<T, F>(pool: &DbPool, query: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let asked = std::time::Instant::now();
    web::block(move || {
        let mut conn = pool.get()?;
        crate::metrics::database_wait(asked.elapsed().as_secs_f64());
        let result = query(&mut conn);
        let after = writes::changes_on(&mut conn);
        if after.is_none() || after != conn.changes {
            pool.writes.note();
            if result.is_ok() && after.is_some() {
                pool.health.succeeded();
            }
        }
        conn.changes = after;
        if result.is_err() {
            conn.suspect = true;
        }
        if let Err(AppError::WriteUnavailable(problem)) = &result {
            pool.health.failed(*problem);
            crate::metrics::write_failure(*problem);
        }
        result
    })
    .await?
}

/// Runs `f` in a write transaction, or in a savepoint when the caller's transaction is already
/// open. Every check-then-write of the site runs in one, and each backend makes it as safe as one
/// writer at a time:
///
/// - SQLite: `BEGIN IMMEDIATE`, which takes the write lock first (a read that later turned into a
///   write could fail with "busy" without waiting).
/// - PostgreSQL: `BEGIN`, then one transaction-scoped advisory lock that every write transaction
///   takes, on every instance. Statements after it see every write committed before (read
///   committed takes a new snapshot per statement), so a check cannot be overtaken by another
///   instance's write before this one commits. Unique constraints stay as a second guard; single
///   statements (counters, claims) are atomic on their own and do not take the lock.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::AnsiTransactionManager;
    type Manager = <DbConn as Connection>::TransactionManager;
    let depth = Manager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        return conn.transaction(f);
    }
    match conn {
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        }
        DbConn::Postgres(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN")?;
            let locked = inner.batch_execute(&format!(
                "SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ));
            if let Err(error) = locked {
                let _ = Manager::rollback_transaction(conn);
                return Err(error.into());
            }
        }
    }
    match f(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(error) => {
                let _ = Manager::rollback_transaction(conn);
                Err(error.into())
            }
        },
        Err(error) => {
            let _ = Manager::rollback_transaction(conn);
            Err(error)
        }
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

/// Current time in UTC, as stored in every timestamp column: to the microsecond, the precision
/// of PostgreSQL's `timestamp`, so that a time written and read back is the same on both backends.
pub fn now() -> time::PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    let time = now.time();
    let time = time
        .replace_nanosecond(time.nanosecond() / 1_000 * 1_000)
        .unwrap_or(time);
    time::PrimitiveDateTime::new(now.date(), time)
}
