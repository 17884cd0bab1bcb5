//! The licence in machine-readable forms: `GET
//! /v1/publishers/{id}/license.xml` (RSL 1.0), `GET
//! /v1/licences/{id}/tdm-policy.json` (TDMRep), and the `Link`,
//! `tdm-reservation`, `tdm-policy` and `Content-Usage` fields of a
//! delivery. The wire only: the documents are `licensing::published`'s.
//!
//! URLs in the documents and fields are absolute, on the request's own
//! scheme and host (as actix's connection info reports them, so a proxy's
//! `Forwarded` or `X-Forwarded-Host`/`-Proto` is honoured): the service has
//! no configured public address, and RSL and TDMRep want absolute URLs. A
//! host that is not a URL authority is a 400.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, db};
use crate::delivery::Delivered;
use crate::domain::{LicenceId, PublisherId};
use crate::identity::Caller;
use crate::licensing::published::{
    self, RSL_MEDIA_TYPE, TDM_POLICY_MEDIA_TYPE, Urls, content_usage, tdm_reservation,
};
use crate::storage::now;

/// The documents' URLs on the request's scheme and host.
pub fn urls(request: &HttpRequest) -> Result<Urls, ApiError> {
    let info = request.connection_info();
    let origin = ORIGINS.with_borrow_mut(|last| match last {
        Some((scheme, host, origin)) if scheme == info.scheme() && host == info.host() => {
            origin.clone()
        }
        _ => {
            let origin = origin(info.scheme(), info.host());
            *last = Some((
                info.scheme().to_owned(),
                info.host().to_owned(),
                origin.clone(),
            ));
            origin
        }
    });
    origin.map(Urls::new).ok_or_else(|| {
        ApiError::BadRequest("the Host of this request is not a host name".to_owned())
    })
}

thread_local! {
    /// The last scheme and host a worker saw, with their origin: a node
    /// is reached on a few names, so most requests skip the URL parse.
    static ORIGINS: std::cell::RefCell<Option<(String, String, Option<String>)>> =
        const { std::cell::RefCell::new(None) };
}

/// The ASCII origin of `scheme://host/`, if that is a plain http(s) URL
/// with a host and nothing else.
fn origin(scheme: &str, host: &str) -> Option<String> {
    let parsed = url::Url::parse(&format!("{scheme}://{host}/")).ok()?;
    let plain = matches!(parsed.scheme(), "http" | "https")
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.host().is_some();
    plain.then(|| parsed.origin().ascii_serialization())
}

/// Adds the published licence's fields to a delivery: `Link` to the
/// publisher's RSL document, `tdm-reservation` and `tdm-policy` (the
/// granting licence's policy), and `Content-Usage`, all from the purposes
/// the licensee's licences in force permit for the article.
pub fn with_licence_headers(
    mut response: HttpResponse,
    urls: &Urls,
    delivered: &Delivered,
) -> HttpResponse {
    let link = format!(
        "<{}>; rel=\"license\"; type=\"{RSL_MEDIA_TYPE}\"",
        urls.licence_document(&delivered.publisher_id)
    );
    let fields = [
        (header::LINK, link),
        (
            HeaderName::from_static("tdm-reservation"),
            tdm_reservation(&delivered.licensed).to_string(),
        ),
        (
            HeaderName::from_static("tdm-policy"),
            urls.tdm_policy(&delivered.licence_id),
        ),
        (
            HeaderName::from_static("content-usage"),
            content_usage(&delivered.licensed),
        ),
    ];
    for (name, value) in fields {
        // Every value is built from a parsed origin and stored ids, so
        // each is a valid field value.
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The publisher's licences as an RSL 1.0 document (`application/rsl+xml`,
/// namespace `https://rslstandard.org/rsl`), generated on each request
/// from the licences the access decision reads.
///
/// Who reads what: a licensee, the licences it holds with this publisher
/// that are in force now (none: 404); the publisher itself and admins,
/// every licence in force on the publisher's content. Other publishers
/// get 404. One `<content>` for the publisher's content and one for each
/// section a licence names (the content list narrowed to it), each with
/// a `<license>` per licence and price: `<permits type="usage">` the
/// licensed data-mining purposes, `<prohibits type="usage">` those no
/// licence there permits (`all` and `ai-all` only where exact), `<payment
/// type="crawl">` with the price in major units, or `type="attribution"`
/// for an unpriced licence that requires attribution; then `<copyright>`
/// and `<terms>` (the licence JSON). `display` has no RSL term: it is in
/// the licence `<terms>` names. Photos in published articles the reader
/// could receive whose data-mining value forbids a purpose get their own
/// `<content>` per rendition, prohibiting exactly those purposes.
///
/// Not metered.
#[utoipa::path(
    tag = "licences",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Publisher id")),
    responses(
        (status = 200, description = "The RSL 1.0 document", content_type = "application/rsl+xml", body = String,
            headers(("Cache-Control" = String, description = "`private, no-cache`: generated on each request"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/publishers/{id}/license.xml")]
pub async fn get_licence_document(
    caller: Caller,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let urls = urls(&request)?;
    let publisher = PublisherId(id.into_inner());
    let at = now();
    let body = db(&state, move |conn| {
        Ok(published::licence_document(
            conn, &caller, publisher, &urls, at,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .content_type(RSL_MEDIA_TYPE)
        .body(body))
}

/// The licence as a TDMRep policy (`application/ld+json`): an ODRL Offer
/// in the TDMRep profile with the publisher as assigner and a `tdm:mine`
/// permission per section and price, constrained by purpose (the RSL
/// usage terms as IRIs, `https://rslstandard.org/rsl#ai-input`: TDMRep has
/// no vocabulary for AI purposes), with a `compensate` duty when priced and
/// an `attribute` duty when attribution is required. A delivery's
/// `tdm-policy` field names the policy of the licence it was made under.
///
/// Admins; or the licensee or publisher it names (others get 404). Not
/// metered.
#[utoipa::path(
    tag = "licences",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Licence id")),
    responses(
        (status = 200, description = "The TDMRep policy", content_type = "application/ld+json", body = Object,
            headers(("Cache-Control" = String, description = "`private, no-cache`: generated on each request"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/licences/{id}/tdm-policy.json")]
pub async fn get_tdm_policy(
    caller: Caller,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let urls = urls(&request)?;
    let id = LicenceId(id.into_inner());
    let policy = db(&state, move |conn| {
        Ok(published::licence_policy(conn, &caller, id, &urls)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .content_type(TDM_POLICY_MEDIA_TYPE)
        .body(policy.to_string()))
}
