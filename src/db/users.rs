//! The `users` table: authors today; members, editors and admins share it.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
pub struct Author {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewAuthor<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

impl Author {
    /// Finds the author with this (normalised) email, creating an editor account without a
    /// password when there is none: such an account can be credited on articles but cannot log in.
    pub fn find_or_create(
        conn: &mut SqliteConnection,
        email: &str,
        name: &str,
    ) -> QueryResult<Self> {
        let email = email.trim().to_lowercase();
        if let Some(found) = users::table
            .filter(users::email.eq(&email))
            .select(Self::as_select())
            .first(conn)
            .optional()?
        {
            return Ok(found);
        }
        let now = super::now();
        diesel::insert_into(users::table)
            .values(NewAuthor {
                email: &email,
                name: name.trim(),
                role: "editor",
                created_at: now,
                updated_at: now,
            })
            .returning(Self::as_returning())
            .get_result(conn)
    }
}
