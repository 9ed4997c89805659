//! `POST /stripe/webhook`: Stripe's signed events. The signature is checked on the raw body before
//! anything parses it (400 when it does not check out). Each event's id is stored in the
//! transaction of its effect, so a repeated delivery does nothing. Events may arrive in any order,
//! so an event about a subscription never trusts its own copy of it: the subscription is read
//! back from Stripe and its current state stored. Event types Guidepost does not use get a 200.
//! A failure on our side answers 500, and Stripe delivers the event again later.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::billing::stripe::{CheckoutSession, Invoice, Stripe, Subscription, is_stripe_id};
use crate::billing::{EVENTS, money, signature};
use crate::db::billing::{self as billing_db, Observed, from_unix};
use crate::db::users::Member;
use crate::db::{self};
use crate::error::AppError;
use crate::mail::messages;
use crate::views::AppState;

/// The largest delivery read (Stripe's events are a few kilobytes; invoices with many lines more).
pub const BODY_LIMIT: usize = 256 * 1024;

fn answer(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(serde_json::json!({ "message": message }).to_string())
}

/// `POST /stripe/webhook`.
pub async fn receive(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(stripe) = state.billing.as_ref() else {
        return answer(StatusCode::NOT_FOUND, "payments are off on this site");
    };
    let Some(secret) = stripe.settings().webhook_secret.as_ref() else {
        tracing::warn!("a Stripe delivery was refused: no webhook secret is configured");
        return answer(StatusCode::BAD_REQUEST, "no webhook secret is configured");
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = req
        .headers()
        .get("Stripe-Signature")
        .map(|value| value.as_bytes());
    if let Err(problem) = signature::verify(secret.expose(), header, &body, now) {
        tracing::warn!("a Stripe delivery was refused: {problem}");
        crate::metrics::refusal("stripe_signature");
        return answer(StatusCode::BAD_REQUEST, "the signature does not check out");
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return answer(StatusCode::BAD_REQUEST, "the event is not JSON");
    };
    let (Some(id), Some(kind)) = (
        event.get("id").and_then(Value::as_str),
        event.get("type").and_then(Value::as_str),
    ) else {
        return answer(StatusCode::BAD_REQUEST, "the event has no id or type");
    };
    if !EVENTS.contains(&kind) {
        return answer(StatusCode::OK, "not an event this site uses");
    }
    if !is_stripe_id(id) {
        return answer(StatusCode::BAD_REQUEST, "the event's id is not Stripe's");
    }
    let object = event
        .pointer("/data/object")
        .cloned()
        .unwrap_or(Value::Null);
    match handle(&state, stripe, id, kind, &object).await {
        Ok(()) => answer(StatusCode::OK, "received"),
        Err(error) => {
            tracing::error!(
                event = id,
                kind,
                "a Stripe event could not be acted on: {error}"
            );
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not acted on; deliver it again later",
            )
        }
    }
}

/// What an event needs read back before its transaction.
async fn handle(
    state: &AppState,
    stripe: &Stripe,
    id: &str,
    kind: &str,
    object: &Value,
) -> Result<(), AppError> {
    let invoice = kind
        .starts_with("invoice.")
        .then(|| Invoice::read(object))
        .flatten();
    let checkout = (kind == "checkout.session.completed").then(|| CheckoutSession::read(object));
    let subscription_id = match kind {
        "checkout.session.completed" => checkout.as_ref().and_then(|c| c.subscription.clone()),
        k if k.starts_with("customer.subscription.") => {
            object.get("id").and_then(Value::as_str).map(str::to_owned)
        }
        _ => invoice.as_ref().and_then(|i| i.subscription.clone()),
    };
    let event_id = id.to_owned();
    let seen = db::run(&state.pool, move |conn| {
        Ok(billing_db::was_delivered(conn, &event_id)?)
    })
    .await?;
    if seen {
        return Ok(());
    }
    let subscription = match subscription_id.filter(|id| is_stripe_id(id)) {
        Some(sub) => Some(stripe.subscription(&sub).await?),
        None => None,
    };
    let event = Event {
        id: id.to_owned(),
        kind: kind.to_owned(),
        subscription,
        invoice,
        checkout,
    };
    let cache = std::sync::Arc::clone(&state.cache);
    let account_url = state.site.base_url.join("/account#membership");
    let queued = db::run(&state.pool, move |conn| {
        let settings = cache.settings(conn)?;
        db::write_transaction(conn, |conn| {
            let product = settings.plans.as_ref().map(|p| p.product.as_str());
            event.apply(
                conn,
                settings.grace_days,
                product,
                &settings.site_title,
                &account_url,
            )
        })
    })
    .await?;
    if queued {
        state.mail.notify_one();
    }
    Ok(())
}

