//! The transactional outbox. A content change that licensees hear of
//! (publish, update, correction, withholding, kill) writes, in its own
//! transaction, one webhook event and one pending delivery per target
//! endpoint; a kill also writes one takedown notice per licensee that
//! received the article. Either the change and all of these commit, or
//! none does, and the sender finds the deliveries in the database however
//! often the process is restarted or killed.
//!
//! Targets: the active endpoints subscribed to the event's type of every
//! licensee that hears of the change in its feed, by the same rule
//! (`domain::access::hears`) decided at the instant the change becomes
//! visible (an embargoed story's publication, at its embargo): a licence
//! covering the article's publisher and section in force then for a
//! publication, update, correction or withholding; for a kill, any licence
//! under which the licensee could have seen the story. Nothing is sent of an
//! article whose agency terms prohibit redistribution.
//!
//! Notices: a kill gives a notice to each licensee the usage ledger shows
//! received the article at least once (a licensee that never fetched it is
//! not asked to remove it), with a deadline of the `takedown_hours` of the
//! licence of its last delivery (24 by default).
//!
//! Scheduled events have no change to ride on, so each node's sender asks
//! every poll: [`fire_rights_endings`] (a photo's rights ended while it
//! shows in a live story: `media.rights_ended` and a notice to each
//! licensee that received the story while it showed the photo) and
//! [`fire_licence_endings`]
//! (`licence.ending`, a notice period before a licence ends). Each end is
//! written in one transaction with a key, so it fires once across nodes
//! and restarts; each also appends, for every licensee told, an event of
//! its feed (`storage::scheduled`). A photo whose syndication turns to
//! `prohibited` ends its rights at once, in the change's transaction
//! ([`syndication_prohibited`]), keyed the same way.
//!
//! A delivery can reach the ledger after the takedown it should have been
//! told of (journal mode ships a node's deliveries within a second or so):
//! shipping then makes its notice (`storage::late_notices`).
//! An end of a photo's rights writes its event in every live story showing
//! the photo, even one no licensee had received yet, so that such a notice
//! has an event to name.

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::access::{self, EventFacts};
use crate::domain::content::{EventKind, Redistribution};
use crate::storage::articles::ArticleRow;
use crate::storage::notices::{self, NoticeRow, StoryEndRow, TakedownLock};
use crate::storage::scheduled::{self, NewScheduledRow};
use crate::storage::webhooks::{self, DeliveryRow, EventRow};
use crate::storage::{DbConnection, StorageError, facts, licences, now, receipts};

/// The webhook event type of a content event, if licensees hear of it.
pub fn event_type(kind: EventKind) -> Option<&'static str> {
    match kind {
        EventKind::Created => None,
        EventKind::Published => Some("article.published"),
        EventKind::Updated => Some("article.updated"),
        EventKind::Corrected => Some("article.corrected"),
        EventKind::Withheld => Some("article.withheld"),
        EventKind::Killed => Some("article.killed"),
    }
}

/// The body every delivery of an event carries (Standard Webhooks shape:
/// `type`, `timestamp`, `data`).
#[derive(Debug, Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: chrono::DateTime<chrono::Utc>,
    data: PayloadData<'a>,
}

#[derive(Debug, Serialize)]
struct PayloadData<'a> {
    article_id: &'a str,
    publisher_id: &'a str,
    version: i32,
    status: &'a str,
    headline: &'a str,
    /// Why it was withheld or killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The correction's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    correction_note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    killed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Writes the event, its deliveries and (for a kill) the takedown
