//! Validated values the rest of the code can trust: slugs, sanitised HTML, page numbers, search
//! queries, and what members type (email, name, password). Each is parsed once from outside input
//! and cannot hold an invalid value afterwards.

pub mod account;
pub mod community;
pub mod markdown;
pub mod pagination;
pub mod search_query;
pub mod slug;

pub use account::{DisplayName, Email, NewPassword};
pub use community::{CommentText, Handle};
pub use markdown::{RenderedMarkdown, SafeHtml, TocEntry};
pub use pagination::{PageNumber, Pagination};
pub use search_query::SearchQuery;
pub use slug::Slug;
