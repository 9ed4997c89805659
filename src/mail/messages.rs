//! The mail Guidepost sends, each as plain text and simple HTML. Every link opens a page with a
//! button; only that button acts, so a mail scanner following links uses nothing up.

use crate::db::outbox::NewMessage;
use crate::db::users::Member;
use crate::domain::Email;
use crate::views::format::date_label;

/// Escapes text for the HTML part.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Who a message goes to: a member (or someone about to be one), by name, at an address.
struct To<'a> {
    user_id: Option<i32>,
    name: &'a str,
    address: &'a str,
}

impl<'a> To<'a> {
    /// A member at their own address.
    fn member(member: &'a Member) -> Self {
        Self::member_at(member, &member.email)
    }

    /// A member at another address (a new one they asked for).
    fn member_at(member: &'a Member, address: &'a str) -> Self {
        Self {
            user_id: Some(member.id),
            name: &member.name,
            address,
        }
    }
}

/// A message of paragraphs, with at most one link, written as text and as HTML.
fn compose(
    kind: &'static str,
    to: To<'_>,
    subject: String,
    paragraphs: &[String],
    link: Option<(&str, &str)>,
    site_name: &str,
) -> NewMessage {
    let greeting = format!("Hello {},", to.name);
    let mut text = format!("{greeting}\n\n");
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif; line-height: 1.5\"><p>{}</p>",
        escape(&greeting)
    );
    for paragraph in paragraphs {
        text.push_str(paragraph);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    if let Some((label, url)) = link {
        text.push_str(&format!("{label}:\n{url}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape(url),
            escape(label)
        ));
    }
    text.push_str(&format!("— {site_name}\n"));
    html.push_str(&format!("<p>— {}</p></body></html>", escape(site_name)));
    NewMessage {
        user_id: to.user_id,
        kind,
        to: to.address.to_owned(),
        subject,
        text,
        html,
    }
}

/// Sent at sign-up to a new address: the link that confirms it and starts the free trial.
pub fn confirm_signup(site_name: &str, name: &str, email: &Email, link: &str) -> NewMessage {
    compose(
        "signup_confirm",
        To {
            user_id: None,
            name,
            address: email.as_str(),
        },
        format!("Confirm your address to start your {site_name} trial"),
        &[
            format!(
                "Thank you for signing up to {site_name}. Open the link below within a day and \
                 type the password you chose on the page it opens: your free trial starts then, \
                 and every members-only guide reads in full."
            ),
            "If you did not sign up, ignore this message: no account is made.".to_owned(),
        ],
        Some(("Confirm and start your trial", link)),
        site_name,
    )
}

/// Sent instead when someone signs up with an address that already has an account: the answer
/// on the page is the same, so only the address's owner learns that it is taken.
pub fn signup_attempt(site_name: &str, member: &Member, login_url: &str) -> NewMessage {
    compose(
        "signup_attempt",
        To::member(member),
        format!("Someone tried to sign up to {site_name} with your address"),
        &[
            format!(
                "Someone, probably you, tried to sign up to {site_name} with this address. You \
                 already have an account: log in with it, or, if you forgot your password, \
                 choose a new one from the log-in page (\"Forgot your password?\")."
            ),
            "If it was not you, nothing changed and you can ignore this message.".to_owned(),
        ],
        Some(("Log in", login_url)),
        site_name,
    )
}

/// Sent when a member asks for a new confirmation link.
pub fn verify_email(site_name: &str, member: &Member, link: &str) -> NewMessage {
    compose(
        "verify_email",
        To::member(member),
        format!("Confirm your address for {site_name}"),
        &[
            "Open the link below and press the button on the page to confirm your address."
                .to_owned(),
        ],
        Some(("Confirm your address", link)),
        site_name,
    )
}

/// Sent from "forgot your password": works for an hour, once.
pub fn password_reset(site_name: &str, member: &Member, link: &str) -> NewMessage {
    compose(
        "password_reset",
        To::member(member),
        format!("Reset your {site_name} password"),
        &[
            "Someone, probably you, asked to reset the password of your account. Open the link \
             below within an hour to choose a new one; it works once."
                .to_owned(),
            "If you did not ask, ignore this message: your password stays as it is.".to_owned(),
        ],
        Some(("Choose a new password", link)),
        site_name,
    )
}

/// Sent to the new address when a member asks to change theirs.
pub fn confirm_new_email(site_name: &str, member: &Member, new: &Email, link: &str) -> NewMessage {
    compose(
        "email_change_confirm",
        To::member_at(member, new.as_str()),
        format!("Confirm your new address for {site_name}"),
        &[format!(
            "You asked to use {new} for your {site_name} account. Open the link below within a \
             day and press the button to make the change."
        )],
        Some(("Use this address", link)),
        site_name,
    )
}

