//! What a member types when signing up or changing their details: an email address, a display
//! name and a new password, each parsed once into a value that cannot be invalid, with the message
//! a person reads beside the field when it is.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

/// An email address, trimmed and lower-cased: the form in which addresses are stored and compared,
/// so `Ana@Example.com` and `ana@example.com ` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// The longest address SMTP carries.
    pub const MAX_BYTES: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.");
        }
        if email.len() > Self::MAX_BYTES {
            return Err("That email address is too long (at most 254 characters).");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("Enter an email address such as name@example.com.");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(email))
        } else {
            Err("Enter an email address such as name@example.com.")
        }
    }

    /// An address read back from the database, where only [`Email::parse`] writes them.
    pub fn from_stored(email: String) -> Self {
        Self(email)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name a member goes by on the site: 1 to 100 characters, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Enter your name.");
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err("Names can be at most 100 characters long.");
        }
        if name.chars().any(char::is_control) {
            return Err("Names cannot contain control characters such as tabs or line breaks.");
        }
        Ok(Self(name.to_owned()))
    }

    /// Wraps a name read back from the database, where only [`DisplayName::parse`] writes it.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password a member chose, checked against the rules: long enough, within the 72 bytes bcrypt
/// reads (a longer one is refused rather than silently cut), and not one of the passwords
/// attackers try first. Its `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_BYTES: usize = 72;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err("Choose a password of at least 8 characters.".to_owned());
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(format!(
                "Passwords can be at most 72 bytes long (letters with accents and emoji take \
                 more than one); this one has {}. Choose a shorter one.",
                raw.len()
            ));
        }
        if is_common(raw) {
            return Err(
                "That password is one of the most common ones, which attackers try first. \
                 Choose another."
                    .to_owned(),
            );
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(redacted)")
    }
}

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// True when `password` is on the list of common passwords, compared without regard to case.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(&password.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ana.Silva@Example.COM ").unwrap().as_str(),
            "ana.silva@example.com"
        );
    }

    #[test]
    fn malformed_or_overlong_emails_are_refused() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "a b@example.com",
            "ana@exa mple.com",
            "ana@-example.com",
            ".ana@example.com",
            "ana..b@example.com",
            "<script>@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(DisplayName::parse("  Ana  ").unwrap().as_str(), "Ana");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("Ana\u{0}").is_err());
        assert!(DisplayName::parse("Ana\nBob").is_err());
        assert!(DisplayName::parse("Zoë O’Brien-Łukasz").is_ok());
    }

    #[test]
    fn passwords_must_be_long_enough_short_enough_for_bcrypt_and_uncommon() {
        assert!(NewPassword::parse("short").is_err());
        assert!(
            NewPassword::parse(&"a1".repeat(36)).is_ok(),
            "72 bytes is fine"
        );
        let too_long = "é".repeat(37);
        assert_eq!(too_long.chars().count(), 37);
        assert!(NewPassword::parse(&too_long).is_err(), "74 bytes is not");
        assert!(NewPassword::parse("Password123").is_err());
        assert!(NewPassword::parse("summer2024").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(COMMON.len() >= 1_000);
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = NewPassword::parse("a secret phrase").unwrap();
        assert!(!format!("{password:?}").contains("secret"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn an_address_is_refused_in_a_sentence_or_normalised_for_good(raw in "\\PC{0,80}|[A-Za-z0-9._+-]{1,20}@[A-Za-z0-9-]{1,10}\\.[A-Za-z]{2,5}") {
                match Email::parse(&raw) {
                    Ok(email) => {
                        let text = email.as_str();
                        prop_assert_eq!(text, raw.trim().to_lowercase());
                        prop_assert!(text.len() <= Email::MAX_BYTES);
                        prop_assert_eq!(text.matches('@').count(), 1);
                        prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
                        // Normalising twice changes nothing: one address, one account.
                        prop_assert_eq!(Email::parse(text), Ok(email.clone()));
                        prop_assert_eq!(Email::parse(&format!("  {}  ", text.to_uppercase())), Ok(email.clone()));
                    }
                    Err(message) => prop_assert!(message.ends_with('.')),
                }
            }

            #[test]
            fn a_name_is_refused_in_a_sentence_or_kept_trimmed(raw in "\\PC{0,120}|[\\x00-\\x1f ]{0,5}") {
                match DisplayName::parse(&raw) {
                    Ok(name) => {
                        prop_assert_eq!(name.as_str(), raw.trim());
                        prop_assert!(name.as_str().chars().count() <= DisplayName::MAX_CHARS);
                        prop_assert!(!name.as_str().chars().any(char::is_control));
                    }
                    Err(message) => prop_assert!(message.ends_with('.')),
                }
            }
        }
    }
}
