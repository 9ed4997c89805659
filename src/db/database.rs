//! Where the site's data lives: `--database` / `GUIDEPOST_DATABASE`, a SQLite file path or a
//! `postgres://` URL; shown everywhere without the password, and refused when it is surely a
//! mistake.

use std::fmt;
use std::path::{Path, PathBuf};

use super::Kind;

/// Where the site's data lives: `--database` / `GUIDEPOST_DATABASE`, a file path or a
/// `postgres://` URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// Reads a path or a `postgres://` (or `postgresql://`) URL.
    pub fn parse(text: &str) -> Database {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres(text.to_owned())
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Database::Sqlite(_) => Kind::Sqlite,
            Database::Postgres(_) => Kind::Postgres,
        }
    }

    /// The SQLite file, if the data lives in one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }

    /// The folder for the files kept beside the data (the key file, mail saved when no SMTP server
    /// is set): the SQLite file's own folder, or the working directory with PostgreSQL.
    pub fn folder(&self) -> PathBuf {
        match self {
            Database::Sqlite(path) => path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            Database::Postgres(_) => PathBuf::from("."),
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

/// As a command-line argument (`--database`), for the tests and tools that start Guidepost.
impl AsRef<std::ffi::OsStr> for Database {
    fn as_ref(&self) -> &std::ffi::OsStr {
        match self {
            Database::Sqlite(path) => path.as_os_str(),
            Database::Postgres(url) => url.as_ref(),
        }
    }
}

impl From<&Database> for Database {
    fn from(database: &Database) -> Database {
        database.clone()
    }
}

impl From<&PathBuf> for Database {
    fn from(path: &PathBuf) -> Database {
        Database::Sqlite(path.clone())
    }
}

impl From<&Path> for Database {
    fn from(path: &Path) -> Database {
        Database::Sqlite(path.to_owned())
    }
}

impl std::str::FromStr for Database {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Database, Self::Err> {
        Ok(Database::parse(text))
    }
}

/// The file path, or the URL without its password: safe for logs and messages.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// The URL without what may be secret: everything between the scheme's `://` and the last `@`
/// past the user name (libpq ends the user part at the first `@` or `/`, so a password holding
/// either is hidden whole), and the value of every query parameter but a few harmless ones.
fn without_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    // The user part ends at the last `@`, whatever a password holds (`?`, `#`, `/` or `@`).
    let (user_info, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (host_and_path, query) = match after.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (after, None),
    };
    let shown = match user_info {
        Some(user_info) => {
            let user = user_info
                .split([':', '/', '?', '#'])
                .next()
                .unwrap_or_default();
            let hidden = if user_info.len() > user.len() {
                ":…"
            } else {
                ""
            };
            format!("{user}{hidden}@{host_and_path}")
        }
        None => host_and_path.to_owned(),
    };
    let query = query.map(|query| {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value))
                    if matches!(
                        key,
                        "sslmode" | "connect_timeout" | "application_name" | "target_session_attrs"
                    ) =>
                {
                    format!("{key}={value}")
                }
                Some((key, _)) => format!("{key}=…"),
                None => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    match query {
        Some(query) => format!("{scheme}://{shown}?{query}"),
        None => format!("{scheme}://{shown}"),
    }
}

impl Database {
    /// Refuses what is surely a mistake for a SQLite path: a URL of another scheme, a value with
    /// quotes or spaces around it (as an env file may keep), or a libpq `key=value` string. Said
    /// without repeating the value, which may hold a password.
    pub fn check(&self) -> Result<(), &'static str> {
        let Database::Sqlite(path) = self else {
            return Ok(());
        };
        let text = path.to_string_lossy();
        if text.trim() != text || text.starts_with(['"', '\'']) || text.ends_with(['"', '\'']) {
            return Err(
                "--database has quotes or spaces around it: give the path or the \
                        postgres:// URL alone",
            );
        }
        if text.contains("://") {
            return Err(
                "--database looks like a URL, but only postgres:// and postgresql:// \
                        URLs name a database; anything else is a SQLite file path",
            );
        }
        let first = text.split_whitespace().next().unwrap_or_default();
        if let Some((key, _)) = first.split_once('=')
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(
                "--database looks like a key=value connection string: give PostgreSQL \
                        as a postgres://user@host/database URL",
            );
        }
        Ok(())
    }

    /// The text of a PostgreSQL connection error without any part of the password: libpq quotes
    /// pieces of a URL it cannot read (a port made of half a password, say), so every quoted
    /// piece found in the URL's user part is hidden, and the password itself wherever it is.
    pub fn scrub(&self, message: &str) -> String {
        let Database::Postgres(url) = self else {
            return message.to_owned();
        };
        let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        let secret = rest
            .split('?')
            .next()
            .and_then(|before| before.rfind('@').map(|at| &before[..at]))
            .unwrap_or_default();
        let mut scrubbed = String::with_capacity(message.len());
        let mut parts = message.split('"');
        if let Some(first) = parts.next() {
            scrubbed.push_str(first);
        }
        for (i, part) in parts.enumerate() {
            scrubbed.push('"');
            // Odd pieces are inside quotes.
            if i % 2 == 0
                && !part.is_empty()
                && (secret.contains(part) || url.contains(part) && part.contains(':'))
            {
                scrubbed.push('…');
            } else {
                scrubbed.push_str(part);
            }
        }
        match secret.split_once(':') {
            Some((_, password)) if !password.is_empty() => scrubbed.replace(password, "…"),
            _ => scrubbed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_a_postgres_url_or_else_a_path() {
        assert_eq!(
            Database::parse("postgres://u@h/db"),
            Database::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(Database::parse("PostgreSQL://h/db").kind(), Kind::Postgres);
        assert_eq!(
            Database::parse("data/guidepost.db"),
            Database::Sqlite("data/guidepost.db".into())
        );
        assert_eq!(Database::parse("postgres.db").kind(), Kind::Sqlite);
    }

    #[test]
    fn a_password_holding_url_characters_is_hidden_whole() {
        for url in [
            "postgres://site:pa/ss@db/guidepost",
            "postgres://site:p?x@db/guidepost",
            "postgres://site:p#x@db/guidepost",
            "postgres://site:p@ss@db/guidepost",
            "postgres://site@db/guidepost?pass%77ord=s3cret&sslpassword=s3cret",
        ] {
            let shown = Database::parse(url).to_string();
            for secret in ["pa/ss", "p?x", "p#x", "p@ss", "s3cret"] {
                assert!(!shown.contains(secret), "{url} shown as {shown}");
            }
        }
    }

    #[test]
    fn libpq_errors_lose_the_pieces_of_the_password_they_quote() {
        let database = Database::parse("postgres://site:pa/ss@db/guidepost");
        let message = r#"invalid integer value "pa" for connection option "port""#;
        assert_eq!(
            database.scrub(message),
            r#"invalid integer value "…" for connection option "port""#
        );
    }

    #[test]
    fn surely_mistaken_database_values_are_refused() {
        for text in [
            "\"postgres://u:p@h/db\"",
            " postgres://u:p@h/db",
            "pg://u:p@h/db",
            "host=db password=s3cret dbname=g",
        ] {
            assert!(Database::parse(text).check().is_err(), "{text}");
        }
        for text in ["data/guidepost.db", "/var/lib/site.db", "postgres://u@h/db"] {
            assert!(Database::parse(text).check().is_ok(), "{text}");
        }
    }

    #[test]
    fn a_postgres_url_is_shown_without_its_password() {
        let shown = Database::parse(
            "postgres://site:s3cret@db.internal:5432/guidepost?password=x&sslmode=disable",
        );
        let text = format!("{shown} {shown:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("password=x"), "{text}");
        assert!(
            text.contains("postgres://site:…@db.internal:5432/guidepost"),
            "{text}"
        );
        assert!(text.contains("sslmode=disable"), "{text}");
        assert_eq!(
            Database::parse("/var/lib/guidepost/site.db").to_string(),
            "/var/lib/guidepost/site.db"
        );
    }
}
