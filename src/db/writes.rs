//! [`Writes`]: a count of the writes made to the database, for caches of data that any write may
//! change (the sessions of logged-in members, see `crate::auth::session_store`). It goes up after
//! every [`super::run`] that changed a row, before that call returns, so a request that follows a
//! log-out, a password change or a disabled account never sees a cached copy made before it; and,
//! within [`WATCH_EVERY`], after a commit by any other process sharing the database (a second
//! instance, or `guidepost users set-role` on the command line), which the change feed
//! ([`super::changes`]) notices.
//!
//! A cached copy is good while the count is what it was before the copy was read. The count goes
//! up for writes that change nothing a cache holds (a view count, a mail marked sent) too: that
//! costs a cache one re-read, never a stale answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::prelude::*;

use super::DbConn;

/// How often the database is asked whether another process committed.
pub const WATCH_EVERY: Duration = Duration::from_millis(50);

/// The count for one database, shared by its pool and whatever caches from it.
#[derive(Debug, Default)]
pub struct Writes {
    writes: AtomicU64,
    /// How many times the change feed (see [`super::changes`]) has finished asking the database.
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

    /// Counts one look of the change feed.
    pub(super) fn looked(&self) {
        self.looks.fetch_add(1, Ordering::AcqRel);
    }
}

diesel::define_sql_function! {
    /// The rows this connection has inserted, updated or deleted since it was opened.
    fn total_changes() -> BigInt;
}

#[derive(QueryableByName)]
struct Changes {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    changes: Option<String>,
}

/// The writes `conn` has made since it was opened; `None` if that cannot be read. On SQLite, the
/// rows changed; on PostgreSQL, the statements that changed a table, which a trigger on every
/// table counts in a setting of the session (`guidepost.changes`, see the migrations).
pub fn changes_on(conn: &mut DbConn) -> Option<i64> {
    match conn {
        DbConn::Sqlite(conn) => diesel::select(total_changes()).get_result::<i64>(conn).ok(),
        DbConn::Postgres(conn) => {
            diesel::sql_query("SELECT current_setting('guidepost.changes', true) AS changes")
                .get_result::<Changes>(conn)
                .ok()
                .map(|row| row.changes.and_then(|n| n.parse().ok()).unwrap_or(0))
        }
    }
}
