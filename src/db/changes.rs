//! The change feed: how every cache of an instance learns that the data changed, whichever process
//! or instance changed it. Two things are told:
//!
//! - the [`Writes`] count, which goes up after any commit (caches of members' sessions follow it);
//! - the content listener (the page cache), after a commit that changed what pages show, which the
//!   `content_version` row says: triggers raise it with every change to an article, its tags, a
//!   topic or a setting.
//!
//! Each backend has its own way of noticing, in this one place:
//!
//! - SQLite: a read-only connection asks every [`WATCH_EVERY`] for `PRAGMA data_version`, which
//!   moves when any other connection commits, and then reads `content_version`.
//! - PostgreSQL: a connection of its own `LISTEN`s. Triggers on every table send `guidepost_writes`
//!   and the `content_version` trigger `guidepost_content`, delivered when the writing transaction
//!   commits; the connection is read every [`NOTICE_POLL`], and pings itself each second. When it
//!   drops, or a ping does not come back within three seconds, everything is counted as changed
//!   (notices may have been missed) and it connects again.
//!
//! Anything that fails is treated as a change: a cache re-reads, never serves stale data.

use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::Database;
use super::schema::content_version;
use super::writes::{WATCH_EVERY, Writes};

/// How often the PostgreSQL listener reads what the server sent it.
pub const NOTICE_POLL: Duration = Duration::from_millis(10);

/// What a change is told to besides the writes count: `true` while the listener is still there.
pub type ContentListener = Box<dyn Fn(Changed<'_>) -> bool + Send>;

/// What a [`ContentListener`] hears.
#[derive(Debug, Clone, Copy)]
pub enum Changed<'a> {
    /// Anything may have changed.
    Everything,
    /// Only the page at this path changed (its comments, say), announced by [`announce`].
    Page(&'a str),
}

/// Marks the content as changed for every instance and process, in the caller's transaction, for
/// a change the tables' triggers do not see (a person's handle, shown in every byline).
pub fn content_changed(conn: &mut super::DbConn) -> QueryResult<()> {
    diesel::update(content_version::table.find(1))
        .set(content_version::version.eq(content_version::version + 1))
        .execute(conn)?;
    if let super::DbConn::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_notify('guidepost_content', '')").execute(c)?;
    }
    Ok(())
}

/// Tells every other instance, when the caller's transaction commits, that the page at `path`
/// changed on its own (this instance forgets its copy itself). On SQLite, where one process
/// serves the site, there is nobody to tell.
pub fn announce(conn: &mut super::DbConn, path: &str) -> QueryResult<()> {
    if let super::DbConn::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_notify('guidepost_paths', $1)")
            .bind::<diesel::sql_types::Text, _>(path)
            .execute(c)?;
    }
    Ok(())
}

/// Starts the feed for `database` on a thread of its own, for as long as `writes` is in use. The
/// first reading is taken before this returns, so no commit made after it is missed.
pub fn watch(database: &Database, writes: &Arc<Writes>, content: ContentListener) {
    let writes = Arc::downgrade(writes);
    let spawned = match database {
        Database::Sqlite(path) => {
            let url = super::read_only_url(path);
            let mut watcher = SqliteWatcher::connect(&url);
            std::thread::Builder::new()
                .name("database-changes".to_owned())
                .spawn(move || watcher.run(&url, &writes, &content))
        }
        Database::Postgres(url) => {
            let url = url.clone();
            let listener = PgListener::connect(&url);
            std::thread::Builder::new()
                .name("database-changes".to_owned())
                .spawn(move || listener_loop(listener, &url, &writes, &content))
        }
    };
    if let Err(error) = spawned {
        tracing::error!("cannot start watching the database for changes: {error}");
    }
}

fn content_version_of(conn: &mut SqliteConnection) -> QueryResult<i64> {
    content_version::table
        .find(1)
        .select(content_version::version)
        .first(conn)
}

struct SqliteWatcher {
    conn: Option<SqliteConnection>,
    data_version: Option<i64>,
    content_version: Option<i64>,
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

impl SqliteWatcher {
    fn connect(url: &str) -> SqliteWatcher {
        let mut conn = SqliteConnection::establish(url)
            .map_err(|error| tracing::warn!("cannot watch the database: {error}"))
            .ok();
        let data_version = conn.as_mut().and_then(|c| data_version(c).ok());
        let content_version = conn.as_mut().and_then(|c| content_version_of(c).ok());
        SqliteWatcher {
            conn,
            data_version,
            content_version,
        }
    }

