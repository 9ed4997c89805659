//! The demo articles shipped with Guidepost (in `content/demo/`), imported on first start so a
//! new site has something to read. They are built into the binary, so the import needs no files.

use crate::db::DbConn;

use super::{ImportReport, front_matter::parse_descriptions, import};

const CATEGORIES: &str = include_str!("../../content/demo/categories.txt");
const TAGS: &str = include_str!("../../content/demo/tags.txt");

/// `(file name, text)` of one demo article.
macro_rules! demo_file {
    ($name:literal) => {
        ($name, include_str!(concat!("../../content/demo/", $name)))
    };
}

const ARTICLES: &[(&str, &str)] = &[
    demo_file!("what-does-a-back-end-developer-do.md"),
    demo_file!("from-junior-to-senior.md"),
    demo_file!("your-first-portfolio-project.md"),
    demo_file!("relational-databases-for-beginners.md"),
    demo_file!("database-indexes-explained.md"),
    demo_file!("designing-http-apis-that-last.md"),
    demo_file!("rest-graphql-or-grpc.md"),
    demo_file!("storing-passwords-safely.md"),
    demo_file!("web-security-basics.md"),
    demo_file!("testing-back-end-services.md"),
    demo_file!("debugging-a-production-incident.md"),
    demo_file!("making-a-web-service-fast.md"),
];

/// Imports the demo articles with their category and tag descriptions.
pub fn import_demo(conn: &mut DbConn) -> anyhow::Result<ImportReport> {
    let sources: Vec<(String, String)> = ARTICLES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect();
    import(
        conn,
        &sources,
        &parse_descriptions(CATEGORIES)?,
        &parse_descriptions(TAGS)?,
    )
}
