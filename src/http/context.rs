//! What every problem body says about the request it answers: the request
//! id and path, set by the request middleware for the span of one request.

/// What every problem body says about the request it answers.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The request id.
    pub id: String,
    /// The request path.
    pub path: String,
}

tokio::task_local! {
    /// The context of the request being handled.
    pub static CONTEXT: RequestContext;
}

/// The context of the request being handled (empty outside a request).
pub fn current() -> RequestContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_default()
}
