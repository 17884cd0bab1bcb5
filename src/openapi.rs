//! The OpenAPI 3.1 document: the fixed parts here, the operations collected
//! from the handlers registered in `http::api`.

use actix_web::App;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::domain::purpose::Purpose;
use crate::http::{self, ops, problem};

/// Title, description, tags and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "syndicate",
        description = "Licensing and metered delivery of news content. Publishers upload stories \
            with their metadata, agency credits and photo rights; licensees fetch what their \
            licences cover through authenticated, metered endpoints.\n\n\
            Errors are RFC 9457 `application/problem+json` documents.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "auth", description = "Tokens (OAuth 2.0 client credentials), signing keys, and who you are."),
        (name = "organisations", description = "Publishers and licensees. Admin only."),
        (name = "clients", description = "API clients and their secrets. Admin only."),
        (name = "licences", description = "Who may have whose content, how, how much and at what price."),
        (name = "content", description = "What licensees receive: licensed articles (metered), search and the change feed."),
        (name = "usage", description = "Quotas and usage reports, from the one usage ledger."),
        (name = "articles", description = "A publisher's articles: versions, lifecycle, embargo. Publishers and admins."),
        (name = "media", description = "A publisher's photos with credit lines and rights. Publishers and admins."),
        (name = "webhooks", description = "A licensee's webhook endpoints: signed notices of publications, corrections, withholdings and kills (Standard Webhooks), their attempts, redelivery. Licensees and admins."),
        (name = "notices", description = "Takedown notices to the licensees that received a killed article, their acknowledgement, and the compliance report."),
        (name = "ops", description = "Health, readiness, metrics and this document. No authentication."),
    ),
    components(
        schemas(
            problem::Problem,
            problem::FieldError,
            problem::OAuthErrorBody,
            ops::HealthResponse,
            crate::delivery::Format,
            crate::delivery::ContentResponse,
            crate::metering::reports::ReportFormat,
            http::notices::ComplianceFormat,
            crate::notices::takedowns::NoticeStatus,
        ),
        responses(
            problem::responses::BadRequest,
            problem::responses::Unauthorized,
            problem::responses::Forbidden,
            problem::responses::ForbiddenPurpose,
            problem::responses::NotFound,
            problem::responses::Conflict,
            problem::responses::PreconditionFailed,
            problem::responses::Gone,
            problem::responses::PreconditionRequired,
            problem::responses::PayloadTooLarge,
            problem::responses::RequestTimeout,
            problem::responses::UnsupportedMediaType,
            problem::responses::Validation,
            problem::responses::TooManyRequests,
            problem::responses::TooManyRequestsMetered,
            problem::responses::Unavailable,
            problem::responses::InsufficientStorage,
            problem::responses::OAuthError,
            problem::responses::OAuthInvalidClient,
        ),
    ),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

/// The two ways to authenticate in the docs: paste a bearer token, or let
/// the page fetch one with a client id and secret.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /v1/auth/token."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/v1/auth/token",
                    Scopes::from_iter(Purpose::ALL.iter().map(|p| (p.scope(), scope_description(*p)))),
                ))],
                "OAuth 2.0 client credentials: give a client id and secret and the token is fetched for you. A licensee's client picks the purposes its fetches are for (none picked: every purpose it may have).",
            )),
        );
    }
}

/// What a purpose scope lets a licensee's token do.
fn scope_description(purpose: Purpose) -> String {
    let what = match purpose {
        Purpose::Display => "show articles to people in an app",
        Purpose::Search => "index articles for a search engine that links to them",
        Purpose::AiIndex => "index articles for an AI search or answer system",
        Purpose::AiInput => {
            "give articles to an AI model as input when it answers (retrieval, grounding)"
        }
        Purpose::AiTrain => "train or fine-tune an AI model on articles",
    };
    format!("Fetch to {what} (purpose `{purpose}`)")
}

/// The complete document.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(http::api)
        .split_for_parts();
    spec
}

/// The document as served and committed: what utoipa collects from the
/// handlers, refined with the rules its types cannot carry.
pub fn document() -> serde_json::Value {
    let mut document = serde_json::to_value(spec()).unwrap_or_default();
    refine(&mut document);
    document
}

