//! `guidepost stripe setup`: makes what memberships need in the Stripe account of the secret key
//! (the product, a monthly and a yearly price, the webhook endpoint) and keeps their ids in the
//! settings. Run again, it keeps the product and the endpoint and makes new prices: Stripe's
//! prices never change, so members keep the one they chose and new subscriptions take the new.

use anyhow::Context;

use super::stripe::Stripe;
use super::{Plans, money};
use crate::config::Settings;
use crate::db::settings::SiteSettings;

/// What the command was asked for.
#[derive(Debug)]
pub struct Request<'a> {
    pub currency: &'a str,
    pub monthly: &'a str,
    pub yearly: &'a str,
}

pub fn run(settings: &Settings, request: &Request<'_>) -> anyhow::Result<()> {
    let stripe = settings.stripe.clone().context(
        "GUIDEPOST_STRIPE_SECRET_KEY is not set: give the secret key of your Stripe account \
         (sk_test_… to try it, sk_live_… to take real payments) in the environment",
    )?;
    let currency = money::parse_currency(request.currency).map_err(anyhow::Error::msg)?;
    let monthly = money::parse_amount(request.monthly, &currency)
        .map_err(|e| anyhow::anyhow!("--monthly: {e}"))?;
    let yearly = money::parse_amount(request.yearly, &currency)
        .map_err(|e| anyhow::anyhow!("--yearly: {e}"))?;
    let base_url = settings.base_url.clone().context(
        "--base-url (GUIDEPOST_BASE_URL) is not set: Stripe sends its webhooks to the site's \
         public address, such as https://articles.example.com",
    )?;
    if !base_url.as_str().starts_with("https://") {
        eprintln!(
            "warning: {base_url} is not https; Stripe delivers live webhooks to https addresses only"
        );
    }
    let pool = crate::db::open(&settings.database, 1)?;
    let mut conn = pool.get().context("cannot connect to the database")?;
    let site = SiteSettings::load(&mut conn)?;
    let endpoint = SiteSettings::webhook_endpoint(&mut conn)?;
    let client = Stripe::new(stripe);
    let webhook_url = base_url.join("/stripe/webhook");
    let made = actix_web::rt::System::new().block_on(async {
        let product = match &site.plans {
            Some(plans) => plans.product.clone(),
            None => {
                client
                    .create_product(&format!("{} membership", site.site_title))
                    .await?
            }
        };
        let monthly_price = client
            .create_price(&product, &currency, monthly, "month")
            .await?;
        let yearly_price = client
            .create_price(&product, &currency, yearly, "year")
            .await?;
        let webhook = match endpoint {
            Some(_) => None,
            None => Some(client.create_webhook_endpoint(&webhook_url).await?),
        };
        Ok::<_, super::stripe::StripeError>((product, monthly_price, yearly_price, webhook))
    });
    let (product, monthly_price, yearly_price, webhook) = made.context("Stripe refused")?;
    let plans = Plans {
        currency,
        monthly,
        yearly,
        product,
        monthly_price,
        yearly_price,
    };
    SiteSettings::set_plans(&mut conn, &plans)?;
    println!(
        "Plans: {} or {}.",
        plans.label(super::Plan::Monthly),
        plans.label(super::Plan::Yearly)
    );
    match webhook {
        Some((id, secret)) => {
            SiteSettings::set(&mut conn, "stripe_webhook_endpoint", &id)?;
            println!("Stripe will send events to {webhook_url}.");
            println!();
            println!("Its signing secret, shown this once: give it to Guidepost as");
            println!("  GUIDEPOST_STRIPE_WEBHOOK_SECRET={}", secret.expose());
            println!("then restart Guidepost. Keep it as secret as the secret key.");
        }
        None => println!(
            "The webhook endpoint made before is kept (its secret was shown then; Stripe's \
             dashboard can roll it)."
        ),
    }
    Ok(())
}
