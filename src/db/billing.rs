//! Paid memberships as stored: each member's Stripe customer, their subscriptions as Stripe last
//! described them, their payments, the Stripe events already acted on, and admins' complimentary
//! grants. What a member's membership allows is copied onto their `users` row in the transaction
//! that stores a subscription, so the access check on every request reads nothing more.

use diesel::prelude::*;

use crate::db::DbConn;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::schema::{payments, stripe_events, subscriptions, users};

pub const TRIALING: &str = "trialing";
pub const ACTIVE: &str = "active";
pub const PAST_DUE: &str = "past_due";
pub const CANCELED: &str = "canceled";

/// Payment states in `payments`.
pub const PAID: &str = "paid";
pub const FAILED: &str = "failed";

/// A subscription as stored.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = subscriptions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SubscriptionRow {
    #[serde(skip)]
    pub id: i32,
    pub stripe_id: String,
    #[serde(skip)]
    pub user_id: i32,
    pub status: String,
    pub plan_interval: String,
    pub amount: i32,
    pub currency: String,
    pub trial_end: Option<PrimitiveDateTime>,
    pub current_period_end: Option<PrimitiveDateTime>,
    pub cancel_at: Option<PrimitiveDateTime>,
    pub ended_at: Option<PrimitiveDateTime>,
    pub past_due_since: Option<PrimitiveDateTime>,
    pub started_at: PrimitiveDateTime,
    pub converted_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
}

/// Statuses Stripe never moves a subscription out of.
pub fn has_ended(status: &str) -> bool {
    matches!(status, CANCELED | "incomplete_expired")
}

/// How long past its period's end a paid membership still reads, for the renewal's news to come.
pub const PAID_SLACK: Duration = Duration::days(2);

impl SubscriptionRow {
    /// Not ended: it gives access, or may (once paid, or resumed), and it can still charge.
    pub fn is_live(&self) -> bool {
        !has_ended(&self.status)
    }
}

/// A payment as stored.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = payments, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PaymentRow {
    pub stripe_invoice_id: String,
    pub amount: i32,
    pub currency: String,
    pub status: String,
    pub at: PrimitiveDateTime,
}

/// A moment Stripe gave in seconds since the epoch, as stored.
pub fn from_unix(seconds: i64) -> Option<PrimitiveDateTime> {
    let at = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(PrimitiveDateTime::new(at.date(), at.time()))
}

/// A stored moment in seconds since the epoch, as Stripe takes it.
pub fn to_unix(at: PrimitiveDateTime) -> i64 {
    at.assume_utc().unix_timestamp()
}

/// The member's customer at Stripe, if they have one.
pub fn customer_of(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<String>> {
    users::table
        .find(user_id)
        .select(users::stripe_customer_id)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Keeps `customer` as the member's unless they already have one; returns the one kept.
pub fn keep_customer(
    conn: &mut DbConn,
    user_id: i32,
    customer: &str,
) -> QueryResult<Option<String>> {
    super::write_transaction(conn, |conn| {
        diesel::update(
            users::table
                .find(user_id)
                .filter(users::stripe_customer_id.is_null()),
        )
        .set(users::stripe_customer_id.eq(customer))
        .execute(conn)?;
        customer_of(conn, user_id)
    })
}

/// The member's checkout still open at Stripe, if one was opened and not completed.
pub fn open_checkout(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<String>> {
    users::table
        .find(user_id)
        .select(users::stripe_open_checkout)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Keeps `session` as the member's open checkout (`None`: they have none).
pub fn set_open_checkout(
    conn: &mut DbConn,
    user_id: i32,
    session: Option<&str>,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::stripe_open_checkout.eq(session))
        .execute(conn)
        .map(drop)
}

/// Forgets the member's open checkout when it is `session` (it was completed).
pub fn checkout_completed(conn: &mut DbConn, user_id: i32, session: &str) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::stripe_open_checkout.eq(session)),
    )
    .set(users::stripe_open_checkout.eq(None::<String>))
    .execute(conn)
    .map(drop)
}

