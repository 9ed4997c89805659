//! `Slug`: the URL-safe name of an article, category or tag.

use std::fmt;

/// Lowercase ASCII letters, digits and single hyphens, 1 to 100 characters, never starting or
/// ending with a hyphen. Every public URL of a piece of content is built from one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

/// Why a text was refused as a slug, in words an editor can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("the slug is empty")]
    Empty,
    #[error("the slug is longer than 100 characters")]
    TooLong,
    #[error("the slug may hold only lowercase letters, digits and single hyphens between words")]
    BadCharacters,
}

impl Slug {
    pub const MAX_LEN: usize = 100;

    /// Accepts a slug exactly as given.
    pub fn parse(text: &str) -> Result<Self, SlugError> {
        if text.is_empty() {
            return Err(SlugError::Empty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(SlugError::TooLong);
        }
        let well_formed = text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-')
            && !text.contains("--");
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(SlugError::BadCharacters)
        }
    }

    /// Derives a slug from a title or name: "What is an API?" becomes `what-is-an-api`.
    /// Letters outside ASCII are dropped, so a name made only of them has no slug.
    pub fn from_title(title: &str) -> Result<Self, SlugError> {
        let words = slugify(title);
        let mut cut = words.as_str();
        if cut.len() > Self::MAX_LEN {
            cut = cut[..Self::MAX_LEN].trim_end_matches('-');
        }
        Self::parse(cut)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercases `text` and joins its ASCII words with single hyphens. Used for slugs and for the
/// anchors of headings.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_hyphen = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            out.push(c.to_ascii_lowercase());
        } else if c != '\'' && c != '’' {
            pending_hyphen = true;
        }
    }
    out
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_becomes_a_hyphenated_lowercase_slug() {
        let slug = Slug::from_title("What does a back-end developer do?").unwrap();
        assert_eq!(slug.as_str(), "what-does-a-back-end-developer-do");
    }

    #[test]
    fn apostrophes_do_not_split_words() {
        assert_eq!(slugify("A beginner's guide"), "a-beginners-guide");
    }

    #[test]
    fn malformed_slugs_are_refused() {
        for bad in [
            "",
            "Upper",
            "two--hyphens",
            "-lead",
            "trail-",
            "sp ace",
            "semi;colon",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_title_without_ascii_letters_has_no_slug() {
        assert_eq!(Slug::from_title("???"), Err(SlugError::Empty));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_text_slugifies_to_lowercase_words_joined_by_single_hyphens(text in "\\PC{0,200}") {
                let slug = slugify(&text);
                prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
                prop_assert_eq!(slugify(&slug), slug.clone(), "slugifying is stable");
            }

            #[test]
            fn a_slug_from_any_title_parses_or_says_why_not(title in "\\PC{0,300}") {
                match Slug::from_title(&title) {
                    Ok(slug) => {
                        prop_assert!(slug.as_str().len() <= Slug::MAX_LEN);
                        prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
                    }
                    Err(error) => prop_assert!(!error.to_string().is_empty()),
                }
            }

            #[test]
            fn parse_accepts_exactly_the_well_formed(text in "[a-z0-9-]{0,120}|\\PC{0,40}") {
                let well_formed = !text.is_empty()
                    && text.len() <= Slug::MAX_LEN
                    && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !text.starts_with('-')
                    && !text.ends_with('-')
                    && !text.contains("--");
                prop_assert_eq!(Slug::parse(&text).is_ok(), well_formed);
            }
        }
    }
}
