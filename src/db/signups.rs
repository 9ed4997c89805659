//! The `pending_signups` table: sign-ups waiting for their address to be confirmed. The account is
//! made only when the emailed link is followed, so the answer to a sign-up is the same whether or
//! not the address has an account, and nobody can start an account on an address they do not
//! read. Each sign-up keeps its own link and password: a link opened works for the sign-up that
//! sent it, never for a later one made by someone else.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::schema::pending_signups;
use super::users::PasswordHash;
use crate::domain::{DisplayName, Email};

/// How long a sign-up waits for its link to be followed.
pub const VALID_FOR: time::Duration = time::Duration::hours(24);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pending_signups, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PendingSignup {
    pub id: i32,
    pub email: String,
    pub name: String,
    password_hash: String,
    pub next_path: String,
    pub expires_at: PrimitiveDateTime,
}

impl PendingSignup {
    /// Stores a sign-up whose link carries the token hashed as `token_hash`.
    pub fn create(
        conn: &mut DbConn,
        token_hash: &str,
        email: &Email,
        name: &DisplayName,
        hash: &PasswordHash,
        next_path: &str,
    ) -> QueryResult<()> {
        let now = super::now();
        diesel::insert_into(pending_signups::table)
            .values((
                pending_signups::token_hash.eq(token_hash),
                pending_signups::email.eq(email.as_str()),
                pending_signups::name.eq(name.as_str()),
                pending_signups::password_hash.eq(&hash.0),
                pending_signups::next_path.eq(next_path),
                pending_signups::created_at.eq(now),
                pending_signups::expires_at.eq(now + VALID_FOR),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The unexpired sign-up whose link carries this token.
    pub fn find_valid(
        conn: &mut DbConn,
        token_hash: &str,
        now: PrimitiveDateTime,
    ) -> QueryResult<Option<Self>> {
        pending_signups::table
            .filter(pending_signups::token_hash.eq(token_hash))
            .filter(pending_signups::expires_at.gt(now))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn password_hash(&self) -> PasswordHash {
        PasswordHash(self.password_hash.clone())
    }

    /// Forgets one pending sign-up (its confirmation was tried too often).
    pub fn forget(conn: &mut DbConn, id: i32) -> QueryResult<()> {
        diesel::delete(pending_signups::table.find(id))
            .execute(conn)
            .map(drop)
    }

    /// Forgets every pending sign-up of an address (one was confirmed, or the account exists).
    pub fn forget_address(conn: &mut DbConn, email: &str) -> QueryResult<usize> {
        diesel::delete(pending_signups::table.filter(pending_signups::email.eq(email)))
            .execute(conn)
    }

    /// Removes sign-ups whose link expired before `before`.
    pub fn sweep(conn: &mut DbConn, before: PrimitiveDateTime) -> QueryResult<usize> {
        diesel::delete(pending_signups::table.filter(pending_signups::expires_at.lt(before)))
            .execute(conn)
    }
}
