//! What the admin area does with accounts: deleting them with the site's guards (never the last
//! admin, never an author), finding members, changing roles, status and trials, and the figures
//! of the dashboard. The accounts themselves are in [`super::users`].

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::DbConn;
use super::schema::{email_tokens, outbox, sessions, throttle_events, users};
use super::users::{ACTIVE, ADMIN, MEMBER, Member, PasswordHash};
use crate::domain::{DisplayName, Email};
use diesel::result::Error as DieselError;

/// Why an account could not be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeletable {
    /// There is no such account (any more).
    Gone,
    /// It is the last active admin: the site needs one.
    LastAdmin,
    /// Its name is on articles, which need another author first.
    Author,
}

impl Member {
    /// Every account, newest first, for `guidepost users list`.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        users::table
            .order(users::id.desc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Removes the member and everything personal hanging off them, in the caller's
    /// transaction: sessions, one-time tokens and mail, the throttle entries counted against their
    /// address (`throttle_key` is the HMAC those entries are keyed by), and what the audit log says
    /// of them. Returns the ids of the mail removed, whose saved copies (see
    /// [`crate::mail::forget_saved`]) go too once this commits.
    pub fn delete(conn: &mut DbConn, id: i32, throttle_key: &str) -> QueryResult<Vec<i32>> {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
        diesel::delete(email_tokens::table.filter(email_tokens::user_id.eq(id))).execute(conn)?;
        let mail = diesel::delete(outbox::table.filter(outbox::user_id.eq(id)))
            .returning(outbox::id)
            .get_results(conn)?;
        diesel::delete(throttle_events::table.filter(throttle_events::key_hash.eq(throttle_key)))
            .execute(conn)?;
        super::audit::forget_member(conn, id)?;
        // Their picture goes with them, and every cached page that showed them or their comments.
        super::profiles::set_image(conn, id, None)?;
        super::changes::content_changed(conn)?;
        diesel::delete(users::table.find(id)).execute(conn)?;
        Ok(mail)
    }

    /// Deletes the account as [`Member::delete`] does, unless it is the last active admin or
    /// an author, checked in the same write transaction as the deletion (so two admins deleting
    /// each other at once cannot leave the site without one). Returns the account as it was and
    /// the ids of the mail removed with it.
    pub fn delete_checked(
        conn: &mut DbConn,
        id: i32,
        throttle_key: &str,
    ) -> QueryResult<Result<(Self, Vec<i32>), Undeletable>> {
        super::write_transaction(conn, |conn| {
            let member = match Self::deletable(conn, id)? {
                Ok(member) => member,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let mail = Self::delete(conn, id, throttle_key)?;
            Ok(Ok((member, mail)))
        })
    }

    /// The member, when their account may be deleted: not the last active admin, not an author.
    /// Checked before a deletion's slow steps too (cancelling at Stripe), and again in its
    /// transaction.
    pub fn deletable(conn: &mut DbConn, id: i32) -> QueryResult<Result<Self, Undeletable>> {
        let Some(member) = Self::find(conn, id)? else {
            return Ok(Err(Undeletable::Gone));
        };
        if member.role == ADMIN && member.status == ACTIVE && Self::count_active_admins(conn)? <= 1
        {
            return Ok(Err(Undeletable::LastAdmin));
        }
        if super::editing::count_by_author(conn, id)? > 0 {
            return Ok(Err(Undeletable::Author));
        }
        Ok(Ok(member))
    }
}

impl Member {
    /// A page of accounts whose name or email contains `search` (all when empty), newest first,
    /// and how many match.
    pub fn search(
        conn: &mut DbConn,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let narrowed = || {
            let mut query = users::table.into_boxed();
            let search = search.trim();
            if !search.is_empty() {
                let pattern = format!(
                    "%{}%",
                    search
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                query = query.filter(
                    users::email
                        .like(pattern.clone())
                        .escape('\\')
                        .or(users::name.like(pattern).escape('\\')),
                );
            }
            query
        };
        let found = narrowed()
            .order(users::id.desc())
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)?;
        Ok((found, narrowed().count().get_result(conn)?))
    }

    pub fn set_role(conn: &mut DbConn, id: i32, role: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((users::role.eq(role), users::updated_at.eq(super::now())))
            .execute(conn)
            .map(drop)
    }

    pub fn set_status(conn: &mut DbConn, id: i32, status: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((users::status.eq(status), users::updated_at.eq(super::now())))
            .execute(conn)
            .map(drop)
    }

    /// Moves the end of a member's trial (starting one if they had none); a new end may earn a
    /// new reminder.
    pub fn set_trial_end(conn: &mut DbConn, id: i32, ends: PrimitiveDateTime) -> QueryResult<()> {
        let now = super::now();
        diesel::update(users::table.find(id))
            .set((
                users::trial_ends_at.eq(ends),
                users::trial_started_at.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
                >(
                    "coalesce(trial_started_at, CURRENT_TIMESTAMP)"
                )),
                users::trial_reminder_sent_at.eq(None::<PrimitiveDateTime>),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Active admins: the last one cannot be demoted, disabled or deleted.
    pub fn count_active_admins(conn: &mut DbConn) -> QueryResult<i64> {
        users::table
            .filter(users::role.eq(ADMIN))
            .filter(users::status.eq(ACTIVE))
            .count()
            .get_result(conn)
    }

    /// Makes an account an admin with this password, creating it when the address is new.
    pub fn make_admin(
        conn: &mut DbConn,
        email: &Email,
        name: &DisplayName,
        hash: &PasswordHash,
    ) -> QueryResult<Self> {
        let now = super::now();
        if let Some(found) = Self::find_by_email(conn, email)? {
            diesel::update(users::table.find(found.id))
                .set((
                    users::role.eq(ADMIN),
                    users::status.eq(ACTIVE),
                    users::name.eq(name.as_str()),
                    users::password_hash.eq(&hash.0),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
        } else {
            let handle = super::profiles::free_handle(
                conn,
                &crate::domain::Handle::from_name(name.as_str()),
                None,
            )?;
            diesel::insert_into(users::table)
                .values((
                    users::email.eq(email.as_str()),
                    users::name.eq(name.as_str()),
                    users::handle.eq(handle.as_str()),
                    users::handle_key.eq(handle.key()),
                    users::password_hash.eq(&hash.0),
                    users::role.eq(ADMIN),
                    users::status.eq(ACTIVE),
                    users::email_verified_at.eq(now),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Self::find_by_email(conn, email)?.ok_or(DieselError::NotFound)
    }
}

/// What the dashboard says about members.
#[derive(Debug, Clone, Default)]
pub struct MemberStats {
    pub active_trials: i64,
    pub ending_this_week: i64,
    pub ended: i64,
    pub members: i64,
}

#[derive(QueryableByName)]
struct SignupDay {
    #[diesel(sql_type = diesel::sql_types::Date)]
    day: time::Date,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl MemberStats {
    pub fn load(conn: &mut DbConn, now: PrimitiveDateTime) -> QueryResult<Self> {
        let members = || users::table.filter(users::role.eq(MEMBER)).into_boxed();
        Ok(Self {
            active_trials: members()
                .filter(users::trial_ends_at.gt(now))
                .count()
                .get_result(conn)?,
            ending_this_week: members()
                .filter(users::trial_ends_at.gt(now))
                .filter(users::trial_ends_at.le(now + time::Duration::days(7)))
                .count()
                .get_result(conn)?,
            ended: members()
                .filter(users::trial_ends_at.le(now))
                .count()
                .get_result(conn)?,
            members: members().count().get_result(conn)?,
        })
    }

    /// Sign-ups per day since `since` (days without any are missing).
    pub fn signups_per_day(
        conn: &mut DbConn,
        since: time::Date,
    ) -> QueryResult<Vec<(time::Date, i64)>> {
        let rows: Vec<SignupDay> = diesel::sql_query(super::connection::placeholders(
            conn.kind(),
            "SELECT date(created_at) AS day, count(*) AS n FROM users \
             WHERE role = 'member' AND created_at >= ? GROUP BY date(created_at) ORDER BY day",
        ))
        .bind::<diesel::sql_types::Date, _>(since)
        .load(conn)?;
        Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
    }
}
