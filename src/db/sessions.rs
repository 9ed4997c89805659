//! The `sessions` table: one row per signed-in device, keyed by the SHA-256 of the random value in
//! its cookie. Deleting a row ends that session at once, on every instance sharing the database.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::schema::sessions;

/// A session as the server keeps it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SessionRow {
    pub id: i32,
    pub user_id: i32,
    pub state: String,
    pub device: String,
    pub created_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

/// A device a member is signed in on, as the account page lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Device {
    pub id: i32,
    pub key_hash: String,
    pub device: String,
    pub created_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
}

/// How long sessions last without use, and at most.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: time::Duration,
    pub absolute: time::Duration,
}

impl Lifetimes {
    /// The lifetimes the settings give.
    pub fn from_settings(settings: &super::settings::SiteSettings) -> Self {
        Self {
            idle: time::Duration::days(settings.session_idle_days),
            absolute: time::Duration::days(settings.session_absolute_days),
        }
    }
}

impl SessionRow {
    /// The live session with this key hash at `now`: not past its absolute end (the one it was
    /// made with, or the one the settings give now, when they were lowered since), and used within
    /// the idle lifetime.
    pub fn find_live(
        conn: &mut DbConn,
        key_hash: &str,
        now: PrimitiveDateTime,
        lifetimes: Lifetimes,
    ) -> QueryResult<Option<Self>> {
        sessions::table
            .filter(sessions::key_hash.eq(key_hash))
            .filter(sessions::expires_at.gt(now))
            .filter(sessions::created_at.gt(now - lifetimes.absolute))
            .filter(sessions::last_seen_at.gt(now - lifetimes.idle))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// True when a session with this key hash exists and has not passed its absolute end.
    pub fn exists(conn: &mut DbConn, key_hash: &str, now: PrimitiveDateTime) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            sessions::table
                .filter(sessions::key_hash.eq(key_hash))
                .filter(sessions::expires_at.gt(now)),
        ))
        .get_result(conn)
    }

    pub fn insert(
        conn: &mut DbConn,
        key_hash: &str,
        user_id: i32,
        state: &str,
        device: &str,
        lifetimes: Lifetimes,
    ) -> QueryResult<()> {
        let now = super::now();
        diesel::insert_into(sessions::table)
            .values((
                sessions::key_hash.eq(key_hash),
                sessions::user_id.eq(user_id),
                sessions::state.eq(state),
                sessions::device.eq(device),
                sessions::created_at.eq(now),
                sessions::last_seen_at.eq(now),
                sessions::expires_at.eq(now + lifetimes.absolute),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Replaces a session's state; returns false when the session no longer exists.
    pub fn update_state(conn: &mut DbConn, key_hash: &str, state: &str) -> QueryResult<bool> {
        diesel::update(sessions::table.filter(sessions::key_hash.eq(key_hash)))
            .set(sessions::state.eq(state))
            .execute(conn)
            .map(|n| n > 0)
    }

    /// Records that the session was used now.
    pub fn touch(conn: &mut DbConn, id: i32, now: PrimitiveDateTime) -> QueryResult<()> {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)
            .map(drop)
    }

    pub fn delete_by_key(conn: &mut DbConn, key_hash: &str) -> QueryResult<()> {
        diesel::delete(sessions::table.filter(sessions::key_hash.eq(key_hash)))
            .execute(conn)
            .map(drop)
    }

    /// Ends every session of a member.
    pub fn delete_all_for(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
    }

    /// Ends every session of a member but the one with row id `keep`.
    pub fn delete_all_but(conn: &mut DbConn, user_id: i32, keep: i32) -> QueryResult<usize> {
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id.ne(keep)),
        )
        .execute(conn)
    }

    /// Ends one of a member's sessions, by its row id; false when it was not theirs or is gone.
    pub fn delete_one(conn: &mut DbConn, user_id: i32, id: i32) -> QueryResult<bool> {
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n > 0)
    }

    /// Removes sessions past either lifetime.
    pub fn sweep(
        conn: &mut DbConn,
        now: PrimitiveDateTime,
        lifetimes: Lifetimes,
    ) -> QueryResult<usize> {
        diesel::delete(
            sessions::table.filter(
                sessions::expires_at
                    .le(now)
                    .or(sessions::created_at.le(now - lifetimes.absolute))
                    .or(sessions::last_seen_at.le(now - lifetimes.idle)),
            ),
        )
        .execute(conn)
    }
}

impl Device {
    /// A member's signed-in devices, most recently used first.
    pub fn for_user(conn: &mut DbConn, user_id: i32) -> QueryResult<Vec<Self>> {
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .order(sessions::last_seen_at.desc())
            .select(Self::as_select())
            .load(conn)
    }
}