    fn run(&mut self, url: &str, writes: &Weak<Writes>, content: &ContentListener) {
        loop {
            std::thread::sleep(WATCH_EVERY);
            let Some(writes) = writes.upgrade() else {
                return;
            };
            if self.conn.is_none() {
                *self = SqliteWatcher::connect(url);
                // Changes may have been missed while disconnected.
                writes.note();
                if !content(Changed::Everything) {
                    return;
                }
            }
            if let Some(conn) = self.conn.as_mut() {
                let read = data_version(conn).and_then(|data| {
                    if self.data_version == Some(data) {
                        return Ok((data, self.content_version));
                    }
                    content_version_of(conn).map(|content| (data, Some(content)))
                });
                match read {
                    Ok((data, content_now)) => {
                        if self.data_version != Some(data) {
                            writes.note();
                        }
                        if self.content_version != content_now && !content(Changed::Everything) {
                            return;
                        }
                        self.data_version = Some(data);
                        self.content_version = content_now;
                    }
                    Err(error) => {
                        tracing::warn!("cannot read the database's version: {error}");
                        self.conn = None;
                    }
                }
            }
            writes.looked();
        }
    }
}

fn data_version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    diesel::sql_query("PRAGMA data_version")
        .get_result::<DataVersion>(conn)
        .map(|row| row.data_version)
}

/// A connection that listens for the two channels.
struct PgListener {
    conn: PgConnection,
    /// The pages announced as changed since the last look (see [`announce`]).
    pages: Vec<String>,
    /// When the ping still awaited was sent.
    ping_sent: Option<std::time::Instant>,
}

impl PgListener {
    fn connect(url: &str) -> Option<PgListener> {
        // Through `establish`: keepalives and a TCP user timeout, and errors without the password.
        let conn = super::establish(&Database::Postgres(url.to_owned()))
            .map_err(|error| tracing::warn!("cannot listen for database changes: {error}"))
            .ok()?;
        let super::DbConn::Postgres(mut conn) = conn else {
            return None;
        };
        conn.batch_execute(
            "LISTEN guidepost_writes; LISTEN guidepost_content; LISTEN guidepost_paths; \
             LISTEN guidepost_ping;",
        )
        .map_err(|error| tracing::warn!("cannot listen for database changes: {error}"))
        .ok()?;
        Some(PgListener {
            conn,
            ping_sent: None,
            pages: Vec::new(),
        })
    }

    /// Whether anything was written, and whether the content changed, since the last call. An
    /// error when the connection is lost, or when the last ping did not come back in time.
    fn news(&mut self) -> QueryResult<(bool, bool)> {
        let (mut wrote, mut content) = (false, false);
        self.pages.clear();
        for notice in self.conn.notifications_iter() {
            let notice = notice?;
            if notice.channel == "guidepost_ping" {
                self.ping_sent = None;
                continue;
            }
            if notice.channel == "guidepost_paths" {
                self.pages.push(notice.payload);
                continue;
            }
            wrote = true;
            content |= notice.channel == "guidepost_content";
        }
        if self
            .ping_sent
            .is_some_and(|sent| sent.elapsed() > PING_LOST)
        {
            return Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                Box::new("the change feed's ping did not come back".to_owned()),
            ));
        }
        Ok((wrote, content))
    }

    /// Sends a ping to itself: it comes back only if notices reach this connection (not through
    /// a pooler that drops them, not over a connection that died without a word).
    fn ping(&mut self) -> QueryResult<()> {
        if self.ping_sent.is_none() {
            self.conn.batch_execute("NOTIFY guidepost_ping")?;
            self.ping_sent = Some(std::time::Instant::now());
        }
        Ok(())
    }
}

/// How long a ping may take to come back before the feed is counted as lost.
const PING_LOST: Duration = Duration::from_secs(3);

fn listener_loop(
    mut listener: Option<PgListener>,
    url: &str,
    writes: &Weak<Writes>,
    content: &ContentListener,
) {
    let mut looks: u64 = 0;
    loop {
        std::thread::sleep(NOTICE_POLL);
        let Some(writes) = writes.upgrade() else {
            return;
        };
        looks += 1;
        let news = match listener.as_mut() {
            // A ping each second finds a connection that died without a word, or that notices
            // no longer reach (its connection has a TCP user timeout: see `super::establish`).
            Some(connected) if looks.is_multiple_of(100) => {
                connected.ping().and_then(|()| connected.news())
            }
            Some(connected) => connected.news(),
            None => {
                listener = PgListener::connect(url);
                if listener.is_none() {
                    std::thread::sleep(Duration::from_secs(1));
                }
                // Notices may have been missed while disconnected: count everything changed.
                Ok((true, true))
            }
        };
        match news {
            Ok((wrote, changed)) => {
                if wrote {
                    writes.note();
                }
                let pages = listener.as_ref().map(|l| l.pages.as_slice()).unwrap_or(&[]);
                if pages.iter().any(|path| !content(Changed::Page(path))) {
                    return;
                }
                if changed && !content(Changed::Everything) {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!("lost the connection that listens for database changes: {error}");
                listener = None;
                writes.note();
                if !content(Changed::Everything) {
                    return;
                }
            }
        }
        writes.looked();
    }
}
