//! Work that runs beside the web server, on its own task: delivering queued mail (woken at once
//! when a handler queues some, and every few seconds anyway), sending trial-ending reminders, and
//! sweeping expired sessions, tokens and throttle entries. Everything it does goes through the
//! database, so a restart loses nothing: what was queued is still queued.

use std::sync::Arc;
use std::time::Duration;

use crate::config::BaseUrl;
use crate::db::cache::ContentCache;
use crate::db::outbox::Message;
use crate::db::sessions::SessionRow;
use crate::db::tokens::EmailToken;
use crate::db::users::Member;
use crate::db::{self, DbPool};
use crate::mail::{self, Mailer, messages};

/// The longest the sender sleeps when nobody wakes it.
const POLL: Duration = Duration::from_secs(5);
/// How often reminders are looked for, and expired rows swept.
const HOUSEKEEPING: Duration = Duration::from_secs(60);
/// Attempts before a message is marked failed for good.
const MAX_ATTEMPTS: i32 = 8;
/// A reminder goes out this many days before a trial ends.
pub const REMINDER_DAYS: i64 = 3;

/// Queues the reminder of every member whose trial ends within [`REMINDER_DAYS`] and who has not
/// had it, each in a transaction with the mark that it was sent; returns how many.
/// With `plans` (payments on), the reminder offers them; a member who already chose one, or has
/// complimentary access, gets no reminder.
pub fn queue_trial_reminders(
    conn: &mut crate::db::DbConn,
    site_name: &str,
    account_url: &str,
    plans: Option<&crate::billing::Plans>,
) -> diesel::QueryResult<usize> {
    let now = db::now();
    let due = Member::due_trial_reminder(conn, now, REMINDER_DAYS)?;
    let mut queued = 0;
    for member in &due {
        let on_trial = matches!(member.access(now), crate::db::users::Access::Trial(_));
        // Marked first, in the transaction that queues the mail: of several instances reminding
        // at once, the one whose mark changed the row sends it.
        let sent = crate::db::write_transaction(conn, |conn| {
            let first = Member::mark_reminded(conn, member.id)?;
            if first && on_trial {
                messages::trial_reminder(site_name, member, account_url, plans).queue(conn)?;
            }
            Ok::<_, diesel::result::Error>(first && on_trial)
        })?;
        queued += usize::from(sent);
    }
    Ok(queued)
}

/// Seconds before a message is tried again after its `attempts`th attempt: 1 min, 2 min, 4 min,
/// ... up to an hour.
fn retry_wait(attempts: i32) -> i64 {
    30_i64.saturating_mul(1 << attempts.clamp(0, 7)).min(3_600)
}

/// What the background task needs.
pub struct Jobs {
    pub pool: DbPool,
    pub cache: Arc<ContentCache>,
    pub mailer: Mailer,
    pub wake: Arc<tokio::sync::Notify>,
    pub base_url: BaseUrl,
    /// Counts of article views handed over by the workers.
    pub views: std::sync::mpsc::Receiver<crate::readership::Counts>,
    /// Payments are on: reminders offer the plans.
    pub payments: bool,
}

impl Jobs {
    /// Runs until the task is dropped with the server's runtime.
    pub async fn run(self) {
        let mut last_housekeeping: Option<std::time::Instant> = None;
        loop {
            if last_housekeeping.is_none_or(|at| at.elapsed() >= HOUSEKEEPING) {
                last_housekeeping = Some(std::time::Instant::now());
                if let Err(error) = self.housekeeping().await {
                    tracing::warn!("background housekeeping failed: {error:#}");
                }
            }
            if let Err(error) = self.deliver().await {
                tracing::warn!("the mail sender failed: {error:#}");
            }
            if let Err(error) = self.record_views().await {
                tracing::warn!("article views could not be recorded: {error:#}");
            }
            let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
        }
    }

    /// Sends every message that is due.
    async fn deliver(&self) -> anyhow::Result<()> {
        loop {
            let due = db::run(&self.pool, |conn| Ok(Message::due(conn, db::now(), 20)?)).await?;
            if due.is_empty() {
                return Ok(());
            }
            for message in due {
                let id = message.id;
                let attempts = message.attempts + 1;
                let lease = time::Duration::seconds(retry_wait(attempts));
                let claimed = db::run(&self.pool, move |conn| {
                    Ok(Message::claim(conn, id, db::now(), lease)?)
                })
                .await?;
                if !claimed {
                    continue;
                }
                let outcome = self.mailer.send(&message).await;
                match outcome {
                    Ok(()) => {
                        let text = mail::redact_links(&message.body_text);
                        let html = mail::redact_links(&message.body_html);
                        let kept = db::run(&self.pool, move |conn| {
                            Ok(Message::mark_sent(conn, id, &text, &html)?)
                        })
                        .await?;
                        if !kept {
                            self.mailer.forget(id).await;
                        }
                    }
                    Err(reason) => {
                        crate::metrics::outbox_failure();
                        let retry_at = (attempts < MAX_ATTEMPTS)
                            .then(|| db::now() + time::Duration::seconds(retry_wait(attempts)));
                        tracing::warn!(
                            mail = id,
                            attempts,
                            "a message could not be sent{}: {reason}",
                            if retry_at.is_some() {
                                ", will try again"
                            } else {
                                ", giving up"
                            }
                        );
                        db::run(&self.pool, move |conn| {
                            Ok(Message::mark_attempt_failed(conn, id, &reason, retry_at)?)
                        })
                        .await?;
                    }
                }
            }
        }
    }

    /// Adds the views counted since the last time to `page_views`, in one transaction.
    async fn record_views(&self) -> anyhow::Result<()> {
        let counts = crate::readership::drain(&self.views);
        if counts.is_empty() {
            return Ok(());
        }
        db::run(&self.pool, move |conn| {
            let day = db::now().date();
            crate::db::write_transaction(conn, |conn| {
                for (slug, n) in &counts {
                    crate::db::views::add(conn, slug, day, i64::try_from(*n).unwrap_or(i64::MAX))?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Queues trial reminders and sweeps expired rows.
    async fn housekeeping(&self) -> anyhow::Result<()> {
        let cache = Arc::clone(&self.cache);
        let account_url = self.base_url.join("/account");
        let site_name = self.cache.last_known().site_title;
        let payments = self.payments;
        let reminded = db::run(&self.pool, move |conn| {
            let now = db::now();
            let settings = cache.settings(conn)?;
            let plans = settings.plans.as_ref().filter(|_| payments);
            let reminded = queue_trial_reminders(conn, &site_name, &account_url, plans)?;
            SessionRow::sweep(
                conn,
                now,
                crate::db::sessions::Lifetimes::from_settings(&settings),
            )?;
            crate::db::signups::PendingSignup::sweep(conn, now)?;
            EmailToken::sweep(conn, now - time::Duration::days(1))?;
            crate::db::throttle::sweep(conn, now - time::Duration::days(1))?;
            Ok(reminded)
        })
        .await?;
        if reminded > 0 {
            tracing::info!("queued {reminded} trial reminder(s)");
        }
        Ok(())
    }
}
