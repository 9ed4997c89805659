//! Full-text search over published articles: SQLite's FTS5 index `articles_fts`, or on PostgreSQL
//! the table of the same name whose generated `tsvector` columns have GIN indexes (see the
//! migrations). The same rules on both: every term must match, the last one also as a prefix, a
//! match in the title counts most, then the summary, then the body, and members-only text is found
//! only by readers with access. Ranking differs in detail between the two (bm25 against
//! `ts_rank`); what is found does not.

use diesel::prelude::*;

use crate::db::DbConn;
use diesel::sql_types::{BigInt, Double, Integer, Text};

use super::articles::ArticleCard;
use crate::domain::SearchQuery;

/// Marks the start and end of a matched word in a snippet; control characters never occur in the
/// indexed text, which is stripped of them when an article is rendered.
const MATCH_START: char = '\u{2}';
const MATCH_END: char = '\u{3}';

/// One search result: the article and an excerpt around the words that matched.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub card: ArticleCard,
    pub snippet: Vec<SnippetPart>,
}

/// A stretch of snippet text, highlighted when it is a matched word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    pub text: String,
    pub highlighted: bool,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    score: f64,
}

#[derive(QueryableByName)]
struct Snippet {
    #[diesel(sql_type = Text)]
    snippet: String,
}

/// Matches are counted, and ranked, up to here: past it the page says "more than" this many and
/// ranks the most recently added of them. An exact count or a ranking of a word found in every
/// article would read every match, and the cost of a search would grow with the site.
pub const COUNT_LIMIT: i64 = 1_000;

/// One page of results and how many published articles match.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Exact up to [`COUNT_LIMIT`]; `COUNT_LIMIT + 1` means "more than [`COUNT_LIMIT`]".
    pub total: i64,
}

/// Published articles matching `query`, best match first (a match in the title weighs most, then
/// the summary, then the body), `limit` of them from `offset`. One pass over the index reads the
/// candidates with their scores; excerpts are then made for the page's articles only.
///
/// A reader without access to members-only articles (`members_text` false) matches only what
/// they may read: titles, summaries, the text of public articles and the teasers of members-only
/// ones; a word found only past a teaser finds nothing. The excerpt of a members-only article
/// comes from its summary for them, so search never shows what only members may read.
pub fn search(
    conn: &mut DbConn,
    query: &SearchQuery,
    offset: i64,
    limit: i64,
    members_text: bool,
) -> QueryResult<SearchResults> {
    if query.is_empty() {
        return Ok(SearchResults::default());
    }
    if let DbConn::Postgres(_) = conn {
        return search_postgres(conn, query, offset, limit, members_text);
    }
    let expression = if members_text {
        query.fts_expression()
    } else {
        format!("{{title summary body_text}} : ({})", query.fts_expression())
    };
    let candidates: Vec<Candidate> = diesel::sql_query(
        "SELECT articles_fts.rowid AS id, bm25(articles_fts, 10.0, 5.0, 1.0, 1.0) AS score \
         FROM articles_fts JOIN articles ON articles.id = articles_fts.rowid \
         WHERE articles_fts MATCH ? AND articles.status = 'published' \
         ORDER BY articles_fts.rowid DESC LIMIT ?",
    )
    .bind::<Text, _>(&expression)
    .bind::<BigInt, _>(COUNT_LIMIT + 1)
    .load(conn)?;
    let (cards, total) = page_of(conn, candidates, offset, limit)?;
    let mut hits = Vec::with_capacity(cards.len());
    for card in cards {
        // -1 lets FTS5 pick the column with the best match; 1 is the summary.
        let column = if card.is_members_only() && !members_text {
            1
        } else {
            -1
        };
        let row: Snippet = diesel::sql_query(
            "SELECT snippet(articles_fts, ?, char(2), char(3), '…', 28) AS snippet \
             FROM articles_fts WHERE articles_fts MATCH ? AND rowid = ?",
        )
        .bind::<Integer, _>(column)
        .bind::<Text, _>(&expression)
        .bind::<Integer, _>(card.id)
        .get_result(conn)?;
        hits.push(SearchHit {
            snippet: split_snippet(&row.snippet),
            card,
        });
    }
    Ok(SearchResults { hits, total })
}

/// The query of [`search`] on PostgreSQL: `$1` the terms that match whole, `$2` the last term,
/// which matches whole or as a prefix, or ''.
const PG_QUERY: &str = "(CASE WHEN $2 = '' THEN websearch_to_tsquery('guidepost', $1) \
     ELSE websearch_to_tsquery('guidepost', $1) && (websearch_to_tsquery('guidepost', $2) \
     || to_tsquery('simple', $2 || ':*')) END)";

