//! What changed in the tables deliveries are decided on (clients,
//! organisations, licences, articles, photos), and in which order.
//!
//! Every change to one of their rows moves the database's change counter
//! by one and logs the counter's new value with the kind and id of the item
//! it touched (`change_log`), in the change's own transaction, by triggers,
//! whichever node or hand made the change (migration
//! `2026-12-01-000009_change_log`). The counter row's lock makes changes
//! commit in the order of their numbers, so a reader that sees the counter
//! at N sees every change up to N: the log after a value is complete up to
//! the counter, with no gap a later commit could fill.
//!
//! Facts kept in memory carry the value they were read at. A reader asks
//! for the changes after it ([`after`], [`between`]) and drops exactly the
//! items they touch; the usage writer refuses only deliveries that
//! [`Log::touches`]. The log is pruned from its oldest end ([`prune`]): a
//! reader whose value is older than what is kept cannot tell what changed
//! ([`Log::covers`] is false) and must drop everything. See
//! `delivery::facts` for the cache.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use super::schema::{change_counter, change_log};
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

/// What a change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An article (`articles.id`).
    Article,
    /// A photo (`media.id`).
    Photo,
    /// A publisher (`publishers.id`): its name is part of its articles.
    Publisher,
    /// A licensee (`licensees.id`): its status, or any of its licences.
    Licensee,
    /// An API client (`api_clients.id`).
    Client,
    /// A kind this version does not know (logged by a newer one during a
    /// rolling upgrade): it may touch anything.
    Unknown,
}

impl Kind {
    /// The kind as the triggers log it.
    pub fn parse(stored: &str) -> Self {
        match stored {
            "article" => Kind::Article,
            "photo" => Kind::Photo,
            "publisher" => Kind::Publisher,
            "licensee" => Kind::Licensee,
            "client" => Kind::Client,
            _ => Kind::Unknown,
        }
    }
}

/// One logged change: the counter's value it moved to, and what it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The counter's value after the change.
    pub seq: i64,
    /// What kind of item it touched.
    pub kind: Kind,
    /// The item's id, as stored.
    pub item: String,
}

/// The changes after some value of the counter, up to `current`.
#[derive(Debug, Clone)]
pub struct Log {
    /// The counter when the log was read: every change up to it is known
    /// (or was pruned, see [`Log::covers`]).
    pub current: i64,
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// The oldest value after which the log names every change.
    complete_after: i64,
    /// When reading began: every change committed before it is in the log.
    pub read_at: Instant,
}

impl Log {
    /// The changes read after `since` up to `current`, in order. Every
    /// change logs at least one row under its own value, and the log is
    /// pruned from its oldest end only: it is complete after `since` if its
    /// first change comes right after it, and after the value before its
    /// first change otherwise. A reader that has seen nothing (`since` 0)
    /// needs no changes: its log is complete after `current` only.
    pub fn new(since: i64, current: i64, changes: Vec<Change>, read_at: Instant) -> Self {
        let complete_after = match changes.first() {
            _ if since <= 0 => current,
            _ if current <= since => current,
            Some(first) if first.seq == since + 1 => since,
            Some(first) => first.seq - 1,
            None => current,
        };
        Self {
            current,
            changes,
            complete_after,
            read_at,
        }
    }

    /// Whether the log names every change after `seen`. False when `seen`
    /// is older than what the database still keeps: the changes in between
    /// are unknown, and facts read at `seen` must all be dropped.
    pub fn covers(&self, seen: i64) -> bool {
        seen >= self.complete_after
    }

    /// The changes after `seen`, in order.
    pub fn after(&self, seen: i64) -> &[Change] {
        let first = self.changes.partition_point(|c| c.seq <= seen);
        &self.changes[first..]
    }

    /// Whether a decision on facts read at `depends.seen` may be out of
    /// date: a change after it touched one of its items, or the log cannot
    /// tell. (Facts read at a value newer than the counter mean the
    /// database went back, as after a restore: out of date as well.)
    pub fn touches(&self, depends: &Depends) -> bool {
        depends.seen > self.current
            || !self.covers(depends.seen)
            || self
                .after(depends.seen)
                .iter()
                .any(|c| depends.touched_by(c))
    }
}

/// The latest changes a node has applied to its facts, so a decision made
/// on facts read earlier can be checked against them without reading the
/// log again: what the usage writer checks in journal mode.
#[derive(Debug, Default)]
pub struct Recent {
    /// The counter the window reaches to.
    current: i64,
    /// Every change after this value (up to `current`) is in the window.
    complete_after: i64,
    changes: VecDeque<Change>,
}

/// Changes a [`Recent`] window keeps, at most: a decision on facts older
/// than its oldest is decided again.
const RECENT_CHANGES: usize = 4096;

