//! Replacing an article's editable content. A replacement is always based
//! on a version the client names, so an edit made from a stale copy cannot
//! silently undo another; it is marked as an update or as a correction with
//! a note for readers. A killed article never changes, and an embargo moves
//! only while the article is not yet public.

use serde::Deserialize;
use utoipa::ToSchema;

use super::ContentError;
use super::read::find_article;
use super::validate::{
    ArticleContent, ValidContent, caps, optional_text, refuse_lapsed_embargo, validate_content,
    validate_references,
};
use super::versions::{Precondition, commit_next, next_version, refuse_stale, visible_from};
use crate::domain::content::{ArticleStatus, ChangeKind, EventKind};
use crate::domain::{ArticleId, field};
use crate::identity::Caller;
use crate::storage::articles::ArticleRow;
use crate::storage::{DbConnection, now};

/// Why an edit was made: an update, or a correction with a note for readers.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// New facts or a rewrite; a note is optional.
    Update {
        /// What changed, up to 1000 characters.
        #[schema(max_length = 1000)]
        note: Option<String>,
    },
    /// A correction of an error; licensees see the note.
    #[schema(example = json!({"kind": "correction", "note": "An earlier version gave the wrong height for the gates."}))]
    Correction {
        /// What was wrong, 1 to 1000 characters.
        #[schema(min_length = 1, max_length = 1000)]
        note: String,
    },
}

/// A replacement of an article's editable content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceArticleRequest {
    /// The new content.
    pub content: ArticleContent,
    /// Why.
    pub change: Change,
}

/// A replacement that passed every rule needing no database.
#[derive(Debug, Clone)]
pub struct Edit {
    expected: Precondition,
    content: ValidContent,
    kind: ChangeKind,
    event: EventKind,
    note: Option<String>,
}

impl Edit {
    /// Checks a replacement before any database work: the version it is
    /// based on must be named (428), then its fields must be valid (422),
    /// whatever the article's state.
    pub fn new(
        expected: Option<Precondition>,
        request: &ReplaceArticleRequest,
    ) -> Result<Self, ContentError> {
        let expected = expected.ok_or_else(|| {
            ContentError::PreconditionRequired(
                "send If-Match with the article's ETag to replace it".to_owned(),
            )
        })?;
        let mut errors = Vec::new();
        let content = validate_content(&request.content, &mut errors);
        let (kind, event, note) = match &request.change {
            Change::Update { note } => (ChangeKind::Update, EventKind::Updated, note.as_deref()),
            Change::Correction { note } => (
                ChangeKind::Correction,
                EventKind::Corrected,
                Some(note.as_str()),
            ),
        };
        let note = optional_text("change.note", note, caps::NOTE, &mut errors);
        if !errors.is_empty() {
            return Err(ContentError::Invalid(errors));
        }
        Ok(Self {
            expected,
            content,
            kind,
            event,
            note,
        })
    }
}

/// Replaces the caller's article with the edit's content, as a new version.
pub fn replace_article(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    edit: Edit,
) -> Result<ArticleRow, ContentError> {
    let Edit {
        expected,
        content,
        kind,
        event,
        note,
    } = edit;
    let current = find_article(conn, caller, id)?;
    let status = current.status()?;
    if status == ArticleStatus::Killed {
        return Err(ContentError::Conflict(
            "the article was killed; it cannot change".to_owned(),
        ));
    }
    refuse_stale(expected, &current)?;
    content.refuse_empty(status)?;
    let at = now();
    let public =
        status == ArticleStatus::Published && current.embargo_until.is_none_or(|e| e <= at);
    if content.embargo_until != current.embargo_until {
        if public {
            return Err(ContentError::Conflict(
                "the article is already public; its embargo cannot change".to_owned(),
            ));
        }
        refuse_lapsed_embargo(content.embargo_until, at)?;
    }
    let mut errors = Vec::new();
    let mut unknown = Vec::new();
    validate_references(
        conn,
        &current.publisher_id,
        &current.id,
        &content,
        &mut errors,
        &mut unknown,
    )?;
    field::check(errors, unknown)?;
    let mut next = next_version(&current, at);
    content.write_into(&mut next)?;
    if status == ArticleStatus::Published && content.embargo_until != current.embargo_until {
        next.first_published_at = Some(visible_from(&next, at));
    }
    commit_next(conn, &current, &next, kind, note, event)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replacement(headline: &str) -> ReplaceArticleRequest {
        serde_json::from_value(serde_json::json!({
            "content": {"headline": headline, "body_html": "<p>Text</p>", "section": "news",
                        "language": "en", "bylines": []},
            "change": {"kind": "correction", "note": "The height was wrong."}
        }))
        .unwrap()
    }

    #[test]
    fn an_edit_without_a_precondition_is_refused_before_its_fields_are_read() {
        let refused = Edit::new(None, &replacement("   "));

        assert!(
            matches!(refused, Err(ContentError::PreconditionRequired(detail))
            if detail == "send If-Match with the article's ETag to replace it")
        );
    }

    #[test]
    fn an_edit_names_its_invalid_fields() {
        let refused = Edit::new(Some(Precondition::Any), &replacement("   "));

        assert!(matches!(refused, Err(ContentError::Invalid(fields))
            if fields.len() == 1 && fields[0].field == "headline"));
    }

    #[test]
    fn a_precondition_holds_for_the_version_it_names_only() {
        for (precondition, holds_for_3) in [
            (Precondition::Any, true),
            (Precondition::Version(3), true),
            (Precondition::Version(2), false),
            (Precondition::Never, false),
        ] {
            assert_eq!(precondition.holds(3), holds_for_3, "{precondition:?}");
        }
    }
}
