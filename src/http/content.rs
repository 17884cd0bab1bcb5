//! What a licensee's ingest uses: `GET /v1/content/{id}` (the licensed
//! article, as JSON or IPTC ninjs), `GET /v1/content` (search what it may
//! see now) and `GET /v1/feed` (every change it should hear of, in order).
//! The wire only: the work is `delivery`'s.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::caller::{Claimed, in_good_standing};
use super::problem::{ApiError, responses};
use super::{AppState, db};
use crate::delivery::feed::{self, FeedPage, FeedRequest};
use crate::delivery::search::{self, ContentPage, Search};
use crate::delivery::{self, DeliveryRequest, Desk, Format};
use crate::domain::purpose::{self, Purpose};
use crate::domain::{ArticleId, LicenseeId, Role};
use crate::identity::Caller;
use crate::identity::caller::PurposeError;
use crate::metering::headers::Limits;
use crate::storage::now;

/// The body of a delivery: [`ContentResponse`], or with `format=ninjs` an
/// IPTC ninjs 2.2 document (which always has `uri`).
pub struct DeliveryBody;

impl utoipa::PartialSchema for DeliveryBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("ContentResponse"))
            .item(
                ObjectBuilder::new()
                    .description(Some(
                        "An IPTC ninjs 2.2 document (format=ninjs); see http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json. \
                         The article's status is `pubstatus` (`usable`: only published articles are delivered). \
                         Each correction (oldest first) is a `descriptions` entry with the role `correction`, \
                         the value reading \"Corrected in version N (RFC 3339 time): note\"; the standfirst is the entry with the role `summary`. \
                         `ednote` says how many photos were withheld and why.",
                    ))
                    .required("uri"),
            )
            .description(Some("This service's JSON, or IPTC ninjs 2.2 with format=ninjs"))
            .into()
    }
}

impl utoipa::ToSchema for DeliveryBody {}

/// Options of a delivery.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContentQuery {
    /// `json` (default) or `ninjs` (IPTC ninjs 2.2).
    pub format: Option<Format>,
    /// What the article is fetched for: one of the token's `use:` scopes.
    /// Absent means `display` when the token grants it, else the token's
    /// only purpose; a token for several purposes without `display` must
    /// name one. Billed, priced and recorded per purpose.
    #[param(value_type = Option<Purpose>, example = "display")]
    pub purpose: Option<Purpose>,
}

/// The purpose of a licensee's fetch, or the problem that it has none.
fn purpose_of(caller: &Caller, asked: Option<Purpose>) -> Result<Purpose, ApiError> {
    caller.purpose(asked).map_err(|error| match error {
        PurposeError::NotGranted { purpose, granted } => {
            ApiError::InsufficientScope { purpose, granted }
        }
        PurposeError::Unstated(granted) => ApiError::invalid(
            "purpose",
            format!(
                "this token is for {}; name the purpose of this fetch",
                purpose::names(&granted)
            ),
        ),
    })
}

