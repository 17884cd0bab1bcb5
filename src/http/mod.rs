//! The HTTP layer: application state, route registration, and what answers
//! a path or method that no handler takes.

pub mod article_versions;
pub mod articles;
pub mod auth;
pub mod body;
pub mod caller;
pub mod clients;
pub mod content;
pub mod context;
pub mod licences;
pub mod licensees;
pub mod media;
pub mod notices;
pub mod ops;
pub mod own_writes;
pub mod problem;
pub mod published;
pub mod publishers;
pub mod request_id;
pub mod usage;
pub mod webhooks;

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
    /// Issues and verifies access tokens.
    pub tokens: crate::identity::TokenService,
    /// Limits token requests.
    pub throttle: crate::identity::throttle::TokenThrottle,
    /// Records deliveries (group commit).
    pub usage: crate::metering::UsageWriter,
    /// Per-licence request rates.
    pub rate_limits: crate::metering::RateLimits,
    /// Delivery facts kept between requests.
    pub facts: std::sync::Arc<crate::delivery::FactCache>,
    /// Logs each kind of failure once per interval and counts them all.
    pub errors: crate::telemetry::ErrorLog,
    /// What readiness knows and checks of the database.
    pub health: crate::storage::health::Health,
    /// Which hosts webhook endpoints may name.
    pub webhook_guard: crate::notices::ssrf::AddressGuard,
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
///
/// The router tries routes in this order, matching each templated path
/// with a regular expression, so the metered delivery (the hot path) comes
/// first; no two paths overlap, so the order changes nothing else.
pub fn api(cfg: &mut ServiceConfig) {
    cfg.service(content::get_content)
        .service(ops::get_healthz)
        .service(ops::get_readyz)
        .service(ops::get_metrics)
        .service(ops::get_openapi)
        .service(auth::create_token)
        .service(auth::get_jwks)
        .service(auth::get_me)
        .service(publishers::create_publisher)
        .service(publishers::list_publishers)
        .service(publishers::get_publisher)
        .service(publishers::update_publisher)
        .service(licensees::create_licensee)
        .service(licensees::list_licensees)
        .service(licensees::get_licensee)
        .service(licensees::update_licensee)
        .service(clients::create_client)
        .service(clients::list_clients)
        .service(clients::get_client)
        .service(clients::revoke_client)
        .service(clients::rotate_client_secret)
        .service(licences::create_licence)
        .service(licences::list_licences)
        .service(licences::get_licence)
        .service(licences::update_licence)
        .service(published::get_licence_document)
        .service(published::get_tdm_policy)
        .service(content::list_content)
        .service(content::get_feed)
        .service(usage::get_quota)
        .service(usage::get_usage)
        .service(media::create_media)
        .service(media::list_media)
        .service(media::get_media)
        .service(media::replace_media)
        .service(articles::create_article)
        .service(articles::list_articles)
        .service(articles::get_article)
        .service(articles::replace_article)
        .service(articles::publish_article)
        .service(articles::withhold_article)
        .service(articles::kill_article)
        .service(article_versions::list_article_versions)
        .service(article_versions::get_article_version)
        .service(webhooks::create_webhook)
        .service(webhooks::list_webhooks)
        .service(webhooks::get_webhook)
        .service(webhooks::update_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::rotate_webhook_secret)
        .service(webhooks::list_webhook_attempts)
        .service(webhooks::redeliver_webhook)
        .service(notices::list_notices)
        .service(notices::acknowledge_notice)
        .service(notices::get_compliance);
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

/// Runs storage work on the blocking pool with a pooled connection.
pub async fn db<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::storage::DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    crate::storage::blocking(&state.pool, work).await
}

/// Refuses a query parameter longer than `max` characters.
pub fn at_most(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(value) if value.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// A stored timestamp (UTC without zone) as a UTC instant.
pub fn utc(at: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    at.and_utc()
}

/// Query parameters of every list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page; absent for the first page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Validates the page request for the list `scope`.
    pub fn parse(&self, scope: &str) -> Result<crate::storage::page::PageRequest, ApiError> {
        use crate::storage::page::{PageError, PageRequest};
        PageRequest::parse(self.limit, self.cursor.as_deref(), scope).map_err(|error| match error {
            PageError::Limit => ApiError::invalid("limit", error.to_string()),
            PageError::Cursor => unknown_cursor(),
        })
    }
}

/// A cursor this service did not issue for this list (garbage, tampered
/// with, from another list or another caller): the page it names does not
/// exist, so 404, and the client starts again without a cursor.
pub fn unknown_cursor() -> ApiError {
    ApiError::NotFound(
        "no page has this cursor; use next_cursor from a previous page of this list, or start without one"
            .to_owned(),
    )
}

/// A JSON request body that must be an object. actix's `Json` (whose limit,
/// media type check and error handler still apply) would let serde read a
/// struct from an array (`[null, null]`) too; this refuses anything but an
/// object, then reads the struct, naming any unknown or missing field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = web::Json::<json::Strict>::from_request(req, payload);
        Box::pin(async move {
            let json::Strict(value) = json.await?.into_inner();
            if !value.is_object() {
                return Err(ApiError::BadRequest(
                    "invalid JSON body: it must be a JSON object".to_owned(),
                )
                .into());
            }
            T::deserialize(value)
                .map(JsonBody)
                .map_err(|error| ApiError::BadRequest(format!("invalid JSON body: {error}")).into())
        })
    }
}

/// Reading JSON bodies strictly.
mod json {
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};

    /// A JSON value read without the two liberties `serde_json::Value`
    /// takes: a repeated object key is an error (not "the last one wins",
    /// which lets two readers of one body disagree), and a number with a
    /// zero fraction (`5.0`) is the integer JSON Schema says it is.
    pub struct Strict(pub Value);

    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(StrictVisitor).map(Strict)
        }
    }

    struct StrictVisitor;

    /// Integers below 2^53 are exact in a float.
    const EXACT: f64 = 9_007_199_254_740_992.0;

    impl<'de> Visitor<'de> for StrictVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
            Ok(Value::Bool(value))
        }

        fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
            Ok(Value::from(value))
        }

        fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
            Ok(Value::from(value))
        }

        #[allow(clippy::cast_possible_truncation)]
        fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
            if value.fract() == 0.0 && value.abs() < EXACT {
                return Ok(Value::from(value as i64));
            }
            Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
        }

        fn visit_str<E>(self, value: &str) -> Result<Value, E> {
            Ok(Value::String(value.to_owned()))
        }

        fn visit_string<E>(self, value: String) -> Result<Value, E> {
            Ok(Value::String(value))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(Strict(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut object = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if object.contains_key(&key) {
                    return Err(de::Error::custom(format!("duplicate key {key:?}")));
                }
                let Strict(value) = map.next_value()?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }
}
