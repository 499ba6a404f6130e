//! Reading a request body at bounded cost: never more than the operation's limit, never more than
//! the server-wide budget of bytes being read at once, and never waiting on a silent client
//! longer than the idle timeout.

use axum::body::Body;
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use iic_domain::ApiError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The server-wide limits on reading bodies.
pub struct BodyGate {
    budget: Arc<Semaphore>,
    budget_bytes: usize,
    idle: Duration,
}

impl BodyGate {
    pub fn new(budget_bytes: usize, idle: Duration) -> BodyGate {
        let budget_bytes = budget_bytes.min(Semaphore::MAX_PERMITS);
        BodyGate {
            budget: Arc::new(Semaphore::new(budget_bytes)),
            budget_bytes,
            idle,
        }
    }

    /// Bytes of the budget not reserved by a body being read or handled.
    pub fn available(&self) -> usize {
        self.budget.available_permits()
    }

    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }
}

/// A body read in full, and its share of the budget, held until the request is answered.
pub struct BodyRead {
    pub bytes: Bytes,
    pub permit: Option<OwnedSemaphorePermit>,
}

/// The `Content-Length` of the request, when it sent one that parses.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Whether the request has no body at all (no length and no chunks announced).
pub fn is_empty(body: &Body) -> bool {
    axum::body::HttpBody::is_end_stream(body)
}

/// Reads `body`: a declared length above `limit` is refused before a byte is read; the budget
/// is reserved for the declared length (or the limit, when chunked) up front, so a flood of
/// large bodies is turned away instead of queued.
pub async fn read(
    gate: &BodyGate,
    body: Body,
    declared: Option<u64>,
    limit: usize,
) -> Result<BodyRead, ApiError> {
    let declared = declared.or_else(|| axum::body::HttpBody::size_hint(&body).exact());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    if declared == Some(0) || is_empty(&body) {
        return Ok(BodyRead {
            bytes: Bytes::new(),
            permit: None,
        });
    }
    let reserve = declared.map_or(limit, |n| n as usize);
    let permits = u32::try_from(reserve).unwrap_or(u32::MAX);
    let permit = Arc::clone(&gate.budget)
        .try_acquire_many_owned(permits)
        .map_err(|_| ApiError::server_busy("too many request bodies are being received"))?;
    let bytes = collect(gate.idle, body, reserve, limit).await?;
    Ok(BodyRead {
        bytes,
        permit: Some(permit),
    })
}

async fn collect(
    idle: Duration,
    mut body: Body,
    expected: usize,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(ApiError::body_timeout(idle.as_secs().max(1))),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::malformed_request(format!(
                    "the request body could not be read: {e}"
                )))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let so_far = first.as_ref().map_or(0, Bytes::len) + rest.as_ref().map_or(0, BytesMut::len);
        if so_far + data.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        match (&first, &mut rest) {
            // The usual case, one frame: kept as it came, no copy.
            (None, None) => first = Some(data),
            (Some(head), None) => {
                let mut buf = BytesMut::with_capacity(expected.max(head.len() + data.len()));
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                first = None;
                rest = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(one), None) => one,
        (None, None) => Bytes::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn chunked(parts: Vec<&'static [u8]>) -> Body {
        let frames = parts
            .into_iter()
            .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p)));
        Body::from_stream(stream::iter(frames))
    }

    fn gate(budget: usize) -> BodyGate {
        BodyGate::new(budget, Duration::from_millis(200))
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_unread() {
        let g = gate(1 << 20);
        let e = read(&g, Body::from("x"), Some(10_000), 100)
            .await
            .err()
            .map(|e| e.status);
        assert_eq!(e, Some(413));
        assert_eq!(g.available(), 1 << 20);
    }

    #[tokio::test]
    async fn chunks_are_joined_and_the_limit_holds_without_a_length() {
        let g = gate(1 << 20);
        let read_ok = read(&g, chunked(vec![b"ab", b"cd", b"e"]), None, 100)
            .await
            .map(|r| r.bytes);
        assert_eq!(read_ok.ok().as_deref(), Some(&b"abcde"[..]));
        let too_long = read(&g, chunked(vec![b"abc", b"def"]), None, 5).await;
        assert_eq!(too_long.err().map(|e| e.status), Some(413));
    }

    #[tokio::test]
    async fn the_budget_is_held_while_the_request_lives_and_refuses_when_spent() {
        let g = gate(10);
        let held = read(&g, Body::from("12345678"), Some(8), 100).await;
        assert!(held.is_ok());
        assert_eq!(g.available(), 2);
        let refused = read(&g, Body::from("123"), Some(3), 100).await;
        assert_eq!(refused.err().map(|e| e.status), Some(429));
        drop(held);
        assert_eq!(g.available(), 10);
    }

    #[tokio::test]
    async fn a_silent_body_times_out() {
        let g = gate(1 << 20);
        let silent = Body::from_stream(stream::pending::<Result<Bytes, std::io::Error>>());
        let e = read(&g, silent, Some(10), 100).await;
        assert_eq!(e.err().map(|e| e.status), Some(408));
        assert_eq!(g.available(), 1 << 20);
    }
}
