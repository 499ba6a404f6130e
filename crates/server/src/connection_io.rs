//! The socket of one connection as hyper sees it: reads mark the connection active, and writes
//! pass through the [`ResponseWatch`], which swaps hyper's own bare error answers for the error
//! envelope.

use crate::connections::Slot;
use crate::response_watch::{ResponseWatch, Write};
use iic_domain::ApiError;
use parking_lot::Mutex;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub struct ConnectionIo {
    stream: TcpStream,
    slot: Arc<Slot>,
    watch: Arc<Mutex<ResponseWatch>>,
    /// The envelope answer written in place of hyper's, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl ConnectionIo {
    pub fn new(stream: TcpStream, slot: Arc<Slot>, watch: Arc<Mutex<ResponseWatch>>) -> Self {
        ConnectionIo {
            stream,
            slot,
            watch,
            replacement: None,
        }
    }

    /// Writes what is left of the replacement answer.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.replacement {
            if *done >= bytes.len() {
                break;
            }
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ConnectionIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.slot.on_read();
        }
        result
    }
}

impl AsyncWrite for ConnectionIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        let decision = this.watch.lock().before_write(buf);
        match decision {
            Write::Pass(n) => {
                let written = ready!(Pin::new(&mut this.stream).poll_write(cx, &buf[..n]))?;
                this.watch.lock().written(written);
                Poll::Ready(Ok(written))
            }
            Write::Replace(status) => {
                this.replacement = Some((protocol_error_answer(status), 0));
                // hyper's bytes count as written; ours follow, flushed before anything else.
                let _ = this.poll_replacement(cx)?;
                Poll::Ready(Ok(buf.len()))
            }
            Write::Drop => Poll::Ready(Ok(buf.len())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

/// The whole HTTP answer to a request hyper could not take: the envelope, a request id, and the
/// connection closed after it (as hyper closes it).
fn protocol_error_answer(status: u16) -> Vec<u8> {
    let err = match status {
        414 => ApiError::uri_too_long(),
        431 => ApiError::headers_too_large(),
        _ => ApiError::malformed_request("the request is not valid HTTP/1.1"),
    };
    let request_id = iic_domain::ids::hex32();
    let body = iic_api::envelope::error_body(&err, &request_id);
    tracing::info!(
        target: iic_api::pipeline::ACCESS_LOG_TARGET,
        method = "-",
        path = "-",
        operation = "-",
        status = err.status as u64,
        latency_us = 0u64,
        request_id = request_id.as_str(),
    );
    let reason = axum::http::StatusCode::from_u16(err.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Bad Request");
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n",
        err.status,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}
