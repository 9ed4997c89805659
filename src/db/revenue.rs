//! The publisher's figures of paid memberships: monthly recurring revenue, members by the status
//! of their membership, complimentary grants, and trial sign-ups and conversions per week.

use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::db::DbConn;
use time::{Duration, PrimitiveDateTime};

use super::billing::{ACTIVE, PAST_DUE};
use super::schema::{subscriptions, users};

/// What the site earns, for the dashboard.
#[derive(Debug, Clone, Default)]
pub struct Revenue {
    /// Monthly recurring revenue per currency, in its smallest unit: monthly plans, plus yearly
    /// ones divided by twelve, of subscriptions active or past due.
    pub monthly: Vec<(String, i64)>,
    /// Members' current subscriptions by status.
    pub by_status: Vec<(String, i64)>,
    /// Members with a complimentary grant running.
    pub complimentary: i64,
}

pub fn revenue(conn: &mut DbConn) -> QueryResult<Revenue> {
    let paying: Vec<(String, i32, String)> = subscriptions::table
        .filter(subscriptions::status.eq_any([ACTIVE, PAST_DUE]))
        .select((
            subscriptions::plan_interval,
            subscriptions::amount,
            subscriptions::currency,
        ))
        .load(conn)?;
    let mut monthly: Vec<(String, i64)> = Vec::new();
    for (interval, amount, currency) in paying {
        let share = if interval == "year" {
            i64::from(amount) / 12
        } else {
            i64::from(amount)
        };
        match monthly.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, total)) => *total += share,
            None => monthly.push((currency, share)),
        }
    }
    let by_status = users::table
        .filter(users::paid_status.is_not_null())
        .group_by(users::paid_status)
        .select((users::paid_status, count_star()))
        .load::<(Option<String>, i64)>(conn)?
        .into_iter()
        .filter_map(|(status, n)| Some((status?, n)))
        .collect();
    let now = super::now();
    let complimentary = users::table
        .filter(users::complimentary_since.le(now))
        .filter(
            users::complimentary_until
                .is_null()
                .or(users::complimentary_until.gt(now)),
        )
        .count()
        .get_result(conn)?;
    Ok(Revenue {
        monthly,
        by_status,
        complimentary,
    })
}

/// Trial sign-ups and conversions to paid in each of the `weeks` weeks up to now (oldest first),
/// weeks starting on Monday.
pub fn weekly(conn: &mut DbConn, weeks: i64) -> QueryResult<Vec<(time::Date, i64, i64)>> {
    let today = super::now().date();
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let first = monday - Duration::weeks(weeks - 1);
    let start = PrimitiveDateTime::new(first, time::Time::MIDNIGHT);
    let signups: Vec<PrimitiveDateTime> = users::table
        .filter(users::trial_started_at.ge(start))
        .select(users::trial_started_at.assume_not_null())
        .load(conn)?;
    let conversions: Vec<PrimitiveDateTime> = subscriptions::table
        .filter(subscriptions::converted_at.ge(start))
        .select(subscriptions::converted_at.assume_not_null())
        .load(conn)?;
    let week_of = |at: PrimitiveDateTime| ((at.date() - first).whole_days() / 7) as usize;
    let mut rows: Vec<(time::Date, i64, i64)> = (0..weeks)
        .map(|w| (first + Duration::weeks(w), 0, 0))
        .collect();
    for at in signups {
        if let Some(row) = rows.get_mut(week_of(at)) {
            row.1 += 1;
        }
    }
    for at in conversions {
        if let Some(row) = rows.get_mut(week_of(at)) {
            row.2 += 1;
        }
    }
    Ok(rows)
}
