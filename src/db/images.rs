//! The `images` table: uploaded images, bytes and all, served under addresses made from a hash of
//! their content.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::schema::images;

/// An image without its bytes, as lists and pages use it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = images, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ImageInfo {
    pub id: i32,
    pub hash: String,
    pub content_type: String,
    pub name: String,
    pub byte_size: i32,
    pub created_at: PrimitiveDateTime,
}

impl ImageInfo {
    /// The file extension its address ends with.
    pub fn extension(&self) -> &'static str {
        extension_of(&self.content_type)
    }

    /// Where it is served.
    pub fn url(&self) -> String {
        format!("/images/{}.{}", self.hash, self.extension())
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        images::table
            .order(images::id.desc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Self>> {
        images::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }
}

pub fn extension_of(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "gif",
    }
}

/// Stores an image, or finds the same bytes stored before; returns it.
pub fn store(
    conn: &mut DbConn,
    hash: &str,
    content_type: &str,
    name: &str,
    bytes: &[u8],
    uploaded_by: i32,
) -> QueryResult<ImageInfo> {
    if let Some(found) = images::table
        .filter(images::hash.eq(hash))
        .select(ImageInfo::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(found);
    }
    diesel::insert_into(images::table)
        .values((
            images::hash.eq(hash),
            images::content_type.eq(content_type),
            images::name.eq(name),
            images::byte_size.eq(i32::try_from(bytes.len()).unwrap_or(i32::MAX)),
            images::uploaded_by.eq(uploaded_by),
            images::created_at.eq(super::now()),
            images::bytes.eq(bytes),
        ))
        .returning(<ImageInfo as Selectable<
            crate::db::connection::MultiBackend,
        >>::construct_selection())
        .get_result(conn)
}

/// The type and bytes of the image with this hash.
pub fn bytes(conn: &mut DbConn, hash: &str) -> QueryResult<Option<(String, Vec<u8>)>> {
    images::table
        .filter(images::hash.eq(hash))
        .select((images::content_type, images::bytes))
        .first(conn)
        .optional()
}

/// The name a member's uploaded picture is stored under in the images table.
pub fn picture_name(user_id: i32) -> String {
    format!("picture of member {user_id}")
}

/// The id of the image with this hash when it is a picture `user_id` uploaded of themselves.
pub fn picture_of(conn: &mut DbConn, hash: &str, user_id: i32) -> QueryResult<Option<i32>> {
    images::table
        .filter(images::hash.eq(hash))
        .filter(images::uploaded_by.eq(user_id))
        .filter(images::name.eq(picture_name(user_id)))
        .select(images::id)
        .first(conn)
        .optional()
}
