//! What pages read on every request and changes rarely, kept in memory: the lists of published
//! articles (every article newest first, each category's and each tag's, as ids in list order) and
//! the site settings. A page of any list is then a slice, however deep the page, and the number of
//! articles in it is the slice's length; only the ten cards of the page are read from the database.
//!
//! A list is read (in index order, see [`list_sql`]) the first time it is asked
//! for and kept while the database's `content_version` stays the same. Triggers raise that number
//! with every change to an article, its tags, a topic or a setting, from this process or any other
//! (`guidepost import`), and every use checks it first, so nothing served is stale. Reads happen on
//! the blocking pool, inside a query's closure; requests that find something missing while another
//! thread reads it wait for that read rather than repeat it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;

use crate::db::DbConn;

use super::schema::content_version;
use super::settings::SiteSettings;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKey {
    /// Every published article, newest first.
    Newest,
    Category(i32),
    Tag(i32),
}

/// One list's ids, newest first.
pub type Ids = Arc<[i32]>;

/// What was read so far in the current content version.
#[derive(Debug, Default)]
pub struct ContentCache {
    state: Mutex<Kept>,
    /// The settings and the version they were read at. Kept apart from the lists, and never
    /// locked while the database is read, so that reading them (as every member's request does,
    /// on the worker) never waits behind a list being read.
    settings: Mutex<Option<(i64, SiteSettings)>>,
    /// On PostgreSQL, the writes count (see [`super::writes`]) and the content version read when
    /// it had that value: while the count stays the same nothing was committed anywhere (the
    /// change feed counts every other instance's commits), so the version is not read again.
    /// On SQLite reading it costs a microsecond and this is not used.
    follow: Option<(Arc<super::writes::Writes>, Mutex<Option<Seen>>)>,
}

#[derive(Debug, Default)]
struct Kept {
    version: i64,
    lists: HashMap<ListKey, Ids>,
    /// The article the home page leads with, once read.
    featured: Option<Option<i32>>,
}

/// The writes count and the content version read while it had that value.
type Seen = (u64, i64);

impl ContentCache {
    /// A cache that reads the content version only after a write (see `follow`).
    pub fn following(writes: Arc<super::writes::Writes>) -> Self {
        Self {
            follow: Some((writes, Mutex::new(None))),
            ..Self::default()
        }
    }

    /// The content version now.
    fn version(&self, conn: &mut DbConn) -> QueryResult<i64> {
        let Some((writes, known)) = &self.follow else {
            return content_version(conn);
        };
        // Counted before reading: a write that lands meanwhile makes the next use read again.
        let count = writes.count();
        if let Ok(known) = known.lock()
            && let Some((seen, version)) = *known
            && seen == count
        {
            return Ok(version);
        }
        let version = content_version(conn)?;
        if let Ok(mut known) = known.lock() {
            *known = Some((count, version));
        }
        Ok(version)
    }

    /// The ids of list `key`, as of now.
    pub fn get(&self, conn: &mut DbConn, key: ListKey) -> QueryResult<Ids> {
        let mut kept = self.current(conn)?;
        if let Some(ids) = kept.lists.get(&key) {
            return Ok(Arc::clone(ids));
        }
        let ids: Ids = match key {
            ListKey::Newest => list_sql::ids(conn, list_sql::NEWEST, None)?,
            ListKey::Category(id) => list_sql::ids(conn, list_sql::IN_CATEGORY, Some(id))?,
            ListKey::Tag(id) => list_sql::ids(conn, list_sql::WITH_TAG, Some(id))?,
        }
        .into();
        kept.lists.insert(key, Arc::clone(&ids));
        Ok(ids)
    }

    /// The id of the article the home page leads with: the newest featured one, else the newest.
    pub fn featured(&self, conn: &mut DbConn) -> QueryResult<Option<i32>> {
        let mut kept = self.current(conn)?;
        if let Some(featured) = kept.featured {
            return Ok(featured);
        }
        let featured = list_sql::ids(conn, list_sql::FEATURED, None)?
            .first()
            .copied();
        kept.featured = Some(featured);
        Ok(featured)
    }

    /// The site settings, as of now.
    pub fn settings(&self, conn: &mut DbConn) -> QueryResult<SiteSettings> {
        let version = self.version(conn)?;
        if let Ok(kept) = self.settings.lock()
            && let Some((seen, settings)) = kept.as_ref()
            && *seen == version
        {
            return Ok(settings.clone());
        }
        let settings = SiteSettings::load(conn)?;
        if let Ok(mut kept) = self.settings.lock() {
            *kept = Some((version, settings.clone()));
        }
        Ok(settings)
    }

