//! An article's life: a draft is published (at once, or when its embargo
//! lifts), a published article may be withheld for now and published again,
//! and anything but a killed article may be killed for good. Each step is a
//! new version with its content event, and may be made conditional on the
//! version it was based on.

use super::ContentError;
use super::read::find_article;
use super::validate::{caps, no_text};
use super::versions::{Precondition, commit_next, next_version, refuse_stale, visible_from};
use crate::domain::content::{ArticleStatus, ChangeKind, EventKind};
use crate::domain::text::single_line;
use crate::domain::{ArticleId, FieldError};
use crate::identity::Caller;
use crate::storage::articles::ArticleRow;
use crate::storage::{DbConnection, now};

/// Why an article is withheld or killed: one line of 1 to 1000 characters,
/// kept with the version and shown to licensees with a kill notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Checks a reason as sent (the field is `reason`).
    pub fn parse(reason: &str) -> Result<Self, ContentError> {
        single_line(reason, caps::NOTE)
            .map(Reason)
            .map_err(|e| ContentError::Invalid(vec![FieldError::new("reason", e.to_string())]))
    }

    /// The reason's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lifecycle step.
#[derive(Debug, Clone)]
enum Transition {
    /// Draft or withheld → published.
    Publish,
    /// Published → withheld.
    Withhold(Reason),
    /// Anything but killed → killed.
    Kill(Reason),
}

/// Publishes the caller's draft or withheld article (a new version). It
/// reaches licensees at once, or at its embargo if that is later. With
/// `expected`, only if that is still the current version.
pub fn publish(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    expected: Option<Precondition>,
) -> Result<ArticleRow, ContentError> {
    transition(conn, caller, id, expected, Transition::Publish)
}

/// Withholds the caller's published article from licensees for now (a new
/// version with the reason). It may be published again.
pub fn withhold(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    expected: Option<Precondition>,
    reason: Reason,
) -> Result<ArticleRow, ContentError> {
    transition(conn, caller, id, expected, Transition::Withhold(reason))
}

/// Kills the caller's article for good (a new version with the reason): it
/// can never be edited or published again.
pub fn kill(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    expected: Option<Precondition>,
    reason: Reason,
) -> Result<ArticleRow, ContentError> {
    transition(conn, caller, id, expected, Transition::Kill(reason))
}

/// Applies a step as a new version.
fn transition(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    expected: Option<Precondition>,
    transition: Transition,
) -> Result<ArticleRow, ContentError> {
    let current = find_article(conn, caller, id)?;
    if let Some(expected) = expected {
        refuse_stale(expected, &current)?;
    }
    let status = current.status()?;
    let at = now();
    let mut next = next_version(&current, at);
    let (kind, event, reason) = match (transition, status) {
        (_, ArticleStatus::Killed) => {
            return Err(ContentError::Conflict(
                "the article was killed; it cannot change".to_owned(),
            ));
        }
        (Transition::Publish, ArticleStatus::Published) => {
            return Err(ContentError::Conflict(
                "the article is already published".to_owned(),
            ));
        }
        (Transition::Publish, _) if current.body_text.trim().is_empty() => return Err(no_text()),
        (Transition::Publish, _) => {
            next.status = ArticleStatus::Published.as_str().to_owned();
            next.status_reason = None;
            if next.first_published_at.is_none() {
                next.first_published_at = Some(visible_from(&next, at));
            }
            (ChangeKind::Publish, EventKind::Published, None)
        }
        (Transition::Withhold(reason), ArticleStatus::Published) => {
            next.status = ArticleStatus::Withheld.as_str().to_owned();
            next.status_reason = Some(reason.0.clone());
            (ChangeKind::Withhold, EventKind::Withheld, Some(reason.0))
        }
        (Transition::Withhold(_), _) => {
            return Err(ContentError::Conflict(format!(
                "a {status} article cannot be withheld; only a published one"
            )));
        }
        (Transition::Kill(reason), _) => {
            next.status = ArticleStatus::Killed.as_str().to_owned();
            next.status_reason = Some(reason.0.clone());
            next.killed_at = Some(at);
            (ChangeKind::Kill, EventKind::Killed, Some(reason.0))
        }
    };
    commit_next(conn, &current, &next, kind, reason, event)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_one_trimmed_line() {
        assert_eq!(
            Reason::parse("  Legal: a court order ").unwrap().as_str(),
            "Legal: a court order"
        );
        for bad in ["", "   ", "two\nlines", &"x".repeat(1001)] {
            assert!(
                matches!(Reason::parse(bad), Err(ContentError::Invalid(fields)) if fields[0].field == "reason"),
                "{bad:?}"
            );
        }
    }
}
