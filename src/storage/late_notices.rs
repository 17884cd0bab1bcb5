//! Notices for deliveries that reach the ledger after their takedown. In
//! journal mode a delivery is answered once it is in a node's journal, and
//! the journal ships within a second or so (or when a node that was down
//! comes back), so a licensee may have received a story just before its
//! kill, or while it still showed a photo whose rights then ended, and the
//! takedown's notices were written without it. Shipping calls
//! [`notify_late_receivers`] in its transaction, which makes for each
//! shipped delivery the notice the takedown would have made had the
//! delivery been in the ledger then: a kill's, and for an end of a photo's
//! rights also the licensee's feed event and webhook deliveries, as the end
//! gives every receiver. Each is made once per takedown and licensee (the
//! notices' unique key, and an insert that leaves a notice already there
//! alone), however many nodes ship, restart or ship the same entries again.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::notices::{
    KILLED, NoticeRow, RIGHTS_ENDED, RIGHTS_ENDED_REASON, StoryEndRow, Takedown, TakedownLock,
    insert_notice_once, lock_takedowns,
};
use super::receipts::receivers;
use super::scheduled::{self, NewScheduledRow};
use super::schema::{articles, rights_ended_stories, takedown_notices, webhook_events};
use super::webhooks::{self, DeliveryRow, EventRow};
use super::{DbConnection, StorageError};

/// Article ids per lookup.
const IDS_PER_LOOKUP: usize = 1000;

/// A delivery just shipped to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedDelivery {
    pub article_id: String,
    pub licensee_id: String,
    /// When it was decided (a photo whose rights ended later was in it).
    pub at: NaiveDateTime,
}

/// What [`notify_late_receivers`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Late {
    /// It made this many notices.
    Made(usize),
    /// Notices are due that append feed events, and the transaction took
    /// the takedown lock without the content events' lock before it
    /// (PostgreSQL): roll it back and ship again with
    /// [`TakedownLock::ShipAndAppend`]. Nothing was made.
    AppendsFeedEvents,
}

/// Makes the notices due to the licensees of `shipped` (deliveries just
/// written to the ledger, in this transaction) for takedowns that were
/// made without them: a kill of the article after the delivery, and an end
/// of a photo's rights in the story at or after the delivery was decided
/// (one decided after the end had the photo withheld). Takes the takedown
/// lock for `lock` ([`TakedownLock::Ship`] or
/// [`TakedownLock::ShipAndAppend`]) so that a takedown and a shipment of
/// the same story never pass each other: whichever comes second sees the
/// other's writes.
pub fn notify_late_receivers(
    conn: &mut DbConnection,
    shipped: &[ShippedDelivery],
    lock: TakedownLock,
    at: NaiveDateTime,
) -> Result<Late, StorageError> {
    let mut ids: Vec<&str> = shipped.iter().map(|d| d.article_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    lock_takedowns(conn, lock)?;
    let due = due_story_ends(conn, &ids, shipped)?;
    let appends =
        matches!(conn, DbConnection::Postgresql(_)) && lock != TakedownLock::ShipAndAppend;
    if !due.is_empty() && appends {
        return Ok(Late::AppendsFeedEvents);
    }
    let mut made = late_kills(conn, &ids, shipped, at)?;
    for (end, licensees) in due {
        made += late_story_end(conn, &end, &licensees, at)?;
    }
    Ok(Late::Made(made))
}

/// The licensees of `shipped` that have no notice of a kill of their
/// article, for each killed article among `ids`: each gets one, as the
/// kill would have made it.
fn late_kills(
    conn: &mut DbConnection,
    ids: &[&str],
    shipped: &[ShippedDelivery],
    at: NaiveDateTime,
) -> Result<usize, StorageError> {
    let mut killed: Vec<(String, String, Option<NaiveDateTime>, Option<String>)> = Vec::new();
    for chunk in ids.chunks(IDS_PER_LOOKUP) {
        killed.extend(
            articles::table
                .filter(articles::id.eq_any(chunk))
                .filter(articles::killed_at.is_not_null())
                .select((
                    articles::id,
                    articles::publisher_id,
                    articles::killed_at,
                    articles::status_reason,
                ))
                .load::<(String, String, Option<NaiveDateTime>, Option<String>)>(conn)?,
        );
    }
    let mut made = 0;
    for (article_id, publisher_id, killed_at, reason) in killed {
        let Some(killed_at) = killed_at else { continue };
        let event_id: Option<String> = webhook_events::table
            .filter(webhook_events::article_id.eq(&article_id))
            .filter(webhook_events::event_type.eq(KILLED))
            .select(webhook_events::id)
            .order(webhook_events::created_at.desc())
            .first(conn)
            .optional()?;
        let Some(event_id) = event_id else { continue };
        let late = untold(
            conn,
            &event_id,
            shipped.iter().filter(|d| d.article_id == article_id),
        )?;
        if late.is_empty() {
            continue;
        }
        for receiver in receivers(conn, &article_id, None)? {
            if !late.contains(&receiver.licensee_id) {
                continue;
            }
            let takedown = Takedown {
                kind: KILLED,
                article_id: &article_id,
                media_id: None,
                publisher_id: &publisher_id,
                event_id: &event_id,
                reason: reason.as_deref(),
                at: killed_at,
            };
            let row = NoticeRow::for_receiver(&takedown, receiver, at);
            if insert_notice_once(conn, &row)? {
                made += 1;
            }
        }
    }
    Ok(made)
}

/// The ends of photos' rights in the stories among `ids` that some of
/// `shipped` were decided before, each with the licensees of those that
/// have no notice of it yet.
fn due_story_ends(
    conn: &mut DbConnection,
    ids: &[&str],
    shipped: &[ShippedDelivery],
) -> Result<Vec<(StoryEndRow, Vec<String>)>, StorageError> {
    let mut ends: Vec<StoryEndRow> = Vec::new();
    for chunk in ids.chunks(IDS_PER_LOOKUP) {
        ends.extend(
            rights_ended_stories::table
                .filter(rights_ended_stories::article_id.eq_any(chunk))
                .order((
                    rights_ended_stories::ends_at.asc(),
                    rights_ended_stories::media_id.asc(),
                    rights_ended_stories::article_id.asc(),
                ))
                .select(StoryEndRow::as_select())
                .load(conn)?,
        );
    }
    let mut due = Vec::new();
    for end in ends {
        let before = shipped
            .iter()
            .filter(|d| d.article_id == end.article_id && d.at < end.withheld_from);
        let late = untold(conn, &end.event_id, before)?;
        if !late.is_empty() {
            due.push((end, late));
        }
    }
    Ok(due)
}

/// The licensees of `deliveries` without a notice of the event, sorted.
fn untold<'a>(
    conn: &mut DbConnection,
    event_id: &str,
    deliveries: impl Iterator<Item = &'a ShippedDelivery>,
) -> Result<Vec<String>, StorageError> {
    let mut licensees: Vec<String> = deliveries.map(|d| d.licensee_id.clone()).collect();
    if licensees.is_empty() {
        return Ok(licensees);
    }
    licensees.sort_unstable();
    licensees.dedup();
    let told: Vec<String> = takedown_notices::table
        .filter(takedown_notices::event_id.eq(event_id))
        .select(takedown_notices::licensee_id)
        .load(conn)?;
    licensees.retain(|l| !told.contains(l));
    Ok(licensees)
}

