//! Backups of the live database and restoring one: `guidepost backup FILE` and `guidepost restore
//! FILE`.
//!
//! A backup is made with SQLite's `VACUUM INTO` while the server runs: it reads one consistent
//! snapshot (a read transaction, so writers go on), writes it to a temporary name beside the
//! target, checks it with `PRAGMA integrity_check`, syncs it and only then renames it into place:
//! a backup that exists is whole and checked.
//!
//! A restore refuses a file that fails the check, or that is not a Guidepost database, and refuses
//! to touch a database a running server holds: every server holds a shared lock on
//! `<database>.lock` (see [`ServerLock`]) and a restore needs it alone. The database it replaces is
//! kept beside it, renamed, never deleted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// What a backup did.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub bytes: u64,
    pub took: Duration,
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Copies the database at `database` to `target`, checked, calling `progress(done, total)` in
/// bytes about once a second while it runs.
pub fn backup(
    database: &Path,
    target: &Path,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<BackupReport> {
    let started = Instant::now();
    if !database.exists() {
        anyhow::bail!("there is no database at {}", database.display());
    }
    if target.exists() {
        anyhow::bail!(
            "{} exists already: choose a new name, or move it away first",
            target.display()
        );
    }
    let mut conn = open(database)?;
    let total = size_of(&mut conn).unwrap_or(0);
    let partial = partial_name(target);
    let _ = std::fs::remove_file(&partial);
    let destination = partial
        .to_str()
        .with_context(|| format!("the path {} is not valid UTF-8", partial.display()))?
        .to_owned();
    let copying = std::thread::spawn(move || {
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(destination)
            .execute(&mut conn)
    });
    while !copying.is_finished() {
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() >= Duration::from_secs(1) {
            let done = std::fs::metadata(&partial).map_or(0, |m| m.len());
            progress(done.min(total), total);
        }
    }
    let copied = copying
        .join()
        .map_err(|_| anyhow::anyhow!("the copy stopped unexpectedly"))?;
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error).context("cannot copy the database");
    }
    if let Err(error) = check(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(error.context("the copy failed its integrity check; nothing was kept"));
    }
    private(&partial)?;
    File::open(&partial)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot sync {}", partial.display()))?;
    std::fs::rename(&partial, target)
        .with_context(|| format!("cannot move the copy to {}", target.display()))?;
    sync_folder(target);
    let bytes = std::fs::metadata(target).map_or(0, |m| m.len());
    Ok(BackupReport {
        bytes,
        took: started.elapsed(),
    })
}

/// Replaces the database at `database` with the backup `source`, once the backup passed its
/// check and no server holds the database. Returns where the replaced database was kept.
pub fn restore(database: &Path, source: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !source.exists() {
        anyhow::bail!("there is no file at {}", source.display());
    }
    check(source).context("the backup cannot be restored")?;
    {
        let mut conn = open_read_only(source)?;
        let migrations: i64 = diesel::sql_query(
            "SELECT count(*) AS n FROM sqlite_master WHERE name = '__diesel_schema_migrations'",
        )
        .get_result::<Number>(&mut conn)
        .map(|row| row.n)
        .context("cannot read the backup")?;
        if migrations == 0 {
            anyhow::bail!(
                "{} is a SQLite database, but not one of Guidepost's",
                source.display()
            );
        }
    }
    let lock = ServerLock::exclusive(database)?;
    let kept = if database.exists() {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let aside = with_suffix(database, &format!(".before-restore-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = with_suffix(database, suffix);
            if from.exists() {
                std::fs::rename(&from, with_suffix(&aside, suffix))
                    .with_context(|| format!("cannot move {} aside", from.display()))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    let partial = partial_name(database);
    std::fs::copy(source, &partial)
        .with_context(|| format!("cannot copy {} to {}", source.display(), partial.display()))?;
    private(&partial)?;
    File::open(&partial)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot sync {}", partial.display()))?;
    std::fs::rename(&partial, database)
        .with_context(|| format!("cannot move the copy to {}", database.display()))?;
    sync_folder(database);
    drop(lock);
    Ok(kept)
}

/// Runs SQLite's integrity check on the database at `path`.
pub fn check(path: &Path) -> anyhow::Result<()> {
    let mut conn = open_read_only(path)?;
    let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .with_context(|| format!("{} is not a readable SQLite database", path.display()))?;
    let problems: Vec<String> = rows
        .into_iter()
        .map(|row| row.integrity_check)
        .filter(|line| line != "ok")
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} failed SQLite's integrity check: {}",
            path.display(),
            problems.join("; ")
        )
    }
}

/// The lock every server holds on its database, shared with other servers of the same file, so
/// that a restore (which needs it alone) cannot replace a database in use.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
}

