//! Password hashing with bcrypt, off the async workers and at most one hash per core at a time, so
//! a burst of sign-ups and log-ins cannot starve page reads. An unknown email is checked against a
//! dummy hash of the same cost, so it takes as long as a wrong password.

use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use tokio::sync::Semaphore;

use crate::db::users::PasswordHash;
use crate::error::AppError;

/// Hashes and checks passwords at the configured cost.
#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// A hash of a random password nobody knows, checked when an account has none.
    dummy: Arc<PasswordHash>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

/// The result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Wrong password, or no account.
    Wrong,
    Right,
    /// Right, and the stored hash was made at a lower cost than today's: store a new one.
    RightButWeak,
}

impl PasswordHasher {
    /// A hasher at bcrypt `cost`, running at most `parallel` hashes at once. Makes the dummy hash,
    /// so call it where blocking for one hash is fine (start-up).
    pub fn new(cost: u32, parallel: usize) -> anyhow::Result<Self> {
        let dummy = bcrypt::hash(super::random_hex(16), cost)
            .context("cannot make the reference password hash")?;
        Ok(Self {
            cost,
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            dummy: Arc::new(PasswordHash(dummy)),
        })
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// A new hash of `password`.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, AppError> {
        let _permit = self.permit().await?;
        let password = password.to_owned();
        let cost = self.cost;
        let hash = web::block(move || bcrypt::hash(password, cost)).await?;
        Ok(PasswordHash(hash.context("password hashing failed")?))
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is none, so the
    /// answer takes the same time either way.
    pub async fn check(
        &self,
        password: &str,
        stored: Option<&PasswordHash>,
    ) -> Result<Checked, AppError> {
        let _permit = self.permit().await?;
        let password = password.to_owned();
        let exists = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy).0.clone();
        let cost = self.cost;
        let verified =
            web::block(move || bcrypt::verify(password, &hash).map(|ok| (ok, hash_cost(&hash))))
                .await?;
        Ok(match verified {
            Ok((true, stored_cost)) if exists => {
                if stored_cost.is_some_and(|c| c < cost) {
                    Checked::RightButWeak
                } else {
                    Checked::Right
                }
            }
            // A malformed stored hash matches nothing.
            _ => Checked::Wrong,
        })
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        self.permits
            .acquire()
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the password hasher was shut down")))
    }
}

/// The cost a bcrypt hash was made at (`$2b$12$...` is 12).
fn hash_cost(hash: &str) -> Option<u32> {
    hash.split('$').nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_right_password_passes_and_a_wrong_one_or_a_missing_account_does_not() {
        let hasher = PasswordHasher::new(4, 2).unwrap();
        let hash = hasher.hash("a long enough phrase").await.unwrap();
        assert_eq!(
            hasher
                .check("a long enough phrase", Some(&hash))
                .await
                .unwrap(),
            Checked::Right
        );
        assert_eq!(
            hasher.check("another phrase", Some(&hash)).await.unwrap(),
            Checked::Wrong
        );
        assert_eq!(
            hasher.check("a long enough phrase", None).await.unwrap(),
            Checked::Wrong
        );
        assert!(!format!("{hash:?}").contains("$2"));
    }

    #[actix_web::test]
    async fn a_hash_made_at_a_lower_cost_asks_to_be_upgraded() {
        let weak = PasswordHash(bcrypt::hash("a long enough phrase", 4).unwrap());
        let hasher = PasswordHasher::new(5, 1).unwrap();
        assert_eq!(
            hasher
                .check("a long enough phrase", Some(&weak))
                .await
                .unwrap(),
            Checked::RightButWeak
        );
    }
}