/// [`search`] on PostgreSQL. Weights A to D stand for title, summary, body and members-only text;
/// `ts_rank` is higher for a better match, so it is negated to sort as bm25 does.
fn search_postgres(
    conn: &mut DbConn,
    query: &SearchQuery,
    offset: i64,
    limit: i64,
    members_text: bool,
) -> QueryResult<SearchResults> {
    let (words, prefix) = query.postgres_terms();
    let document = if members_text {
        "document"
    } else {
        "public_document"
    };
    let candidates: Vec<Candidate> = diesel::sql_query(format!(
        "SELECT articles_fts.article_id AS id, \
         -ts_rank('{{0.1, 0.2, 0.5, 1.0}}', articles_fts.{document}, {PG_QUERY})::float8 AS score \
         FROM articles_fts JOIN articles ON articles.id = articles_fts.article_id \
         WHERE articles_fts.{document} @@ {PG_QUERY} AND articles.status = 'published' \
         ORDER BY articles_fts.article_id DESC LIMIT $3"
    ))
    .bind::<Text, _>(&words)
    .bind::<Text, _>(&prefix)
    .bind::<BigInt, _>(COUNT_LIMIT + 1)
    .load(conn)?;
    let (cards, total) = page_of(conn, candidates, offset, limit)?;
    let mut hits = Vec::with_capacity(cards.len());
    for card in cards {
        // The excerpt comes from the text the reader may read that matched: the body (the whole
        // of it for members), else the summary.
        let text = if card.is_members_only() && !members_text {
            "summary"
        } else if members_text {
            "CASE WHEN to_tsvector('guidepost', members_text) @@ q.query THEN members_text \
             WHEN to_tsvector('guidepost', body_text) @@ q.query THEN body_text ELSE summary END"
        } else {
            "CASE WHEN to_tsvector('guidepost', body_text) @@ q.query THEN body_text ELSE summary END"
        };
        let row: Snippet = diesel::sql_query(format!(
            "SELECT ts_headline('guidepost', {text}, q.query, 'StartSel=' || chr(2) || \
             ', StopSel=' || chr(3) || ', MaxWords=28, MinWords=12, ShortWord=2') AS snippet \
             FROM articles_fts, (SELECT {PG_QUERY} AS query) AS q WHERE article_id = $3"
        ))
        .bind::<Text, _>(&words)
        .bind::<Text, _>(&prefix)
        .bind::<Integer, _>(card.id)
        .get_result(conn)?;
        hits.push(SearchHit {
            snippet: split_snippet(&row.snippet),
            card,
        });
    }
    Ok(SearchResults { hits, total })
}

/// The page's cards of `candidates` (newest first, at most one past [`COUNT_LIMIT`]), best match
/// first, and how many there were.
fn page_of(
    conn: &mut DbConn,
    mut candidates: Vec<Candidate>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<ArticleCard>, i64)> {
    let total = i64::try_from(candidates.len()).unwrap_or(i64::MAX);
    candidates.truncate(usize::try_from(COUNT_LIMIT).unwrap_or(usize::MAX));
    // A lower score is a better match.
    candidates.sort_by(|a, b| a.score.total_cmp(&b.score).then(b.id.cmp(&a.id)));
    let ids: Vec<i32> = candidates
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|c| c.id)
        .collect();
    Ok((ArticleCard::by_ids(conn, &ids)?, total))
}

/// The text of an article as the index keeps it: what every reader may match, and what only
/// readers with access to members-only articles may.
#[derive(Debug, Clone, Copy)]
pub struct IndexedText<'a> {
    pub public: &'a str,
    pub members: &'a str,
}

impl<'a> IndexedText<'a> {
    /// A public article's whole text is public; a members-only article's public text is its
    /// teaser, and the whole text is for members.
    pub fn split(members_only: bool, body_text: &'a str, teaser_text: &'a str) -> Self {
        if members_only {
            Self {
                public: teaser_text,
                members: body_text,
            }
        } else {
            Self {
                public: body_text,
                members: "",
            }
        }
    }
}

/// Writes an article's entry in the search index, replacing any earlier one. Called by the one
/// path that saves articles, inside its transaction.
pub fn index(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    summary: &str,
    text: &IndexedText<'_>,
) -> QueryResult<()> {
    let insert = match conn {
        DbConn::Sqlite(_) => {
            diesel::sql_query("DELETE FROM articles_fts WHERE rowid = ?")
                .bind::<Integer, _>(id)
                .execute(conn)?;
            "INSERT INTO articles_fts (rowid, title, summary, body_text, members_text) \
             VALUES (?, ?, ?, ?, ?)"
        }
        // The generated columns follow the text.
        DbConn::Postgres(_) => {
            "INSERT INTO articles_fts (article_id, title, summary, body_text, members_text) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (article_id) DO UPDATE SET \
             title = excluded.title, summary = excluded.summary, body_text = excluded.body_text, \
             members_text = excluded.members_text"
        }
    };
    diesel::sql_query(insert)
        .bind::<Integer, _>(id)
        .bind::<Text, _>(title)
        .bind::<Text, _>(summary)
        .bind::<Text, _>(text.public)
        .bind::<Text, _>(text.members)
        .execute(conn)?;
    Ok(())
}

/// Splits FTS5's marked snippet into plain and highlighted parts, so the template can escape
/// every part and wrap the highlighted ones in `<mark>`.
fn split_snippet(marked: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut highlighted = false;
    // The last character that was not a space, across parts.
    let mut last: Option<char> = None;
    for c in marked.chars() {
        if c == MATCH_START || c == MATCH_END {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    highlighted,
                });
            }
            highlighted = c == MATCH_START;
        } else if c == '\n' {
            // A line ends a heading or a paragraph: a heading (no full stop of its own) must not
            // run into the sentence after it.
            let ended = last.is_none_or(|last| ".!?:;…".contains(last));
            current.push_str(if ended { " " } else { ". " });
            last = None;
        } else {
            current.push(c);
            if !c.is_whitespace() {
                last = Some(c);
            }
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart {
            text: current,
            highlighted,
        });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_in_an_excerpt_does_not_run_into_the_next_sentence() {
        let parts = split_snippet(
            "a naming scheme.\nUse status codes \u{2}honestly\u{3}\nClients read them",
        );
        let text: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            text,
            "a naming scheme. Use status codes honestly. Clients read them"
        );
    }

    #[test]
    fn a_marked_snippet_splits_into_plain_and_highlighted_parts() {
        let parts = split_snippet("an \u{2}index\u{3} speeds <reads>");
        let shape: Vec<_> = parts
            .iter()
            .map(|p| (p.text.as_str(), p.highlighted))
            .collect();
        assert_eq!(
            shape,
            [("an ", false), ("index", true), (" speeds <reads>", false)]
        );
    }
}
