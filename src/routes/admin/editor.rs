//! Writing and editing an article: `GET/POST /admin/articles/new` and `GET/POST
//! /admin/articles/{id}`. The form's buttons say what to do: save (a draft stays a draft),
//! publish, preview (the article exactly as readers will see it, nothing saved, with the way back
//! to the form) or go back to editing from a preview. Saving goes through `content::store`, the
//! path imports take too; a save from a version of the article that has changed since is refused
//! with the text kept; a published article whose address changes keeps answering at the old one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminNav, actor, layout, nav, settings};
use crate::auth::Visitor;
use crate::content::{ArticleInput, store};
use crate::db::article_writes::{SaveTarget, Saved};
use crate::db::articles::{MEMBERS_ONLY, PUBLIC, PUBLISHED};
use crate::db::editing::{self, EditorArticle};
use crate::db::images::ImageInfo;
use crate::db::taxonomy::{Category, Tag};
use crate::db::{self, audit, redirects};
use crate::domain::{Slug, markdown};
use crate::error::AppError;
use crate::routes::forms::{FieldErrors, Fields, render_private, see_other};
use crate::views::{AppState, Layout};

const TITLE_MAX: usize = 200;
const SUMMARY_MAX: usize = 400;
/// The longest article text, in characters (any alphabet).
pub const BODY_MAX: usize = 200_000;
const TAGS_MAX: usize = 20;

/// The form's values as typed, kept when the form comes back.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub category_id: String,
    pub tags: String,
    pub visibility: String,
    pub author_id: String,
    pub featured: bool,
    pub cover_image_id: String,
    pub cover_alt: String,
    /// The version the form was opened at ("" for a new article).
    pub version: String,
}

impl Values {
    fn from_form(fields: &Fields) -> Self {
        Self {
            title: fields.get("title").to_owned(),
            slug: fields.get("slug").trim().to_owned(),
            summary: fields.get("summary").to_owned(),
            body: fields.get("body").to_owned(),
            category_id: fields.get("category_id").to_owned(),
            tags: fields.get("tags").to_owned(),
            visibility: fields.get("visibility").to_owned(),
            author_id: fields.get("author_id").to_owned(),
            featured: fields.has("featured"),
            cover_image_id: fields.get("cover_image_id").to_owned(),
            cover_alt: fields.get("cover_alt").to_owned(),
            version: fields.get("version").to_owned(),
        }
    }

    fn from_article(article: &EditorArticle, tags: &[String]) -> Self {
        Self {
            title: article.title.clone(),
            slug: article.slug.clone(),
            summary: article.summary.clone(),
            body: article.body_markdown.clone(),
            category_id: article
                .category_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            tags: tags.join(", "),
            visibility: article.visibility.clone(),
            author_id: article.author_id.to_string(),
            featured: article.featured,
            cover_image_id: article
                .cover_image_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            cover_alt: article.cover_alt.clone(),
            version: article.version.to_string(),
        }
    }

    /// Every value as hidden fields, for the preview's way back.
    fn hidden(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("title", self.title.clone()),
            ("slug", self.slug.clone()),
            ("summary", self.summary.clone()),
            ("body", self.body.clone()),
            ("category_id", self.category_id.clone()),
            ("tags", self.tags.clone()),
            ("visibility", self.visibility.clone()),
            ("author_id", self.author_id.clone()),
            ("cover_image_id", self.cover_image_id.clone()),
            ("cover_alt", self.cover_alt.clone()),
            ("version", self.version.clone()),
        ];
        if self.featured {
            fields.push(("featured", "yes".to_owned()));
        }
        fields
    }
}

/// What the form's choices are drawn from.
struct Choices {
    categories: Vec<Category>,
    authors: Vec<(i32, String)>,
    images: Vec<ImageInfo>,
}

/// The choices of `member`'s form: every author for staff; themselves only for a member writing
/// their own articles.
async fn choices(
    state: &AppState,
    member: &crate::db::users::Member,
    staff: bool,
) -> Result<Choices, AppError> {
    let me = (member.id, member.name.clone());
    db::run(&state.pool, move |conn| {
        Ok(Choices {
            categories: Category::all(conn)?,
            authors: if staff {
                editing::authors(conn)?
            } else {
                vec![me]
            },
            images: ImageInfo::all(conn)?,
        })
    })
    .await
}