impl Recent {
    /// An empty window at `current`: decisions on older facts are all out
    /// of date.
    pub fn at(current: i64) -> Self {
        Self {
            current,
            complete_after: current,
            changes: VecDeque::new(),
        }
    }

    /// The counter the window reaches to.
    pub fn current(&self) -> i64 {
        self.current
    }

    /// Moves the window to `log.current` with the changes `log` holds after
    /// the window's end, or starts it over there when `log` does not reach
    /// back to it. A log older than the window changes nothing.
    pub fn extend(&mut self, log: &Log) {
        if log.current <= self.current {
            return;
        }
        if !log.covers(self.current) {
            *self = Self::at(log.current);
            return;
        }
        self.changes.extend(log.after(self.current).iter().cloned());
        self.current = log.current;
        while self.changes.len() > RECENT_CHANGES {
            if let Some(oldest) = self.changes.pop_front() {
                self.complete_after = oldest.seq;
            }
        }
    }

    /// Whether a decision on facts read at `depends.seen` may be out of
    /// date by what the window holds: a change after it touched one of its
    /// items, or the window cannot tell (facts older than it, or newer than
    /// it, as after the database went back).
    pub fn touches(&self, depends: &Depends) -> bool {
        depends.seen > self.current
            || depends.seen < self.complete_after
            || self
                .changes
                .iter()
                .rev()
                .take_while(|c| c.seq > depends.seen)
                .any(|c| depends.touched_by(c))
    }
}

/// How current a node's facts are, as the usage writer asks in journal
/// mode: it trusts the node's own reading of the change log (kept by the
/// delivery read model) within the freshness bound instead of reading the
/// log itself for every batch.
pub trait Confirmed: Send + Sync {
    /// When the node's facts were last confirmed current: every change
    /// committed before this instant has been applied. `None` before the
    /// first reading.
    fn confirmed_at(&self) -> Option<Instant>;

    /// `Some(counter)` when a change the node has applied (up to `counter`)
    /// may have changed a decision made on facts read at `depends.seen`.
    fn changed_since(&self, depends: &Depends) -> Option<i64>;
}

/// The changes after `since`, up to the counter now: one indexed read of
/// the counter when nothing changed, and one of the log when something did.
pub fn after(conn: &mut DbConnection, since: i64) -> Result<Log, StorageError> {
    let read_at = Instant::now();
    let current = read(conn)?;
    between_read_at(conn, since, current, read_at)
}

/// The changes after `since` up to `current` (a value of the counter this
/// transaction read).
pub fn between(conn: &mut DbConnection, since: i64, current: i64) -> Result<Log, StorageError> {
    between_read_at(conn, since, current, Instant::now())
}

fn between_read_at(
    conn: &mut DbConnection,
    since: i64,
    current: i64,
    read_at: Instant,
) -> Result<Log, StorageError> {
    // A reader that has seen nothing has nothing to drop: it needs the
    // counter alone, not the whole log.
    if current <= since || since <= 0 {
        return Ok(Log::new(since, current, Vec::new(), read_at));
    }
    let rows: Vec<(i64, String, String)> = change_log::table
        .filter(change_log::seq.gt(since))
        .filter(change_log::seq.le(current))
        .order(change_log::seq.asc())
        .select((change_log::seq, change_log::kind, change_log::item))
        .load(conn)?;
    let changes = rows
        .into_iter()
        .map(|(seq, kind, item)| Change {
            seq,
            kind: Kind::parse(&kind),
            item,
        })
        .collect();
    Ok(Log::new(since, current, changes, read_at))
}

/// The oldest change the log still holds, if it holds any.
pub fn oldest(conn: &mut DbConnection) -> Result<Option<i64>, StorageError> {
    Ok(change_log::table
        .select(diesel::dsl::min(change_log::seq))
        .get_result(conn)?)
}

/// Deletes the oldest changes: those logged before `before`, and all but
/// the newest `keep` values of the counter. Always a prefix of the log (by
/// value, not by time: on PostgreSQL a change's time is when its statement
/// ran, and a later value can carry an earlier time), so what stays is
/// complete after the value before its first row. Returns the rows deleted.
pub fn prune(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    keep: i64,
) -> Result<usize, StorageError> {
    let current = read(conn)?;
    let aged: Option<i64> = change_log::table
        .filter(change_log::at.lt(before))
        .select(max(change_log::seq))
        .get_result(conn)?;
    let upto = aged.unwrap_or(0).max(current.saturating_sub(keep));
    if upto <= 0 {
        return Ok(0);
    }
    Ok(diesel::delete(change_log::table.filter(change_log::seq.le(upto))).execute(conn)?)
}

/// The content a delivery of one article depends on: the article, its
/// publisher (whose name it carries) and every photo it refers to (found
/// or not). Built once per article read, and shared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    /// The article's id as asked for (it may not exist).
    pub article: String,
    /// Its publisher, if the article exists.
    pub publisher: Option<String>,
    /// The photos it refers to.
    pub photos: Vec<String>,
}

