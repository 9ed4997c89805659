//! The session store behind actix-session: sessions live in the `sessions` table, keyed by the
//! SHA-256 of the random value the cookie carries, so the cookie holds nothing but that value and
//! deleting a row ends the session at once.
//!
//! Loading a session also loads its member (two primary-key reads, on the worker's own connection:
//! see `crate::db::worker`): the member
//! is handed to the request as the `_member` entry of the session state, with `_session` (the
//! row's id), and neither is ever stored. A session whose member was disabled or deleted, or that
//! passed its idle or absolute lifetime, loads as none: the visitor is anonymous. Its last use is
//! written at most once a minute.
//!
//! A loaded session is kept in memory (see [`Recent`]) until the next write to the database, or
//! its next once-a-minute write is due, so a member's following requests cost no read at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;
use diesel::{Connection, QueryResult};

use crate::db::DbConn;

use crate::db::cache::ContentCache;
use crate::db::sessions::{Lifetimes, SessionRow};
use crate::db::users::{ACTIVE, Member};
use crate::db::{self, DbPool};

/// The session cookie's name over plain HTTP...
pub const COOKIE: &str = "guidepost_session";
/// ...and over HTTPS, where the `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and
/// no `Domain`.
pub const SECURE_COOKIE: &str = "__Host-guidepost_session";

/// Session state entries filled in on load and never stored.
pub const MEMBER: &str = "_member";
pub const SESSION_ID: &str = "_session";
/// Stored entries: the member's id, the device and the session's CSRF secret.
pub const USER_ID: &str = "user_id";
pub const DEVICE: &str = "device";
pub const CSRF: &str = "csrf";
/// A message for the next page (see `Visitor::flash`).
pub const FLASH: &str = "flash";

/// How often a session's last use is written, at most.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// At most this many sessions are kept in memory; past it the stale ones are dropped, then all.
const RECENT_SESSIONS: usize = 4096;

pub struct DbSessionStore {
    pool: DbPool,
    cache: Arc<ContentCache>,
    /// The database file, for the worker's own read connection (see `db::worker`).
    database: crate::db::Database,
    recent: Recent,
}

impl DbSessionStore {
    /// The store; sessions it loaded are kept until the next write counted in `pool`'s
    /// [`crate::db::writes::Writes`].
    pub fn new(pool: DbPool, cache: Arc<ContentCache>, database: crate::db::Database) -> Self {
        Self {
            pool,
            cache,
            database,
            recent: Recent::default(),
        }
    }
}

/// Sessions as loaded, by key hash, each with the write count it was read at (see
/// [`crate::db::writes`]) and the time until which it may be used without reading it again: its
/// next once-a-minute write, or its end if sooner. Any write to the database makes every copy
/// stale, so logging out, a password change, disabling or deleting a member, a changed role or
/// trial and changed settings all count from the next request.
#[derive(Default)]
struct Recent {
    sessions: Mutex<HashMap<String, Arc<Loaded>>>,
    /// When each session's last use was last written (or tried to be): at most once a minute,
    /// even when writing fails.
    touched: Mutex<HashMap<String, time::PrimitiveDateTime>>,
}

struct Loaded {
    writes: u64,
    fresh_until: time::PrimitiveDateTime,
    state: HashMap<String, String>,
}

impl Recent {
    /// True when the session's last use should be written now: no attempt in the last minute.
    fn should_touch(&self, hash: &str, now: time::PrimitiveDateTime) -> bool {
        let Ok(mut touched) = self.touched.lock() else {
            return false;
        };
        if touched.get(hash).is_some_and(|at| now - *at < TOUCH_EVERY) {
            return false;
        }
        if touched.len() >= RECENT_SESSIONS {
            touched.retain(|_, at| now - *at < TOUCH_EVERY);
            if touched.len() >= RECENT_SESSIONS {
                touched.clear();
            }
        }
        touched.insert(hash.to_owned(), now);
        true
    }

    fn get(&self, hash: &str, writes: u64, now: time::PrimitiveDateTime) -> Option<Arc<Loaded>> {
        let sessions = self.sessions.lock().ok()?;
        sessions
            .get(hash)
            .filter(|loaded| loaded.writes == writes && now < loaded.fresh_until)
            .cloned()
    }

    fn put(&self, hash: String, loaded: Loaded, writes: u64) {
        let Ok(mut sessions) = self.sessions.lock() else {
            return;
        };
        if sessions.len() >= RECENT_SESSIONS {
            let now = db::now();
            sessions.retain(|_, kept| kept.writes == writes && now < kept.fresh_until);
            if sessions.len() >= RECENT_SESSIONS {
                sessions.clear();
            }
        }
        sessions.insert(hash, Arc::new(loaded));
    }
}

/// The live session with this key hash and its active member, if any, and whether its last use
/// should be written now.
fn find_session(
    conn: &mut DbConn,
    cache: &ContentCache,
    hash: &str,
) -> QueryResult<Option<(SessionRow, Member, bool)>> {
    let settings = cache.settings(conn)?;
    let now = db::now();
    let Some(row) = SessionRow::find_live(conn, hash, now, Lifetimes::from_settings(&settings))?
    else {
        return Ok(None);
    };
    let Some(member) = Member::find(conn, row.user_id)?.filter(|m| m.status == ACTIVE) else {
        return Ok(None);
    };
    let touch = now - row.last_seen_at >= TOUCH_EVERY;
    Ok(Some((row, member, touch)))
}

