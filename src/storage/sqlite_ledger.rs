//! The usage ledger's own connection to an SQLite file, which commits
//! without syncing (`synchronous = NORMAL`), and the write-ahead log that a
//! separate thread syncs before any batch in it is answered. SQLite's side
//! of the usage writer's group commit (`metering::writer`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use r2d2::ManageConnection;

use super::{ConnectionManager, DbConnection, StorageError};

/// A connection to an SQLite file whose commits write its write-ahead log
/// without syncing it, and the path of that log (beside the file SQLite
/// opened, as SQLite names it).
pub fn unsynced_connection(
    manager: &ConnectionManager,
) -> Result<(DbConnection, Arc<Path>), StorageError> {
    #[derive(diesel::QueryableByName)]
    struct Attached {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        file: String,
    }

    let mut conn = manager.connect().map_err(StorageError::from)?;
    // The writer keeps SQLite's default 2 MiB of pages (the indexes it
    // writes), not a pool connection's 128 KiB.
    conn.batch_execute("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -2000;")?;
    let attached: Vec<Attached> = diesel::sql_query("PRAGMA database_list").load(&mut conn)?;
    let file = attached
        .into_iter()
        .find(|a| a.name == "main" && !a.file.is_empty())
        .ok_or_else(|| StorageError::Other("the usage writer's database has no file".into()))?
        .file;
    Ok((conn, Arc::from(PathBuf::from(format!("{file}-wal")))))
}

/// The write-ahead log, held open to be synced.
pub struct WriteAheadLog {
    path: Arc<Path>,
    file: std::fs::File,
}

impl WriteAheadLog {
    /// The log at `path`, opened again (and its directory entry synced) if
    /// it is not the file already open: SQLite deletes the log when its
    /// last connection closes and creates it anew.
    pub fn current(held: Option<Self>, path: &Arc<Path>) -> std::io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        if let Some(log) = held
            && log.path == *path
            && log.file.metadata()?.ino() == std::fs::metadata(path)?.ino()
        {
            return Ok(log);
        }
        let file = std::fs::File::open(path)?;
        let directory = match path.parent() {
            Some(directory) if !directory.as_os_str().is_empty() => directory,
            _ => Path::new("."),
        };
        std::fs::File::open(directory)?.sync_all()?;
        Ok(Self {
            path: path.clone(),
            file,
        })
    }

    /// Syncs what was written to the log (`fdatasync`).
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}
