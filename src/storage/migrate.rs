//! Embedded migrations, one tree per backend with the same names, applied
//! before the server binds. On PostgreSQL an advisory lock lets several
//! nodes start at once: one migrates, the others wait and find nothing to do.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, Pool, StorageError};

/// The SQLite tree.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL tree.
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the session-level advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x5359_4e44_4943_4154; // "SYNDICAT"

/// Applies every pending migration and returns the names applied.
pub fn run_pending(pool: &Pool) -> Result<Vec<String>, StorageError> {
    let mut connection = pool.get()?;
    run_pending_on(&mut connection)
}

/// Applies every pending migration on one connection.
pub fn run_pending_on(connection: &mut DbConnection) -> Result<Vec<String>, StorageError> {
    let applied = match connection {
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(StorageError::Other)?,
        DbConnection::Postgresql(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = pg
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>());
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result.map_err(StorageError::Other)?
        }
    };
    Ok(applied)
}

/// Reverts every applied migration, newest first. For tests of `down.sql`.
pub fn revert_all(connection: &mut DbConnection) -> Result<(), StorageError> {
    match connection {
        DbConnection::Sqlite(sqlite) => sqlite.revert_all_migrations(SQLITE).map(drop),
        DbConnection::Postgresql(pg) => pg.revert_all_migrations(POSTGRES).map(drop),
    }
    .map_err(StorageError::Other)
}

/// Reverts the newest applied migration. For tests of what a migration
/// does to rows already there.
pub fn revert_last(connection: &mut DbConnection) -> Result<(), StorageError> {
    match connection {
        DbConnection::Sqlite(sqlite) => sqlite.revert_last_migration(SQLITE).map(drop),
        DbConnection::Postgresql(pg) => pg.revert_last_migration(POSTGRES).map(drop),
    }
    .map_err(StorageError::Other)
}

/// The names of the migrations a tree holds, in order.
pub fn names(tree: &EmbeddedMigrations) -> Result<Vec<String>, StorageError> {
    let migrations = diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(tree)
        .map_err(StorageError::Other)?;
    Ok(migrations.iter().map(|m| m.name().to_string()).collect())
}