/// notices of a change just made to `row`. Call inside the change's
/// transaction, after its content event.
pub fn record_change(
    conn: &mut DbConnection,
    row: &ArticleRow,
    kind: EventKind,
    note: Option<&str>,
) -> Result<(), StorageError> {
    let Some(event_type) = event_type(kind) else {
        return Ok(());
    };
    let article = facts::article(row)?;
    // Nothing is sent of an article agency terms keep from syndication;
    // but a kill still asks whoever received it (under earlier terms) to
    // remove it.
    let prohibited = article.redistribution == Redistribution::Prohibited;
    let killed = kind == EventKind::Killed;
    if prohibited && !killed {
        return Ok(());
    }
    let at = now();
    let visible_at = match kind {
        EventKind::Withheld | EventKind::Killed => at,
        _ => row.embargo_until.map_or(at, |embargo| embargo.max(at)),
    };
    let event = EventFacts {
        kind,
        article_id: row.article_id()?,
        version: row.version,
        visible_at,
        article: access::ArticleFacts {
            embargo_until: None,
            ..article
        },
    };
    let mut targets = Vec::new();
    let candidates = if prohibited {
        Vec::new()
    } else {
        webhooks::candidate_endpoints(conn, &row.publisher_id)?
    };
    for endpoint in candidates {
        if !endpoint.event_types()?.iter().any(|t| t == event_type) {
            continue;
        }
        let licences = licences::of_licensee(conn, &endpoint.licensee_id)?
            .iter()
            .map(facts::licence)
            .collect::<Result<Vec<_>, _>>()?;
        if access::hears(&licences, &event, visible_at) {
            targets.push(endpoint);
        }
    }
    if targets.is_empty() && !killed {
        return Ok(());
    }
    let reason = match kind {
        EventKind::Withheld | EventKind::Killed => row.status_reason.as_deref(),
        _ => None,
    };
    let payload = Payload {
        event_type,
        timestamp: visible_at.and_utc(),
        data: PayloadData {
            article_id: &row.id,
            publisher_id: &row.publisher_id,
            version: row.version,
            status: &row.status,
            headline: &row.headline,
            reason,
            correction_note: (kind == EventKind::Corrected).then_some(note).flatten(),
            killed_at: row.killed_at.map(|t| t.and_utc()),
        },
    };
    let event_row = EventRow {
        id: Uuid::now_v7().to_string(),
        event_type: event_type.to_owned(),
        article_id: row.id.clone(),
        publisher_id: row.publisher_id.clone(),
        version: row.version,
        payload: serde_json::to_string(&payload).map_err(|e| StorageError::Other(Box::new(e)))?,
        visible_at,
        created_at: at,
    };
    webhooks::insert_event(conn, &event_row)?;
    for endpoint in targets {
        webhooks::insert_delivery(
            conn,
            &DeliveryRow::pending(
                &event_row.id,
                &endpoint,
                &row.id,
                row.version,
                visible_at,
                at,
            ),
        )?;
    }
    if killed {
        notify_receivers(
            conn,
            row,
            &event_row.id,
            reason,
            row.killed_at.unwrap_or(at),
            at,
        )?;
    }
    Ok(())
}

/// One takedown notice per licensee that received the article.
fn notify_receivers(
    conn: &mut DbConnection,
    row: &ArticleRow,
    event_id: &str,
    reason: Option<&str>,
    killed_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    notices::lock_takedowns(conn, TakedownLock::Takedown)?;
    let takedown = notices::Takedown {
        kind: notices::KILLED,
        article_id: &row.id,
        media_id: None,
        publisher_id: &row.publisher_id,
        event_id,
        reason,
        at: killed_at,
    };
    for receiver in receipts::receivers(conn, &row.id, None)? {
        notices::insert_notice(conn, &NoticeRow::for_receiver(&takedown, receiver, at))?;
    }
    Ok(())
}

/// Acts on every end of a photo's rights that is due and not yet acted
/// on: for each live story showing the photo, a `media.rights_ended` event
/// to the subscribed endpoints of the licensees that received the story,
/// and a notice to each of them. Each end is taken in one transaction
/// with a key (`rights_endings`), so it is acted on once, whichever node
/// gets there first and however often nodes restart. How many were taken.
pub fn fire_rights_endings(
    conn: &mut DbConnection,
    at: NaiveDateTime,
) -> Result<usize, StorageError> {
    let mut fired = 0;
    for (media_id, ends_at) in notices::due_rights_endings(conn, at)? {
        if take_rights_end(conn, &media_id, ends_at, at)? {
            fired += 1;
        }
    }
    Ok(fired)
}

