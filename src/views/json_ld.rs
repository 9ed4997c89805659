//! Structured data (schema.org JSON-LD) for article pages.

use std::fmt;

use serde_json::json;

use super::format::rfc3339;
use crate::config::BaseUrl;
use crate::db::articles::ArticleDetail;

/// A JSON-LD document ready to sit inside `<script type="application/ld+json">`. Every `<`, `>`
/// and `&` is written as a `\u` escape, so no text in it can close the element.
#[derive(Debug, Clone)]
pub struct JsonLd(String);

impl JsonLd {
    fn new(value: &serde_json::Value) -> Self {
        let text = value
            .to_string()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        Self(text)
    }

    /// The `Article` and its `BreadcrumbList`, as one `@graph`.
    pub fn for_article(base: &BaseUrl, site_name: &str, article: &ArticleDetail) -> Self {
        let url = base.join(&format!("/articles/{}", article.slug));
        let mut crumbs = vec![
            json!({"@type": "ListItem", "position": 1, "name": "Home", "item": base.join("/")}),
        ];
        if let Some(category) = &article.category {
            crumbs.push(
                json!({"@type": "ListItem", "position": 2, "name": category.name,
                               "item": base.join(&format!("/categories/{}", category.slug))}),
            );
        }
        crumbs.push(json!({"@type": "ListItem", "position": crumbs.len() + 1, "name": article.title, "item": url}));
        Self::new(&json!({
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "Article",
                    "headline": article.title,
                    "description": article.summary,
                    "url": url,
                    "mainEntityOfPage": url,
                    "datePublished": rfc3339(article.published()),
                    "dateModified": rfc3339(article.updated_at),
                    "author": {"@type": "Person", "name": article.author_name},
                    "publisher": {"@type": "Organization", "name": site_name, "url": base.join("/")},
                    "isAccessibleForFree": !article.is_members_only(),
                },
                {"@type": "BreadcrumbList", "itemListElement": crumbs}
            ]
        }))
    }
}

impl fmt::Display for JsonLd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