/// An article as the form describes it, checked.
struct Checked {
    title: String,
    slug: Slug,
    summary: String,
    body: String,
    category_id: Option<i32>,
    tags: Vec<(Slug, String)>,
    visibility: &'static str,
    author_id: i32,
    featured: bool,
    cover: Option<(i32, String)>,
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An article's words as checked: one-line title and summary, the Markdown, the tags.
pub struct ArticleText {
    pub title: String,
    pub summary: String,
    pub body: String,
    pub tags: Vec<(Slug, String)>,
}

/// Checks an article's title, summary, Markdown and tag names by the editor's rules (the JSON API
/// uses them too); every problem is recorded under its field's name.
pub fn check_text(
    title: &str,
    summary: &str,
    body: &str,
    tag_names: &[String],
    errors: &mut FieldErrors,
) -> ArticleText {
    let title = one_line(title);
    if title.is_empty() {
        errors.add("title", "Give the article a title.");
    } else if title.chars().count() > TITLE_MAX {
        errors.add("title", "Titles can be at most 200 characters long.");
    }
    let summary = one_line(summary);
    if summary.is_empty() {
        errors.add(
            "summary",
            "Write a sentence or two for lists, search results and link previews.",
        );
    } else if summary.chars().count() > SUMMARY_MAX {
        errors.add("summary", "Summaries can be at most 400 characters long.");
    }
    let body = body.replace("\r\n", "\n");
    if body.trim().is_empty() {
        errors.add("body", "Write the article's text, in Markdown.");
    } else if body.chars().count() > BODY_MAX {
        errors.add("body", "The text is too long (at most 200,000 characters).");
    }
    let mut tags: Vec<(Slug, String)> = Vec::new();
    for name in tag_names
        .iter()
        .map(|n| one_line(n))
        .filter(|n| !n.is_empty())
    {
        if name.chars().count() > 50 {
            errors.add("tags", "Tags can be at most 50 characters long.");
        } else {
            match Slug::from_title(&name) {
                Ok(slug) if tags.iter().any(|(s, _)| *s == slug) => {}
                Ok(slug) => tags.push((slug, name)),
                Err(_) => errors.add(
                    "tags",
                    format!("“{name}” cannot be made into a tag’s address."),
                ),
            }
        }
    }
    if tags.len() > TAGS_MAX {
        errors.add("tags", "An article can have at most 20 tags.");
    }
    ArticleText {
        title,
        summary,
        body,
        tags,
    }
}

/// Checks the values against the rules and the choices; every problem is recorded beside its
/// field. The slug's uniqueness is checked when saving.
fn check(values: &Values, choices: &Choices, errors: &mut FieldErrors) -> Option<Checked> {
    let tag_names: Vec<String> = values.tags.split(',').map(str::to_owned).collect();
    let text = check_text(
        &values.title,
        &values.summary,
        &values.body,
        &tag_names,
        errors,
    );
    let ArticleText {
        title,
        summary,
        body,
        tags,
    } = text;
    let slug = if values.slug.is_empty() {
        errors.check(
            "slug",
            Slug::from_title(&title).map_err(|_| {
                "No address can be made from this title: type one, such as a-short-title."
                    .to_owned()
            }),
        )
    } else {
        errors.check("slug", Slug::parse(&values.slug).map_err(|e| e.to_string()))
    };
    let category_id = match values.category_id.trim() {
        "" => None,
        id => match id
            .parse::<i32>()
            .ok()
            .filter(|id| choices.categories.iter().any(|c| c.id == *id))
        {
            Some(id) => Some(id),
            None => {
                errors.add("category_id", "Choose a category from the list.");
                None
            }
        },
    };
    let visibility = match values.visibility.as_str() {
        MEMBERS_ONLY => MEMBERS_ONLY,
        PUBLIC => PUBLIC,
        _ => {
            errors.add("visibility", "Choose who can read the article.");
            PUBLIC
        }
    };
    let author_id = values
        .author_id
        .parse::<i32>()
        .ok()
        .filter(|id| choices.authors.iter().any(|(a, _)| a == id));
    if author_id.is_none() {
        errors.add("author_id", "Choose the author from the list.");
    }
    let cover = match values.cover_image_id.trim() {
        "" => None,
        id => match id
            .parse::<i32>()
            .ok()
            .filter(|id| choices.images.iter().any(|i| i.id == *id))
        {
            Some(id) => {
                let alt = one_line(&values.cover_alt);
                if alt.is_empty() {
                    errors.add(
                        "cover_alt",
                        "Describe the cover image for people who cannot see it.",
                    );
                } else if alt.chars().count() > 200 {
                    errors.add("cover_alt", "Keep the description under 200 characters.");
                }
                Some((id, alt))
            }
            None => {
                errors.add("cover_image_id", "Choose an image from the list.");
                None
            }
        },
    };
    if !errors.is_empty() {
        return None;
    }
    Some(Checked {
        title,
        slug: slug?,
        summary,
        body,
        category_id,
        tags,
        visibility,
        author_id: author_id?,
        featured: values.featured,
        cover,
    })
}

#[derive(Template)]
#[template(path = "admin/editor.html")]
struct EditorPage {
    layout: Layout,
    nav: AdminNav,
    /// False for a member writing their own article: who reads it, its author, whether it is
    /// featured and its cover stay as editors set them.
    staff: bool,
    csrf_token: String,
    /// Where the form posts.
    action: String,
    /// `None` for a new article.
    id: Option<i32>,
    status: String,
    public_url: Option<String>,
    values: Values,
    errors: FieldErrors,
    /// Set when the save was refused because someone else saved first.
    conflict: bool,
    categories: Vec<Category>,
    authors: Vec<(i32, String)>,
    images: Vec<ImageInfo>,
}

impl EditorPage {
    fn selected(&self, field: &str, id: &i32) -> bool {
        let value = match field {
            "category" => &self.values.category_id,
            "author" => &self.values.author_id,
            _ => &self.values.cover_image_id,
        };
        value == &id.to_string()
    }
}

/// The article being edited, if any: id, status and slug as saved.
#[derive(Clone)]
struct Existing {
    id: i32,
    status: String,
    slug: String,
    visibility: String,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the form page is made from these parts in three places; a struct for them would only rename them"
)]
fn editor_page(
    state: &AppState,
    visitor: &Visitor,
    member: &crate::db::users::Member,
    settings: &crate::db::settings::SiteSettings,
    existing: Option<&Existing>,
    values: Values,
    errors: FieldErrors,
    choices: Choices,
) -> EditorPage {
    let (action, title) = match existing {
        Some(e) => (format!("/admin/articles/{}", e.id), "Edit an article"),
        None => ("/admin/articles/new".to_owned(), "New article"),
    };
    EditorPage {
        layout: layout(state, visitor, settings, &action, title),
        nav: nav(member, "articles"),
        staff: member.is_staff(),
        csrf_token: visitor.csrf_token(),
        action,
        id: existing.map(|e| e.id),
        status: existing.map_or_else(|| "draft".to_owned(), |e| e.status.clone()),
        public_url: existing
            .filter(|e| e.status == PUBLISHED)
            .map(|e| format!("/articles/{}", e.slug)),
        values,
        errors,
        conflict: false,
        categories: choices.categories,
        authors: choices.authors,
        images: choices.images,
    }
}