impl ServerLock {
    /// The shared lock of a server; an error when a restore is under way.
    pub fn shared(database: &Path) -> anyhow::Result<Self> {
        let file = lock_file(database)?;
        file.try_lock_shared().map_err(|_| {
            anyhow::anyhow!(
                "{} is being restored: start the server once the restore has finished",
                database.display()
            )
        })?;
        Ok(Self { _file: file })
    }

    /// The lock alone, for a restore; an error naming the reason when a server holds it.
    pub fn exclusive(database: &Path) -> anyhow::Result<Self> {
        let file = lock_file(database)?;
        file.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "a server is running on {}: stop it before restoring",
                database.display()
            )
        })?;
        Ok(Self { _file: file })
    }
}

/// Makes a copy of the database readable by its owner only: it holds everything the site keeps.
fn private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    Ok(())
}

fn lock_file(database: &Path) -> anyhow::Result<File> {
    let path = with_suffix(database, ".lock");
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))
}

fn open(path: &Path) -> anyhow::Result<SqliteConnection> {
    let url = path
        .to_str()
        .with_context(|| format!("the path {} is not valid UTF-8", path.display()))?;
    let mut conn = SqliteConnection::establish(url)
        .with_context(|| format!("cannot open the database at {}", path.display()))?;
    diesel::connection::SimpleConnection::batch_execute(&mut conn, "PRAGMA busy_timeout = 5000;")
        .context("cannot set up the connection")?;
    Ok(conn)
}

fn open_read_only(path: &Path) -> anyhow::Result<SqliteConnection> {
    SqliteConnection::establish(&crate::db::read_only_url(path))
        .with_context(|| format!("cannot open {}", path.display()))
}

/// The database's size in bytes, as its pages count it.
fn size_of(conn: &mut SqliteConnection) -> QueryResult<u64> {
    let n: i64 = diesel::sql_query(
        "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()",
    )
    .get_result::<Number>(conn)?
    .n;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn partial_name(target: &Path) -> PathBuf {
    with_suffix(target, &format!(".partial-{}", std::process::id()))
}

/// Makes a rename in `path`'s folder durable.
fn sync_folder(path: &Path) {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = File::open(folder)
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_checked_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("site.db");
        crate::db::open(&database, 1).unwrap();
        let target = dir.path().join("copy.db");
        let report = backup(&database, &target, |_, _| {}).unwrap();
        assert!(report.bytes > 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
        }
        check(&target).unwrap();
        let again = backup(&database, &target, |_, _| {}).unwrap_err();
        assert!(again.to_string().contains("exists already"), "{again}");
    }

    #[test]
    fn a_restore_refuses_damaged_files_foreign_databases_and_a_held_database() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("site.db");
        crate::db::open(&database, 1).unwrap();
        let good = dir.path().join("good.db");
        backup(&database, &good, |_, _| {}).unwrap();

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database at all, just text").unwrap();
        assert!(restore(&database, &junk).is_err());

        let foreign = dir.path().join("foreign.db");
        let mut conn = SqliteConnection::establish(foreign.to_str().unwrap()).unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "CREATE TABLE t (x);")
            .unwrap();
        drop(conn);
        let refused = restore(&database, &foreign).unwrap_err().to_string();
        assert!(refused.contains("not one of Guidepost's"), "{refused}");

        let held = ServerLock::shared(&database).unwrap();
        let refused = format!("{:#}", restore(&database, &good).unwrap_err());
        assert!(refused.contains("a server is running"), "{refused}");
        drop(held);
        let kept = restore(&database, &good).unwrap().unwrap();
        assert!(kept.exists(), "the replaced database is kept");
        check(&database).unwrap();
    }
}
