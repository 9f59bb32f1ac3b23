//! The response body: a short text, or a file streamed in chunks (never read whole).

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// The most one chunk of a file holds.
const CHUNK: usize = 64 * 1024;

/// A response body.
pub enum Body {
    /// A text known in advance (or nothing: HEAD, 304).
    Bytes(Option<Bytes>),
    /// `remaining` bytes of an open file, from its current position.
    File(FileChunks),
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body::Bytes(None)
    }

    /// A fixed text.
    pub fn text(text: impl Into<Bytes>) -> Body {
        Body::Bytes(Some(text.into()))
    }

    /// The next `len` bytes of `file`.
    pub fn file(file: tokio::fs::File, len: u64) -> Body {
        Body::File(FileChunks {
            file,
            remaining: len,
            buf: Vec::new(),
        })
    }
}

/// A file being sent.
pub struct FileChunks {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
}

impl FileChunks {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<std::io::Result<Bytes>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(self.remaining).map_or(CHUNK, |r| r.min(CHUNK));
        self.buf.resize(want, 0);
        let mut read = ReadBuf::new(&mut self.buf);
        ready!(Pin::new(&mut self.file).poll_read(cx, &mut read))?;
        let n = read.filled().len();
        if n == 0 {
            // The file shrank while it was being sent: end the response as broken.
            return Poll::Ready(Some(Err(std::io::ErrorKind::UnexpectedEof.into())));
        }
        self.remaining -= n as u64;
        Poll::Ready(Some(Ok(Bytes::copy_from_slice(&self.buf[..n]))))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Bytes(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::File(f) => f
                .poll_chunk(cx)
                .map(|chunk| chunk.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Bytes(b) => b.is_none(),
            Body::File(f) => f.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File(f) => SizeHint::with_exact(f.remaining),
        }
    }
}
