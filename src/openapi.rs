//! The OpenAPI 3.1 document: the fixed parts here, the operations collected
//! from the handlers registered in `http::api`.

use actix_web::App;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

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
        (name = "ops", description = "Health, readiness, metrics and this document. No authentication."),
    ),
    components(
        schemas(
            problem::Problem,
            problem::FieldError,
            problem::OAuthErrorBody,
            ops::HealthResponse,
            http::content::Format,
            http::content::ContentResponse,
            http::usage::ReportFormat,
        ),
        responses(
            problem::responses::BadRequest,
            problem::responses::Unauthorized,
            problem::responses::Forbidden,
            problem::responses::NotFound,
            problem::responses::Conflict,
            problem::responses::PreconditionFailed,
            problem::responses::Gone,
            problem::responses::PreconditionRequired,
            problem::responses::PayloadTooLarge,
            problem::responses::UnsupportedMediaType,
            problem::responses::Validation,
            problem::responses::TooManyRequests,
            problem::responses::TooManyRequestsMetered,
            problem::responses::Unavailable,
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
                    Scopes::new(),
                ))],
                "OAuth 2.0 client credentials: give a client id and secret and the token is fetched for you.",
            )),
        );
    }
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

/// The complete document as pretty JSON with a trailing newline, exactly as
/// committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    json.push('\n');
    json
}
