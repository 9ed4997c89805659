//! `SearchQuery`: what a reader typed into the search box, made safe for SQLite FTS5.

/// The words of a search. FTS5 has its own query language (`"`, `AND`, `NEAR(...)`, `*`, column
/// filters); a reader's text is never passed to it as is. Only runs of letters and digits are kept,
/// each becomes a quoted term, and the terms are combined with AND. The last word also matches as
/// a prefix (a reader may stop typing mid-word) once it has [`SearchQuery::MIN_PREFIX_CHARS`]
/// characters: a shorter prefix such as `th` stands for so many words that merging them would cost
/// more than the search itself, and the stemmer already matches `index` with `indexes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The text as typed (trimmed and cut to a sane length), to show back in the search box.
    text: String,
    terms: Vec<String>,
}

impl SearchQuery {
    pub const MAX_CHARS: usize = 200;
    pub const MAX_TERMS: usize = 12;
    const MAX_TERM_CHARS: usize = 64;
    pub const MIN_PREFIX_CHARS: usize = 4;

    pub fn parse(raw: &str) -> Self {
        let text: String = raw.trim().chars().take(Self::MAX_CHARS).collect();
        let terms = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| {
                word.chars()
                    .take(Self::MAX_TERM_CHARS)
                    .collect::<String>()
                    .to_lowercase()
            })
            .take(Self::MAX_TERMS)
            .collect();
        Self { text, terms }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when nothing searchable was typed.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// PostgreSQL's query of the same meaning, in two parts: the terms that must match whole
    /// (each quoted, for `websearch_to_tsquery`, so that `or` or a leading `-` is a word, not an
    /// operator), and the last term when it is long enough to match as a prefix too (alphanumeric
    /// only, so it is safe in `to_tsquery`), or `""` when it is not (then it is among the first).
    pub fn postgres_terms(&self) -> (String, String) {
        let last = self.terms.len().saturating_sub(1);
        let prefix = self
            .terms
            .get(last)
            .filter(|term| term.chars().count() >= Self::MIN_PREFIX_CHARS)
            .cloned()
            .unwrap_or_default();
        let whole = if prefix.is_empty() {
            &self.terms[..]
        } else {
            &self.terms[..last]
        };
        let words = whole
            .iter()
            .map(|term| format!("\"{term}\""))
            .collect::<Vec<_>>()
            .join(" ");
        (words, prefix)
    }

    /// The FTS5 `MATCH` expression: every term quoted, so no operator can be smuggled in.
    pub fn fts_expression(&self) -> String {
        let last = self.terms.len().saturating_sub(1);
        self.terms
            .iter()
            .enumerate()
            .map(|(i, term)| {
                if i == last && term.chars().count() >= Self::MIN_PREFIX_CHARS {
                    format!("\"{term}\"*")
                } else {
                    format!("\"{term}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_gets_quoted_whole_words_and_the_last_one_as_a_prefix() {
        let q = SearchQuery::parse("OR -index databa");
        assert_eq!(
            q.postgres_terms(),
            (r#""or" "index""#.to_owned(), "databa".to_owned())
        );
        let short = SearchQuery::parse("api sql");
        assert_eq!(
            short.postgres_terms(),
            (r#""api" "sql""#.to_owned(), String::new())
        );
    }

    #[test]
    fn fts_syntax_in_a_query_becomes_plain_words() {
        let q = SearchQuery::parse(r#"  "sql AND (index* NEAR(a b) title:x  "#);
        assert_eq!(
            q.fts_expression(),
            r#""sql" "and" "index" "near" "a" "b" "title" "x""#
        );
        assert_eq!(q.text(), r#""sql AND (index* NEAR(a b) title:x"#);
    }

    #[test]
    fn punctuation_alone_is_an_empty_query() {
        assert!(SearchQuery::parse(r#"" * ( ) -"#).is_empty());
        assert!(SearchQuery::parse("").is_empty());
    }

    #[test]
    fn long_input_is_bounded() {
        let q = SearchQuery::parse(&"word ".repeat(500));
        assert!(q.text().chars().count() <= SearchQuery::MAX_CHARS);
        assert_eq!(
            q.fts_expression().matches('"').count(),
            2 * SearchQuery::MAX_TERMS
        );
    }

    #[test]
    fn only_a_last_word_long_enough_matches_as_a_prefix() {
        assert_eq!(
            SearchQuery::parse("database ind").fts_expression(),
            r#""database" "ind""#
        );
        assert_eq!(
            SearchQuery::parse("index data").fts_expression(),
            r#""index" "data"*"#
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_query_becomes_only_quoted_words(raw in "\\PC{0,400}") {
                let query = SearchQuery::parse(&raw);
                prop_assert!(query.text().chars().count() <= SearchQuery::MAX_CHARS);
                let expression = query.fts_expression();
                // Every term is one word in quotes (a word lowercased: letters, digits and the marks
                // lowercasing adds), side by side (FTS5 reads that as AND); a prefix star may
                // follow the last. No quote inside a term can end it early.
                let terms: Vec<&str> = expression.split(' ').filter(|t| !t.is_empty()).collect();
                prop_assert!(terms.len() <= SearchQuery::MAX_TERMS);
                for term in terms {
                    let inner = term.trim_end_matches('*');
                    prop_assert!(inner.starts_with('"') && inner.ends_with('"') && inner.len() >= 3, "{term}");
                    let word = &inner[1..inner.len() - 1];
                    prop_assert!(!word.contains('"') && !word.chars().any(char::is_whitespace), "{term}");
                }
            }
        }
    }
}