/// `GET /admin/articles/new`.
pub async fn new_form(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let (member, staff) = super::writer(&state, &visitor).await?;
    let settings = settings(&state).await?;
    let values = Values {
        visibility: PUBLIC.to_owned(),
        author_id: member.id.to_string(),
        ..Values::default()
    };
    let page = editor_page(
        &state,
        &visitor,
        &member,
        &settings,
        None,
        values,
        FieldErrors::default(),
        choices(&state, &member, staff).await?,
    );
    render_private(&page, StatusCode::OK)
}

async fn existing(state: &AppState, id: i32) -> Result<(EditorArticle, Vec<String>), AppError> {
    db::run(&state.pool, move |conn| {
        let article = EditorArticle::find(conn, id)?.ok_or(AppError::NotFound)?;
        let tags = EditorArticle::tag_names(conn, id)?;
        Ok((article, tags))
    })
    .await
}

/// `GET /admin/articles/{id}`.
pub async fn edit_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (member, staff) = super::writer(&state, &visitor).await?;
    let (article, tags) = existing(&state, id.into_inner()).await?;
    if !staff && article.author_id != member.id {
        return Err(AppError::NotFound);
    }
    let settings = settings(&state).await?;
    let current = Existing {
        id: article.id,
        status: article.status.clone(),
        slug: article.slug.clone(),
        visibility: article.visibility.clone(),
    };
    let values = Values::from_article(&article, &tags);
    let page = editor_page(
        &state,
        &visitor,
        &member,
        &settings,
        Some(&current),
        values,
        FieldErrors::default(),
        choices(&state, &member, staff).await?,
    );
    render_private(&page, StatusCode::OK)
}