/// Fetches one licensed article: the full text or a preview as the licence
/// and agency terms allow, with the photos this licensee may have (credit
/// lines, copyright and usage terms always included) and the photos left
/// out with why; the article's status and its corrections (version, time
/// and note) for the aggregator to show. Unlicensed, draft, withheld,
/// embargoed or unknown articles are 404, alike; an article killed after this licensee could see it is
/// 410 with the kill notice.
///
/// Licensees only. This is the metered delivery.
#[utoipa::path(
    tag = "content",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Article id"), ContentQuery),
    responses(
        (status = 200, description = "The licensed article (JSON or IPTC ninjs 2.2 with format=ninjs); its usage event is durable before this response is sent", body = DeliveryBody,
            headers(
                ("ETag" = String, description = "Changes with the version, tier and delivered photos"),
                ("Cache-Control" = String, description = "`private, max-age=N`, never beyond the next rights change"),
                ("RateLimit-Policy" = String, description = "The licence's rate and quota policies (IETF structured fields), when it has any"),
                ("RateLimit" = String, description = "Requests and billable units left, and seconds until each resets"),
                ("Link" = String, description = "`<…/v1/publishers/{publisher}/license.xml>; rel=\"license\"; type=\"application/rsl+xml\"`: the publisher's RSL licence document"),
                ("tdm-reservation" = String, description = "TDMRep: `0` when the licensee's licences in force permit every data-mining purpose for the article (search, ai-index, ai-input, ai-train), else `1`"),
                ("tdm-policy" = String, description = "TDMRep: the policy of the licence the article was delivered under (`…/v1/licences/{id}/tdm-policy.json`)"),
                ("Content-Usage" = String, description = "IETF aipref (vocab-07): `train-ai=y|n, search=y|n` from the licensed purposes `ai-train` and `search`. Photos with stricter data-mining rights carry them in `data_mining` and in the RSL document"),
            )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenPurpose),
        (status = 404, response = responses::NotFound),
        (status = 410, response = responses::Gone),
        (status = 422, response = responses::Validation),
        (status = 429, response = responses::TooManyRequestsMetered),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/content/{id}")]
pub async fn get_content(
    caller: Claimed,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<ContentQuery>,
    http: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Claimed(caller) = caller;
    let client = caller.client_id.to_string();
    let Some(licensee) = caller.licensee_id() else {
        in_good_standing(&state, client).await?;
        caller.require(Role::Licensee)?;
        return Err(no_licensee());
    };
    let desk = Desk {
        pool: &state.pool,
        facts: &state.facts,
        usage: &state.usage,
        rate_limits: &state.rate_limits,
    };
    let purpose = purpose_of(&caller, query.purpose)?;
    let urls = super::published::urls(&http)?;
    let article = ArticleId(id.into_inner());
    let request = DeliveryRequest {
        client,
        licensee,
        article,
        format: query.format.unwrap_or_default(),
        purpose,
        request_id: super::context::current().id,
    };
    match delivery::deliver(desk, &request).await {
        Ok(delivered) => {
            let response = HttpResponse::Ok()
                .insert_header((header::ETAG, delivered.etag.clone()))
                .insert_header((
                    header::CACHE_CONTROL,
                    format!("private, max-age={}", delivered.max_age),
                ))
                .content_type("application/json")
                .body(delivered.body.clone());
            let response = super::published::with_licence_headers(response, &urls, &delivered);
            Ok(with_rate_headers(response, delivered.limits))
        }
        Err(refusal) => match refusal.limits() {
            // Refused by the licence's rate or quota: still say where it stands.
            Some(limits) => Ok(with_rate_headers(
                ApiError::from(refusal).error_response(),
                limits,
            )),
            None => {
                if matches!(refusal, crate::delivery::DeliveryError::Killed { .. }) {
                    // The compliance report counts requests after a kill.
                    let _ = db(&state, move |conn| {
                        crate::notices::takedowns::record_killed_fetch(conn, article, licensee);
                        Ok(())
                    })
                    .await;
                }
                Err(refusal.into())
            }
        },
    }
}

/// Adds the `RateLimit-Policy` and `RateLimit` fields to a response.
fn with_rate_headers(mut response: HttpResponse, limits: Limits) -> HttpResponse {
    if let Some((policy, state)) = limits.fields()
        && let (Ok(policy), Ok(state)) = (
            header::HeaderValue::from_str(&policy),
            header::HeaderValue::from_str(&state),
        )
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("ratelimit-policy"), policy);
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("ratelimit"), state);
    }
    response
}

/// A licensee's client is needed, and this one acts for none.
fn no_licensee() -> ApiError {
    ApiError::Forbidden("this client acts for no licensee".to_owned())
}

/// The licensee a licensee's client acts for.
fn licensee_of(caller: &Caller) -> Result<LicenseeId, ApiError> {
    caller.require(Role::Licensee)?;
    caller.licensee_id().ok_or_else(no_licensee)
}

