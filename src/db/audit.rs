//! The `audit_log` table: every editor and admin action, with who, what, when, and the values
//! before and after. Members are named in it by their id only ("member #12"), and the entries
//! about a member lose even that when the member is deleted.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::schema::audit_log;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditEntry {
    pub id: i32,
    pub at: PrimitiveDateTime,
    pub actor_name: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
}

/// Who did something.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i32,
    pub name: String,
}

/// Records an action, in the caller's transaction.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    subject: &str,
    before: &str,
    after: &str,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(super::now()),
            audit_log::actor_id.eq(actor.id),
            audit_log::actor_name.eq(&actor.name),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::before.eq(before),
            audit_log::after.eq(after),
        ))
        .execute(conn)
        .map(drop)
}

/// How a member is named in the log.
pub fn member_subject(id: i32) -> String {
    format!("member #{id}")
}

/// Removes what the log says about a deleted member, and their name as an actor.
pub fn forget_member(conn: &mut DbConn, id: i32) -> QueryResult<()> {
    diesel::update(audit_log::table.filter(audit_log::subject.eq(member_subject(id))))
        .set((
            audit_log::subject.eq("a deleted member"),
            audit_log::before.eq(""),
            audit_log::after.eq(""),
        ))
        .execute(conn)?;
    diesel::update(audit_log::table.filter(audit_log::actor_id.eq(id)))
        .set(audit_log::actor_name.eq("a deleted account"))
        .execute(conn)
        .map(drop)
}

/// The newest entries, optionally of one action, a page at a time; and how many there are.
pub fn page(
    conn: &mut DbConn,
    action: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<AuditEntry>, i64)> {
    let mut query = audit_log::table.into_boxed();
    let mut count = audit_log::table.into_boxed();
    if let Some(action) = action {
        query = query.filter(audit_log::action.eq(action));
        count = count.filter(audit_log::action.eq(action));
    }
    let entries = query
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)?;
    Ok((entries, count.count().get_result(conn)?))
}

/// The actions that appear in the log, for its filter.
pub fn actions(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    audit_log::table
        .select(audit_log::action)
        .distinct()
        .order(audit_log::action.asc())
        .load(conn)
}
