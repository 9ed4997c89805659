//! The connection pool's side of a connection: opening one by the kind of database (never by
//! trying one driver after another), the settings each gets, and what the pool remembers of it.

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection};

use super::{BUSY_TIMEOUT_MS, Database, DbConn, Kind};

/// A pooled connection, with what the pool remembers of it: the writes it had made when last
/// looked at (see [`run`]), and whether it failed in a way that may have lost the server.
pub struct Pooled {
    conn: DbConn,
    pub(super) changes: Option<i64>,
    pub(super) suspect: bool,
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// Opens connections of the pool: by the kind of [`Database`], never by trying one driver after
/// another (SQLite would take a URL for a file name).
#[derive(Debug)]
pub struct Manager {
    pub(super) database: Database,
}

impl Manager {
    fn establish(&self) -> ConnectionResult<DbConn> {
        establish(&self.database)
    }
}

/// `url` with TCP keepalives and a user timeout unless it sets them itself: a connection to a
/// server that vanished (a failover, a network that dropped it without a word) fails within
/// seconds instead of waiting for the kernel's retries, a quarter of an hour.
fn with_timeouts(url: &str) -> String {
    if url.contains("keepalives") || url.contains("tcp_user_timeout") {
        return url.to_owned();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{joiner}keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=3\
         &tcp_user_timeout=10000"
    )
}

/// A new connection to `database`.
pub fn establish(database: &Database) -> ConnectionResult<DbConn> {
    match database {
        Database::Sqlite(path) => {
            let url = path.to_str().ok_or_else(|| {
                diesel::ConnectionError::InvalidConnectionUrl(
                    "the database path is not valid UTF-8".to_owned(),
                )
            })?;
            SqliteConnection::establish(url).map(DbConn::Sqlite)
        }
        Database::Postgres(url) => PgConnection::establish(&with_timeouts(url))
            .map(DbConn::Postgres)
            .map_err(|error| {
                diesel::ConnectionError::BadConnection(database.scrub(&error.to_string()))
            }),
    }
}

/// Connections are not asked whether they still work each time they are taken from the pool
/// (a round trip to PostgreSQL per query): one whose query failed is asked once, on its return,
/// and dropped if it does not answer, so a restarted server costs one failed request per
/// connection at most, then none.
impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let conn = self
            .establish()
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Pooled {
            conn,
            changes: None,
            suspect: false,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        if <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn) {
            return true;
        }
        if std::mem::take(&mut conn.suspect) {
            return conn.batch_execute("SELECT 1").is_err();
        }
        false
    }
}

/// Settings every pooled connection gets. On SQLite `busy_timeout` comes first so the others can
/// wait too; on PostgreSQL, timestamps are read and written in UTC whatever the server's zone.
#[derive(Debug)]
pub(super) struct ConnectionSettings;

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        let settings = match conn.kind() {
            Kind::Sqlite => format!(
                "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
            ),
            // A transaction left open (an instance frozen mid-write) must not hold the write lock
            // of every instance for long.
            Kind::Postgres => {
                "SET TIME ZONE 'UTC'; SET idle_in_transaction_session_timeout = '10s'".to_owned()
            }
        };
        conn.batch_execute(&settings)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}
