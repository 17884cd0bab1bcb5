//! The OpenAPI 3.1 document: the fixed parts here, the operations collected
//! from the handlers registered in `http::api`.

use actix_web::App;
use utoipa::OpenApi;
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
    tags((name = "ops", description = "Health, readiness, metrics and this document. No authentication.")),
    components(schemas(problem::Problem, problem::FieldError, ops::HealthResponse)),
)]
pub struct ApiDoc;

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
