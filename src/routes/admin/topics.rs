//! Categories and tags: `GET /admin/topics` lists both with a form to add one; each has a page to
//! rename it (a new address keeps the old one working), describe it, or delete it (a category only
//! once no article is filed under it).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminNav, Need, actor, allowed, layout, nav, posted, settings};
use crate::auth::Visitor;
use crate::db::taxonomy::{Category, Tag, TopicError};
use crate::db::{self, audit};
use crate::domain::Slug;
use crate::error::AppError;
use crate::routes::forms::{FieldErrors, Fields, render_private, see_other};
use crate::views::{AppState, Layout};

/// Which kind of topic a route is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Category,
    Tag,
}

impl Kind {
    fn from_path(kind: &str) -> Result<Self, AppError> {
        match kind {
            "categories" => Ok(Self::Category),
            "tags" => Ok(Self::Tag),
            _ => Err(AppError::NotFound),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Category => "categories",
            Self::Tag => "tags",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Tag => "tag",
        }
    }
}

/// A category or tag as these pages show it.
pub struct Topic {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub published_articles: i32,
}

impl From<Category> for Topic {
    fn from(c: Category) -> Self {
        Self {
            id: c.id,
            slug: c.slug,
            name: c.name,
            description: c.description,
            published_articles: c.published_articles,
        }
    }
}

impl From<Tag> for Topic {
    fn from(t: Tag) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
            published_articles: t.published_articles,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/topics.html")]
struct TopicsPage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    categories: Vec<Topic>,
    tags: Vec<Topic>,
    /// The form that came back with problems, if any: its kind and values.
    kind_value: String,
    name_value: String,
    description_value: String,
    errors: FieldErrors,
}

async fn topics_page(state: &AppState, visitor: &Visitor) -> Result<TopicsPage, AppError> {
    let member = allowed(visitor, Need::Staff)?;
    let settings = settings(state).await?;
    let (categories, tags) = db::run(&state.pool, |conn| {
        Ok((Category::all(conn)?, Tag::all(conn)?))
    })
    .await?;
    Ok(TopicsPage {
        layout: layout(
            state,
            visitor,
            &settings,
            "/admin/topics",
            "Categories and tags",
        ),
        nav: nav(&member, "topics"),
        csrf_token: visitor.csrf_token(),
        categories: categories.into_iter().map(Topic::from).collect(),
        tags: tags.into_iter().map(Topic::from).collect(),
        kind_value: "categories".to_owned(),
        name_value: String::new(),
        description_value: String::new(),
        errors: FieldErrors::default(),
    })
}

/// `GET /admin/topics`.
pub async fn list(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    render_private(&topics_page(&state, &visitor).await?, StatusCode::OK)
}

/// A topic's name, address and description as typed, checked.
fn check(fields: &Fields, errors: &mut FieldErrors) -> Option<(String, Slug, String)> {
    let name = fields
        .get("name")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        errors.add("name", "Give it a name.");
    } else if name.chars().count() > 60 {
        errors.add("name", "Names can be at most 60 characters long.");
    }
    let slug = match fields.get("slug").trim() {
        "" => errors.check(
            "slug",
            Slug::from_title(&name)
                .map_err(|_| "Type an address, such as web-security.".to_owned()),
        ),
        typed => errors.check("slug", Slug::parse(typed).map_err(|e| e.to_string())),
    };
    let description = fields.get("description").trim().to_owned();
    if description.chars().count() > 500 {
        errors.add(
            "description",
            "Descriptions can be at most 500 characters long.",
        );
    }
    if errors.is_empty() {
        Some((name, slug?, description))
    } else {
        None
    }
}

/// `POST /admin/topics`: adds a category or a tag.
pub async fn create(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, Need::Staff, &body)?;
    let kind = Kind::from_path(fields.get("kind")).unwrap_or(Kind::Category);
    let mut errors = FieldErrors::default();
    let checked = check(&fields, &mut errors);
    let mut outcome = Err(TopicError::SlugTaken);
    if let Some((name, slug, description)) = checked {
        let who = actor(&member);
        outcome = db::run(&state.pool, move |conn| {
            let created = crate::db::write_transaction(conn, |conn| {
                let id = match kind {
                    Kind::Category => Category::create(conn, &slug, &name, &description)?.id,
                    Kind::Tag => Tag::create(conn, &slug, &name, &description)?.id,
                };
                audit::record(
                    conn,
                    &who,
                    &format!("create {}", kind.noun()),
                    &format!("{} #{id} “{name}”", kind.noun()),
                    "",
                    slug.as_str(),
                )?;
                Ok::<_, TopicError>(())
            });
            Ok(created)
        })
        .await?;
        if outcome.is_ok() {
            state.pages.invalidate();
            visitor.flash(&format!("The {} was added.", kind.noun()));
            return Ok(see_other("/admin/topics"));
        }
    }
    let mut page = topics_page(&state, &visitor).await?;
    page.kind_value = kind.path().to_owned();
    page.name_value = fields.get("name").to_owned();
    page.description_value = fields.get("description").to_owned();
    if let Err(TopicError::Database(error)) = outcome {
        return Err(error.into());
    }
    if errors.is_empty() {
        errors.add("slug", "Another one already has that address.");
    }
    page.errors = errors;
    render_private(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Template)]
#[template(path = "admin/topic.html")]
struct TopicPage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    kind: &'static str,
    noun: &'static str,
    topic: Topic,
    name_value: String,
    slug_value: String,
    description_value: String,
    errors: FieldErrors,
    problem: Option<String>,
}