    /// The settings as last read, without reading them again (the defaults before the first
    /// read): for what has no database at hand, such as an error page or a mail's signature.
    pub fn last_known(&self) -> SiteSettings {
        self.settings
            .lock()
            .ok()
            .and_then(|kept| kept.as_ref().map(|(_, settings)| settings.clone()))
            .unwrap_or_default()
    }

    /// The kept lists, emptied first when the content changed since they were read. The lock is
    /// held while a missing list is read, so concurrent readers of it wait instead of repeating
    /// the work; a poisoned lock only means a reader failed halfway, and the lists are rebuilt.
    fn current(&self, conn: &mut DbConn) -> QueryResult<std::sync::MutexGuard<'_, Kept>> {
        let version = self.version(conn)?;
        let mut kept = self.state.lock().unwrap_or_else(|poisoned| {
            let mut kept = poisoned.into_inner();
            *kept = Kept::default();
            kept
        });
        // Versions only grow: a reader that saw an older one while another thread already read
        // newer lists uses those, rather than throwing them away.
        if version > kept.version {
            *kept = Kept {
                version,
                ..Kept::default()
            };
        }
        Ok(kept)
    }
}

fn content_version(conn: &mut DbConn) -> QueryResult<i64> {
    content_version::table
        .find(1)
        .select(content_version::version)
        .first(conn)
}

/// Rows `offset..offset + limit` of `ids` once `skip` (if it is there) is left out, and how many
/// that leaves in all.
pub fn page(ids: &[i32], skip: Option<i32>, offset: i64, limit: i64) -> (Vec<i32>, i64) {
    let skipped = skip.and_then(|skip| ids.iter().position(|id| *id == skip));
    let total = ids.len() - usize::from(skipped.is_some());
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(0))
        .min(total);
    // Position `i` of the list without `skip` is position `i` or `i + 1` of the whole list.
    let page = (start..end)
        .map(|i| match skipped {
            Some(at) if i >= at => ids[i + 1],
            _ => ids[i],
        })
        .collect();
    (page, i64::try_from(total).unwrap_or(i64::MAX))
}

/// The SQL of the queries that read whole lists of ids, in list order, for [`super::cache`]. They
/// are text so that `EXPLAIN QUERY PLAN` can be checked for each (see `query_plans`): each must
/// walk an index in list order, reading neither rows nor a sort.
pub mod list_sql {
    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    use crate::db::DbConn;

    /// Every published article, newest first.
    pub const NEWEST: &str = "SELECT id FROM articles WHERE status = 'published' \
         ORDER BY published_at DESC, id DESC";
    /// The article the home page leads with: the newest featured one, else the newest.
    pub const FEATURED: &str = "SELECT id FROM articles WHERE status = 'published' \
         ORDER BY featured DESC, published_at DESC, id DESC LIMIT 1";
    /// A category's published articles, newest first.
    pub const IN_CATEGORY: &str = "SELECT id FROM articles \
         WHERE category_id = ? AND status = 'published' ORDER BY published_at DESC, id DESC";
    /// A tag's published articles, newest first (`listed_at` is set only while published).
    pub const WITH_TAG: &str = "SELECT article_id AS id FROM article_tags \
         WHERE tag_id = ? AND listed_at IS NOT NULL ORDER BY listed_at DESC, article_id DESC";
    /// Every list query, by name, for the query-plan test.
    pub const ALL: &[(&str, &str)] = &[
        ("newest", NEWEST),
        ("featured", FEATURED),
        ("in category", IN_CATEGORY),
        ("with tag", WITH_TAG),
    ];

    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Integer)]
        id: i32,
    }

    /// Runs one of the queries above, with its key when it takes one.
    pub fn ids(conn: &mut DbConn, sql: &'static str, key: Option<i32>) -> QueryResult<Vec<i32>> {
        let sql = crate::db::connection::placeholders(conn.kind(), sql);
        let rows: Vec<Id> = match key {
            Some(key) => diesel::sql_query(sql).bind::<Integer, _>(key).load(conn)?,
            None => diesel::sql_query(sql).load(conn)?,
        };
        Ok(rows.into_iter().map(|row| row.id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_slice_of_the_list_without_the_skipped_article() {
        let ids = [10, 9, 8, 7, 6, 5];
        assert_eq!(page(&ids, None, 2, 2), (vec![8, 7], 6));
        assert_eq!(page(&ids, Some(9), 0, 3), (vec![10, 8, 7], 5));
        assert_eq!(page(&ids, Some(9), 3, 10), (vec![6, 5], 5));
        assert_eq!(page(&ids, Some(42), 4, 10), (vec![6, 5], 6));
        assert_eq!(page(&ids, None, 100, 10), (vec![], 6));
    }
}