/// Takes one end of a photo's rights, keyed by the photo and `ends_at`:
/// for each live story showing the photo, the `media.rights_ended` event,
/// its deliveries, the feed's events and the notices. In a transaction of
/// its own (a savepoint inside the caller's); false when the end was taken
/// before, by this node or another.
fn take_rights_end(
    conn: &mut DbConnection,
    media_id: &str,
    ends_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let done = crate::storage::in_transaction(conn, |conn| {
        notices::mark_rights_ended(conn, media_id, ends_at, at)?;
        // Deliveries decided before the end carried the photo; so did
        // those before the change that made it, if that came later (an
        // expiry set in the past, or a prohibition, read here after it).
        let withheld_from = notices::media_changed_at(conn, media_id)?
            .map_or(ends_at, |changed| changed.max(ends_at));
        let end = End {
            media_id,
            ends_at,
            withheld_from,
        };
        for article in notices::live_articles_with(conn, media_id)? {
            rights_ended(conn, &article, &end, at)?;
        }
        Ok::<_, StorageError>(())
    });
    match done {
        Ok(()) => Ok(true),
        // Taken before.
        Err(StorageError::Conflict(_)) => Ok(false),
        Err(error) => Err(error),
    }
}

/// A photo's syndication just turned to `prohibited` (call in the
/// transaction of the change, after the conditional update that saw the
/// turn, with the expiry the photo had then): its rights end, as an expiry
/// ends them, once. Rights that were live end at `at`; rights that had
/// expired end at their expiry, taken here if the scheduler has not taken
/// it yet (it leaves prohibited photos alone), else nothing. Whether an end
/// was taken.
pub fn syndication_prohibited(
    conn: &mut DbConnection,
    media_id: &str,
    expires_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let ends_at = expires_at.filter(|expiry| *expiry <= at).unwrap_or(at);
    take_rights_end(conn, media_id, ends_at, at)
}

