//! Request bodies: bounded work for what a client sends.
//!
//! **A refused body is not read.** When a handler answers before reading
//! the whole body (a 413 once the limit is passed, a 401, a 404, any early
//! error), actix-web closes the connection after the answer if the body's
//! reader is still alive, but reads and discards the rest of a *chunked*
//! body once the reader is gone, to keep the connection: however long the
//! client goes on sending. The extractors drop the reader with their error,
//! so the middleware takes the body first, hands the handler a reader of
//! it, and keeps the original alive inside the response body until that
//! has been sent. actix then closes the connection after the answer, with
//! nothing read past what the handler read (and its 32 KiB buffer). Without
//! a linger (`client_disconnect_timeout` is zero in `startup`), the socket
//! closes at once.
//!
//! **A slow body is cut off.** A body must arrive at [`BodyPolicy`]'s
//! minimum rate once its grace period is over: by `grace + received /
//! min_rate` after the request began, whatever the handler waits for.
//! Later, its reader fails, the request is answered 408 and, the body being
//! unread, the connection closes. (actix's own `client_request_timeout`
//! bounds only the request head.)

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// How slowly a request body may arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPolicy {
    /// Time a body may take before the rate applies.
    pub grace: Duration,
    /// Bytes a second a body must average after the grace period.
    pub min_rate: u32,
}

/// Seconds a body may take before the rate applies, by default.
pub const DEFAULT_GRACE_SECS: u64 = 10;

/// Bytes a second a body must average after the grace period, by default:
/// a body at the default limit (1 MiB) may take about four and a half
/// minutes.
pub const DEFAULT_MIN_RATE: u32 = 4096;

impl Default for BodyPolicy {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(DEFAULT_GRACE_SECS),
            min_rate: DEFAULT_MIN_RATE,
        }
    }
}

impl BodyPolicy {
    /// The 408 problem's detail.
    pub fn refusal(&self) -> String {
        let grace = if self.grace.subsec_millis() == 0 {
            format!("{} s", self.grace.as_secs())
        } else {
            format!("{} ms", self.grace.as_millis())
        };
        format!(
            "the request body arrived slower than {} bytes a second after the first {grace}; it was cut off",
            self.min_rate
        )
    }
}

/// The body of one request, watched: see the module documentation.
pub struct Watch {
    body: Rc<RefCell<Payload>>,
    cut_off: Rc<Cell<bool>>,
    policy: BodyPolicy,
}

impl Watch {
    /// Takes the request's body, if it has one, and gives the handler a
    /// reader of it held to the policy `policy` finds (the default if none).
    pub fn take(
        req: &mut ServiceRequest,
        policy: impl FnOnce(&ServiceRequest) -> Option<BodyPolicy>,
    ) -> Option<Watch> {
        if matches!(req.parts_mut().1, Payload::None) {
            return None;
        }
        let policy = policy(req).unwrap_or_default();
        let (_, payload) = req.parts_mut();
        let body = Rc::new(RefCell::new(std::mem::replace(payload, Payload::None)));
        let cut_off = Rc::new(Cell::new(false));
        let reader = Reader {
            body: body.clone(),
            cut_off: cut_off.clone(),
            started: Instant::now(),
            received: 0,
            policy,
            timer: None,
            done: false,
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(reader),
        });
        Some(Watch {
            body,
            cut_off,
            policy,
        })
    }

    /// Why the body was cut off, if it arrived too slowly.
    pub fn cut_off(&self) -> Option<String> {
        self.cut_off.get().then(|| self.policy.refusal())
    }

    /// Keeps the body alive until `response` has been sent, so that actix
    /// closes the connection instead of reading the rest of it: in the
    /// response body, and (for a response without one, whose body actix
    /// drops at once) in the response head, which actix reads to decide.
    pub fn hold_until_sent(
        self,
        mut response: ServiceResponse<BoxBody>,
    ) -> ServiceResponse<BoxBody> {
        let body = self.body;
        response.response_mut().extensions_mut().insert(Held {
            _body: body.clone(),
        });
        response.map_body(move |_, inner| BoxBody::new(Holding { inner, _body: body }))
    }
}

/// The handler's reader of a watched body.
struct Reader {
    body: Rc<RefCell<Payload>>,
    cut_off: Rc<Cell<bool>>,
    started: Instant,
    received: u64,
    policy: BodyPolicy,
    timer: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl Reader {
    /// When the bytes received so far must have been joined by more.
    fn deadline(&self) -> Instant {
        let allowed = self.received.saturating_mul(1000) / u64::from(self.policy.min_rate.max(1));
        self.started + self.policy.grace + Duration::from_millis(allowed)
    }

    fn too_slow(&mut self) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.done = true;
        self.cut_off.set(true);
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            self.policy.refusal(),
        )))))
    }
}

impl Stream for Reader {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut *this.body.borrow_mut()).poll_next(cx);
        match polled {
            Poll::Ready(Some(Ok(bytes))) => {
                this.received += bytes.len() as u64;
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
            Poll::Pending => {
                let deadline = this.deadline();
                if Instant::now() >= deadline {
                    return this.too_slow();
                }
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => this.too_slow(),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// The request's body, held by a response head.
struct Held {
    _body: Rc<RefCell<Payload>>,
}

/// A response body that keeps the request's body alive until it has
/// been sent.
struct Holding {
    inner: BoxBody,
    _body: Rc<RefCell<Payload>>,
}

impl MessageBody for Holding {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}
