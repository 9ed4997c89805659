//! The calls Guidepost makes to Stripe's API, and what it reads from Stripe's answers. Requests
//! are form-encoded as Stripe's API takes them, with the secret key as a bearer token, the pinned
//! API version in `Stripe-Version` and, on every POST, an `Idempotency-Key`, so that a retried
//! call never makes a second customer or checkout. Answers are read as JSON into the few fields
//! Guidepost uses; anything else in them is ignored.

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::StripeSettings;
use super::objects::text;
pub use super::objects::{CheckoutSession, Invoice, Subscription};

/// How long one call to Stripe may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The largest answer read from Stripe.
const ANSWER_LIMIT: usize = 1024 * 1024;

thread_local! {
    /// One client per worker thread, keeping its connections to Stripe alive.
    static CLIENT: awc::Client = awc::Client::builder()
        .timeout(TIMEOUT)
        .disable_redirects()
        .finish();
}

/// What went wrong in a call to Stripe. Its text is for the log: it never holds the secret key.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error (a 4xx or 5xx and its message).
    #[error("Stripe answered {status} to {operation}: {message}")]
    Refused {
        operation: String,
        status: u16,
        code: String,
        message: String,
    },
    /// Stripe could not be reached, or its answer could not be read.
    #[error("cannot reach Stripe for {operation}: {cause:#}")]
    Unreachable {
        operation: String,
        cause: anyhow::Error,
    },
}

impl StripeError {
    /// True when Stripe says the object does not exist.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Refused { code, status, .. } if code == "resource_missing" || *status == 404)
    }
}