/// A photo's syndication just turned back to `allowed` with `expires_at`:
/// when that expiry has passed, the rights did not come back, and the end
/// was told when the photo was prohibited, so the expiry is marked as
/// taken (without an event) lest the scheduler announce it again.
pub fn syndication_allowed_again(
    conn: &mut DbConnection,
    media_id: &str,
    expires_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    let Some(expiry) = expires_at.filter(|expiry| *expiry <= at) else {
        return Ok(());
    };
    let marked = crate::storage::in_transaction(conn, |conn| {
        notices::mark_rights_ended(conn, media_id, expiry, at)
    });
    match marked {
        Ok(()) | Err(StorageError::Conflict(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

/// The body of a `media.rights_ended` event.
#[derive(Debug, Serialize)]
struct RightsEndedData<'a> {
    article_id: &'a str,
    publisher_id: &'a str,
    version: i32,
    status: &'a str,
    headline: &'a str,
    media_id: &'a str,
    rights_ended_at: chrono::DateTime<chrono::Utc>,
}

/// One end of a photo's rights.
struct End<'a> {
    media_id: &'a str,
    /// When the rights ended.
    ends_at: NaiveDateTime,
    /// Deliveries decided before this carried the photo.
    withheld_from: NaiveDateTime,
}

/// The event, deliveries and notices of a photo's end in one live story:
/// for every licensee with a delivery of the story decided while it showed
/// the photo. The event (and the end, in `rights_ended_stories`) is written
/// even when there is none yet: a delivery still in a node's journal gets
/// its notice, naming this event, when it is shipped.
fn rights_ended(
    conn: &mut DbConnection,
    row: &ArticleRow,
    end: &End<'_>,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    const TYPE: &str = notices::RIGHTS_ENDED;
    let End {
        media_id,
        ends_at,
        withheld_from,
    } = *end;
    notices::lock_takedowns(conn, TakedownLock::Takedown)?;
    let receivers = receipts::receivers(conn, &row.id, Some(withheld_from))?;
    let payload = serde_json::json!({
        "type": TYPE,
        "timestamp": ends_at.and_utc(),
        "data": RightsEndedData {
            article_id: &row.id,
            publisher_id: &row.publisher_id,
            version: row.version,
            status: &row.status,
            headline: &row.headline,
            media_id,
            rights_ended_at: ends_at.and_utc(),
        },
    });
    let event = EventRow {
        id: Uuid::now_v7().to_string(),
        event_type: TYPE.to_owned(),
        article_id: row.id.clone(),
        publisher_id: row.publisher_id.clone(),
        version: row.version,
        payload: payload.to_string(),
        visible_at: at,
        created_at: at,
    };
    webhooks::insert_event(conn, &event)?;
    notices::insert_story_end(
        conn,
        &StoryEndRow {
            media_id: media_id.to_owned(),
            ends_at,
            article_id: row.id.clone(),
            event_id: event.id.clone(),
            withheld_from,
        },
    )?;
    for endpoint in webhooks::candidate_endpoints(conn, &row.publisher_id)? {
        let received = receivers
            .iter()
            .any(|r| r.licensee_id == endpoint.licensee_id);
        if !received || !endpoint.event_types()?.iter().any(|t| t == TYPE) {
            continue;
        }
        webhooks::insert_delivery(
            conn,
            &DeliveryRow::pending(&event.id, &endpoint, &row.id, row.version, at, at),
        )?;
    }
    for receiver in receivers {
        scheduled::append(
            conn,
            &NewScheduledRow {
                licensee_id: receiver.licensee_id.clone(),
                kind: scheduled::RIGHTS_ENDED,
                article_id: Some(row.id.clone()),
                version: Some(row.version),
                media_id: Some(media_id.to_owned()),
                licence_id: None,
                ends_at,
                event_id: event.id.clone(),
            },
        )?;
        let takedown = notices::Takedown {
            kind: TYPE,
            article_id: &row.id,
            media_id: Some(media_id),
            publisher_id: &row.publisher_id,
            event_id: &event.id,
            reason: Some(notices::RIGHTS_ENDED_REASON),
            at: ends_at,
        };
        notices::insert_notice(conn, &NoticeRow::for_receiver(&takedown, receiver, at))?;
    }
    Ok(())
}

/// Announces every licence that ends within `notice` of `at` and was not
/// announced yet: a `licence.ending` event to the licensee's active
/// endpoints subscribed to it. Keyed like the ends of photo rights, so each
/// end is announced once across nodes and restarts. How many were taken.
pub fn fire_licence_endings(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    notice: Duration,
) -> Result<usize, StorageError> {
    const TYPE: &str = "licence.ending";
    let mut fired = 0;
    for licence in notices::due_licence_endings(conn, at + notice)? {
        let done = crate::storage::in_transaction(conn, |conn| {
            notices::mark_licence_ending(conn, &licence.id, licence.valid_until, at)?;
            let payload = serde_json::json!({
                "type": TYPE,
                "timestamp": at.and_utc(),
                "data": {
                    "licence_id": licence.id,
                    "licensee_id": licence.licensee_id,
                    "publisher_id": licence.publisher_id,
                    "valid_until": licence.valid_until.and_utc(),
                },
            });
            let event = EventRow {
                id: Uuid::now_v7().to_string(),
                event_type: TYPE.to_owned(),
                // The licence is the subject: its events keep their order.
                article_id: licence.id.clone(),
                publisher_id: licence.publisher_id.clone(),
                version: 0,
                payload: payload.to_string(),
                visible_at: at,
                created_at: at,
            };
            // The feed tells the licensee, endpoints or not.
            scheduled::append(
                conn,
                &NewScheduledRow {
                    licensee_id: licence.licensee_id.clone(),
                    kind: scheduled::LICENCE_ENDING,
                    article_id: None,
                    version: None,
                    media_id: None,
                    licence_id: Some(licence.id.clone()),
                    ends_at: licence.valid_until,
                    event_id: event.id.clone(),
                },
            )?;
            let endpoints: Vec<_> = webhooks::candidate_endpoints(conn, &licence.publisher_id)?
                .into_iter()
                .filter(|e| e.licensee_id == licence.licensee_id)
                .collect();
            let mut inserted = false;
            for endpoint in endpoints {
                if !endpoint.event_types()?.iter().any(|t| t == TYPE) {
                    continue;
                }
                if !inserted {
                    webhooks::insert_event(conn, &event)?;
                    inserted = true;
                }
                webhooks::insert_delivery(
                    conn,
                    &DeliveryRow::pending(&event.id, &endpoint, &licence.id, 0, at, at),
                )?;
            }
            Ok::<_, StorageError>(())
        });
        match done {
            Ok(()) => fired += 1,
            Err(StorageError::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(fired)
}