/// What one decision depended on, and the counter its facts were read at:
/// a change after `seen` to any of these items may change the decision.
#[derive(Debug, Clone)]
pub struct Depends {
    /// The counter the facts were read at (or confirmed at).
    pub seen: i64,
    /// The client asking.
    pub client: String,
    /// The licensee it asks for.
    pub licensee: String,
    /// The licensee the client's stored standing names, when it is not
    /// `licensee` (it only is not if the client's row was changed by hand).
    pub standing_licensee: Option<String>,
    /// The article, its publisher and photos.
    pub content: Arc<Content>,
}

impl Depends {
    /// Whether `change` touched one of these items.
    pub fn touched_by(&self, change: &Change) -> bool {
        let item = &change.item;
        match change.kind {
            Kind::Article => *item == self.content.article,
            Kind::Photo => self.content.photos.contains(item),
            Kind::Publisher => self.content.publisher.as_ref() == Some(item),
            Kind::Licensee => {
                *item == self.licensee || self.standing_licensee.as_ref() == Some(item)
            }
            Kind::Client => *item == self.client,
            Kind::Unknown => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64, kind: Kind, item: &str) -> Change {
        Change {
            seq,
            kind,
            item: item.to_owned(),
        }
    }

    fn log(since: i64, current: i64, changes: Vec<Change>) -> Log {
        Log::new(since, current, changes, Instant::now())
    }

    fn depends(seen: i64) -> Depends {
        Depends {
            seen,
            client: "client".to_owned(),
            licensee: "licensee".to_owned(),
            standing_licensee: None,
            content: Arc::new(Content {
                article: "article".to_owned(),
                publisher: Some("publisher".to_owned()),
                photos: vec!["photo-1".to_owned(), "photo-2".to_owned()],
            }),
        }
    }

    #[test]
    fn a_decision_is_touched_only_by_its_own_items_changed_after_it() {
        let cases = [
            (Kind::Article, "article", true),
            (Kind::Article, "another article", false),
            (Kind::Photo, "photo-2", true),
            (Kind::Photo, "photo-3", false),
            (Kind::Publisher, "publisher", true),
            (Kind::Publisher, "another publisher", false),
            (Kind::Licensee, "licensee", true),
            (Kind::Licensee, "another licensee", false),
            (Kind::Client, "client", true),
            (Kind::Client, "another client", false),
            (Kind::Unknown, "anything", true),
        ];
        for (kind, item, touched) in cases {
            let after = log(
                10,
                12,
                vec![change(11, Kind::Article, "x"), change(12, kind, item)],
            );
            assert_eq!(after.touches(&depends(11)), touched, "{kind:?} {item}");
            assert!(
                !after.touches(&depends(12)),
                "a change before the facts: {kind:?}"
            );
        }
    }

    #[test]
    fn a_window_of_recent_changes_answers_as_the_log_would() {
        let mut recent = Recent::at(10);
        recent.extend(&log(
            10,
            12,
            vec![
                change(11, Kind::Article, "x"),
                change(12, Kind::Photo, "photo-2"),
            ],
        ));
        assert_eq!(recent.current(), 12);
        assert!(recent.touches(&depends(11)), "the photo changed after 11");
        assert!(!recent.touches(&depends(12)));
        assert!(recent.touches(&depends(9)), "older than the window");
        assert!(recent.touches(&depends(13)), "newer than the window");

        // A log that does not reach back to the window starts it over.
        recent.extend(&log(13, 20, vec![change(16, Kind::Article, "x")]));
        assert_eq!(recent.current(), 20);
        assert!(recent.touches(&depends(19)));
        assert!(!recent.touches(&depends(20)));

        // An older log changes nothing.
        recent.extend(&log(10, 15, vec![change(15, Kind::Client, "client")]));
        assert!(!recent.touches(&depends(20)));
    }

    #[test]
    fn a_full_window_forgets_its_oldest_changes_and_refuses_facts_older_than_what_it_keeps() {
        let mut recent = Recent::at(1);
        let many: Vec<Change> = (2..=i64::try_from(RECENT_CHANGES).unwrap() + 11)
            .map(|seq| change(seq, Kind::Article, "x"))
            .collect();
        let last = many.last().unwrap().seq;
        recent.extend(&log(1, last, many));
        assert!(recent.touches(&depends(5)), "before the oldest kept");
        assert!(!recent.touches(&depends(20)), "only other articles changed");
    }

    #[test]
    fn a_log_that_starts_after_the_facts_cannot_clear_them() {
        let pruned = log(10, 20, vec![change(16, Kind::Article, "x")]);

        assert!(pruned.touches(&depends(14)));
        assert!(!pruned.touches(&depends(15)));
        assert!(pruned.touches(&depends(21)), "the database went back");
    }
}
