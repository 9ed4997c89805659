//! The site's secret: it signs session cookies and keys the HMACs of CSRF tokens and throttle
//! entries. It comes from `GUIDEPOST_SECRET_KEY`, or else from a key file created beside the
//! database on first start (readable by its owner only), so it survives restarts and is shared by
//! every worker. It is never logged, printed or shown.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use actix_web::cookie::Key;
use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

/// The shortest secret accepted from the environment.
pub const MIN_SECRET_CHARS: usize = 64;

/// Keys derived from the site's secret.
#[derive(Clone)]
pub struct Secrets {
    cookie: Key,
    hmac: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(redacted)")
    }
}

impl Secrets {
    /// Derives the keys from a secret text of at least [`MIN_SECRET_CHARS`] characters.
    pub fn from_secret(secret: &str) -> anyhow::Result<Self> {
        if secret.chars().count() < MIN_SECRET_CHARS {
            anyhow::bail!(
                "GUIDEPOST_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters long (for \
                 example the output of `openssl rand -hex 32`); unset it to use a key file kept \
                 beside the database"
            );
        }
        let material = Sha512::digest(secret.as_bytes());
        let cookie = Key::try_from(material.as_slice())
            .map_err(|_| anyhow::anyhow!("cannot derive the cookie key"))?;
        let mut hmac = [0u8; 32];
        hmac.copy_from_slice(&Sha256::digest(
            [b"guidepost/hmac/".as_slice(), secret.as_bytes()].concat(),
        ));
        Ok(Self { cookie, hmac })
    }

    /// The secret from `configured`, else from the key file beside `database`, created when
    /// missing.
    /// The configured secret, or else the key file beside a SQLite database. Instances sharing a
    /// PostgreSQL database must share the key (a session made by one is read by the others), and a
    /// file of one machine's cannot be shared: there the secret must be configured.
    pub fn load(configured: Option<&str>, database: &crate::db::Database) -> anyhow::Result<Self> {
        match (configured, database) {
            (Some(secret), _) => Self::from_secret(secret),
            (None, crate::db::Database::Sqlite(path)) => {
                Self::from_secret(&key_file(&key_file_path(path))?)
            }
            (None, crate::db::Database::Postgres(_)) => anyhow::bail!(
                "GUIDEPOST_SECRET_KEY must be set when the database is PostgreSQL: every instance \
                 of the site needs the same key to read the others' sessions and links (make one \
                 with `openssl rand -hex 32` and give it to every instance)"
            ),
        }
    }

    pub fn cookie_key(&self) -> &Key {
        &self.cookie
    }

    /// HMAC-SHA256 of `parts` under the site's key, as hex: tokens derived from a value without
    /// revealing it or letting anyone else make them.
    pub fn sign(&self, parts: &[&str]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.hmac) else {
            return String::new();
        };
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        super::hex(&mac.finalize().into_bytes())
    }
}

/// `guidepost.key` in the database's folder.
pub fn key_file_path(database: &Path) -> PathBuf {
    database
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("guidepost.key")
}

/// The text of the key file, made (64 random bytes as hex, mode 0600) when it does not exist.
fn key_file(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create the folder {}", parent.display()))?;
            }
            let secret = super::random_hex(64);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(secret.as_bytes())
                        .and_then(|()| file.sync_all())
                        .with_context(|| format!("cannot write the key file {}", path.display()))?;
                    tracing::info!("created the key file {}", path.display());
                    Ok(secret)
                }
                // Another process made it first: use theirs.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    Ok(std::fs::read_to_string(path)?.trim().to_owned())
                }
                Err(error) => Err(error)
                    .with_context(|| format!("cannot create the key file {}", path.display())),
            }
        }
        Err(error) => {
            Err(error).with_context(|| format!("cannot read the key file {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_secret_is_refused_in_one_sentence() {
        let error = Secrets::from_secret("too short").unwrap_err().to_string();
        assert!(error.contains("at least 64 characters"), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn the_key_file_is_made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("site.db");
        let first = Secrets::load(None, &database.clone().into()).unwrap();
        let second = Secrets::load(None, &database.clone().into()).unwrap();
        assert_eq!(first.sign(&["x"]), second.sign(&["x"]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_file_path(&database))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(&first.sign(&["x"])));
    }
}
