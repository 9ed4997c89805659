//! Paid memberships through Stripe: the settings that turn them on, the plans a member chooses
//! from, Stripe's API as Guidepost calls it ([`stripe`]), the signatures of its webhooks
//! ([`signature`]) and amounts of money ([`money`]). Stripe is off until an operator gives its
//! secret key; without it every page reads as it would without payments, and admins can still
//! give complimentary access. No card data ever reaches Guidepost: members pay on Stripe's hosted
//! Checkout and manage their card in Stripe's customer portal.

pub mod money;
pub mod objects;
pub mod setup;
pub mod signature;
pub mod stripe;

use crate::config::Secret;

/// The Stripe API version Guidepost is written against, sent as `Stripe-Version` on every call
/// and set on the webhook endpoint, so that Stripe's answers and events keep the shape read here.
pub const API_VERSION: &str = "2025-03-31.basil";

/// Stripe's API, unless an operator points Guidepost elsewhere (the tests do).
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// Where Stripe's hosted pages live: forms on this site may lead there.
pub const HOSTED_ORIGINS: &[&str] = &["https://checkout.stripe.com", "https://billing.stripe.com"];

/// The events the webhook endpoint is set up for, and handles.
pub const EVENTS: &[&str] = &[
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "invoice.paid",
    "invoice.payment_failed",
];

/// Checkout refuses a subscription trial that ends sooner than this; with less of the free trial
/// left, the member pays at once.
pub const MIN_TRIAL_LEFT: time::Duration = time::Duration::hours(48);

/// How Guidepost reaches Stripe. The secrets never show in `Debug` output.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub secret_key: Secret,
    /// Checks the webhook's deliveries; without it every delivery is refused.
    pub webhook_secret: Option<Secret>,
    pub api_base: String,
}

impl StripeSettings {
    /// The origins of the pages members are sent to: Stripe's own, or the stand-in's.
    pub fn hosted_origins(&self) -> Vec<String> {
        if self.api_base.trim_end_matches('/') == DEFAULT_API_BASE {
            HOSTED_ORIGINS.iter().map(|o| (*o).to_owned()).collect()
        } else {
            origin_of(&self.api_base).into_iter().collect()
        }
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// The two plans, as `guidepost stripe setup` stored them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plans {
    pub currency: String,
    /// Prices in the currency's smallest unit.
    pub monthly: i64,
    pub yearly: i64,
    pub product: String,
    pub monthly_price: String,
    pub yearly_price: String,
}

/// A plan a member can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Monthly,
    Yearly,
}

impl Plan {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "monthly" => Some(Self::Monthly),
            "yearly" => Some(Self::Yearly),
            _ => None,
        }
    }

    pub fn interval(self) -> &'static str {
        match self {
            Self::Monthly => "month",
            Self::Yearly => "year",
        }
    }
}

impl Plans {
    pub fn price_id(&self, plan: Plan) -> &str {
        match plan {
            Plan::Monthly => &self.monthly_price,
            Plan::Yearly => &self.yearly_price,
        }
    }

    pub fn amount(&self, plan: Plan) -> i64 {
        match plan {
            Plan::Monthly => self.monthly,
            Plan::Yearly => self.yearly,
        }
    }

    /// "9.00 € a month".
    pub fn label(&self, plan: Plan) -> String {
        money::plan_price(self.amount(plan), &self.currency, plan.interval())
    }

    /// The two plans as the subscribe forms offer them.
    pub fn offers(&self) -> Vec<Offer> {
        [Plan::Monthly, Plan::Yearly]
            .into_iter()
            .map(|plan| Offer {
                value: match plan {
                    Plan::Monthly => "monthly",
                    Plan::Yearly => "yearly",
                },
                name: match plan {
                    Plan::Monthly => "Monthly",
                    Plan::Yearly => "Yearly",
                },
                price: self.label(plan),
            })
            .collect()
    }
}

/// One plan on a page: the form's value, its name and its price in words.
#[derive(Debug, Clone)]
pub struct Offer {
    pub value: &'static str,
    pub name: &'static str,
    pub price: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_ins_pages_are_allowed_as_form_targets_in_place_of_stripes() {
        let settings = |base: &str| StripeSettings {
            secret_key: Secret::new("sk_test_x"),
            webhook_secret: None,
            api_base: base.to_owned(),
        };
        assert_eq!(
            settings("https://api.stripe.com").hosted_origins(),
            HOSTED_ORIGINS
        );
        assert_eq!(
            settings("http://127.0.0.1:4242/").hosted_origins(),
            ["http://127.0.0.1:4242"]
        );
    }
}
