//! Request bodies with read deadlines: a client that stops sending (or trickles a byte now and
//! then) cannot hold a handler and its connection forever. hyper bounds only the header read;
//! this bounds the body, once per connection for every handler, whatever it reads with.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a body read was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyTimeout {
    /// No data arrived for this long.
    Idle(Duration),
    /// The whole body took longer than this.
    Total(Duration),
}

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyTimeout::Idle(d) => {
                write!(f, "the client sent no body data for {} s", d.as_secs_f64())
            }
            BodyTimeout::Total(d) => write!(
                f,
                "the client took longer than {} s to send the body",
                d.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether a body error (as axum reports it) is one of ours.
pub(crate) fn is_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<BodyTimeout>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

/// A body that fails with [`BodyTimeout`] when its client stalls.
pub(crate) struct TimedBody<B> {
    inner: B,
    idle: Duration,
    total: Duration,
    idle_timer: Pin<Box<Sleep>>,
    total_timer: Pin<Box<Sleep>>,
}

impl<B> TimedBody<B> {
    pub fn new(inner: B, idle: Duration, total: Duration) -> Self {
        let now = Instant::now();
        TimedBody {
            inner,
            idle,
            total,
            idle_timer: Box::pin(tokio::time::sleep_until(now + idle)),
            total_timer: Box::pin(tokio::time::sleep_until(now + total)),
        }
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = Instant::now() + this.idle;
                this.idle_timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.total_timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(Box::new(BodyTimeout::Total(this.total)))));
                }
                if this.idle_timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(Box::new(BodyTimeout::Idle(this.idle)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
