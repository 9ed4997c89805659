//! Paying for a membership in a real browser: from the welcome page's plans to the stand-in's
//! hosted checkout (which the page's Content-Security-Policy must let the form lead to), back to
//! the return page and the account; a declined card; renewals paid and declined, the membership
//! ending and a new one paid at once from the closed guide; the customer portal's cancelling.

use crate::browser::{DESKTOP, Journey, PHONE, Viewport};
use crate::stripe::standin::StandIn;

const PASSWORD: &str = "a long and private phrase";
const ARTICLE: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";

/// Ends the member's free trial in the journey's database, as its days running out would, and
/// waits for the server to notice the change (it looks twice a second).
fn end_trial(j: &Journey) {
    use diesel::Connection as _;
    let database = j.data_dir().join("guidepost.db");
    let mut conn = diesel::SqliteConnection::establish(database.to_str().unwrap()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "PRAGMA busy_timeout = 5000; UPDATE users SET trial_ends_at = '2020-01-01 00:00:00'",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
}

async fn sign_up(j: &mut Journey, email: &str) {
    j.open("/signup").await;
    j.fill("#signup-name", "Ana Silva").await;
    j.fill("#signup-email", email).await;
    j.fill("#signup-password", PASSWORD).await;
    j.fill("#signup-confirm", PASSWORD).await;
    j.client
        .find(fantoccini::Locator::Css("#signup-consent"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    j.press("form[action='/signup'] button[type=submit]").await;
    let link = j.mail_link(email, "/signup/confirm/");
    j.open(&link).await;
    j.fill("#confirm-password", PASSWORD).await;
    j.press("form.form button[type=submit]").await;
    assert!(j.path().await.starts_with("/welcome"));
}

async fn paying_journey(viewport: Viewport) {
    let stripe = StandIn::start();
    let mut j = Journey::start_paid("payments", viewport, &stripe.url).await;
    sign_up(&mut j, "ana@example.com").await;
    assert!(
        j.text("#plans-title")
            .await
            .contains("Keep reading after your trial")
    );
    j.shot("welcome-with-plans").await;

    // A declined card first: nothing starts.
    j.press("form[action='/account/subscribe'] button[type=submit]")
        .await;
    let at_stripe = j.client.current_url().await.unwrap();
    assert!(
        at_stripe
            .as_str()
            .starts_with(&format!("{}/checkout/", stripe.url)),
        "{at_stripe}"
    );
    assert_eq!(
        j.count("#trial").await,
        1,
        "the card is charged when the free trial ends"
    );
    j.shot("hosted-checkout").await;
    j.press("#decline").await;
    assert_eq!(j.text("#declined").await, "Your card was declined.");
    j.open("/account").await;
    assert!(j.text("#membership").await.contains("Subscribe monthly"));

    // Then paid: the return page, and the account says where the membership stands.
    j.press("#membership form[action='/account/subscribe'] button[type=submit]")
        .await;
    j.press("#pay").await;
    assert!(j.path().await.starts_with("/account/subscribed"));
    assert_eq!(j.text("h1").await, "Welcome aboard");
    j.shot("subscribed").await;
    j.click("a[href='/account#membership']").await;
    let membership = j.text("#membership").await;
    assert!(
        membership.contains("Trial until") && membership.contains("9.00 € a month"),
        "{membership}"
    );
    j.shot("account-membership").await;

    // The trial ends and the card is charged; a renewal is declined: past due, a mail, and the
    // guide still reads in full during the grace period.
    let sub = stripe.ids("sub")[0].clone();
    stripe.renew(&sub, true).await;
    j.open("/account").await;
    assert!(j.text("#membership").await.contains("next payment"));
    stripe.renew(&sub, false).await;
    j.open("/account").await;
    assert!(
        j.text("#membership")
            .await
            .contains("payment failed — update your card")
    );
    j.shot("payment-failed").await;
    let mail = j.mail_link("ana@example.com", "/account");
    assert!(mail.starts_with("/account"), "{mail}");
    j.open(ARTICLE).await;
    assert_eq!(
        j.count(".gate").await,
        0,
        "read in full during the grace period"
    );

    // Stripe gives up and the free trial is long over: the guide closes and offers the plans;
    // subscribing from there pays at once.
    stripe.cancel(&sub).await;
    end_trial(&j);
    j.open(ARTICLE).await;
    assert_eq!(j.count(".gate").await, 1);
    assert!(j.text(".gate").await.contains("Your membership has ended"));
    j.shot("membership-ended").await;
    j.press(".gate form[action='/account/subscribe'] button[type=submit]")
        .await;
    assert_eq!(j.count("#trial").await, 0, "no trial left: paid at once");
    j.press("#pay").await;
    assert_eq!(j.text("h1").await, "Welcome aboard");
    j.open(ARTICLE).await;
    assert_eq!(j.count(".gate").await, 0);

    // Manage billing: the portal, cancelling at the period's end, and back.
    j.open("/account").await;
    j.press("form[action='/account/billing'] button[type=submit]")
        .await;
    assert!(
        j.client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&format!("{}/portal/", stripe.url))
    );
    j.press("#cancel").await;
    assert_eq!(j.path().await, "/account");
    assert!(j.text("#membership").await.contains("cancels on"));
    j.shot("cancelling").await;
    assert_eq!(stripe.violations(), Vec::<String>::new());
    j.finish().await;
}

#[actix_web::test]
async fn a_member_pays_for_a_membership_and_cancels_it_on_a_phone() {
    paying_journey(PHONE).await;
}

#[actix_web::test]
async fn a_member_pays_for_a_membership_and_cancels_it_on_a_desktop() {
    paying_journey(DESKTOP).await;
}

/// An admin gives a member whose trial ended complimentary access until a date (after a date
/// that is not one), and the member reads the closed guide again.
async fn complimentary_journey(viewport: Viewport) {
    const ADMIN: (&str, &str, &str, &str) = (
        "admin@example.com",
        "Ada Admin",
        "admin",
        "an admin passphrase",
    );
    let mut j = Journey::start_with_staff("complimentary", viewport, &[ADMIN]).await;
    sign_up(&mut j, "ana@example.com").await;
    end_trial(&j);
    j.open(ARTICLE).await;
    assert_eq!(j.count(".gate").await, 1);
    j.press(".header-actions form[action='/logout'] button")
        .await;

    j.open("/login").await;
    j.fill("#login-email", ADMIN.0).await;
    j.fill("#login-password", ADMIN.3).await;
    j.press("form[action='/login'] button[type=submit]").await;
    j.open("/admin/members").await;
    j.click("table a[href^='/admin/members/']:not([href='/admin/members/1'])")
        .await;
    j.fill("#member-until", "next month").await;
    j.press("form[action$='/complimentary'] button[value='give']")
        .await;
    assert!(
        j.text("#member-until-error")
            .await
            .contains("Enter a date such as")
    );
    j.shot("grant-with-a-mistake").await;
    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
        .date()
        .to_string();
    j.fill("#member-until", &until).await;
    j.press("form[action$='/complimentary'] button[value='give']")
        .await;
    assert!(
        j.text("#grant-title + p")
            .await
            .contains("Complimentary access until")
    );
    j.shot("grant-given").await;
    j.press(".header-actions form[action='/logout'] button")
        .await;

    j.open("/login").await;
    j.fill("#login-email", "ana@example.com").await;
    j.fill("#login-password", PASSWORD).await;
    j.press("form[action='/login'] button[type=submit]").await;
    j.open(ARTICLE).await;
    assert_eq!(
        j.count(".gate").await,
        0,
        "complimentary access reads in full"
    );
    j.open("/account").await;
    assert!(j.text(".facts").await.contains("complimentary access"));
    j.shot("member-with-a-grant").await;
    j.finish().await;
}

#[tokio::test]
async fn an_admin_gives_complimentary_access_until_a_date_on_a_phone() {
    complimentary_journey(PHONE).await;
}

#[tokio::test]
async fn an_admin_gives_complimentary_access_until_a_date_on_a_desktop() {
    complimentary_journey(DESKTOP).await;
}