/// Sent instead of the link when the new address a member asked for already has an account: the
/// page answers the same, so only that address's owner learns of it.
pub fn address_in_use(site_name: &str, owner: &Member, login_url: &str) -> NewMessage {
    compose(
        "email_change_in_use",
        To::member(owner),
        format!("Someone asked to use your address at {site_name}"),
        &[
            format!(
                "Someone signed in to another {site_name} account asked to use this address for \
                 it. This address already has an account, so nothing changed."
            ),
            "If that was you, log in with this address instead; if not, you can ignore this \
             message."
                .to_owned(),
        ],
        Some(("Log in", login_url)),
        site_name,
    )
}

/// Sent to the old address at the same time, so a member notices a change they did not ask for.
pub fn email_change_notice(site_name: &str, member: &Member, new: &Email) -> NewMessage {
    compose(
        "email_change_notice",
        To::member(member),
        format!("Your {site_name} address is about to change"),
        &[
            format!(
                "Someone signed in to your account asked to change its address to {new}. It \
                 changes only when the link we sent there is followed."
            ),
            "If this was not you, change your password now: that also signs out every other \
             device."
                .to_owned(),
        ],
        None,
        site_name,
    )
}

/// Sent once, three days before a trial ends.
/// With `plans`, it offers them.
pub fn trial_reminder(
    site_name: &str,
    member: &Member,
    account_url: &str,
    plans: Option<&crate::billing::Plans>,
) -> NewMessage {
    let ends = member.trial_ends_at.map(date_label).unwrap_or_default();
    let last = match plans {
        Some(plans) => format!(
            "To keep reading, become a member from your account page: {} or {}. Choose before \
             {ends} and the first payment falls on that day; nothing is charged before.",
            plans.label(crate::billing::Plan::Monthly),
            plans.label(crate::billing::Plan::Yearly)
        ),
        None => "There is nothing to cancel and nothing to pay.".to_owned(),
    };
    compose(
        "trial_reminder",
        To::member(member),
        format!("Your {site_name} trial ends on {ends}"),
        &[
            format!(
                "A reminder: your free trial ends on {ends}. Until then every members-only guide \
                 reads in full; afterwards they show their opening only."
            ),
            last,
        ],
        Some((
            if plans.is_some() {
                "Choose a plan"
            } else {
                "Your account"
            },
            account_url,
        )),
        site_name,
    )
}

/// Sent when a membership's payment failed: the card needs updating.
pub fn payment_failed(
    site_name: &str,
    member: &Member,
    amount: &str,
    grace_days: i64,
    account_url: &str,
) -> NewMessage {
    compose(
        "payment_failed",
        To::member(member),
        format!("Your {site_name} payment did not go through"),
        &[
            format!(
                "We could not take your membership's payment of {amount}. Stripe, who handle our \
                 payments, will try again over the coming days."
            ),
            format!(
                "Members-only guides stay open to you for {grace_days} days meanwhile. To keep \
                 them open, update your card: on your account page, choose Manage billing."
            ),
        ],
        Some(("Update your card", account_url)),
        site_name,
    )
}

/// Sent a few days before a paid membership's trial ends and its first payment falls.
pub fn paid_trial_ending(
    site_name: &str,
    member: &Member,
    ends: time::PrimitiveDateTime,
    price: &str,
    account_url: &str,
) -> NewMessage {
    let ends = date_label(ends);
    compose(
        "paid_trial_ending",
        To::member(member),
        format!("Your {site_name} membership's first payment is on {ends}"),
        &[
            format!(
                "Your trial ends on {ends}, and your membership goes on at {price}: the first \
                 payment is taken that day with the card you gave."
            ),
            "To change your card or cancel before then, choose Manage billing on your account \
             page."
                .to_owned(),
        ],
        Some(("Your account", account_url)),
        site_name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str) -> Member {
        let now = crate::db::now();
        Member {
            id: 1,
            email: "ana@example.com".to_owned(),
            name: name.to_owned(),
            role: "member".to_owned(),
            status: "active".to_owned(),
            email_verified_at: None,
            trial_started_at: Some(now),
            trial_ends_at: Some(now),
            trial_reminder_sent_at: None,
            created_at: now,
            updated_at: now,
            paid_status: None,
            paid_until: None,
            paid_grace_ends_at: None,
            complimentary_since: None,
            complimentary_until: None,
            handle: "ada".to_owned(),
        }
    }

    #[test]
    fn names_in_mail_are_escaped_in_the_html_part() {
        let message = verify_email(
            "Guidepost",
            &member("<b>Ana</b>"),
            "https://x.example/verify-email/t",
        );
        assert!(message.html.contains("&lt;b&gt;Ana&lt;/b&gt;"));
        assert!(message.text.contains("<b>Ana</b>"));
        assert!(message.text.contains("https://x.example/verify-email/t"));
    }
}
