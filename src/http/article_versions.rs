//! `/v1/articles/{id}/versions`: an article's history, each version with
//! the kind of change, its note, and the article as it then was.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::articles::ArticleResponse;
use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db, utc};
use crate::content::versions;
use crate::domain::content::{ArticleStatus, ChangeKind};
use crate::domain::{ArticleId, Role};
use crate::identity::Caller;
use crate::storage::StorageError;
use crate::storage::versions::VersionRow;

/// One version in an article's history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    /// The version number.
    pub version: i32,
    /// `create`, `update`, `correction`, `publish`, `withhold` or `kill`.
    pub kind: ChangeKind,
    /// The note or reason given.
    pub note: Option<String>,
    /// The status after the change.
    pub status: ArticleStatus,
    /// When the version was made.
    pub created_at: DateTime<Utc>,
}

/// The version history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionPage {
    /// Versions, oldest first.
    pub items: Vec<VersionSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One version with the article as it was.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionResponse {
    /// The version's change.
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// The article at that version.
    pub article: ArticleResponse,
}

impl TryFrom<&VersionRow> for VersionSummary {
    type Error = StorageError;

    fn try_from(row: &VersionRow) -> Result<Self, StorageError> {
        Ok(Self {
            version: row.version,
            kind: row.change_kind()?,
            note: row.change_note.clone(),
            status: row.status()?,
            created_at: utc(row.created_at),
        })
    }
}

/// Lists an article's versions, oldest first, with the kind of each change
/// and its note.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Article id"), PageQuery),
    responses(
        (status = 200, description = "Versions", body = VersionPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/articles/{id}/versions")]
pub async fn list_article_versions(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<VersionPage>, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let limit = query.limit.unwrap_or(crate::storage::page::DEFAULT_LIMIT);
    if !(1..=crate::storage::page::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "limit must be between 1 and 100",
        ));
    }
    // A version list's cursor is the last version seen (`v3`).
    let after = match &query.cursor {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix('v')
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|v| *v >= 0)
            .ok_or_else(super::unknown_cursor)?,
    };
    let id = ArticleId(id.into_inner());
    let listed = db(&state, move |conn| {
        Ok(versions::list_versions(conn, &caller, id, after, limit)?)
    })
    .await?;
    Ok(web::Json(VersionPage {
        items: listed
            .items
            .iter()
            .map(VersionSummary::try_from)
            .collect::<Result<_, _>>()?,
        next_cursor: listed.more_after.map(|version| format!("v{version}")),
    }))
}

/// Shows an article as it was at one version.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(
        ("id" = Uuid, Path, description = "Article id"),
        ("version" = i32, Path, description = "Version number, from 1", minimum = 1),
    ),
    responses(
        (status = 200, description = "The version", body = VersionResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/articles/{id}/versions/{version}")]
pub async fn get_article_version(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, i32)>,
) -> Result<web::Json<VersionResponse>, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let (id, version) = path.into_inner();
    let id = ArticleId(id);
    let found = db(&state, move |conn| {
        Ok(versions::find_version(conn, &caller, id, version)?)
    })
    .await?;
    Ok(web::Json(VersionResponse {
        summary: VersionSummary::try_from(&found.change)?,
        article: found.article.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::versions::ArticleSnapshot;
    use crate::storage::articles::ArticleRow;

    #[test]
    fn a_version_snapshot_has_the_shape_of_the_article_response() {
        let row = ArticleRow::sample("019ac0a6-1111-7222-8333-444455556666", "<p>Text</p>");

        let snapshot = serde_json::to_string(&ArticleSnapshot::try_from(&row).unwrap()).unwrap();
        let response = serde_json::to_string(&ArticleResponse::try_from(&row).unwrap()).unwrap();

        assert_eq!(snapshot, response);
    }
}
