//! The `page_views` table: how often each article was read, per day. The counting itself happens
//! in memory (`crate::readership`); this adds batches of counts.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::connection::placeholders;
use diesel::sql_types::{BigInt, Date, Integer, Text};
use time::Date as Day;

use super::schema::{articles, page_views};

/// Adds `views` to the count of the article with `slug` on `day`; unknown slugs are ignored.
pub fn add(conn: &mut DbConn, slug: &str, day: Day, views: i64) -> QueryResult<()> {
    let Some(id) = articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .first::<i32>(conn)
        .optional()?
    else {
        return Ok(());
    };
    diesel::sql_query(placeholders(
        conn.kind(),
        "INSERT INTO page_views (article_id, day, views) VALUES (?, ?, ?) \
         ON CONFLICT (article_id, day) DO UPDATE SET views = page_views.views + excluded.views",
    ))
    .bind::<Integer, _>(id)
    .bind::<Date, _>(day)
    .bind::<BigInt, _>(views)
    .execute(conn)
    .map(drop)
}

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = Date)]
    day: Day,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Views per day since `since` (days without views are missing).
pub fn per_day(conn: &mut DbConn, since: Day) -> QueryResult<Vec<(Day, i64)>> {
    let rows: Vec<DayCount> = diesel::sql_query(placeholders(
        conn.kind(),
        "SELECT day, sum(views) AS n FROM page_views WHERE day >= ? GROUP BY day ORDER BY day",
    ))
    .bind::<Date, _>(since)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}

#[derive(QueryableByName, Debug, Clone)]
pub struct MostRead {
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = BigInt)]
    pub views: i64,
}

/// The most-read articles since `since`.
pub fn most_read(conn: &mut DbConn, since: Day, limit: i64) -> QueryResult<Vec<MostRead>> {
    diesel::sql_query(placeholders(
        conn.kind(),
        "SELECT articles.slug AS slug, articles.title AS title, sum(page_views.views) AS views \
         FROM page_views JOIN articles ON articles.id = page_views.article_id \
         WHERE page_views.day >= ? GROUP BY articles.id ORDER BY views DESC LIMIT ?",
    ))
    .bind::<Date, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The views the table holds in all, for tests and the dashboard.
pub fn total(conn: &mut DbConn) -> QueryResult<i64> {
    page_views::table
        .select(diesel::dsl::sum(page_views::views))
        .first::<Option<i64>>(conn)
        .map(|n| n.unwrap_or(0))
}
