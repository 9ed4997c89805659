//! Full-text search over published articles through the `articles_fts` FTS5 index.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

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
struct Ranked {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    snippet: String,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// How many published articles match.
pub fn count(conn: &mut SqliteConnection, query: &SearchQuery) -> QueryResult<i64> {
    if query.is_empty() {
        return Ok(0);
    }
    let row: Total = diesel::sql_query(
        "SELECT count(*) AS total FROM articles_fts \
         JOIN articles ON articles.id = articles_fts.rowid \
         WHERE articles_fts MATCH ? AND articles.status = 'published'",
    )
    .bind::<Text, _>(query.fts_expression())
    .get_result(conn)?;
    Ok(row.total)
}

/// A page of matching published articles, best match first (a match in the title weighs most,
/// then the summary, then the body). The excerpt of a members-only article comes from its summary,
/// so search never shows what only members may read.
pub fn search(
    conn: &mut SqliteConnection,
    query: &SearchQuery,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<SearchHit>> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let ranked: Vec<Ranked> = diesel::sql_query(
        "SELECT articles.id AS id, \
                CASE articles.visibility \
                    WHEN 'public' THEN snippet(articles_fts, -1, char(2), char(3), '…', 28) \
                    ELSE snippet(articles_fts, 1, char(2), char(3), '…', 28) \
                END AS snippet \
         FROM articles_fts JOIN articles ON articles.id = articles_fts.rowid \
         WHERE articles_fts MATCH ? AND articles.status = 'published' \
         ORDER BY bm25(articles_fts, 10.0, 5.0, 1.0), articles.id DESC \
         LIMIT ? OFFSET ?",
    )
    .bind::<Text, _>(query.fts_expression())
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)?;
    let ids: Vec<i32> = ranked.iter().map(|r| r.id).collect();
    let mut cards = ArticleCard::by_ids(conn, &ids)?.into_iter();
    let mut hits = Vec::with_capacity(ranked.len());
    for row in ranked {
        if let Some(card) = cards.by_ref().find(|c| c.id == row.id) {
            hits.push(SearchHit {
                card,
                snippet: split_snippet(&row.snippet),
            });
        }
    }
    Ok(hits)
}

/// Splits FTS5's marked snippet into plain and highlighted parts, so the template can escape
/// every part and wrap the highlighted ones in `<mark>`.
fn split_snippet(marked: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut highlighted = false;
    for c in marked.chars() {
        if c == MATCH_START || c == MATCH_END {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    highlighted,
                });
            }
            highlighted = c == MATCH_START;
        } else {
            current.push(if c == '\n' { ' ' } else { c });
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
