//! The database's change counter. Every change to the tables deliveries are
//! decided on (clients, organisations, licences, articles, photos) moves it
//! in the change's own transaction, by triggers, whichever node or hand made
//! the change. Facts kept in memory carry the value they were read at; see
//! `delivery::facts` for how it keeps them fresh.

use diesel::prelude::*;

use super::schema::change_counter;
use super::{DbConnection, StorageError};

/// The counter now.
///
/// Read with `get_result`, not `first`: SQLite plans a statement again
/// whenever a new value is bound to its `LIMIT` parameter, so `first`
/// would compile it on every read.
pub fn read(conn: &mut DbConnection) -> Result<i64, StorageError> {
    Ok(change_counter::table
        .find(1)
        .select(change_counter::value)
        .get_result(conn)?)
}

/// The counter, read so that no change commits between this read and the
/// end of the transaction: on SQLite the transaction already holds the
/// write lock; on PostgreSQL the row is locked for share, so a change waits
/// for this transaction (and this transaction for a change in flight).
pub fn read_shared(conn: &mut DbConnection) -> Result<i64, StorageError> {
    let query = change_counter::table.find(1).select(change_counter::value);
    Ok(match conn {
        DbConnection::Sqlite(c) => query.get_result(c)?,
        DbConnection::Postgresql(c) => query.for_share().get_result(c)?,
    })
}
