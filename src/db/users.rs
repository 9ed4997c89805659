//! The `users` table: authors, members, editors and admins share it. Members get a free trial
//! when they sign up; editors and admins read everything.

use diesel::prelude::*;

use crate::db::DbConn;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use time::PrimitiveDateTime;

use super::schema::users;
use crate::domain::{DisplayName, Email, Handle};

pub const MEMBER: &str = "member";
pub const EDITOR: &str = "editor";
pub const ADMIN: &str = "admin";
pub const ACTIVE: &str = "active";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Author {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewAuthor<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub handle: &'a str,
    pub handle_key: &'a str,
    pub role: &'a str,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

impl Author {
    /// Finds the author with this (normalised) email, creating an editor account without a
    /// password when there is none: such an account can be credited on articles but cannot log in.
    pub fn find_or_create(conn: &mut DbConn, email: &str, name: &str) -> QueryResult<Self> {
        let email = email.trim().to_lowercase();
        if let Some(found) = users::table
            .filter(users::email.eq(&email))
            .select(Self::as_select())
            .first(conn)
            .optional()?
        {
            return Ok(found);
        }
        let now = super::now();
        let handle = super::profiles::free_handle(conn, &Handle::from_name(name), None)?;
        diesel::insert_into(users::table)
            .values(NewAuthor {
                email: &email,
                name: name.trim(),
                handle: handle.as_str(),
                handle_key: &handle.key(),
                role: EDITOR,
                created_at: now,
                updated_at: now,
            })
            .returning(
                <Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection(),
            )
            .get_result(conn)
    }
}

/// A person who can log in, as the site sees them on every request. The password hash is read
/// separately, only where a password is checked. Serialisable so that the session store can hand
/// it to the request that loaded it (see `crate::auth::session_store`).
#[derive(
    Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Member {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    pub email_verified_at: Option<PrimitiveDateTime>,
    pub trial_started_at: Option<PrimitiveDateTime>,
    pub trial_ends_at: Option<PrimitiveDateTime>,
    pub trial_reminder_sent_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    /// The status of the member's current paid subscription, as Stripe last reported it.
    #[serde(default)]
    pub paid_status: Option<String>,
    /// The end of the period paid for, with slack: past it, a paid status gives no access.
    #[serde(default)]
    pub paid_until: Option<PrimitiveDateTime>,
    /// While past due, reading goes on until this moment (the publisher's grace period).
    #[serde(default)]
    pub paid_grace_ends_at: Option<PrimitiveDateTime>,
    /// An admin's complimentary grant: since when, and until when (no end: forever).
    #[serde(default)]
    pub complimentary_since: Option<PrimitiveDateTime>,
    #[serde(default)]
    pub complimentary_until: Option<PrimitiveDateTime>,
    /// The address of their page, `/authors/{handle}`.
    #[serde(default)]
    pub handle: String,
}

/// Why a member may read members-only guides, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Staff,
    /// A paid subscription that is trialing or active.
    Paid,
    /// A subscription past due, still read until the end of the grace period.
    Grace(PrimitiveDateTime),
    /// An admin's grant, until a date or forever.
    Complimentary(Option<PrimitiveDateTime>),
    /// The free trial, until its end.
    Trial(PrimitiveDateTime),
    /// None of these holds.
    None,
}

impl Access {
    pub fn reads_members_only(self) -> bool {
        self != Self::None
    }

    /// A name for the audience a page was made for: members' cached pages are kept per audience.
    pub fn audience(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Paid | Self::Grace(_) => "paid",
            Self::Complimentary(_) => "complimentary",
            Self::Trial(_) => "trial",
            Self::None => "none",
        }
    }
}

/// A stored bcrypt hash. Never printed, serialised or logged.
#[derive(Clone)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(redacted)")
    }
}

/// What signing up stores.
#[derive(Debug)]
pub struct NewMember<'a> {
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub password_hash: &'a PasswordHash,
    pub trial_days: i64,
    /// The handle they chose; one is made from their name when they chose none.
    pub handle: Option<&'a Handle>,
    /// False when the address was not confirmed by a mailed link (an account made through the
    /// API): the member is asked to confirm it later.
    pub email_confirmed: bool,
}

/// Why a member could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The email address belongs to another account (the unique index said so).
    #[error("the email address is taken")]
    EmailTaken,
    /// The handle belongs to another person.
    #[error("the handle is taken")]
    HandleTaken,
    #[error(transparent)]
    Database(#[from] DieselError),
}

/// True when a unique violation is the handle's (both databases name the index or column).
fn mentions_handle(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(_, info) => {
            info.message().contains("handle")
                || info.constraint_name().is_some_and(|c| c.contains("handle"))
        }
        _ => false,
    }
}

fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

impl Member {
    /// Editors and admins read everything, whatever their trial.
    pub fn is_staff(&self) -> bool {
        self.role == EDITOR || self.role == ADMIN
    }

    /// True while the trial runs at `now`.
    pub fn trial_active(&self, now: PrimitiveDateTime) -> bool {
        self.trial_ends_at.is_some_and(|end| end > now)
    }

    /// What lets this member read members-only guides at `now`, the first that holds: their
    /// role, a paid subscription (past due: within the grace period), an admin's grant, the trial.
    pub fn access(&self, now: PrimitiveDateTime) -> Access {
        if self.is_staff() {
            return Access::Staff;
        }
        match self.paid_status.as_deref() {
            Some(crate::db::billing::TRIALING | crate::db::billing::ACTIVE)
                if self.paid_until.is_none_or(|until| until > now) =>
            {
                return Access::Paid;
            }
            Some(crate::db::billing::PAST_DUE) => {
                if let Some(until) = self.paid_grace_ends_at.filter(|until| *until > now) {
                    return Access::Grace(until);
                }
            }
            _ => {}
        }
        if self.complimentary_since.is_some_and(|since| since <= now)
            && self.complimentary_until.is_none_or(|until| until > now)
        {
            return Access::Complimentary(self.complimentary_until);
        }
        match self.trial_ends_at {
            Some(end) if end > now => Access::Trial(end),
            _ => Access::None,
        }
    }

