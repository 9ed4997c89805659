//! Machine-read documents: `GET /feed.xml` (Atom), `GET /sitemap.xml` (with `/sitemap-N.xml` parts
//! on a site too large for one file) and `GET /robots.txt`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::compression;
use crate::config::BaseUrl;
use crate::db::articles::{FeedEntry, SitemapEntry};
use crate::db::settings::SiteSettings;
use crate::db::taxonomy::{Category, Tag};
use crate::db::{self};
use crate::domain::SafeHtml;
use crate::error::AppError;
use crate::etag::etag_for;
use crate::page_cache::PageCache;
use crate::views::format::rfc3339;
use crate::views::{AppState, Site, conditional, respond};

/// Entries in the feed.
const FEED_ENTRIES: i64 = 20;

#[derive(Template)]
#[template(path = "feeds/atom.xml")]
struct AtomFeed<'a> {
    site: &'a Site,
    settings: SiteSettings,
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

/// `GET /feed.xml`: the newest articles, rendered once per content generation (feed readers ask
/// for it over and over, and with whole articles it is the largest page of the site).
pub async fn atom(
    req: HttpRequest,
    state: web::Data<AppState>,
    documents: web::Data<Documents>,
    page_cache: web::Data<Arc<PageCache>>,
) -> Result<HttpResponse, AppError> {
    let feed = documents
        .feed
        .get_or_build(page_cache.generation(), || async {
            let pool = state.pool.clone();
            let state = state.clone();
            // Rendered and compressed on the blocking pool too: whole articles take a few ms.
            db::run(&pool, move |conn| {
                let entries = FeedEntry::latest(conn, FEED_ENTRIES)?;
                let settings = state.cache.settings(conn)?;
                Ok(Document::new(render_feed(&state.site, settings, entries)?))
            })
            .await
        })
        .await?;
    Ok(feed.respond(&req, "application/atom+xml; charset=utf-8"))
}

fn render_feed(
    site: &Site,
    settings: SiteSettings,
    entries: Vec<FeedEntry>,
) -> Result<String, AppError> {
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
    Ok(AtomFeed {
        site,
        settings,
        updated,
        entries,
    }
    .render()?)
}

/// The most addresses one sitemap file may list, by the sitemap protocol.
pub const SITEMAP_MAX_URLS: usize = 50_000;

#[derive(Template)]
#[template(path = "feeds/sitemap.xml")]
struct Sitemap<'a> {
    urls: &'a [SitemapUrl],
}

#[derive(Template)]
#[template(path = "feeds/sitemap_index.xml")]
struct SitemapIndex {
    parts: Vec<SitemapUrl>,
}

struct SitemapUrl {
    loc: String,
    lastmod: Option<String>,
}

/// One rendered document, with its ETag, and compressed once for every request that accepts gzip
/// (a sitemap of 10,000 articles is 1.5 MB of XML, the feed a few hundred KB).
struct Document {
    body: Bytes,
    gzipped: Option<Bytes>,
    etag: String,
}

impl Document {
    fn new(body: String) -> Self {
        Document {
            etag: etag_for(body.as_bytes()),
            gzipped: compression::gzip(body.as_bytes()).ok().map(Bytes::from),
            body: Bytes::from(body),
        }
    }

