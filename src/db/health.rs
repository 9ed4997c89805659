//! When the database cannot write. A full disk, a read-only file system or another process holding the
//! write lock past the busy timeout is an outage of writes, not of the site: pages go on being
//! read, a form that needed a write answers 503 with what was typed (see `crate::telemetry`), and
//! writes work again, without a restart, once the cause is gone.
//!
//! [`WriteProblem::of`] recognises such failures in SQLite's errors; [`WriteHealth`] remembers the
//! latest one for `/healthz`, which also [`probe`]s cheaply whether a write could succeed now.

use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error};

use super::{Database, DbConn};

/// Why writes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteProblem {
    /// The disk (or the file system's quota) is full.
    DiskFull,
    /// The file system, or the database file, is read-only.
    ReadOnly,
    /// Another connection held the write lock for longer than the busy timeout.
    Locked,
    /// The disk failed a read or write.
    Io,
}

impl WriteProblem {
    /// The write problem behind a database error, if it is one.
    pub fn of(error: &Error) -> Option<Self> {
        let Error::DatabaseError(kind, info) = error else {
            return None;
        };
        if matches!(
            kind,
            DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation
        ) {
            return None;
        }
        Self::in_message(info.message())
    }

    /// The write problem a message of SQLite's or PostgreSQL's names (as its errors and the pool's say them).
    pub fn in_message(message: &str) -> Option<Self> {
        let message = message.to_ascii_lowercase();
        if message.contains("disk is full") || message.contains("no space left") {
            Some(Self::DiskFull)
        } else if message.contains("readonly") || message.contains("read-only") {
            Some(Self::ReadOnly)
        } else if message.contains("database is locked")
            || message.contains("database is busy")
            || message.contains("lock timeout")
        {
            Some(Self::Locked)
        } else if message.contains("disk i/o error") {
            Some(Self::Io)
        } else {
            None
        }
    }

    /// The name `/healthz` and the metrics give it.
    pub fn name(self) -> &'static str {
        match self {
            Self::DiskFull => "disk_full",
            Self::ReadOnly => "read_only",
            Self::Locked => "locked",
            Self::Io => "io_error",
        }
    }

    /// What the page a visitor sees says of it.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::DiskFull => "The server's disk is full.",
            Self::ReadOnly => "The server's storage cannot be written to at the moment.",
            Self::Locked => "The database is busy with another task.",
            Self::Io => "The server's disk reported an error.",
        }
    }
}

impl std::fmt::Display for WriteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The latest write failure and success seen, for `/healthz`.
#[derive(Debug, Default)]
pub struct WriteHealth {
    state: Mutex<HealthState>,
}

#[derive(Debug, Default)]
struct HealthState {
    failure: Option<(Instant, WriteProblem)>,
    success: Option<Instant>,
}

/// A failure older than this, with no write since, is checked again rather than believed.
const REMEMBERED: Duration = Duration::from_secs(60);

impl WriteHealth {
    pub fn failed(&self, problem: WriteProblem) {
        if let Ok(mut state) = self.state.lock() {
            state.failure = Some((Instant::now(), problem));
        }
    }

    pub fn succeeded(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.success = Some(Instant::now());
        }
    }

    /// The problem of the latest failed write, when no write has succeeded since and it is
    /// recent.
    pub fn current(&self) -> Option<WriteProblem> {
        let state = self.state.lock().ok()?;
        let (at, problem) = state.failure?;
        let later_success = state.success.is_some_and(|s| s > at);
        (!later_success && at.elapsed() < REMEMBERED).then_some(problem)
    }
}

/// Whether a write could succeed now, without changing anything: the write lock is taken and
/// given back (read-only databases and held locks fail here, within a second), and a small file
/// is written and synced beside the database (a full disk or a read-only file system fails here).
pub fn probe(conn: &mut DbConn, database: &Database) -> Result<(), WriteProblem> {
    let Database::Sqlite(database) = database else {
        return probe_postgres(conn);
    };
    let lock = conn.batch_execute("PRAGMA busy_timeout = 1000; BEGIN IMMEDIATE; ROLLBACK;");
    let restored = conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        super::BUSY_TIMEOUT_MS
    ));
    if let Err(error) = lock.and(restored) {
        // A transaction left open by a failed BEGIN would spoil the pooled connection.
        let _ = conn.batch_execute("ROLLBACK;");
        return Err(WriteProblem::of(&error).unwrap_or(WriteProblem::Io));
    }
    let path = probe_path(database);
    let written = std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(&[0u8; 4096]).and_then(|()| file.sync_all()));
    let _ = std::fs::remove_file(&path);
    written.map_err(|error| match error.raw_os_error() {
        Some(28) | Some(122) => WriteProblem::DiskFull,
        Some(30) | Some(13) | Some(1) => WriteProblem::ReadOnly,
        _ => WriteProblem::Io,
    })
}

/// On PostgreSQL: an update that changes no row is planned, which a read-only server or
/// transaction refuses; then it is rolled back. The write lock is not waited for: held, it means
/// another instance is writing, which is writes working. The server's own disk is its business: a
/// full one fails real writes, which [`WriteProblem::of`] recognises.
fn probe_postgres(conn: &mut DbConn) -> Result<(), WriteProblem> {
    let checked = conn.batch_execute(
        "BEGIN; SET LOCAL statement_timeout = 1000; \
         UPDATE content_version SET version = version WHERE false; ROLLBACK;",
    );
    if let Err(error) = checked {
        let _ = conn.batch_execute("ROLLBACK;");
        return Err(WriteProblem::of(&error).unwrap_or(WriteProblem::Io));
    }
    Ok(())
}

/// The probe's file: beside the database, on the same file system.
fn probe_path(database: &Path) -> std::path::PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push("-probe");
    database.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_their_problem() {
        assert_eq!(
            WriteProblem::in_message("database or disk is full"),
            Some(WriteProblem::DiskFull)
        );
        assert_eq!(
            WriteProblem::in_message("attempt to write a readonly database"),
            Some(WriteProblem::ReadOnly)
        );
        assert_eq!(
            WriteProblem::in_message("database is locked"),
            Some(WriteProblem::Locked)
        );
        assert_eq!(
            WriteProblem::in_message("disk I/O error"),
            Some(WriteProblem::Io)
        );
        assert_eq!(WriteProblem::in_message("no such table: x"), None);
    }

    #[test]
    fn a_failure_counts_until_a_write_succeeds() {
        let health = WriteHealth::default();
        assert_eq!(health.current(), None);
        health.failed(WriteProblem::DiskFull);
        assert_eq!(health.current(), Some(WriteProblem::DiskFull));
        health.succeeded();
        assert_eq!(health.current(), None);
    }
}
