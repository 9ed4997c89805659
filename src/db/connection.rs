//! The one connection type the rest of the code uses, over the two databases Guidepost runs on
//! (where the data lives is [`super::Database`]). [`DbConn`] is a connection to either; Diesel's typed queries run on it
//! unchanged. What one backend says differently from the other (upserts, locking, full-text search,
//! write transactions, change notices) is written once per backend in the `db/` module of its
//! concern, with [`on_backend!`](crate::on_backend) where the same Diesel code serves both, or a
//! `match` where the SQL differs. Nothing outside `db/` matches on the backend.

use diesel::prelude::*;

/// A connection to SQLite or PostgreSQL.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl DbConn {
    pub fn kind(&self) -> Kind {
        match self {
            DbConn::Sqlite(_) => Kind::Sqlite,
            DbConn::Postgres(_) => Kind::Postgres,
        }
    }
}

/// `sql` with SQLite's `?` placeholders written as PostgreSQL's `$1`, `$2`, … when `kind` is
/// PostgreSQL, for raw SQL that is otherwise the same on both. A `?` inside quotes is left alone.
pub fn placeholders(kind: Kind, sql: &str) -> std::borrow::Cow<'_, str> {
    if kind == Kind::Sqlite || !sql.contains('?') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let (mut out, mut n, mut quoted) = (String::with_capacity(sql.len() + 8), 0, false);
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Runs the same Diesel code on whichever connection `$conn` holds, for the queries Diesel builds
/// for each backend but not for both at once (`ON CONFLICT`, say).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let sql = "SELECT id FROM t WHERE a = ? AND b = '?' AND c = ?";
        assert_eq!(placeholders(Kind::Sqlite, sql), sql);
        assert_eq!(
            placeholders(Kind::Postgres, sql),
            "SELECT id FROM t WHERE a = $1 AND b = '?' AND c = $2"
        );
    }
}

/// The database layer stays easy to live in: each module readable on its own (about 400 lines at
/// most), no two modules importing each other in a circle, and backend-specific code (a match on
/// the connection, raw SQL, a driver's own connection) in `db/` only.
#[cfg(test)]
mod layout {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    fn sources(dir: &Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                found.push((path.display().to_string(), text));
            }
        }
        found
    }

    #[test]
    fn every_database_module_is_short_and_none_import_each_other_in_a_circle() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db");
        let modules: BTreeMap<String, String> = sources(&root)
            .into_iter()
            .map(|(path, text)| {
                let name = Path::new(&path)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, text)
            })
            .collect();
        assert!(modules.len() > 20, "{:?}", modules.keys());
        let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (name, text) in &modules {
            assert!(
                text.lines().count() <= 420,
                "src/db/{name}.rs has {} lines: split it by concern",
                text.lines().count()
            );
            let code: Vec<&str> = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            let code = code.join("\n");
            for other in modules.keys() {
                if other != name
                    && other != "mod"
                    && (code.contains(&format!("super::{other}::"))
                        || code.contains(&format!("crate::db::{other}::"))
                        || code.contains(&format!("super::{other}}}"))
                        || code.contains(&format!("super::{{{other}")))
                {
                    graph.entry(name).or_default().insert(other);
                }
            }
        }
        // Depth-first search for a way back to the start.
        fn reaches<'a>(
            graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
            from: &'a str,
            to: &str,
            seen: &mut BTreeSet<&'a str>,
        ) -> bool {
            graph
                .get(from)
                .into_iter()
                .flatten()
                .any(|next| *next == to || (seen.insert(next) && reaches(graph, next, to, seen)))
        }
        for name in graph.keys() {
            assert!(
                !reaches(&graph, name, name, &mut BTreeSet::new()),
                "src/db/{name}.rs is part of a circle of imports: {graph:?}"
            );
        }
    }

    #[test]
    fn backend_specific_code_lives_in_the_database_layer_only() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for (path, text) in sources(&root) {
            if path.contains("/src/db/") {
                continue;
            }
            for marker in [
                "DbConn::Sqlite",
                "DbConn::Postgres",
                "on_backend!",
                "sql_query(",
                "SqliteConnection",
                "PgConnection",
            ] {
                assert!(
                    !text.contains(marker),
                    "{path} uses {marker}: backend-specific code goes in src/db/"
                );
            }
        }
    }
}