/// For each of `licensees`, what the end of a photo's rights in the story
/// gives a receiver: the notice, the feed event and a delivery of the
/// story's event to each of its active endpoints subscribed to it. How
/// many notices were made.
fn late_story_end(
    conn: &mut DbConnection,
    end: &StoryEndRow,
    licensees: &[String],
    at: NaiveDateTime,
) -> Result<usize, StorageError> {
    let event: EventRow = webhooks::find_event(conn, &end.event_id)?;
    let endpoints = webhooks::candidate_endpoints(conn, &event.publisher_id)?;
    let mut made = 0;
    for receiver in receivers(conn, &end.article_id, Some(end.withheld_from))? {
        if !licensees.contains(&receiver.licensee_id) {
            continue;
        }
        let licensee_id = receiver.licensee_id.clone();
        let takedown = Takedown {
            kind: RIGHTS_ENDED,
            article_id: &end.article_id,
            media_id: Some(&end.media_id),
            publisher_id: &event.publisher_id,
            event_id: &event.id,
            reason: Some(RIGHTS_ENDED_REASON),
            at: end.ends_at,
        };
        let row = NoticeRow::for_receiver(&takedown, receiver, at);
        if !insert_notice_once(conn, &row)? {
            continue;
        }
        made += 1;
        scheduled::append(
            conn,
            &NewScheduledRow {
                licensee_id: licensee_id.clone(),
                kind: scheduled::RIGHTS_ENDED,
                article_id: Some(end.article_id.clone()),
                version: Some(event.version),
                media_id: Some(end.media_id.clone()),
                licence_id: None,
                ends_at: end.ends_at,
                event_id: event.id.clone(),
            },
        )?;
        for endpoint in endpoints.iter().filter(|e| e.licensee_id == licensee_id) {
            if !endpoint.event_types()?.iter().any(|t| t == RIGHTS_ENDED) {
                continue;
            }
            webhooks::insert_delivery(
                conn,
                &DeliveryRow::pending(&event.id, endpoint, &end.article_id, event.version, at, at),
            )?;
        }
    }
    Ok(made)
}
