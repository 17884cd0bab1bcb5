//! A node sees its own writes at once. After a request that may have
//! changed what deliveries are decided on (any method but the safe ones)
//! succeeds, the node's fact cache reads the change log before the answer
//! leaves, so a kill, a suspension or a revocation made through this node
//! is refused by it from the next request on, and a delivery already
//! decided on older facts is decided again (the usage writer checks each
//! against the changes the cache has applied). Changes made through other
//! nodes, or by hand in the database, reach this node's cache through its
//! poller, within the freshness bound (`delivery::poller`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::AppState;
use crate::storage::{self, StorageError};

/// The middleware: see the module documentation.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = (!req.method().is_safe())
        .then(|| req.app_data::<web::Data<AppState>>().cloned())
        .flatten();
    let response = next.call(req).await?;
    if let Some(state) = state
        && response.status().is_success()
    {
        let facts = state.facts.clone();
        let read =
            storage::blocking::<_, StorageError, _>(&state.pool, move |conn| facts.poll(conn));
        if let Err(error) = read.await {
            // The poller brings the change within the freshness bound.
            tracing::warn!(%error, "the change log could not be read after a write");
        }
    }
    Ok(response)
}
