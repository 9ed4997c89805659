//! The `outbox` table: mail waiting to go out, queued in the same transaction as the change that
//! causes it and delivered by the background sender (`crate::mail`), with retries. Sent mail stays
//! as a record a member's export shows, until the member is deleted.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::schema::outbox;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub user_id: Option<i32>,
    /// What kind of message (welcome, password reset, ...), for the record.
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A queued message.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Message {
    pub id: i32,
    pub user_id: Option<i32>,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub sent_at: Option<PrimitiveDateTime>,
}

impl NewMessage {
    /// Queues the message, due now.
    pub fn queue(&self, conn: &mut DbConn) -> QueryResult<()> {
        let now = super::now();
        diesel::insert_into(outbox::table)
            .values((
                outbox::user_id.eq(self.user_id),
                outbox::kind.eq(self.kind),
                outbox::to_address.eq(&self.to),
                outbox::subject.eq(&self.subject),
                outbox::body_text.eq(&self.text),
                outbox::body_html.eq(&self.html),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }
}

impl Message {
    /// Pending messages due at `now`, oldest first.
    pub fn due(conn: &mut DbConn, now: PrimitiveDateTime, limit: i64) -> QueryResult<Vec<Self>> {
        outbox::table
            .filter(outbox::status.eq(PENDING))
            .filter(outbox::next_attempt_at.le(now))
            .order(outbox::next_attempt_at.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// The earliest time a pending message is due, if any is pending.
    pub fn next_due(conn: &mut DbConn) -> QueryResult<Option<PrimitiveDateTime>> {
        outbox::table
            .filter(outbox::status.eq(PENDING))
            .select(diesel::dsl::min(outbox::next_attempt_at))
            .first(conn)
    }

    /// Claims a due message for one attempt before it is sent: counts the attempt and moves its
    /// next attempt `lease` ahead, in one statement, so that however the attempt ends (sent and
    /// marked, failed, or sent but the mark could not be written) the message goes out at most
    /// once per claim, and another sender (a second instance) cannot claim it meanwhile. False
    /// when it was not due any more.
    pub fn claim(
        conn: &mut DbConn,
        id: i32,
        now: PrimitiveDateTime,
        lease: time::Duration,
    ) -> QueryResult<bool> {
        diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq(PENDING))
                .filter(outbox::next_attempt_at.le(now)),
        )
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(now + lease),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
    }

    /// Records that the message went out, keeping `text` and `html` (the bodies with their
    /// one-time links removed) as the record of it. `false` when the message is gone: its member
    /// deleted their account while it was being sent.
    pub fn mark_sent(conn: &mut DbConn, id: i32, text: &str, html: &str) -> QueryResult<bool> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(SENT),
                outbox::body_text.eq(text),
                outbox::body_html.eq(html),
                outbox::sent_at.eq(super::now()),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)
            .map(|rows| rows > 0)
    }

    /// Records a failed attempt (already counted by its claim): tried again at `retry_at`, or
    /// marked failed for good when `None`.
    pub fn mark_attempt_failed(
        conn: &mut DbConn,
        id: i32,
        error: &str,
        retry_at: Option<PrimitiveDateTime>,
    ) -> QueryResult<()> {
        let status = if retry_at.is_some() { PENDING } else { FAILED };
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(status),
                outbox::last_error.eq(error),
                outbox::next_attempt_at.eq(retry_at.unwrap_or_else(super::now)),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Gives a new member the mail sent to their address before the account existed (the link
    /// that confirmed it), so their export shows it and deleting the account removes it.
    pub fn adopt(conn: &mut DbConn, user_id: i32, address: &str) -> QueryResult<()> {
        diesel::update(
            outbox::table
                .filter(outbox::user_id.is_null())
                .filter(outbox::to_address.eq(address)),
        )
        .set(outbox::user_id.eq(user_id))
        .execute(conn)
        .map(drop)
    }

    /// How many messages wait to go out, and how many were given up.
    pub fn backlog(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
        let count = |status: &str, conn: &mut DbConn| {
            outbox::table
                .filter(outbox::status.eq(status.to_owned()))
                .count()
                .get_result::<i64>(conn)
        };
        Ok((count(PENDING, conn)?, count(FAILED, conn)?))
    }

    /// Every message sent, or to be sent, to a member.
    pub fn for_user(conn: &mut DbConn, user_id: i32) -> QueryResult<Vec<Self>> {
        outbox::table
            .filter(outbox::user_id.eq(user_id))
            .order(outbox::id.asc())
            .select(Self::as_select())
            .load(conn)
    }
}
