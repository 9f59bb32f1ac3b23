//! Bodies: a response known in advance or a stream (SSE) fed by a task, and reading a
//! request's body with a size cap.

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The largest request body read (an action's parameters, a password form).
pub const MAX_REQUEST_BODY: usize = 16 * 1024;

/// A response body.
pub enum Body {
    /// A text known in advance (or nothing).
    Bytes(Option<Bytes>),
    /// Chunks a task sends until it drops its end (or the client goes away).
    Stream(mpsc::Receiver<Bytes>),
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body::Bytes(None)
    }

    /// A fixed body.
    pub fn full(data: impl Into<Bytes>) -> Body {
        Body::Bytes(Some(data.into()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Bytes(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Bytes(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

/// Reads a request body whole; `None` when it is larger than [`MAX_REQUEST_BODY`] or
/// the connection failed.
pub async fn read_capped<B>(mut body: B) -> Option<Bytes>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    let mut out = BytesMut::new();
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Some(out.freeze()),
            Some(Err(_)) => return None,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if out.len() + data.len() > MAX_REQUEST_BODY {
                        return None;
                    }
                    out.extend_from_slice(&data);
                }
            }
        }
    }
}
