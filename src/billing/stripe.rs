//! The calls Guidepost makes to Stripe's API, and what it reads from Stripe's answers. Requests
//! are form-encoded as Stripe's API takes them, with the secret key as a bearer token, the pinned
//! API version in `Stripe-Version` and, on every POST, an `Idempotency-Key`, so that a retried
//! call never makes a second customer or checkout. Answers are read as JSON into the few fields
//! Guidepost uses; anything else in them is ignored.

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::StripeSettings;

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

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

/// An id, whether Stripe gave the object or only its id.
fn id_or_object(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(id) => Some(id.clone()),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn id_of(value: &Value, operation: &str) -> Result<String, StripeError> {
    text(value, "id")
        .filter(|id| is_stripe_id(id))
        .ok_or_else(|| StripeError::Unreachable {
            operation: operation.to_owned(),
            cause: anyhow::anyhow!("the answer has no id"),
        })
}

/// A hosted Checkout, as Guidepost reads it.
#[derive(Debug, Clone, Default)]
pub struct CheckoutSession {
    pub id: String,
    /// Where the member pays.
    pub url: Option<String>,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub client_reference_id: Option<String>,
    /// open, complete or expired.
    pub status: String,
    /// paid, unpaid or no_payment_required (a subscription starting with a trial).
    pub payment_status: String,
}

impl CheckoutSession {
    pub fn read(value: &Value) -> Self {
        Self {
            id: text(value, "id").unwrap_or_default(),
            url: text(value, "url"),
            customer: id_or_object(value, "customer"),
            subscription: id_or_object(value, "subscription"),
            client_reference_id: text(value, "client_reference_id"),
            status: text(value, "status").unwrap_or_default(),
            payment_status: text(value, "payment_status").unwrap_or_default(),
        }
    }
}

/// A subscription, as Guidepost reads it back from Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    pub status: String,
    /// month or year
    pub interval: String,
    pub amount: i64,
    pub currency: String,
    /// Seconds since the epoch.
    pub trial_end: Option<i64>,
    pub current_period_end: Option<i64>,
    /// When it will end by cancellation, if it will.
    pub cancel_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub start_date: i64,
    /// The product of its price: only the membership's own product gives access.
    pub product: Option<String>,
}

impl Subscription {
    pub fn read(value: &Value) -> Option<Self> {
        let item = value.pointer("/items/data/0")?;
        let price = item.get("price")?;
        let seconds = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64);
        // Since API version 2025-03-31 the period is on each item; before, on the subscription.
        let current_period_end =
            seconds(item, "current_period_end").or_else(|| seconds(value, "current_period_end"));
        let cancel_at = if value.get("cancel_at_period_end") == Some(&Value::Bool(true)) {
            current_period_end
        } else {
            seconds(value, "cancel_at")
        };
        Some(Self {
            id: text(value, "id")?,
            customer: id_or_object(value, "customer")?,
            status: text(value, "status")?,
            interval: price
                .pointer("/recurring/interval")
                .and_then(Value::as_str)
                .unwrap_or("month")
                .to_owned(),
            amount: seconds(price, "unit_amount").unwrap_or(0),
            currency: text(price, "currency").unwrap_or_default(),
            trial_end: seconds(value, "trial_end"),
            current_period_end,
            cancel_at,
            ended_at: seconds(value, "ended_at"),
            start_date: seconds(value, "start_date")
                .or_else(|| seconds(value, "created"))
                .unwrap_or(0),
            product: id_or_object(price, "product"),
        })
    }
}

/// An invoice, as an event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub amount_paid: i64,
    pub amount_due: i64,
    pub currency: String,
    /// Seconds since the epoch.
    pub created: i64,
}

impl Invoice {
    pub fn read(value: &Value) -> Option<Self> {
        // Since API version 2025-03-31 the subscription is under the invoice's parent.
        let subscription = value
            .pointer("/parent/subscription_details/subscription")
            .and_then(|v| match v {
                Value::String(id) => Some(id.clone()),
                Value::Object(o) => o.get("id")?.as_str().map(str::to_owned),
                _ => None,
            })
            .or_else(|| id_or_object(value, "subscription"));
        Some(Self {
            id: text(value, "id")?,
            customer: id_or_object(value, "customer"),
            subscription,
            amount_paid: value
                .get("amount_paid")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            amount_due: value.get("amount_due").and_then(Value::as_i64).unwrap_or(0),
            currency: text(value, "currency").unwrap_or_default(),
            created: value.get("created").and_then(Value::as_i64).unwrap_or(0),
        })
    }
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

    #[test]
    fn a_subscription_is_read_from_either_api_versions_shape() {
        let new = serde_json::json!({
            "id": "sub_1", "customer": "cus_1", "status": "trialing", "start_date": 10,
            "trial_end": 20, "cancel_at_period_end": false, "cancel_at": null,
            "metadata": {"member_id": "7"},
            "items": {"data": [{"current_period_end": 30,
                "price": {"unit_amount": 900, "currency": "eur", "recurring": {"interval": "month"}}}]}
        });
        let read = Subscription::read(&new).unwrap();
        assert_eq!(read.current_period_end, Some(30));
        assert_eq!(read.product, None);
        assert_eq!(read.cancel_at, None);
        let old = serde_json::json!({
            "id": "sub_1", "customer": {"id": "cus_1"}, "status": "active", "created": 10,
            "current_period_end": 40, "cancel_at_period_end": true,
            "items": {"data": [{"price": {"unit_amount": 9000, "currency": "eur", "product": "prod_1",
                "recurring": {"interval": "year"}}}]}
        });
        let read = Subscription::read(&old).unwrap();
        assert_eq!(
            (read.customer.as_str(), read.cancel_at),
            ("cus_1", Some(40))
        );
        assert_eq!(read.interval, "year");
        assert_eq!(read.product.as_deref(), Some("prod_1"));
    }
}