    fn respond(&self, req: &HttpRequest, content_type: &'static str) -> HttpResponse {
        let mut response = match &self.gzipped {
            Some(gzipped) if compression::accepts_gzip(req.headers()) => {
                let mut response = respond(req, gzipped.clone(), &self.etag, content_type);
                if response.status() == StatusCode::OK {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                response
            }
            _ => respond(req, self.body.clone(), &self.etag, content_type),
        };
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        response
    }
}

/// Something derived from the content, kept for one content generation and rebuilt after the
/// content changed, by one request while the others wait for it.
struct Built<T> {
    built: tokio::sync::Mutex<Option<(u64, Arc<T>)>>,
}

impl<T> Default for Built<T> {
    fn default() -> Self {
        Built {
            built: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T> Built<T> {
    async fn get_or_build<F, Fut>(&self, generation: u64, build: F) -> Result<Arc<T>, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let mut built = self.built.lock().await;
        if let Some((made_in, value)) = built.as_ref()
            && *made_in == generation
        {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(build().await?);
        *built = Some((generation, Arc::clone(&value)));
        Ok(value)
    }
}

/// The feed and the sitemap documents of the current content generation. The sitemap is
/// `/sitemap.xml` first, then, once the site has more than [`SITEMAP_MAX_URLS`] addresses,
/// `/sitemap-1.xml` and on, which it then indexes.
#[derive(Default)]
pub struct Documents {
    feed: Built<Document>,
    sitemaps: Built<Vec<Document>>,
}

/// `GET /sitemap.xml`.
pub async fn sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
    documents: web::Data<Documents>,
    page_cache: web::Data<Arc<PageCache>>,
) -> Result<HttpResponse, AppError> {
    sitemap_document(&req, &state, &documents, &page_cache, 0).await
}

/// `GET /sitemap-{n}.xml`: one part of a sitemap too large for one file.
pub async fn sitemap_part(
    req: HttpRequest,
    state: web::Data<AppState>,
    documents: web::Data<Documents>,
    page_cache: web::Data<Arc<PageCache>>,
    n: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let n: usize = n.parse().map_err(|_| AppError::NotFound)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    sitemap_document(&req, &state, &documents, &page_cache, n).await
}

async fn sitemap_document(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    documents: &Documents,
    page_cache: &PageCache,
    n: usize,
) -> Result<HttpResponse, AppError> {
    let sitemaps = documents
        .sitemaps
        .get_or_build(page_cache.generation(), || {
            build_sitemaps(state, SITEMAP_MAX_URLS)
        })
        .await?;
    let document = sitemaps.get(n).ok_or(AppError::NotFound)?;
    Ok(document.respond(req, "application/xml; charset=utf-8"))
}

/// Reads every public address and renders (and compresses) the sitemap documents, splitting them
/// past `max_urls`; all of it on the blocking pool, as it takes milliseconds on a large site.
async fn build_sitemaps(
    state: &web::Data<AppState>,
    max_urls: usize,
) -> Result<Vec<Document>, AppError> {
    let base = state.site.base_url.clone();
    db::run(&state.pool, move |conn| {
        let articles = SitemapEntry::all(conn)?;
        let categories = Category::list_in_use(conn)?;
        let tags = Tag::list_in_use(conn)?;
        let authors = crate::db::profiles::sitemap(conn)?;
        let base = &base;
        let newest = articles.iter().map(|a| a.updated_at).max().map(rfc3339);
        let mut urls = vec![
            SitemapUrl {
                loc: base.join("/"),
                lastmod: newest.clone(),
            },
            SitemapUrl {
                loc: base.join("/articles"),
                lastmod: newest.clone(),
            },
            SitemapUrl {
                loc: base.join("/categories"),
                lastmod: None,
            },
        ];
        urls.extend(categories.iter().map(|c| SitemapUrl {
            loc: base.join(&format!("/categories/{}", c.slug)),
            lastmod: None,
        }));
        urls.extend(tags.iter().map(|t| SitemapUrl {
            loc: base.join(&format!("/tags/{}", t.slug)),
            lastmod: None,
        }));
        urls.extend(authors.iter().map(|(handle, updated)| SitemapUrl {
            loc: base.join(&format!("/authors/{handle}")),
            lastmod: Some(rfc3339(*updated)),
        }));
        urls.extend(articles.iter().map(|a| SitemapUrl {
            loc: base.join(&format!("/articles/{}", a.slug)),
            lastmod: Some(rfc3339(a.updated_at)),
        }));
        split_sitemap(&urls, max_urls, base, newest)
    })
    .await
}

/// One document when `urls` fit in it; otherwise an index followed by the parts it lists.
fn split_sitemap(
    urls: &[SitemapUrl],
    max_urls: usize,
    base: &BaseUrl,
    lastmod: Option<String>,
) -> Result<Vec<Document>, AppError> {
    let document = Document::new;
    if urls.len() <= max_urls {
        return Ok(vec![document(Sitemap { urls }.render()?)]);
    }
    let chunks: Vec<&[SitemapUrl]> = urls.chunks(max_urls.max(1)).collect();
    let index = SitemapIndex {
        parts: (1..=chunks.len())
            .map(|n| SitemapUrl {
                loc: base.join(&format!("/sitemap-{n}.xml")),
                lastmod: lastmod.clone(),
            })
            .collect(),
    };
    let mut documents = vec![document(index.render()?)];
    for chunk in chunks {
        documents.push(document(Sitemap { urls: chunk }.render()?));
    }
    Ok(documents)
}

pub async fn robots(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let body = format!(
        "User-agent: *\nDisallow: /search\nDisallow: /account\nDisallow: /admin\n\
         Disallow: /signup/confirm/\nDisallow: /verify-email/\nDisallow: /password/\n\n\
         Sitemap: {}\n",
        state.site.base_url.join("/sitemap.xml")
    );
    conditional(&req, body, "text/plain; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize) -> Vec<SitemapUrl> {
        (0..n)
            .map(|i| SitemapUrl {
                loc: format!("https://example.com/articles/a-{i}"),
                lastmod: None,
            })
            .collect()
    }

    #[test]
    fn a_sitemap_that_fits_is_one_urlset() {
        let base = BaseUrl::parse("https://example.com").unwrap();
        let documents = split_sitemap(&urls(5), 5, &base, None).unwrap();
        assert_eq!(documents.len(), 1);
        let text = std::str::from_utf8(&documents[0].body).unwrap();
        assert!(text.contains("<urlset") && text.matches("<url>").count() == 5);
    }

    #[test]
    fn a_sitemap_past_the_limit_becomes_an_index_of_parts_within_the_limit() {
        let base = BaseUrl::parse("https://example.com").unwrap();
        let documents = split_sitemap(&urls(11), 5, &base, None).unwrap();
        assert_eq!(documents.len(), 4, "an index and three parts");
        let index = std::str::from_utf8(&documents[0].body).unwrap();
        assert!(index.contains("<sitemapindex"));
        for n in 1..=3 {
            assert!(index.contains(&format!("<loc>https://example.com/sitemap-{n}.xml</loc>")));
        }
        let counts: Vec<usize> = documents[1..]
            .iter()
            .map(|d| {
                std::str::from_utf8(&d.body)
                    .unwrap()
                    .matches("<url>")
                    .count()
            })
            .collect();
        assert_eq!(counts, [5, 5, 1]);
    }
}