/// Request fields whose text rules (`domain::patterns`) the spec states as
/// `pattern`: (schema, property, pattern). `name[]` means the items of an
/// array; a property of a `oneOf` schema is set in every variant.
const TEXT_PATTERNS: &[(&str, &str, &str)] = {
    use crate::domain::patterns::{BODY, LANGUAGE, LINE, MIME_TYPE, WEB_URL};
    &[
        ("CreatePublisherRequest", "name", LINE),
        ("UpdatePublisherRequest", "name", LINE),
        ("NewClient", "name", LINE),
        ("CreateLicenseeRequest", "name", LINE),
        ("UpdateLicenseeRequest", "name", LINE),
        ("MediaRequest", "caption", LINE),
        ("MediaRequest", "credit_line", LINE),
        ("MediaRequest", "copyright_holder", LINE),
        ("MediaRequest", "copyright_notice", LINE),
        ("MediaRequest", "creator", LINE),
        ("MediaRequest", "licensor", LINE),
        ("MediaRights", "usage_terms", LINE),
        ("Rendition", "href", WEB_URL),
        ("Rendition", "mime_type", MIME_TYPE),
        ("CreateLicenceRequest", "sections[]", LINE),
        ("UpdateLicenceRequest", "sections[]", LINE),
        ("CreateArticleRequest", "external_ref", LINE),
        ("CreateArticleRequest", "headline", LINE),
        ("CreateArticleRequest", "body_html", BODY),
        ("CreateArticleRequest", "standfirst", LINE),
        ("CreateArticleRequest", "section", LINE),
        ("CreateArticleRequest", "tags[]", LINE),
        ("CreateArticleRequest", "located", LINE),
        ("CreateArticleRequest", "canonical_url", WEB_URL),
        ("CreateArticleRequest", "language", LANGUAGE),
        ("ArticleContent", "headline", LINE),
        ("ArticleContent", "body_html", BODY),
        ("ArticleContent", "standfirst", LINE),
        ("ArticleContent", "section", LINE),
        ("ArticleContent", "tags[]", LINE),
        ("ArticleContent", "located", LINE),
        ("ArticleContent", "canonical_url", WEB_URL),
        ("ArticleContent", "language", LANGUAGE),
        ("Byline", "name", LINE),
        ("Byline", "role", LINE),
        ("Byline", "location", LINE),
        ("AgencyCredit", "agency", LINE),
        ("AgencyCredit", "credit_line", LINE),
        ("Change", "note", LINE),
        ("ReasonRequest", "reason", LINE),
    ]
};

/// Sets every pattern of [`TEXT_PATTERNS`], closes the variants of tagged
/// enums, limits an article to one main photo, and keeps `null` out of
/// parameter types.
fn refine(document: &mut serde_json::Value) {
    for (schema, property, pattern) in TEXT_PATTERNS {
        let (property, items) = match property.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (*property, false),
        };
        let Some(root) = document.pointer_mut(&format!("/components/schemas/{schema}")) else {
            continue;
        };
        let variants: Vec<&mut serde_json::Value> = match root.get_mut("oneOf") {
            Some(serde_json::Value::Array(variants)) => variants.iter_mut().collect(),
            _ => vec![root],
        };
        for variant in variants {
            let Some(target) = variant.pointer_mut(&format!("/properties/{property}")) else {
                continue;
            };
            let target = if items {
                target.get_mut("items")
            } else {
                Some(target)
            };
            if let Some(serde_json::Value::Object(fields)) = target {
                fields.insert("pattern".to_owned(), (*pattern).into());
            }
        }
    }
    // serde's `deny_unknown_fields` on a tagged enum closes every variant;
    // utoipa states it for structs only.
    for schema in ["Change", "NewClient"] {
        if let Some(serde_json::Value::Array(variants)) =
            document.pointer_mut(&format!("/components/schemas/{schema}/oneOf"))
        {
            for variant in variants {
                variant["additionalProperties"] = false.into();
            }
        }
    }
    // At most one photo of an article is its main photo.
    for schema in ["CreateArticleRequest", "ArticleContent"] {
        if let Some(serde_json::Value::Object(media)) =
            document.pointer_mut(&format!("/components/schemas/{schema}/properties/media"))
        {
            media.insert(
                "contains".to_owned(),
                serde_json::json!({
                    "type": "object",
                    "required": ["role"],
                    "properties": {"role": {"const": "main"}}
                }),
            );
            media.insert("minContains".to_owned(), 0.into());
            media.insert("maxContains".to_owned(), 1.into());
        }
    }
    not_null_parameters(document);
}

/// An optional query parameter or header is absent or a string: it cannot be
/// JSON `null`, which `Option<T>` would otherwise put in its type.
fn not_null_parameters(document: &mut serde_json::Value) {
    let Some(serde_json::Value::Object(paths)) = document.get_mut("paths") else {
        return;
    };
    let parameters = paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("parameters"))
        .filter_map(serde_json::Value::as_array_mut)
        .flatten();
    for parameter in parameters {
        if let Some(serde_json::Value::Array(types)) = parameter.pointer_mut("/schema/type") {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                let only = only.clone();
                if let Some(schema) = parameter.get_mut("schema") {
                    schema["type"] = only;
                }
            }
        }
    }
}

/// The complete document as pretty JSON with a trailing newline, exactly as
/// committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).unwrap_or_else(|_| "{}".to_owned());
    json.push('\n');
    json
}
