//! A member's paid membership: choosing a plan (`POST /account/subscribe`, which opens Stripe's
//! hosted Checkout), the page Checkout returns to (`GET /account/subscribed`), and Stripe's
//! customer portal (`POST /account/billing`). What a membership allows is granted by Stripe's
//! signed webhook (see [`super::stripe_webhook`]), never by the address a browser returns to.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::account::{flood_check, settings};
use super::account_area::posted;
use super::email_links::MessagePage;
use super::forms::{render_private, see_other};
use crate::auth::Visitor;
use crate::billing::stripe::{NewCheckout, Stripe, is_stripe_id};
use crate::billing::{MIN_TRIAL_LEFT, Plan, Plans};
use crate::db::billing::{self as billing_db, SubscriptionRow, to_unix};
use crate::db::settings::SiteSettings;
use crate::db::users::Member;
use crate::db::{self};
use crate::error::AppError;
use crate::views::AppState;

/// Stripe and the plans, when members can subscribe.
pub fn offered<'a>(state: &'a AppState, settings: &SiteSettings) -> Option<(&'a Stripe, Plans)> {
    Some((state.billing.as_ref()?, settings.plans.clone()?))
}

/// Stripe and the plans, or a 404: these addresses do not exist on a site without payments.
async fn payments(state: &AppState) -> Result<(&Stripe, Plans), AppError> {
    let settings = settings(state).await?;
    offered(state, &settings).ok_or(AppError::NotFound)
}

/// `POST /account/subscribe`: `plan` is monthly or yearly. Makes the member's Stripe customer
/// (once) and a Checkout for the plan, and sends the browser there. With 48 hours or more of the
/// free trial left, the subscription's own trial ends when the free trial would have: the card is
/// taken now and first charged then.
pub async fn subscribe(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, &body)?;
    let (stripe, plans) = payments(&state).await?;
    let Some(plan) = Plan::parse(fields.get("plan")) else {
        visitor.flash("Choose the monthly or the yearly plan.");
        return Ok(see_other("/account#membership"));
    };
    if member.is_staff() {
        visitor.flash("As an editor or administrator you read every guide already.");
        return Ok(see_other("/account#membership"));
    }
    let id = member.id;
    let (current, customer, open) = db::run(&state.pool, move |conn| {
        Ok((
            billing_db::current(conn, id)?,
            billing_db::customer_of(conn, id)?,
            billing_db::open_checkout(conn, id)?,
        ))
    })
    .await?;
    if current.as_ref().is_some_and(SubscriptionRow::is_live) {
        visitor.flash("You are a member already: your membership is below.");
        return Ok(see_other("/account#membership"));
    }
    flood_check(&state.auth.floods.checkout, &format!("member {id}"))?;
    // One checkout at a time: one paid and not yet confirmed stops another, and one still open
    // (another tab, an earlier visit) is ended first, so the member can never pay twice.
    if let Some(open) = open.filter(|open| is_stripe_id(open)) {
        match stripe.checkout_session(&open).await {
            Ok(session) if session.status == "complete" => {
                visitor.flash(
                    "Your payment went through: Stripe is confirming your membership with us, \
                     usually within a minute.",
                );
                return Ok(see_other("/account#membership"));
            }
            Ok(session) if session.status == "open" => {
                stripe.expire_checkout_session(&open).await?;
            }
            Ok(_) => {}
            Err(error) if error.is_missing() => {}
            Err(error) => return Err(error.into()),
        }
    }
    let customer = match customer {
        Some(customer) => customer,
        None => {
            let key = customer_key(&state, &member);
            let made = stripe
                .create_customer(id, &member.email, &member.name, &key)
                .await?;
            db::run(&state.pool, move |conn| {
                Ok(billing_db::keep_customer(conn, id, &made)?)
            })
            .await?
            .ok_or(AppError::NotFound)?
        }
    };
    let now = db::now();
    let trial_end = member
        .trial_ends_at
        .filter(|end| *end - now >= MIN_TRIAL_LEFT)
        .map(to_unix);
    let base = &state.site.base_url;
    let success_url = base.join("/account/subscribed?session_id={CHECKOUT_SESSION_ID}");
    let cancel_url = base.join("/account#membership");
    let session = stripe
        .create_checkout_session(&NewCheckout {
            member_id: id,
            customer: &customer,
            price: plans.price_id(plan),
            success_url: &success_url,
            cancel_url: &cancel_url,
            trial_end,
        })
        .await?;
    let opened = session.id.clone();
    db::run(&state.pool, move |conn| {
        Ok(billing_db::set_open_checkout(conn, id, Some(&opened))?)
    })
    .await?;
    to_stripe(stripe, session.url.as_deref())
}

/// The idempotency key of a member's customer: the same for every click of theirs, and unlike any
/// other site's member of the same number sharing the Stripe account.
fn customer_key(state: &AppState, member: &Member) -> String {
    let seed = format!(
        "customer\n{}\n{}\n{}",
        state.site.base_url,
        member.id,
        to_unix(member.created_at)
    );
    crate::auth::token_hash(&seed)[..40].to_owned()
}