/// `POST /admin/articles/new`.
pub async fn create(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    submit(state, visitor, None, body).await
}

/// `POST /admin/articles/{id}`.
pub async fn update(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    // Who asks first: an address's article is nobody else's business.
    super::writer(&state, &visitor).await?;
    let (article, _) = existing(&state, id.into_inner()).await?;
    submit(state, visitor, Some(article), body).await
}

async fn submit(
    state: web::Data<AppState>,
    visitor: Visitor,
    article: Option<EditorArticle>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, staff, fields) = super::posted_by_writer(&state, &visitor, &body).await?;
    if !staff && article.as_ref().is_some_and(|a| a.author_id != member.id) {
        return Err(AppError::NotFound);
    }
    if !staff && fields.get("intent") != "edit" && fields.get("intent") != "preview" {
        super::limit_member_writes(&state, &member)?;
    }
    let existing = article.as_ref().map(|a| Existing {
        id: a.id,
        status: a.status.clone(),
        slug: a.slug.clone(),
        visibility: a.visibility.clone(),
    });
    let settings = settings(&state).await?;
    let mut values = Values::from_form(&fields);
    if !staff {
        // A member's form has none of these: they stay as they are (as an editor set them), and
        // a new article is public, under the member's name, not featured, without a cover.
        values.author_id = member.id.to_string();
        match &article {
            Some(a) => {
                values.visibility = a.visibility.clone();
                values.featured = a.featured;
                values.cover_image_id = a
                    .cover_image_id
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                values.cover_alt = a.cover_alt.clone();
            }
            None => {
                values.visibility = PUBLIC.to_owned();
                values.featured = false;
                values.cover_image_id = String::new();
                values.cover_alt = String::new();
            }
        }
    }
    let choices = choices(&state, &member, staff).await?;
    let intent = fields.get("intent");
    let mut errors = FieldErrors::default();
    let checked = check(&values, &choices, &mut errors);
    // Back from a preview ("edit"): the form again, as it was. With errors: the form, 422.
    let Some(checked) = checked.filter(|_| intent != "edit") else {
        let status = if intent == "edit" {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = editor_page(
            &state,
            &visitor,
            &member,
            &settings,
            existing.as_ref(),
            values,
            errors,
            choices,
        );
        return render_private(&page, status);
    };
    let rendered = markdown::render(&checked.body);
    if intent == "preview" {
        return super::preview::page(
            &state,
            &visitor,
            &settings,
            existing.as_ref().map(|e| e.id),
            &values,
            &checked_view(&checked, &choices),
            &rendered,
        );
    }
    let publish = intent == "publish";
    let status = match (&existing, publish) {
        (_, true) => PUBLISHED,
        (Some(e), false) if e.status == PUBLISHED => PUBLISHED,
        _ => crate::db::articles::DRAFT,
    };
    let version: Option<i32> = values.version.parse().ok();
    let target = match (&existing, version) {
        (Some(e), Some(version)) => SaveTarget::ById { id: e.id, version },
        (Some(e), None) => SaveTarget::ById {
            id: e.id,
            version: -1,
        },
        (None, _) => SaveTarget::New,
    };
    let who = actor(&member);
    let before = existing.clone();
    let outcome = db::run(&state.pool, move |conn| {
        let outcome = crate::db::write_transaction(
            conn,
            |conn| -> Result<Result<i32, &'static str>, diesel::result::Error> {
                let this = before.as_ref().map(|b| b.id);
                let slug_owner = editing::slug_owner(conn, checked.slug.as_str())?;
                if slug_owner.is_some() && slug_owner != this {
                    return Ok(Err("slug"));
                }
                // Another article's old address keeps leading to it: it is not free.
                let redirected =
                    redirects::target(conn, redirects::ARTICLE, checked.slug.as_str())?;
                if redirected.is_some() && redirected != this {
                    return Ok(Err("slug"));
                }
                let tag_ids = Tag::find_or_create_all(conn, &checked.tags)?;
                let now = db::now();
                let published_at = match &before {
                    Some(b) => EditorArticle::find(conn, b.id)?.and_then(|a| a.published_at),
                    None => None,
                };
                let input = ArticleInput {
                    slug: &checked.slug,
                    title: &checked.title,
                    summary: &checked.summary,
                    body: &checked.body,
                    author_id: checked.author_id,
                    category_id: checked.category_id,
                    tag_ids: &tag_ids,
                    status,
                    visibility: checked.visibility,
                    featured: checked.featured,
                    published_at: if status == PUBLISHED {
                        Some(published_at.unwrap_or(now))
                    } else {
                        published_at
                    },
                    updated_at: now,
                };
                let id = match store(conn, &input, &rendered, target)? {
                    Saved::Written(id) => id,
                    Saved::Conflict => return Ok(Err("conflict")),
                };
                let (cover_id, cover_alt) = match &checked.cover {
                    Some((id, alt)) => (Some(*id), alt.as_str()),
                    None => (None, ""),
                };
                editing::set_cover(conn, id, cover_id, cover_alt)?;
                let subject = format!("article #{id} “{}”", checked.title);
                match &before {
                    None => audit::record(conn, &who, "create article", &subject, "", status)?,
                    Some(b) => {
                        audit::record(conn, &who, "edit article", &subject, "", "")?;
                        if b.status != status {
                            audit::record(conn, &who, "publish", &subject, &b.status, status)?;
                        }
                        if b.visibility != checked.visibility {
                            audit::record(
                                conn,
                                &who,
                                "change visibility",
                                &subject,
                                &b.visibility,
                                checked.visibility,
                            )?;
                        }
                        if b.slug != checked.slug.as_str() {
                            audit::record(
                                conn,
                                &who,
                                "change address",
                                &subject,
                                &b.slug,
                                checked.slug.as_str(),
                            )?;
                            if b.status == PUBLISHED {
                                redirects::remember(
                                    conn,
                                    redirects::ARTICLE,
                                    &b.slug,
                                    checked.slug.as_str(),
                                    id,
                                )?;
                            }
                        }
                    }
                }
                if before.is_none() && status == PUBLISHED {
                    audit::record(conn, &who, "publish", &subject, "", PUBLISHED)?;
                }
                Ok(Ok(id))
            },
        )?;
        Ok(outcome)
    })
    .await?;
    match outcome {
        Ok(id) => {
            state.pages.invalidate();
            visitor.flash(if publish {
                "The article is published."
            } else {
                "Saved."
            });
            Ok(see_other(&format!("/admin/articles/{id}")))
        }
        Err(problem) => {
            let mut page = editor_page(
                &state,
                &visitor,
                &member,
                &settings,
                existing.as_ref(),
                values,
                FieldErrors::default(),
                choices,
            );
            if problem == "slug" {
                page.errors.add(
                    "slug",
                    "Another article uses this address, or used it before: choose another.",
                );
                render_private(&page, StatusCode::UNPROCESSABLE_ENTITY)
            } else {
                page.conflict = true;
                render_private(&page, StatusCode::CONFLICT)
            }
        }
    }
}

