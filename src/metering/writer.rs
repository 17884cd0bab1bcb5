//! The group-commit usage writer: one thread writes the ledger;
//! requests hand it their delivery and wait; it takes everything queued,
//! records it in one transaction, commits, and only then answers each
//! request. No timer: under light load a batch is one delivery, under heavy
//! load the batch grows by itself, so the fsync is shared.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::storage::usage::{self, Delivery, Recorded};
use crate::storage::{DbConnection, Pool, PooledConnection, StorageError};

/// Largest batch committed at once.
const MAX_BATCH: usize = 1024;

enum Message {
    Record(Box<Delivery>, oneshot::Sender<Result<Recorded, String>>),
    Stop,
}

/// Why a delivery could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer has stopped (the node is shutting down).
    #[error("the usage writer has stopped")]
    Stopped,
    /// The batch failed; nothing of it was written.
    #[error("the usage batch failed: {0}")]
    Failed(String),
}

/// Hands deliveries to the writer thread.
#[derive(Clone)]
pub struct UsageWriter {
    sender: mpsc::Sender<Message>,
}

impl std::fmt::Debug for UsageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageWriter").finish_non_exhaustive()
    }
}

/// The writer thread, to stop and join at shutdown.
pub struct WriterThread {
    sender: mpsc::Sender<Message>,
    handle: Option<JoinHandle<()>>,
}

impl UsageWriter {
    /// Starts the writer thread on a connection from `pool`.
    pub fn start(pool: Pool) -> std::io::Result<(Self, WriterThread)> {
        let (sender, receiver) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("usage-writer".to_owned())
            .spawn(move || run(&pool, &receiver))?;
        Ok((
            Self {
                sender: sender.clone(),
            },
            WriterThread {
                sender,
                handle: Some(handle),
            },
        ))
    }

    /// Records a delivery and waits until its batch is committed.
    pub async fn record(&self, delivery: Delivery) -> Result<Recorded, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Message::Record(Box::new(delivery), reply))
            .map_err(|_| WriteError::Stopped)?;
        answer
            .await
            .map_err(|_| WriteError::Stopped)?
            .map_err(WriteError::Failed)
    }
}

impl WriterThread {
    /// Lets the writer finish what is queued, then stops it.
    pub fn stop(mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            tracing::error!("the usage writer panicked");
        }
    }
}

fn run(pool: &Pool, receiver: &mpsc::Receiver<Message>) {
    let mut connection = Connection::new(pool);
    let mut stopping = false;
    while !stopping {
        let Ok(first) = receiver.recv() else { return };
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Record(delivery, reply) => batch.push((*delivery, reply)),
                Message::Stop => stopping = true,
            }
            if batch.len() < MAX_BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        commit(&mut connection, batch);
    }
    // Stop was asked: record whatever is still queued before leaving.
    let rest: Vec<_> = receiver
        .try_iter()
        .filter_map(|m| match m {
            Message::Record(delivery, reply) => Some((*delivery, reply)),
            Message::Stop => None,
        })
        .collect();
    if !rest.is_empty() {
        commit(&mut connection, rest);
    }
}

/// The writer's connection. On an SQLite file it is taken from the pool
/// once and kept between batches (no checkout and its check per batch);
/// a failed batch gives it back. A PostgreSQL connection is taken per
/// batch, so the pool's check finds one the server dropped before a batch
/// fails on it; an in-memory SQLite database has a pool of one, which the
/// requests need too.
struct Connection<'a> {
    pool: &'a Pool,
    held: Option<PooledConnection>,
}

impl<'a> Connection<'a> {
    fn new(pool: &'a Pool) -> Self {
        Self { pool, held: None }
    }

    fn record(&mut self, deliveries: &[Delivery]) -> Result<Vec<Recorded>, StorageError> {
        let mut conn = match self.held.take() {
            Some(conn) => conn,
            None => self.pool.get()?,
        };
        let outcome = usage::record_batch(&mut conn, deliveries);
        let keep = matches!(*conn, DbConnection::Sqlite(_)) && self.pool.max_size() > 1;
        if outcome.is_ok() && keep {
            self.held = Some(conn);
        }
        outcome
    }
}

type Pending = (Delivery, oneshot::Sender<Result<Recorded, String>>);

fn commit(connection: &mut Connection<'_>, batch: Vec<Pending>) {
    let (deliveries, replies): (Vec<Delivery>, Vec<_>) = batch.into_iter().unzip();
    match connection.record(&deliveries) {
        Ok(results) => {
            tracing::debug!(batch = results.len(), "usage batch committed");
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(error) => {
            tracing::error!(batch = deliveries.len(), error = %error, "usage batch failed; nothing of it was written");
            for reply in replies {
                let _ = reply.send(Err(error.to_string()));
            }
        }
    }
}