/// A 303 to one of Stripe's hosted pages (only those: never anywhere an answer names).
fn to_stripe(stripe: &Stripe, url: Option<&str>) -> Result<HttpResponse, AppError> {
    let hosted = stripe.settings().hosted_origins();
    let url = url
        .filter(|url| {
            hosted.iter().any(|origin| {
                url.strip_prefix(origin.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .ok_or_else(|| {
            AppError::PaymentProvider(crate::billing::stripe::StripeError::Unreachable {
                operation: "a hosted page".to_owned(),
                cause: anyhow::anyhow!("Stripe gave no address to send the member to"),
            })
        })?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// `GET /account/subscribed?session_id=`: where Checkout returns. Reads the checkout back from
/// Stripe; it must be this member's. Says what happens next; grants nothing itself.
pub async fn subscribed(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let (stripe, _) = payments(&state).await?;
    let session_id = super::query_param(&req, "session_id").unwrap_or_default();
    if !is_stripe_id(&session_id) {
        return Err(AppError::NotFound);
    }
    let id = member.id;
    let customer = db::run(&state.pool, move |conn| {
        Ok(billing_db::customer_of(conn, id)?)
    })
    .await?;
    // A member who never opened a checkout has none to see; asking Stripe is limited per member.
    if customer.is_none() {
        return Err(AppError::NotFound);
    }
    flood_check(&state.auth.floods.checkout, &format!("member {id}"))?;
    let session = match stripe.checkout_session(&session_id).await {
        Ok(session) => session,
        Err(error) if error.is_missing() => return Err(AppError::NotFound),
        Err(error) => return Err(error.into()),
    };
    // Only the member's own checkout: another member's session id reads as no page at all.
    if session.customer != customer {
        return Err(AppError::NotFound);
    }
    let paid = session.status == "complete";
    let (heading, paragraphs) = if !paid {
        (
            "Your membership has not started",
            vec![
                "The payment was not completed, so nothing was charged.".to_owned(),
                "You can choose a plan again from your account whenever you like.".to_owned(),
            ],
        )
    } else {
        let mut paragraphs = vec![if session.payment_status == "no_payment_required" {
            "Thank you: your card is saved, and nothing is charged before your free trial ends."
                .to_owned()
        } else {
            "Thank you: your payment went through.".to_owned()
        }];
        paragraphs.push(match member.paid_status.as_deref() {
            Some(billing_db::ACTIVE | billing_db::TRIALING) => {
                "Your membership is running: every members-only guide reads in full.".to_owned()
            }
            _ => "Stripe is confirming your membership with us; it is usually done within a \
                  minute. Your account page shows it once it is."
                .to_owned(),
        });
        paragraphs.push(
            "You will get a receipt from Stripe by email. Your account page shows your plan, \
             the next payment, and a way to change your card or cancel."
                .to_owned(),
        );
        ("Welcome aboard", paragraphs)
    };
    let mut page =
        MessagePage::new(&state, &visitor, "/account/subscribed", heading, paragraphs).await?;
    page.links = vec![
        ("/account#membership", "Your account"),
        ("/articles", "Read the guides"),
    ];
    render_private(&page, StatusCode::OK)
}

/// `POST /account/billing`: sends the member to Stripe's customer portal.
pub async fn portal(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, _) = posted(&visitor, &body)?;
    let (stripe, _) = payments(&state).await?;
    let id = member.id;
    let Some(customer) = db::run(&state.pool, move |conn| {
        Ok(billing_db::customer_of(conn, id)?)
    })
    .await?
    else {
        visitor.flash("You have no membership to manage yet: choose a plan below.");
        return Ok(see_other("/account#membership"));
    };
    flood_check(&state.auth.floods.checkout, &format!("member {id}"))?;
    let url = stripe
        .portal_session(&customer, &state.site.base_url.join("/account#membership"))
        .await?;
    to_stripe(stripe, Some(&url))
}

/// Before member `id`'s account is deleted: cancels at Stripe, at once, every subscription of
/// theirs that has not ended, then deletes their Stripe customer, so no checkout left open can be
/// paid later. `Ok(Err(message))` when it cannot be done and the account must stay.
pub async fn cancel_before_deletion(
    state: &AppState,
    id: i32,
) -> Result<Result<(), &'static str>, AppError> {
    let (subscriptions, customer) = db::run(&state.pool, move |conn| {
        Ok((
            billing_db::for_member(conn, id)?,
            billing_db::customer_of(conn, id)?,
        ))
    })
    .await?;
    let live: Vec<SubscriptionRow> = subscriptions
        .into_iter()
        .filter(SubscriptionRow::is_live)
        .collect();
    if live.is_empty() && customer.is_none() {
        return Ok(Ok(()));
    }
    let Some(stripe) = state.billing.as_ref() else {
        if live.is_empty() {
            return Ok(Ok(()));
        }
        return Ok(Err(
            "The paid membership could not be cancelled: payments are switched off on this site \
             just now. Nothing was deleted; please write to the site's publisher.",
        ));
    };
    for subscription in live {
        match stripe.cancel_subscription(&subscription.stripe_id).await {
            Ok(()) => {}
            Err(error) if error.is_missing() => {}
            Err(error) => return Err(error.into()),
        }
        tracing::info!(
            member = id,
            "cancelled a subscription before deleting its member"
        );
    }
    if let Some(customer) = customer {
        match stripe.delete_customer(&customer).await {
            Ok(()) => {}
            Err(error) if error.is_missing() => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Ok(()))
}
