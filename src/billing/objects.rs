//! What Guidepost reads from Stripe's objects: a Checkout Session, a subscription (in either API
//! version's shape) and an invoice, each into the few fields it uses; anything else is ignored.

use serde_json::Value;

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

/// An id, whether Stripe gave the object or only its id.
pub(super) fn id_or_object(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(id) => Some(id.clone()),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
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
