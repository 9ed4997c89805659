//! What a member's page says of their membership: the state of their subscription in words, the
//! plans they may choose, the way to Stripe's portal, and whether deleting the account cancels.

use super::billing::offered;
use crate::billing::{Offer, money};
use crate::db::billing::{self as billing_db, SubscriptionRow};
use crate::db::settings::SiteSettings;
use crate::db::users::{Access, Member};
use crate::db::{self};
use crate::error::AppError;
use crate::views::AppState;
use crate::views::format::date_label;

/// What the account page says about a member's membership.
pub struct MembershipView {
    /// The state in words: "Trial until 9 December 2026, then 9.00 € a month." and the like.
    pub status: Vec<String>,
    /// The plans to choose from, when the member has no membership running.
    pub offers: Vec<Offer>,
    /// Stripe's customer portal is open to them (card, invoices, cancelling).
    pub manage: bool,
    /// Their last payment failed.
    pub payment_failed: bool,
    /// Deleting the account cancels a subscription at Stripe.
    pub cancels_on_delete: bool,
}

impl MembershipView {
    /// Nothing to say: payments are off and the member never had a membership or grant.
    pub fn is_empty(&self) -> bool {
        self.status.is_empty() && self.offers.is_empty() && !self.manage
    }
}

/// The membership section of `member`'s account page.
pub async fn membership(
    state: &AppState,
    settings: &SiteSettings,
    member: &Member,
) -> Result<MembershipView, AppError> {
    let id = member.id;
    let (current, customer) = db::run(&state.pool, move |conn| {
        Ok((
            billing_db::current(conn, id)?,
            billing_db::customer_of(conn, id)?,
        ))
    })
    .await?;
    let now = db::now();
    let offered = offered(state, settings);
    let mut status = Vec::new();
    if let Some(subscription) = &current {
        status.push(describe(subscription, member));
    }
    match member.access(now) {
        Access::Complimentary(Some(until)) => {
            status.push(format!("Complimentary access until {}.", date_label(until)))
        }
        Access::Complimentary(None) => status.push("Complimentary access.".to_owned()),
        _ => {}
    }
    let live = current.as_ref().is_some_and(SubscriptionRow::is_live);
    Ok(MembershipView {
        offers: match &offered {
            Some((_, plans)) if !live && !member.is_staff() => plans.offers(),
            _ => Vec::new(),
        },
        manage: offered.is_some() && customer.is_some(),
        payment_failed: current
            .as_ref()
            .is_some_and(|s| s.status == billing_db::PAST_DUE || s.status == "unpaid"),
        cancels_on_delete: live,
        status,
    })
}

/// A subscription's state in words.
pub fn describe(subscription: &SubscriptionRow, member: &Member) -> String {
    let price = money::plan_price(
        i64::from(subscription.amount),
        &subscription.currency,
        &subscription.plan_interval,
    );
    let day = |at: Option<time::PrimitiveDateTime>| at.map(date_label).unwrap_or_default();
    match subscription.status.as_str() {
        _ if subscription.cancel_at.is_some() && subscription.is_live() => format!(
            "{price}; cancels on {}. Members-only guides read in full until then.",
            day(subscription.cancel_at)
        ),
        billing_db::TRIALING => {
            format!("Trial until {}, then {price}.", day(subscription.trial_end))
        }
        billing_db::ACTIVE => format!(
            "{price}; next payment {}.",
            day(subscription.current_period_end)
        ),
        billing_db::PAST_DUE => match member.paid_grace_ends_at {
            Some(until) => format!(
                "{price}: payment failed — update your card. Members-only guides stay open until {}.",
                date_label(until)
            ),
            None => format!("{price}: payment failed — update your card."),
        },
        "unpaid" => format!("{price}: unpaid — update your card to read again."),
        "incomplete" => format!("{price}: waiting for your first payment."),
        _ => format!(
            "Your {} membership ended on {}.",
            if subscription.plan_interval == "year" {
                "yearly"
            } else {
                "monthly"
            },
            day(subscription.ended_at.or(Some(subscription.updated_at)))
        ),
    }
}
