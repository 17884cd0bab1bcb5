//! The HTTP layer: application state, route registration, and what answers
//! a path or method that no handler takes.

pub mod ops;
pub mod problem;
pub mod request_id;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::storage::Pool;
use problem::ApiError;

/// What every handler can reach.
pub struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The registry `/metrics` reports.
    pub metrics: prometheus::Registry,
    /// The OpenAPI document, serialised once.
    pub openapi: Bytes,
}

/// Set once shutdown begins; responses then close their connections.
#[derive(Debug, Default)]
pub struct Draining(std::sync::atomic::AtomicBool);

impl Draining {
    /// Marks the node as shutting down.
    pub fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Registers every documented operation. The OpenAPI document is collected
/// from exactly these registrations, so the spec cannot miss a route.
pub fn api(cfg: &mut ServiceConfig) {
    cfg.service(ops::get_healthz)
        .service(ops::get_readyz)
        .service(ops::get_metrics)
        .service(ops::get_openapi);
}

/// Paths and the methods they answer, taken from the OpenAPI document, so a
/// known path with the wrong method gets 405 with `Allow`, not 404.
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    /// Builds the table from the spec plus the undocumented docs UI.
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        routes.push((ResourceDef::new("/docs"), vec![Method::GET]));
        routes.push((ResourceDef::new("/docs/{tail}*"), vec![Method::GET]));
        Self { routes }
    }

    /// The methods a path answers, or `None` for an unknown path.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let mut allowed: Vec<Method> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// Answers every request no handler took: 405 for a known path, else 404.
pub async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match routes.allowed(req.path()) {
        Some(allow) if !allow.contains(req.method()) => ApiError::MethodNotAllowed {
            method: req.method().clone(),
            allow,
        },
        _ => ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())),
    })
}
