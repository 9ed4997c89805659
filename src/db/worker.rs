//! Reads that run on the async worker itself, on a connection of the worker's own, without the
//! hop to the blocking pool that [`super::run`] takes. Used only where a benchmark showed the hop
//! was most of the cost and the read cannot wait: the session lookup of a logged-in member's
//! request (two primary-key reads). In WAL mode a reader never waits for a writer, and the
//! connection has no busy timeout, so it cannot stall the worker on the write lock: if SQLite is
//! ever busy for it (recovering a WAL after a crash, say), the caller is told to take the pool
//! instead. The connection is query-only: nothing can be written through it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use super::{Database, DbConn};

thread_local! {
    static CONNECTION: RefCell<Option<(PathBuf, DbConn)>> = const { RefCell::new(None) };
}

/// Runs `read` on this thread's own connection to `database`. `None` means "use the pool
/// instead": the connection could not be opened, SQLite was busy, or the database is PostgreSQL
/// (whose reads go over the network and may wait: they stay on the pool).
pub fn read_here<T>(
    database: &Database,
    read: impl FnOnce(&mut DbConn) -> QueryResult<T>,
) -> Option<QueryResult<T>> {
    let database = database.sqlite_path()?;
    CONNECTION.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.as_ref().is_none_or(|(path, _)| path != database) {
            *slot = open(database).map(|conn| (database.to_owned(), conn));
        }
        let (_, conn) = slot.as_mut()?;
        match read(conn) {
            Err(error) if is_busy(&error) => None,
            Err(error) => {
                // Start afresh next time, whatever went wrong with this connection.
                *slot = None;
                Some(Err(error))
            }
            ok => Some(ok),
        }
    })
}

fn open(database: &Path) -> Option<DbConn> {
    let mut conn = SqliteConnection::establish(database.to_str()?)
        .map_err(|error| tracing::warn!("cannot open a worker's read connection: {error}"))
        .ok()?;
    conn.batch_execute(
        "PRAGMA busy_timeout = 0; PRAGMA query_only = ON; PRAGMA foreign_keys = ON;",
    )
    .map_err(|error| tracing::warn!("cannot set up a worker's read connection: {error}"))
    .ok()?;
    Some(DbConn::Sqlite(conn))
}

fn is_busy(error: &Error) -> bool {
    match error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.contains("locked") || message.contains("busy")
        }
        _ => false,
    }
}