/// Filters of the content list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentListQuery {
    /// Words that must all appear in the headline, standfirst or body (at
    /// most 200 characters; anything but letters and digits separates words).
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Only this publisher's articles.
    pub publisher_id: Option<Uuid>,
    /// Only this section.
    #[param(max_length = 100)]
    pub section: Option<String>,
    /// Only this language (BCP 47).
    #[param(max_length = 35)]
    pub language: Option<String>,
    /// First published at or after this instant.
    pub published_since: Option<DateTime<Utc>>,
    /// First published before this instant.
    pub published_until: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Only articles that may be fetched for this purpose (resolved as for
    /// `GET /v1/content/{id}`).
    #[param(value_type = Option<Purpose>, example = "display")]
    pub purpose: Option<Purpose>,
}

/// Lists and searches what the licensee may receive now: published,
/// past-embargo articles its licences cover for the purpose, newest
/// versions, metadata only.
///
/// Licensees only. Not metered.
#[utoipa::path(
    tag = "content",
    security(("bearer" = []), ("oauth2" = [])),
    params(ContentListQuery),
    responses(
        (status = 200, description = "A page of licensed articles", body = ContentPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::ForbiddenPurpose),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/content")]
pub async fn list_content(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ContentListQuery>,
) -> Result<web::Json<ContentPage>, ApiError> {
    let licensee = licensee_of(&caller)?;
    let query = query.into_inner();
    let page = super::PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse(&search::scope(licensee))?;
    super::at_most("section", query.section.as_deref(), 100)?;
    super::at_most("language", query.language.as_deref(), 35)?;
    let words = match &query.q {
        Some(q) => search::search_words(q)?,
        None => Vec::new(),
    };
    let wanted = Search {
        words,
        publisher_id: query.publisher_id,
        section: query.section,
        language: query.language,
        published_since: query.published_since,
        published_until: query.published_until,
        purpose: purpose_of(&caller, query.purpose)?,
    };
    let at = now();
    let result = db(&state, move |conn| {
        Ok(search::search(conn, licensee, &wanted, &page, at)?)
    })
    .await?;
    Ok(web::Json(result))
}

/// Options of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `next_cursor` (or an event's `cursor`) from before; absent starts
    /// from the beginning.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Events per page, 1 to 1000 (default 50). Catching up from the
    /// beginning goes fastest with the largest pages.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Seconds to wait for an event when there is none yet, 0 to 30.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

/// The change feed: every `published`, `updated`, `corrected`, `withheld`
/// and `killed` event of content the licensee's licences cover, in one
/// order, resumable from an opaque cursor that never expires and never
/// skips an event (an embargoed story appears when its embargo lifts, after
/// any cursor taken before; a kill reaches every licensee that could see
/// the story). With `wait`, an empty page waits up to that many seconds for
/// the next event.
///
/// Beside them, the scheduled events its webhooks would carry, told to it
/// whether or not it has endpoints: `rights_ended` (`media.rights_ended`: a
/// photo's rights ended, by expiry or a turn to `prohibited`, while it
/// showed in a live story the licensee received; with `article_id`,
/// `media_id`, `ends_at`) and `licence_ending` (`licence.ending`: one of its
/// licences ends within the notice period; with `licence_id` and `ends_at`,
/// no `article_id`). Each carries the `event_id` its webhooks carry as
/// `webhook-id`. At one instant content events come first.
///
/// Licensees only. Not metered.
#[utoipa::path(
    tag = "content",
    security(("bearer" = []), ("oauth2" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "Events and the cursor to continue from", body = FeedPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/feed")]
pub async fn get_feed(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
) -> Result<web::Json<FeedPage>, ApiError> {
    let licensee = licensee_of(&caller)?;
    let query = query.into_inner();
    let request = FeedRequest {
        cursor: query.cursor,
        limit: query.limit.unwrap_or(50),
        wait: query.wait.unwrap_or(0),
    };
    let page = feed::feed(&state.pool, licensee, &request)
        .await
        .map_err(ApiError::from)?;
    Ok(web::Json(page))
}