/// The state as stored: without the entries filled in on load.
fn stored(state: &HashMap<String, String>) -> String {
    let kept: HashMap<&String, &String> =
        state.iter().filter(|(k, _)| !k.starts_with('_')).collect();
    serde_json::to_string(&kept).unwrap_or_else(|_| "{}".to_owned())
}

fn user_id(state: &HashMap<String, String>) -> Option<i32> {
    state.get(USER_ID).and_then(|v| v.parse().ok())
}

fn device(state: &HashMap<String, String>) -> String {
    state
        .get(DEVICE)
        .and_then(|v| serde_json::from_str::<String>(v).ok())
        .unwrap_or_else(|| "A browser on an unknown system".to_owned())
}

impl SessionStore for DbSessionStore {
    /// A session kept in memory since no write (see [`Recent`]), or else read on the worker's own
    /// connection (two primary-key reads that cannot wait on the write lock; measured in
    /// docs/benchmarks.md), falling back to the pool when SQLite is busy; the once-a-minute write
    /// of its last use goes through the pool.
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let hash = super::token_hash(key.as_ref());
        // Counted before reading: a write that lands while this read runs makes the copy stale.
        let writes_before = self.pool.writes().count();
        if let Some(loaded) = self.recent.get(&hash, writes_before, db::now()) {
            return Ok(Some(loaded.state.clone()));
        }
        let failed =
            |error: String| LoadError::Other(anyhow::anyhow!("cannot load the session: {error}"));
        // One read transaction for the three reads: one lock of the WAL index instead of three.
        let found = match db::worker::read_here(&self.database, |conn| {
            conn.transaction(|conn| find_session(conn, &self.cache, &hash))
        }) {
            Some(found) => found.map_err(|error| failed(error.to_string()))?,
            None => {
                let cache = Arc::clone(&self.cache);
                let hash = hash.clone();
                db::run(&self.pool, move |conn| {
                    Ok(find_session(conn, &cache, &hash)?)
                })
                .await
                .map_err(|error| failed(error.to_string()))?
            }
        };
        let Some((row, member, touch)) = found else {
            return Ok(None);
        };
        // The last use is written beside the request, never in its way: when the database cannot
        // be written (a full disk, the lock held elsewhere), the member reads on regardless.
        if touch && self.recent.should_touch(&hash, db::now()) {
            let (id, pool) = (row.id, self.pool.clone());
            actix_web::rt::spawn(async move {
                let written = db::run(&pool, move |conn| {
                    Ok(SessionRow::touch(conn, id, db::now())?)
                })
                .await;
                if let Err(error) = written {
                    tracing::info!("a session's last use was not written: {error}");
                }
            });
        }
        let mut state: HashMap<String, String> =
            serde_json::from_str(&row.state).unwrap_or_default();
        let member = serde_json::to_string(&member).map_err(|error| {
            LoadError::Other(anyhow::anyhow!("cannot pass the member on: {error}"))
        })?;
        state.insert(MEMBER.to_owned(), member);
        state.insert(SESSION_ID.to_owned(), row.id.to_string());
        // Kept until its last use is due to be written again (a touch just made counts as a
        // write, so that copy is stale at once and the next request reads the new time).
        let fresh_until = std::cmp::min(row.last_seen_at + TOUCH_EVERY, row.expires_at);
        self.recent.put(
            hash,
            Loaded {
                writes: writes_before,
                fresh_until,
                state: state.clone(),
            },
            self.pool.writes().count(),
        );
        Ok(Some(state))
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        _ttl: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        let Some(user_id) = user_id(&state) else {
            return Err(SaveError::Other(anyhow::anyhow!(
                "only a member's session is stored"
            )));
        };
        let key = super::random_hex(32);
        let hash = super::token_hash(&key);
        let device = device(&state);
        let stored = stored(&state);
        let cache = Arc::clone(&self.cache);
        db::run(&self.pool, move |conn| {
            let lifetimes = Lifetimes::from_settings(&cache.settings(conn)?);
            Ok(SessionRow::insert(
                conn, &hash, user_id, &stored, &device, lifetimes,
            )?)
        })
        .await
        .map_err(|error| SaveError::Other(anyhow::anyhow!("cannot save the session: {error}")))?;
        SessionKey::try_from(key).map_err(|error| SaveError::Other(error.into()))
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        _ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let hash = super::token_hash(key.as_ref());
        let stored = stored(&state);
        // A session ended while this request ran stays ended: nothing is written for it. What
        // changes here (a message shown once, say) is not worth failing a page for: when the
        // database cannot be written, the page is served all the same.
        let updated = db::run(&self.pool, move |conn| {
            Ok(SessionRow::update_state(conn, &hash, &stored)?)
        })
        .await;
        if let Err(error) = updated {
            tracing::info!("a session's state was not written: {error}");
        }
        Ok(key)
    }

    async fn update_ttl(
        &self,
        _key: &SessionKey,
        _ttl: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        // Lifetimes are enforced from the row's own times on every load.
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = super::token_hash(key.as_ref());
        db::run(&self.pool, move |conn| {
            Ok(SessionRow::delete_by_key(conn, &hash)?)
        })
        .await
        .map_err(|error| anyhow::anyhow!("cannot delete the session: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_filled_in_on_load_are_never_stored() {
        let state = HashMap::from([
            (USER_ID.to_owned(), "7".to_owned()),
            (
                MEMBER.to_owned(),
                "{\"email\":\"ana@example.com\"}".to_owned(),
            ),
            (SESSION_ID.to_owned(), "3".to_owned()),
        ]);
        let stored = stored(&state);
        assert!(stored.contains("user_id") && !stored.contains("ana@example.com"));
        assert_eq!(user_id(&state), Some(7));
    }
}