/// What a preview shows of the checked form.
pub struct CheckedView {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub visibility: &'static str,
    pub category: Option<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub author: String,
    pub cover: Option<(String, String)>,
}

fn checked_view(checked: &Checked, choices: &Choices) -> CheckedView {
    CheckedView {
        title: checked.title.clone(),
        slug: checked.slug.as_str().to_owned(),
        summary: checked.summary.clone(),
        visibility: checked.visibility,
        category: checked.category_id.and_then(|id| {
            choices
                .categories
                .iter()
                .find(|c| c.id == id)
                .map(|c| (c.slug.clone(), c.name.clone()))
        }),
        tags: checked
            .tags
            .iter()
            .map(|(slug, name)| (slug.as_str().to_owned(), name.clone()))
            .collect(),
        author: choices
            .authors
            .iter()
            .find(|(id, _)| *id == checked.author_id)
            .map(|(_, name)| name.clone())
            .unwrap_or_default(),
        cover: checked.cover.as_ref().and_then(|(id, alt)| {
            choices
                .images
                .iter()
                .find(|i| i.id == *id)
                .map(|i| (i.url(), alt.clone()))
        }),
    }
}

/// The hidden fields of the preview's form.
pub fn hidden_fields(values: &Values) -> Vec<(&'static str, String)> {
    values.hidden()
}
