//! Stripe's webhook signatures: `Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX…]`, where each `v1`
//! is the hex HMAC-SHA256, keyed by the whole `whsec_…` secret, of `TIMESTAMP.` followed by the
//! raw body. Checked on the raw bytes before anything parses them; every `v1` is compared in
//! constant time, and a timestamp more than five minutes away from now is refused, so a captured
//! delivery cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a signature's timestamp may be from now, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("the signature's timestamp is too far from now")]
    Stale,
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// The hex `v1` signature of `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this never fails; an empty answer would match nothing.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    crate::auth::hex(&mac.finalize().into_bytes())
}

/// A whole `Stripe-Signature` header for `body`, as Stripe sends it.
pub fn header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Checks `header` against `body` with `secret`, at `now` (seconds since the epoch).
pub fn verify(
    secret: &str,
    header: Option<&[u8]>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let header = std::str::from_utf8(header).map_err(|_| SignatureError::Malformed)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            "v1" => candidates.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = sign(secret, timestamp, body);
    if expected.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let mut matched = subtle::Choice::from(0);
    for candidate in candidates {
        matched |= expected.as_bytes().ct_eq(candidate.as_bytes());
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stripe's own test vector.
    const VECTOR: &str = "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";

    #[test]
    fn the_signer_matches_stripes_own_test_vector() {
        assert_eq!(
            sign("whsec_test", 1_700_000_000, br#"{"id":"evt_1"}"#),
            VECTOR
        );
    }

    #[test]
    fn a_signature_verifies_within_five_minutes_and_not_after() {
        let body = br#"{"id":"evt_1"}"#;
        let header = format!("t=1700000000,v1={VECTOR}");
        let at = |now| verify("whsec_test", Some(header.as_bytes()), body, now);
        assert_eq!(at(1_700_000_000), Ok(()));
        assert_eq!(at(1_700_000_300), Ok(()));
        assert_eq!(at(1_699_999_700), Ok(()));
        assert_eq!(at(1_700_000_301), Err(SignatureError::Stale));
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_and_others_are_ignored() {
        let body = br#"{"id":"evt_1"}"#;
        let header = format!("t=1700000000,v0=abc,v1={},v1={VECTOR}", "0".repeat(64));
        assert_eq!(
            verify("whsec_test", Some(header.as_bytes()), body, 1_700_000_000),
            Ok(())
        );
    }

    #[test]
    fn a_tampered_body_a_wrong_secret_or_a_bad_header_is_refused() {
        let header = format!("t=1700000000,v1={VECTOR}");
        let now = 1_700_000_000;
        let check = |secret, header: Option<&str>, body: &[u8]| {
            verify(secret, header.map(str::as_bytes), body, now)
        };
        assert_eq!(
            check("whsec_test", Some(&header), br#"{"id":"evt_2"}"#),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("whsec_other", Some(&header), br#"{"id":"evt_1"}"#),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(check("whsec_test", None, b""), Err(SignatureError::Missing));
        for bad in ["", "t=abc,v1=00", "v1=00", "t=1700000000", "garbage"] {
            assert_eq!(
                check("whsec_test", Some(bad), br#"{"id":"evt_1"}"#),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