/// An event with what was read back for it.
struct Event {
    id: String,
    kind: String,
    subscription: Option<Subscription>,
    invoice: Option<Invoice>,
    checkout: Option<CheckoutSession>,
}

impl Event {
    /// The event's effect, in the caller's transaction; true when mail was queued.
    fn apply(
        &self,
        conn: &mut crate::db::DbConn,
        grace_days: i64,
        product: Option<&str>,
        site_name: &str,
        account_url: &str,
    ) -> Result<bool, AppError> {
        if !billing_db::first_delivery(conn, &self.id, &self.kind)? {
            return Ok(false);
        }
        let Some(member) = self.member(conn)? else {
            tracing::info!(event = %self.id, "a Stripe event about no member of this site");
            return Ok(false);
        };
        let ours = |sub: &&Subscription| product.is_some() && sub.product.as_deref() == product;
        if let Some(sub) = self.subscription.as_ref().filter(ours) {
            let start = from_unix(sub.start_date).unwrap_or_else(db::now);
            billing_db::store(
                conn,
                &Observed {
                    stripe_id: &sub.id,
                    user_id: member.id,
                    status: &sub.status,
                    interval: &sub.interval,
                    amount: sub.amount,
                    currency: &sub.currency,
                    trial_end: sub.trial_end.and_then(from_unix),
                    current_period_end: sub.current_period_end.and_then(from_unix),
                    cancel_at: sub.cancel_at.and_then(from_unix),
                    ended_at: sub.ended_at.and_then(from_unix),
                    started_at: start,
                },
                grace_days,
            )?;
        }
        if let Some(checkout) = &self.checkout {
            billing_db::checkout_completed(conn, member.id, &checkout.id)?;
        }
        let mut queued = false;
        match (self.kind.as_str(), &self.invoice) {
            ("invoice.paid", Some(invoice)) => {
                billing_db::record_payment(conn, member.id, invoice, billing_db::PAID)?;
                // A first payment makes the member a paying one, which a grace period needs.
                billing_db::refresh_member(conn, member.id, grace_days)?;
            }
            ("invoice.payment_failed", Some(invoice)) => {
                let first =
                    billing_db::record_payment(conn, member.id, invoice, billing_db::FAILED)?;
                if first {
                    let amount = money::format_amount(invoice.amount_due, &invoice.currency);
                    messages::payment_failed(site_name, &member, &amount, grace_days, account_url)
                        .queue(conn)?;
                    queued = true;
                }
            }
            ("customer.subscription.trial_will_end", _) => {
                if let Some(sub) = self.subscription.as_ref().filter(ours)
                    && sub.status == billing_db::TRIALING
                    && let Some(end) = sub.trial_end.and_then(from_unix)
                {
                    let price = money::plan_price(sub.amount, &sub.currency, &sub.interval);
                    messages::paid_trial_ending(site_name, &member, end, &price, account_url)
                        .queue(conn)?;
                    queued = true;
                }
            }
            _ => {}
        }
        Ok(queued)
    }

    /// The member the event is about: the one whose Stripe customer it names. Guidepost makes a
    /// member's customer before their first checkout, so every event of theirs names it; an event
    /// about any other customer (another site's on the same Stripe account, a payment link's) is
    /// about no member here, whatever its metadata says.
    fn member(&self, conn: &mut crate::db::DbConn) -> Result<Option<Member>, AppError> {
        let customer = self
            .subscription
            .as_ref()
            .map(|s| s.customer.clone())
            .or_else(|| self.invoice.as_ref().and_then(|i| i.customer.clone()))
            .or_else(|| self.checkout.as_ref().and_then(|c| c.customer.clone()));
        let Some(customer) = customer else {
            return Ok(None);
        };
        match billing_db::member_of_customer(conn, &customer)? {
            Some(id) => Ok(Member::find(conn, id)?),
            None => Ok(None),
        }
    }
}
