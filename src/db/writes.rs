//! [`Writes`]: a count of the writes made to the database, for caches of data that any write may
//! change (the sessions of logged-in members, see `crate::auth::session_store`). It goes up after
//! every [`super::run`] that changed a row, before that call returns, so a request that follows a
//! log-out, a password change or a disabled account never sees a cached copy made before it; and,
//! within [`WATCH_EVERY`], after a commit by any other process sharing the database (a second
//! instance, or `guidepost users set-role` on the command line), which [`watch`] notices.
//!
//! A cached copy is good while the count is what it was before the copy was read. The count goes
//! up for writes that change nothing a cache holds (a view count, a mail marked sent) too: that
//! costs a cache one re-read, never a stale answer.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// How often the database is asked whether another process committed.
pub const WATCH_EVERY: Duration = Duration::from_millis(100);

/// The count for one database, shared by its pool and whatever caches from it.
#[derive(Debug, Default)]
pub struct Writes {
    writes: AtomicU64,
    /// How many times [`watch`] has finished asking the database.
    looks: AtomicU64,
}

impl Writes {
    /// The count now. Read it before reading what is to be cached.
    pub fn count(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// Counts a write.
    pub fn note(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    /// How many times the watcher has asked the database whether another process wrote. Once it
    /// has gone up by two after a commit, that commit has been counted.
    pub fn looks(&self) -> u64 {
        self.looks.load(Ordering::Acquire)
    }
}

diesel::define_sql_function! {
    /// The rows this connection has inserted, updated or deleted since it was opened.
    fn total_changes() -> BigInt;
}

/// The rows `conn` has changed since it was opened; `None` if that cannot be read.
pub fn changes_on(conn: &mut SqliteConnection) -> Option<i64> {
    diesel::select(total_changes()).get_result::<i64>(conn).ok()
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

fn data_version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    diesel::sql_query("PRAGMA data_version")
        .get_result::<DataVersion>(conn)
        .map(|row| row.data_version)
}

/// Starts a thread that counts a write whenever another connection, in this process or another,
/// commits to `database`, for as long as `writes` is in use. It reads `PRAGMA data_version` on a
/// read-only connection of its own; the first reading is taken before this returns, so no commit
/// made after it is missed.
pub fn watch(database: &Path, writes: &Arc<Writes>) {
    let writes = Arc::downgrade(writes);
    let url = super::read_only_url(database);
    let mut conn = SqliteConnection::establish(&url).ok();
    let mut last = conn.as_mut().and_then(|c| data_version(c).ok());
    let spawned = std::thread::Builder::new()
        .name("database-writes".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(WATCH_EVERY);
                let Some(writes) = writes.upgrade() else {
                    return;
                };
                if conn.is_none() {
                    conn = SqliteConnection::establish(&url)
                        .map_err(|error| tracing::warn!("cannot watch the database: {error}"))
                        .ok();
                }
                let Some(connection) = conn.as_mut() else {
                    writes.note();
                    continue;
                };
                match data_version(connection) {
                    Ok(version) => {
                        if last != Some(version) {
                            writes.note();
                        }
                        last = Some(version);
                    }
                    Err(error) => {
                        tracing::warn!("cannot read the database's version: {error}");
                        // Writes may be missed while reconnecting: count one to be safe.
                        conn = None;
                        last = None;
                        writes.note();
                    }
                }
                writes.looks.fetch_add(1, Ordering::AcqRel);
            }
        });
    if let Err(error) = spawned {
        tracing::error!("cannot start watching the database for writes: {error}");
    }
}
