//! The `categories`, `tags` and `article_tags` tables: how articles are grouped into hubs. Each
//! category and tag carries the number of its published articles, kept by database triggers in
//! the same transaction as every change to an article or its tags.

use diesel::prelude::*;

use crate::db::DbConn;

use super::schema::{article_tags, categories, tags};
use crate::domain::Slug;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = categories, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Category {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Published articles filed under it.
    pub published_articles: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tags, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Tag {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Published articles carrying it.
    pub published_articles: i32,
}

#[derive(Insertable)]
#[diesel(table_name = categories)]
struct NewCategory<'a> {
    slug: &'a str,
    name: &'a str,
    description: &'a str,
    created_at: time::PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = tags)]
struct NewTag<'a> {
    slug: &'a str,
    name: &'a str,
    description: &'a str,
    created_at: time::PrimitiveDateTime,
}

impl Category {
    pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Self>> {
        categories::table
            .filter(categories::slug.eq(slug))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Categories that hold at least one published article, by name.
    pub fn list_in_use(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        categories::table
            .filter(categories::published_articles.gt(0))
            .order(categories::name.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Finds the category with this name's slug, creating it when missing. A description given
    /// here replaces the stored one.
    pub fn upsert(
        conn: &mut DbConn,
        slug: &Slug,
        name: &str,
        description: Option<&str>,
    ) -> QueryResult<Self> {
        if let Some(found) = Self::find_by_slug(conn, slug.as_str())? {
            return match description {
                Some(d) if d != found.description => diesel::update(&found)
                    .set(categories::description.eq(d))
                    .returning(<Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection())
                    .get_result(conn),
                _ => Ok(found),
            };
        }
        diesel::insert_into(categories::table)
            .values(NewCategory {
                slug: slug.as_str(),
                name,
                description: description.unwrap_or(""),
                created_at: super::now(),
            })
            .returning(
                <Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection(),
            )
            .get_result(conn)
    }
}

impl Tag {
    pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Self>> {
        tags::table
            .filter(tags::slug.eq(slug))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Tags on at least one published article, by name.
    pub fn list_in_use(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        tags::table
            .filter(tags::published_articles.gt(0))
            .order(tags::name.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// The tags of one article, by name.
    pub fn for_article(conn: &mut DbConn, article_id: i32) -> QueryResult<Vec<Self>> {
        tags::table
            .inner_join(article_tags::table)
            .filter(article_tags::article_id.eq(article_id))
            .select(Self::as_select())
            .order(tags::name.asc())
            .load(conn)
    }

    /// Finds the tag with this slug, creating it when missing; see [`Category::upsert`].
    pub fn upsert(
        conn: &mut DbConn,
        slug: &Slug,
        name: &str,
        description: Option<&str>,
    ) -> QueryResult<Self> {
        if let Some(found) = Self::find_by_slug(conn, slug.as_str())? {
            return match description {
                Some(d) if d != found.description => diesel::update(&found)
                    .set(tags::description.eq(d))
                    .returning(<Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection())
                    .get_result(conn),
                _ => Ok(found),
            };
        }
        diesel::insert_into(tags::table)
            .values(NewTag {
                slug: slug.as_str(),
                name,
                description: description.unwrap_or(""),
                created_at: super::now(),
            })
            .returning(
                <Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection(),
            )
            .get_result(conn)
    }

    /// Makes `tag_ids` the article's whole set of tags.
    pub fn set_for_article(conn: &mut DbConn, article_id: i32, tag_ids: &[i32]) -> QueryResult<()> {
        diesel::delete(article_tags::table.filter(article_tags::article_id.eq(article_id)))
            .execute(conn)?;
        let rows: Vec<_> = tag_ids
            .iter()
            .map(|tag_id| {
                (
                    article_tags::article_id.eq(article_id),
                    article_tags::tag_id.eq(*tag_id),
                )
            })
            .collect();
        if !rows.is_empty() {
            crate::on_backend!(conn, c => diesel::insert_into(article_tags::table)
                .values(&rows)
                .execute(c))?;
        }
        Ok(())
    }
}

/// Why a category or tag could not be saved or deleted.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("another topic has that address")]
    SlugTaken,
    #[error("articles are filed under it")]
    InUse(i64),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

fn taken(error: diesel::result::Error) -> TopicError {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => TopicError::SlugTaken,
        other => TopicError::Database(other),
    }
}

/// Editing categories: the list, create, change (an old address keeps working), delete (refused
/// while any article, draft or not, is filed under it).
impl Category {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        categories::table
            .order(categories::name.asc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Self>> {
        categories::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn create(
        conn: &mut DbConn,
        slug: &Slug,
        name: &str,
        description: &str,
    ) -> Result<Self, TopicError> {
        diesel::insert_into(categories::table)
            .values(NewCategory {
                slug: slug.as_str(),
                name,
                description,
                created_at: super::now(),
            })
            .returning(
                <Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection(),
            )
            .get_result(conn)
            .map_err(taken)
    }

    pub fn change(
        conn: &mut DbConn,
        old: &Self,
        slug: &Slug,
        name: &str,
        description: &str,
    ) -> Result<(), TopicError> {
        diesel::update(categories::table.find(old.id))
            .set((
                categories::slug.eq(slug.as_str()),
                categories::name.eq(name),
                categories::description.eq(description),
            ))
            .execute(conn)
            .map_err(taken)?;
        if old.slug != slug.as_str() {
            super::redirects::remember(
                conn,
                super::redirects::CATEGORY,
                &old.slug,
                slug.as_str(),
                old.id,
            )?;
        }
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, id: i32) -> Result<(), TopicError> {
        let filed: i64 = super::schema::articles::table
            .filter(super::schema::articles::category_id.eq(id))
            .count()
            .get_result(conn)?;
        if filed > 0 {
            return Err(TopicError::InUse(filed));
        }
        diesel::delete(categories::table.find(id)).execute(conn)?;
        Ok(())
    }
}

/// Editing tags, as categories; deleting a tag takes it off its articles.
impl Tag {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        tags::table
            .order(tags::name.asc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Self>> {
        tags::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn create(
        conn: &mut DbConn,
        slug: &Slug,
        name: &str,
        description: &str,
    ) -> Result<Self, TopicError> {
        diesel::insert_into(tags::table)
            .values(NewTag {
                slug: slug.as_str(),
                name,
                description,
                created_at: super::now(),
            })
            .returning(
                <Self as Selectable<crate::db::connection::MultiBackend>>::construct_selection(),
            )
            .get_result(conn)
            .map_err(taken)
    }

    pub fn change(
        conn: &mut DbConn,
        old: &Self,
        slug: &Slug,
        name: &str,
        description: &str,
    ) -> Result<(), TopicError> {
        diesel::update(tags::table.find(old.id))
            .set((
                tags::slug.eq(slug.as_str()),
                tags::name.eq(name),
                tags::description.eq(description),
            ))
            .execute(conn)
            .map_err(taken)?;
        if old.slug != slug.as_str() {
            super::redirects::remember(
                conn,
                super::redirects::TAG,
                &old.slug,
                slug.as_str(),
                old.id,
            )?;
        }
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, id: i32) -> Result<(), TopicError> {
        diesel::delete(article_tags::table.filter(article_tags::tag_id.eq(id))).execute(conn)?;
        diesel::delete(tags::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// The tags named in `names`, created when missing; in the order given, without repeats.
    pub fn find_or_create_all(
        conn: &mut DbConn,
        names: &[(Slug, String)],
    ) -> QueryResult<Vec<i32>> {
        let mut ids = Vec::with_capacity(names.len());
        for (slug, name) in names {
            let id = Self::upsert(conn, slug, name, None)?.id;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}