async fn find(state: &AppState, kind: Kind, id: i32) -> Result<Topic, AppError> {
    db::run(&state.pool, move |conn| {
        let topic = match kind {
            Kind::Category => Category::find(conn, id)?.map(Topic::from),
            Kind::Tag => Tag::find(conn, id)?.map(Topic::from),
        };
        topic.ok_or(AppError::NotFound)
    })
    .await
}

async fn topic_page(
    state: &AppState,
    visitor: &Visitor,
    kind: Kind,
    topic: Topic,
) -> Result<TopicPage, AppError> {
    let member = allowed(visitor, Need::Staff)?;
    let settings = settings(state).await?;
    let path = format!("/admin/{}/{}", kind.path(), topic.id);
    Ok(TopicPage {
        layout: layout(
            state,
            visitor,
            &settings,
            &path,
            &format!("Edit the {} {}", kind.noun(), topic.name),
        ),
        nav: nav(&member, "topics"),
        csrf_token: visitor.csrf_token(),
        kind: kind.path(),
        noun: kind.noun(),
        name_value: topic.name.clone(),
        slug_value: topic.slug.clone(),
        description_value: topic.description.clone(),
        topic,
        errors: FieldErrors::default(),
        problem: None,
    })
}

/// `GET /admin/{categories|tags}/{id}`.
pub async fn edit_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    allowed(&visitor, Need::Staff)?;
    let (kind, id) = path.into_inner();
    let kind = Kind::from_path(&kind)?;
    let topic = find(&state, kind, id).await?;
    render_private(
        &topic_page(&state, &visitor, kind, topic).await?,
        StatusCode::OK,
    )
}

/// `POST /admin/{categories|tags}/{id}`: renames or describes it.
pub async fn update(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, i32)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, Need::Staff, &body)?;
    let (kind, id) = path.into_inner();
    let kind = Kind::from_path(&kind)?;
    let topic = find(&state, kind, id).await?;
    let mut errors = FieldErrors::default();
    if let Some((name, slug, description)) = check(&fields, &mut errors) {
        let who = actor(&member);
        let (old_slug, old_name) = (topic.slug.clone(), topic.name.clone());
        let outcome = db::run(&state.pool, move |conn| {
            let changed = crate::db::write_transaction(conn, |conn| {
                match kind {
                    Kind::Category => {
                        let old = Category::find(conn, id)?
                            .ok_or(TopicError::Database(diesel::result::Error::NotFound))?;
                        Category::change(conn, &old, &slug, &name, &description)?;
                    }
                    Kind::Tag => {
                        let old = Tag::find(conn, id)?
                            .ok_or(TopicError::Database(diesel::result::Error::NotFound))?;
                        Tag::change(conn, &old, &slug, &name, &description)?;
                    }
                }
                let subject = format!("{} #{id}", kind.noun());
                audit::record(
                    conn,
                    &who,
                    &format!("edit {}", kind.noun()),
                    &subject,
                    &format!("{old_name} ({old_slug})"),
                    &format!("{name} ({})", slug.as_str()),
                )?;
                Ok::<_, TopicError>(())
            });
            Ok(changed)
        })
        .await?;
        match outcome {
            Ok(()) => {
                state.pages.invalidate();
                visitor.flash("Saved.");
                return Ok(see_other(&format!("/admin/{}/{id}", kind.path())));
            }
            Err(TopicError::SlugTaken) => {
                errors.add("slug", "Another one already has that address.")
            }
            Err(TopicError::InUse(_)) => {}
            Err(TopicError::Database(error)) => return Err(error.into()),
        }
    }
    let mut page = topic_page(&state, &visitor, kind, topic).await?;
    page.name_value = fields.get("name").to_owned();
    page.slug_value = fields.get("slug").to_owned();
    page.description_value = fields.get("description").to_owned();
    page.errors = errors;
    render_private(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// `POST /admin/{categories|tags}/{id}/delete`.
pub async fn delete(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, i32)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, _) = posted(&visitor, Need::Staff, &body)?;
    let (kind, id) = path.into_inner();
    let kind = Kind::from_path(&kind)?;
    let topic = find(&state, kind, id).await?;
    let who = actor(&member);
    let name = topic.name.clone();
    let outcome = db::run(&state.pool, move |conn| {
        let deleted = crate::db::write_transaction(conn, |conn| {
            match kind {
                Kind::Category => Category::delete(conn, id)?,
                Kind::Tag => Tag::delete(conn, id)?,
            }
            audit::record(
                conn,
                &who,
                &format!("delete {}", kind.noun()),
                &format!("{} #{id} “{name}”", kind.noun()),
                "",
                "deleted",
            )?;
            Ok::<_, TopicError>(())
        });
        Ok(deleted)
    })
    .await?;
    match outcome {
        Ok(()) => {
            state.pages.invalidate();
            visitor.flash(&format!("The {} was deleted.", kind.noun()));
            Ok(see_other("/admin/topics"))
        }
        Err(TopicError::InUse(n)) => {
            let mut page = topic_page(&state, &visitor, kind, topic).await?;
            page.problem = Some(format!(
                "This category cannot be deleted while {n} article{} filed under it. Move {} to another category first.",
                if n == 1 { " is" } else { "s are" },
                if n == 1 { "it" } else { "them" }
            ));
            render_private(&page, StatusCode::CONFLICT)
        }
        Err(TopicError::SlugTaken) => Err(AppError::NotFound),
        Err(TopicError::Database(error)) => Err(error.into()),
    }
}
