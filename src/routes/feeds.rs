//! Machine-read documents: `GET /feed.xml` (Atom), `GET /sitemap.xml` and `GET /robots.txt`.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db::articles::{FeedEntry, SitemapEntry};
use crate::db::taxonomy::{Category, Counted, Tag};
use crate::db::{self};
use crate::domain::SafeHtml;
use crate::error::AppError;
use crate::views::format::rfc3339;
use crate::views::{AppState, Site, conditional};

/// Entries in the feed.
const FEED_ENTRIES: i64 = 20;

#[derive(Template)]
#[template(path = "feeds/atom.xml")]
struct AtomFeed<'a> {
    site: &'a Site,
    updated: String,
    entries: Vec<AtomEntry>,
}

struct AtomEntry {
    url: String,
    title: String,
    summary: String,
    author: String,
    published: String,
    updated: String,
    /// The body, or the teaser for members-only articles.
    content: SafeHtml,
}

pub async fn atom(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let entries = db::run(&state.pool, |conn| {
        Ok(FeedEntry::latest(conn, FEED_ENTRIES)?)
    })
    .await?;
    let site = &state.site;
    let updated = entries
        .iter()
        .map(|e| e.updated_at)
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), rfc3339);
    let entries = entries
        .into_iter()
        .map(|entry| {
            let members_only = entry.visibility == crate::db::articles::MEMBERS_ONLY;
            AtomEntry {
                url: site.base_url.join(&format!("/articles/{}", entry.slug)),
                published: rfc3339(entry.published_at.unwrap_or(entry.updated_at)),
                updated: rfc3339(entry.updated_at),
                content: SafeHtml::from_stored(if members_only {
                    entry.teaser_html
                } else {
                    entry.body_html
                }),
                title: entry.title,
                summary: entry.summary,
                author: entry.author_name,
            }
        })
        .collect();
    let body = AtomFeed {
        site,
        updated,
        entries,
    }
    .render()?;
    Ok(conditional(
        &req,
        body,
        "application/atom+xml; charset=utf-8",
    ))
}

#[derive(Template)]
#[template(path = "feeds/sitemap.xml")]
struct Sitemap {
    urls: Vec<SitemapUrl>,
}

struct SitemapUrl {
    loc: String,
    lastmod: Option<String>,
}

pub async fn sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (articles, categories, tags): (
        Vec<SitemapEntry>,
        Vec<Counted<Category>>,
        Vec<Counted<Tag>>,
    ) = db::run(&state.pool, |conn| {
        Ok((
            SitemapEntry::all(conn)?,
            Category::list_in_use(conn)?,
            Tag::list_in_use(conn)?,
        ))
    })
    .await?;
    let base = &state.site.base_url;
    let newest = articles.iter().map(|a| a.updated_at).max().map(rfc3339);
    let mut urls = vec![
        SitemapUrl {
            loc: base.join("/"),
            lastmod: newest.clone(),
        },
        SitemapUrl {
            loc: base.join("/articles"),
            lastmod: newest,
        },
        SitemapUrl {
            loc: base.join("/categories"),
            lastmod: None,
        },
    ];
    urls.extend(categories.iter().map(|c| SitemapUrl {
        loc: base.join(&format!("/categories/{}", c.item.slug)),
        lastmod: None,
    }));
    urls.extend(tags.iter().map(|t| SitemapUrl {
        loc: base.join(&format!("/tags/{}", t.item.slug)),
        lastmod: None,
    }));
    urls.extend(articles.iter().map(|a| SitemapUrl {
        loc: base.join(&format!("/articles/{}", a.slug)),
        lastmod: Some(rfc3339(a.updated_at)),
    }));
    let body = Sitemap { urls }.render()?;
    Ok(conditional(&req, body, "application/xml; charset=utf-8"))
}

pub async fn robots(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /search\n\nSitemap: {}\n",
        state.site.base_url.join("/sitemap.xml")
    );
    conditional(&req, body, "text/plain; charset=utf-8")
}
