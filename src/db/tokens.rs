//! The `email_tokens` table: one-time links sent by email. Only the SHA-256 of a token is stored;
//! a token works once, before it expires, for its one purpose.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::schema::email_tokens;

pub const VERIFY_EMAIL: &str = "verify_email";
pub const RESET_PASSWORD: &str = "reset_password";
pub const CHANGE_EMAIL: &str = "change_email";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_tokens, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EmailToken {
    pub id: i32,
    pub user_id: i32,
    pub purpose: String,
    pub new_email: Option<String>,
    pub expires_at: PrimitiveDateTime,
}

impl EmailToken {
    /// Stores a token for `purpose`, replacing the member's earlier unused ones for it: only the
    /// newest link works.
    pub fn create(
        conn: &mut DbConn,
        user_id: i32,
        purpose: &str,
        token_hash: &str,
        new_email: Option<&str>,
        valid_for: time::Duration,
    ) -> QueryResult<()> {
        diesel::delete(
            email_tokens::table
                .filter(email_tokens::user_id.eq(user_id))
                .filter(email_tokens::purpose.eq(purpose))
                .filter(email_tokens::used_at.is_null()),
        )
        .execute(conn)?;
        let now = super::now();
        diesel::insert_into(email_tokens::table)
            .values((
                email_tokens::user_id.eq(user_id),
                email_tokens::purpose.eq(purpose),
                email_tokens::token_hash.eq(token_hash),
                email_tokens::new_email.eq(new_email),
                email_tokens::created_at.eq(now),
                email_tokens::expires_at.eq(now + valid_for),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The unused, unexpired token with this hash and purpose.
    pub fn find_valid(
        conn: &mut DbConn,
        token_hash: &str,
        purpose: &str,
        now: PrimitiveDateTime,
    ) -> QueryResult<Option<Self>> {
        email_tokens::table
            .filter(email_tokens::token_hash.eq(token_hash))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Uses the token up; false when another request used it first.
    pub fn consume(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
        diesel::update(
            email_tokens::table
                .find(id)
                .filter(email_tokens::used_at.is_null()),
        )
        .set(email_tokens::used_at.eq(super::now()))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Ends every unused link of a member: their password changed, so a link sent before (an
    /// address change in flight, a reset asked for by someone else) must not act afterwards.
    pub fn forget_unused(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
        diesel::delete(
            email_tokens::table
                .filter(email_tokens::user_id.eq(user_id))
                .filter(email_tokens::used_at.is_null()),
        )
        .execute(conn)
    }

    /// Removes tokens that expired before `before`.
    pub fn sweep(conn: &mut DbConn, before: PrimitiveDateTime) -> QueryResult<usize> {
        diesel::delete(email_tokens::table.filter(email_tokens::expires_at.lt(before)))
            .execute(conn)
    }
}
