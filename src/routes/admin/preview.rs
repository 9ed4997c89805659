//! The editor's preview: an unsaved article rendered by the public article page, in full, with a
//! bar that carries the form's values back to editing or on to saving.

use actix_web::HttpResponse;

use super::editor::{CheckedView, Values, hidden_fields};
use crate::auth::Visitor;
use crate::db::articles::{ArticleDetail, CategoryRef, CoverRef};
use crate::db::settings::SiteSettings;
use crate::db::taxonomy::Tag;
use crate::domain::RenderedMarkdown;
use crate::error::AppError;
use crate::routes::articles::{PreviewBar, preview};
use crate::views::AppState;

pub fn page(
    state: &AppState,
    visitor: &Visitor,
    settings: &SiteSettings,
    id: Option<i32>,
    values: &Values,
    view: &CheckedView,
    rendered: &RenderedMarkdown,
) -> Result<HttpResponse, AppError> {
    let now = crate::db::now();
    let cover = view.cover.as_ref().and_then(|(url, _)| {
        let name = url.strip_prefix("/images/")?;
        let (hash, extension) = name.split_once('.')?;
        Some(CoverRef {
            hash: hash.to_owned(),
            content_type: match extension {
                "png" => "image/png",
                "jpg" => "image/jpeg",
                "webp" => "image/webp",
                _ => "image/gif",
            }
            .to_owned(),
        })
    });
    let article = ArticleDetail {
        id: id.unwrap_or(0),
        slug: view.slug.clone(),
        title: view.title.clone(),
        summary: view.summary.clone(),
        body_html: rendered.html.as_str().to_owned(),
        teaser_html: rendered.teaser.as_str().to_owned(),
        toc_json: serde_json::to_string(&rendered.toc).unwrap_or_else(|_| "[]".to_owned()),
        category_id: None,
        visibility: view.visibility.to_owned(),
        reading_minutes: rendered.reading_minutes,
        published_at: Some(now),
        updated_at: now,
        author_name: view.author.clone(),
        author_id: 0,
        // No link from the byline of a preview.
        author_handle: String::new(),
        comments_closed: false,
        category: view.category.as_ref().map(|(slug, name)| CategoryRef {
            slug: slug.clone(),
            name: name.clone(),
        }),
        cover,
        cover_alt: view
            .cover
            .as_ref()
            .map(|(_, alt)| alt.clone())
            .unwrap_or_default(),
    };
    let tags = view
        .tags
        .iter()
        .map(|(slug, name)| Tag {
            id: 0,
            slug: slug.clone(),
            name: name.clone(),
            description: String::new(),
            published_articles: 0,
        })
        .collect();
    let bar = PreviewBar {
        action: match id {
            Some(id) => format!("/admin/articles/{id}"),
            None => "/admin/articles/new".to_owned(),
        },
        csrf_token: visitor.csrf_token(),
        fields: hidden_fields(values),
    };
    preview(state, visitor, settings, article, tags, bar)
}