    /// Members-only articles read in full for staff, paying members, members with a grant, and
    /// members whose trial runs.
    pub fn can_read_members_only(&self, now: PrimitiveDateTime) -> bool {
        self.access(now).reads_members_only()
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Self>> {
        users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_email(conn: &mut DbConn, email: &Email) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::email.eq(email.as_str()))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The member with this email and their password hash, if they have one.
    pub fn with_password(
        conn: &mut DbConn,
        email: &Email,
    ) -> QueryResult<Option<(Self, Option<PasswordHash>)>> {
        let found: Option<(Self, Option<String>)> = users::table
            .filter(users::email.eq(email.as_str()))
            .select((Self::as_select(), users::password_hash))
            .first(conn)
            .optional()?;
        Ok(found.map(|(member, hash)| (member, hash.map(PasswordHash))))
    }

    pub fn password_hash(conn: &mut DbConn, id: i32) -> QueryResult<Option<PasswordHash>> {
        users::table
            .find(id)
            .select(users::password_hash)
            .first::<Option<String>>(conn)
            .map(|hash| hash.map(PasswordHash))
    }

    /// Creates a member whose trial starts now, with the address confirmed (a sign-up becomes an
    /// account when its emailed link is followed). Two confirmations racing for one address make
    /// one account: the unique index refuses the second, reported as [`AccountError::EmailTaken`].
    pub fn create(conn: &mut DbConn, new: &NewMember<'_>) -> Result<Self, AccountError> {
        let now = super::now();
        let ends = now + time::Duration::days(new.trial_days);
        let handle = match new.handle {
            Some(chosen) if super::profiles::handle_taken(conn, chosen, None)? => {
                return Err(AccountError::HandleTaken);
            }
            Some(chosen) => chosen.clone(),
            None => {
                super::profiles::free_handle(conn, &Handle::from_name(new.name.as_str()), None)?
            }
        };
        super::profiles::claim(conn, &handle)?;
        diesel::insert_into(users::table)
            .values((
                users::email.eq(new.email.as_str()),
                users::name.eq(new.name.as_str()),
                users::handle.eq(handle.as_str()),
                users::handle_key.eq(handle.key()),
                users::password_hash.eq(&new.password_hash.0),
                users::role.eq(MEMBER),
                users::status.eq(ACTIVE),
                users::email_verified_at.eq(new.email_confirmed.then_some(now)),
                users::trial_started_at.eq(now),
                users::trial_ends_at.eq(ends),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .returning(
                <Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection(),
            )
            .get_result(conn)
            .map_err(|error| {
                if is_unique_violation(&error) && mentions_handle(&error) {
                    AccountError::HandleTaken
                } else if is_unique_violation(&error) {
                    AccountError::EmailTaken
                } else {
                    AccountError::Database(error)
                }
            })
    }

    pub fn set_name(conn: &mut DbConn, id: i32, name: &DisplayName) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::name.eq(name.as_str()),
                users::updated_at.eq(super::now()),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Moves the account to a new, confirmed address.
    pub fn set_email(conn: &mut DbConn, id: i32, email: &Email) -> Result<(), AccountError> {
        let now = super::now();
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(email.as_str()),
                users::email_verified_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(drop)
            .map_err(|error| {
                if is_unique_violation(&error) {
                    AccountError::EmailTaken
                } else {
                    AccountError::Database(error)
                }
            })
    }

    pub fn set_password_hash(conn: &mut DbConn, id: i32, hash: &PasswordHash) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(&hash.0),
                users::updated_at.eq(super::now()),
            ))
            .execute(conn)
            .map(drop)
    }

    pub fn mark_email_verified(conn: &mut DbConn, id: i32) -> QueryResult<()> {
        let now = super::now();
        diesel::update(
            users::table
                .find(id)
                .filter(users::email_verified_at.is_null()),
        )
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
    }

    /// Members whose trial ends within `days` of `now` and who have not had the reminder yet.
    pub fn due_trial_reminder(
        conn: &mut DbConn,
        now: PrimitiveDateTime,
        days: i64,
    ) -> QueryResult<Vec<Self>> {
        users::table
            .filter(users::trial_reminder_sent_at.is_null())
            // No mail but the confirmation to an address nobody confirmed (an API sign-up).
            .filter(users::email_verified_at.is_not_null())
            .filter(users::trial_ends_at.gt(now))
            .filter(users::trial_ends_at.le(now + time::Duration::days(days)))
            .filter(users::role.eq(MEMBER))
            .filter(users::status.eq(ACTIVE))
            .select(Self::as_select())
            .load(conn)
    }

    /// Marks the member reminded; false when they already were (another instance got there
    /// first), and then the caller queues nothing.
    pub fn mark_reminded(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
        diesel::update(
            users::table
                .find(id)
                .filter(users::trial_reminder_sent_at.is_null())
                // No mail but the confirmation to an address nobody confirmed (an API sign-up).
                .filter(users::email_verified_at.is_not_null()),
        )
        .set(users::trial_reminder_sent_at.eq(super::now()))
        .execute(conn)
        .map(|rows| rows == 1)
    }
}

pub const DISABLED: &str = "disabled";

/// The roles, weakest first.
pub const ROLES: [&str; 3] = [MEMBER, EDITOR, ADMIN];