/// True for an id Stripe could have made (`cus_…`, `sub_…`, `cs_test_…`): safe in a URL path.
pub fn is_stripe_id(id: &str) -> bool {
    (3..=255).contains(&id.len())
        && id.contains('_')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A Stripe account Guidepost talks to.
#[derive(Debug, Clone)]
pub struct Stripe {
    settings: StripeSettings,
}

/// One form field of a request to Stripe.
type Field = (String, String);

fn field(name: &str, value: impl ToString) -> Field {
    (name.to_owned(), value.to_string())
}

impl Stripe {
    pub fn new(settings: StripeSettings) -> Self {
        Self { settings }
    }

    pub fn settings(&self) -> &StripeSettings {
        &self.settings
    }

    async fn call(
        &self,
        method: awc::http::Method,
        path: &str,
        fields: &[Field],
        idempotency_key: Option<&str>,
    ) -> Result<Value, StripeError> {
        let operation = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let unreachable = |cause: anyhow::Error| StripeError::Unreachable {
            operation: operation.clone(),
            cause,
        };
        let url = format!("{}{path}", self.settings.api_base.trim_end_matches('/'));
        let client = CLIENT.with(awc::Client::clone);
        let mut request = client
            .request(method.clone(), &url)
            .insert_header((
                "Authorization",
                format!("Bearer {}", self.settings.secret_key.expose()),
            ))
            .insert_header(("Stripe-Version", super::API_VERSION));
        if let Some(key) = idempotency_key {
            request = request.insert_header(("Idempotency-Key", key));
        }
        let sent = if method == awc::http::Method::POST {
            let body = serde_urlencoded::to_string(fields)
                .context("cannot encode the request")
                .map_err(unreachable)?;
            request
                .content_type("application/x-www-form-urlencoded")
                .send_body(body)
                .await
        } else {
            request.send().await
        };
        let mut response = sent
            .map_err(|e| anyhow::anyhow!("{e}"))
            .map_err(unreachable)?;
        let status = response.status();
        let body = response
            .body()
            .limit(ANSWER_LIMIT)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .map_err(unreachable)?;
        let value: Value = serde_json::from_slice(&body)
            .context("the answer is not JSON")
            .map_err(unreachable)?;
        if status.is_success() {
            return Ok(value);
        }
        let error = &value["error"];
        Err(StripeError::Refused {
            operation,
            status: status.as_u16(),
            code: text(error, "code").unwrap_or_default(),
            message: text(error, "message").unwrap_or_default(),
        })
    }

    async fn post(
        &self,
        path: &str,
        fields: &[Field],
        idempotency_key: &str,
    ) -> Result<Value, StripeError> {
        self.call(awc::http::Method::POST, path, fields, Some(idempotency_key))
            .await
    }

    async fn get(&self, path: &str) -> Result<Value, StripeError> {
        self.call(awc::http::Method::GET, path, &[], None).await
    }

    /// Makes the member's customer. `idempotency_key` is the member's own, so that two clicks
    /// racing make one customer.
    pub async fn create_customer(
        &self,
        member_id: i32,
        email: &str,
        name: &str,
        idempotency_key: &str,
    ) -> Result<String, StripeError> {
        let fields = [
            field("email", email),
            field("name", name),
            field("metadata[member_id]", member_id),
        ];
        let customer = self.post("/v1/customers", &fields, idempotency_key).await?;
        id_of(&customer, "POST /v1/customers")
    }

    /// Opens a hosted Checkout for a subscription to `price`.
    pub async fn create_checkout_session(
        &self,
        checkout: &NewCheckout<'_>,
    ) -> Result<CheckoutSession, StripeError> {
        let mut fields = vec![
            field("mode", "subscription"),
            field("customer", checkout.customer),
            field("client_reference_id", checkout.member_id),
            field("line_items[0][price]", checkout.price),
            field("line_items[0][quantity]", 1),
            field("success_url", checkout.success_url),
            field("cancel_url", checkout.cancel_url),
            field("metadata[member_id]", checkout.member_id),
            field("subscription_data[metadata][member_id]", checkout.member_id),
        ];
        if let Some(trial_end) = checkout.trial_end {
            fields.push(field("subscription_data[trial_end]", trial_end));
        }
        let key = crate::auth::random_hex(16);
        let session = self.post("/v1/checkout/sessions", &fields, &key).await?;
        Ok(CheckoutSession::read(&session))
    }

    pub async fn checkout_session(&self, id: &str) -> Result<CheckoutSession, StripeError> {
        let session = self.get(&format!("/v1/checkout/sessions/{id}")).await?;
        Ok(CheckoutSession::read(&session))
    }

    /// Ends a checkout that was not paid, so it can never be.
    pub async fn expire_checkout_session(&self, id: &str) -> Result<(), StripeError> {
        let key = crate::auth::random_hex(16);
        self.post(&format!("/v1/checkout/sessions/{id}/expire"), &[], &key)
            .await
            .map(drop)
    }

    pub async fn subscription(&self, id: &str) -> Result<Subscription, StripeError> {
        let subscription = self.get(&format!("/v1/subscriptions/{id}")).await?;
        Subscription::read(&subscription).ok_or_else(|| StripeError::Unreachable {
            operation: "GET /v1/subscriptions".to_owned(),
            cause: anyhow::anyhow!("the subscription has no price"),
        })
    }

    /// Ends a subscription now (a member deleting their account).
    pub async fn cancel_subscription(&self, id: &str) -> Result<(), StripeError> {
        self.call(
            awc::http::Method::DELETE,
            &format!("/v1/subscriptions/{id}"),
            &[],
            None,
        )
        .await
        .map(drop)
    }

    /// Deletes a customer (a member deleting their account): Stripe ends their subscriptions and
    /// no checkout of theirs can be paid any more. Their past invoices stay with the publisher.
    pub async fn delete_customer(&self, id: &str) -> Result<(), StripeError> {
        self.call(
            awc::http::Method::DELETE,
            &format!("/v1/customers/{id}"),
            &[],
            None,
        )
        .await
        .map(drop)
    }

    /// A customer-portal session (card, invoices, cancelling), returning to `return_url`.
    pub async fn portal_session(
        &self,
        customer: &str,
        return_url: &str,
    ) -> Result<String, StripeError> {
        let fields = [field("customer", customer), field("return_url", return_url)];
        let key = crate::auth::random_hex(16);
        let session = self
            .post("/v1/billing_portal/sessions", &fields, &key)
            .await?;
        text(&session, "url").ok_or_else(|| StripeError::Unreachable {
            operation: "POST /v1/billing_portal/sessions".to_owned(),
            cause: anyhow::anyhow!("the answer has no url"),
        })
    }

    pub async fn create_product(&self, name: &str) -> Result<String, StripeError> {
        let key = crate::auth::random_hex(16);
        let product = self
            .post("/v1/products", &[field("name", name)], &key)
            .await?;
        id_of(&product, "POST /v1/products")
    }

    /// A recurring price of `amount` (smallest unit) every `interval` (month or year).
    pub async fn create_price(
        &self,
        product: &str,
        currency: &str,
        amount: i64,
        interval: &str,
    ) -> Result<String, StripeError> {
        let fields = [
            field("product", product),
            field("currency", currency),
            field("unit_amount", amount),
            field("recurring[interval]", interval),
            field(
                "nickname",
                if interval == "year" {
                    "Yearly"
                } else {
                    "Monthly"
                },
            ),
        ];
        let key = crate::auth::random_hex(16);
        let price = self.post("/v1/prices", &fields, &key).await?;
        id_of(&price, "POST /v1/prices")
    }

    /// The webhook endpoint at `url` for [`super::EVENTS`], at the pinned API version: its id and
    /// signing secret (shown by Stripe this once).
    pub async fn create_webhook_endpoint(
        &self,
        url: &str,
    ) -> Result<(String, crate::config::Secret), StripeError> {
        let mut fields = vec![field("url", url), field("api_version", super::API_VERSION)];
        for (i, event) in super::EVENTS.iter().enumerate() {
            fields.push(field(&format!("enabled_events[{i}]"), event));
        }
        fields.push(field("description", "Guidepost memberships"));
        let key = crate::auth::random_hex(16);
        let endpoint = self.post("/v1/webhook_endpoints", &fields, &key).await?;
        let id = id_of(&endpoint, "POST /v1/webhook_endpoints")?;
        let secret = text(&endpoint, "secret").ok_or_else(|| StripeError::Unreachable {
            operation: "POST /v1/webhook_endpoints".to_owned(),
            cause: anyhow::anyhow!("the answer has no secret"),
        })?;
        Ok((id, crate::config::Secret::new(secret)))
    }
}

/// What a checkout is opened with.
#[derive(Debug)]
pub struct NewCheckout<'a> {
    pub member_id: i32,
    pub customer: &'a str,
    pub price: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    /// When the subscription's own trial ends (seconds since the epoch), if it has one.
    pub trial_end: Option<i64>,
}

fn id_of(value: &Value, operation: &str) -> Result<String, StripeError> {
    text(value, "id")
        .filter(|id| is_stripe_id(id))
        .ok_or_else(|| StripeError::Unreachable {
            operation: operation.to_owned(),
            cause: anyhow::anyhow!("the answer has no id"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_stripe_could_have_made_go_into_a_path() {
        assert!(is_stripe_id("sub_1Abc"));
        assert!(is_stripe_id("cs_test_a1B2"));
        for bad in [
            "",
            "sub",
            "../v1/customers",
            "sub_1?expand=x",
            "sub_1/x",
            "süb_1",
        ] {
            assert!(!is_stripe_id(bad), "{bad}");
        }
    }
}