/// The member a Stripe customer belongs to.
pub fn member_of_customer(conn: &mut DbConn, customer: &str) -> QueryResult<Option<i32>> {
    users::table
        .filter(users::stripe_customer_id.eq(customer))
        .select(users::id)
        .first(conn)
        .optional()
}

/// True when event `id` was acted on already.
pub fn was_delivered(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        stripe_events::table.filter(stripe_events::id.eq(id)),
    ))
    .get_result(conn)
}

/// Records that event `id` was acted on, in the caller's transaction. False when it already was:
/// the caller then does nothing more.
pub fn first_delivery(conn: &mut DbConn, id: &str, kind: &str) -> QueryResult<bool> {
    let inserted = crate::on_backend!(conn, c => diesel::insert_into(stripe_events::table)
        .values((
            stripe_events::id.eq(id),
            stripe_events::kind.eq(kind),
            stripe_events::received_at.eq(super::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// A subscription as read back from Stripe, to store.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    pub stripe_id: &'a str,
    pub user_id: i32,
    pub status: &'a str,
    pub interval: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub trial_end: Option<PrimitiveDateTime>,
    pub current_period_end: Option<PrimitiveDateTime>,
    pub cancel_at: Option<PrimitiveDateTime>,
    pub ended_at: Option<PrimitiveDateTime>,
    pub started_at: PrimitiveDateTime,
}

/// Stores a subscription's current state, in the caller's transaction, and what it now allows
/// its member. When it became past due is kept from the first time it was seen so.
pub fn store(conn: &mut DbConn, seen: &Observed<'_>, grace_days: i64) -> QueryResult<()> {
    let now = super::now();
    let before: Option<(String, Option<PrimitiveDateTime>)> = subscriptions::table
        .filter(subscriptions::stripe_id.eq(seen.stripe_id))
        .select((subscriptions::status, subscriptions::past_due_since))
        .first(conn)
        .optional()?;
    // Deliveries read Stripe at different moments and may commit in any order: an ended
    // subscription never ends, so a reading from before its end cannot bring it back.
    if before
        .as_ref()
        .is_some_and(|(status, _)| has_ended(status) && !has_ended(seen.status))
    {
        return Ok(());
    }
    let past_due_since = (seen.status == PAST_DUE)
        .then(|| before.as_ref().and_then(|(_, since)| *since).unwrap_or(now));
    let amount = i32::try_from(seen.amount).unwrap_or(i32::MAX);
    let values = (
        subscriptions::user_id.eq(seen.user_id),
        subscriptions::status.eq(seen.status),
        subscriptions::plan_interval.eq(seen.interval),
        subscriptions::amount.eq(amount),
        subscriptions::currency.eq(seen.currency),
        subscriptions::trial_end.eq(seen.trial_end),
        subscriptions::current_period_end.eq(seen.current_period_end),
        subscriptions::cancel_at.eq(seen.cancel_at),
        subscriptions::ended_at.eq(seen.ended_at),
        subscriptions::past_due_since.eq(past_due_since),
        subscriptions::started_at.eq(seen.started_at),
        subscriptions::updated_at.eq(now),
    );
    if before.is_some() {
        diesel::update(subscriptions::table.filter(subscriptions::stripe_id.eq(seen.stripe_id)))
            .set(values)
            .execute(conn)?;
    } else {
        diesel::insert_into(subscriptions::table)
            .values((subscriptions::stripe_id.eq(seen.stripe_id), values))
            .execute(conn)?;
    }
    refresh_member(conn, seen.user_id, grace_days)
}

/// How much a status counts when choosing a member's current subscription: the one that gives
/// access wins over one that ended.
fn rank(status: &str) -> u8 {
    match status {
        ACTIVE => 0,
        TRIALING => 1,
        PAST_DUE => 2,
        "unpaid" | "incomplete" | "paused" => 3,
        _ => 4,
    }
}

/// The subscription a member's page describes: the one that gives access, else the latest.
pub fn current(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<SubscriptionRow>> {
    let all = for_member(conn, user_id)?;
    Ok(all.into_iter().min_by_key(|s| {
        (
            rank(&s.status),
            std::cmp::Reverse(s.started_at),
            std::cmp::Reverse(s.id),
        )
    }))
}

/// Copies the member's current subscription's state onto their row.
pub fn refresh_member(conn: &mut DbConn, user_id: i32, grace_days: i64) -> QueryResult<()> {
    let current = current(conn, user_id)?;
    let status = current.as_ref().map(|s| s.status.clone());
    let paid_until = current
        .as_ref()
        .and_then(|s| s.current_period_end.or(s.trial_end))
        .map(|end| end + PAID_SLACK);
    // A grace period only for a membership that was paid at least once: a card that never paid
    // earns no free weeks.
    let grace = current
        .as_ref()
        .filter(|s| s.converted_at.is_some())
        .and_then(|s| s.past_due_since)
        .map(|since| since + Duration::days(grace_days));
    diesel::update(users::table.find(user_id))
        .set((
            users::paid_status.eq(status),
            users::paid_until.eq(paid_until),
            users::paid_grace_ends_at.eq(grace),
        ))
        .execute(conn)
        .map(drop)
}

/// After the publisher changed the grace period: the members past due get the new one.
pub fn apply_grace(conn: &mut DbConn, grace_days: i64) -> QueryResult<()> {
    let past_due: Vec<i32> = users::table
        .filter(users::paid_status.eq(PAST_DUE))
        .select(users::id)
        .load(conn)?;
    for id in past_due {
        refresh_member(conn, id, grace_days)?;
    }
    Ok(())
}

pub fn for_member(conn: &mut DbConn, user_id: i32) -> QueryResult<Vec<SubscriptionRow>> {
    subscriptions::table
        .filter(subscriptions::user_id.eq(user_id))
        .order(subscriptions::started_at.desc())
        .select(SubscriptionRow::as_select())
        .load(conn)
}

pub fn payments_of(conn: &mut DbConn, user_id: i32) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::user_id.eq(user_id))
        .order(payments::at.desc())
        .select(PaymentRow::as_select())
        .load(conn)
}

/// A payment, in the caller's transaction. False when this invoice's outcome was already
/// recorded. A first paid invoice with an amount marks its subscription as converted.
pub fn record_payment(
    conn: &mut DbConn,
    user_id: i32,
    invoice: &crate::billing::stripe::Invoice,
    status: &str,
) -> QueryResult<bool> {
    let amount = if status == PAID {
        invoice.amount_paid
    } else {
        invoice.amount_due
    };
    let at = from_unix(invoice.created).unwrap_or_else(super::now);
    let inserted = crate::on_backend!(conn, c => diesel::insert_into(payments::table)
        .values((
            payments::stripe_invoice_id.eq(&invoice.id),
            payments::user_id.eq(user_id),
            payments::subscription_stripe_id.eq(&invoice.subscription),
            payments::amount.eq(i32::try_from(amount).unwrap_or(i32::MAX)),
            payments::currency.eq(&invoice.currency),
            payments::status.eq(status),
            payments::at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if status == PAID
        && amount > 0
        && let Some(subscription) = &invoice.subscription
    {
        diesel::update(
            subscriptions::table
                .filter(subscriptions::stripe_id.eq(subscription))
                .filter(subscriptions::converted_at.is_null()),
        )
        .set(subscriptions::converted_at.eq(at))
        .execute(conn)?;
    }
    Ok(inserted == 1)
}

/// Gives complimentary access from now, until `until` or forever.
pub fn grant(
    conn: &mut DbConn,
    user_id: i32,
    until: Option<PrimitiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((
            users::complimentary_since.eq(super::now()),
            users::complimentary_until.eq(until),
        ))
        .execute(conn)
}

pub fn end_grant(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((
            users::complimentary_since.eq(None::<PrimitiveDateTime>),
            users::complimentary_until.eq(None::<PrimitiveDateTime>),
        ))
        .execute(conn)
}
