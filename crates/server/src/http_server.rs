//! Serving HTTP/1.1 connections: accept under the connection cap, serve each connection with
//! hyper, close those that stay silent past their timeouts, and on shutdown stop accepting and let
//! every connection finish the request it is in.

use crate::connection_io::ConnectionIo;
use crate::connections::{Admission, ConnectionLimits, Connections, Slot};
use crate::response_watch::ResponseWatch;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::Service;

/// The largest request head read (request line and headers); a larger one is answered 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// hyper's read buffer: a head, or a piece of a body.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// How often silent connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// The least time between two log lines about the connection cap.
const CAP_LOG_EVERY: Duration = Duration::from_secs(10);
/// How long shutdown waits for connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(Connections::new(limits));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(None)
        .max_buf_size(READ_BUFFER_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .writev(false);
    let (stop_tx, stop_rx) = watch::channel(false);
    let sweeper = tokio::spawn(sweep(Arc::clone(&connections)));
    let mut tasks = JoinSet::new();
    let mut cap_log = CapLog::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: give the open connections a moment.
                tracing::error!(error = %e, open = connections.open(), "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let slot = match connections.admit() {
            Admission::Admitted(slot) => slot,
            Admission::Evicted(slot) => {
                cap_log.evicted(&limits);
                slot
            }
            Admission::Full => {
                cap_log.refused(&limits);
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tasks.spawn(connection(
            stream,
            peer,
            slot,
            router.clone(),
            http.clone(),
            Arc::clone(&connections),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            open = tasks.len(),
            "connections still open after the shutdown grace period; closing them"
        );
        tasks.abort_all();
    }
    sweeper.abort();
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Arc<Slot>,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    connections: Arc<Connections>,
    mut stop: watch::Receiver<bool>,
) {
    // Until its first bytes arrive a connection costs its socket and this task: a flood of
    // silent connections sets up no HTTP state, and one pushed out for room just ends here.
    let first_bytes = tokio::select! {
        biased;
        ready = stream.readable() => ready.is_ok(),
        () = slot.closing() => has_unread_bytes(&stream),
        _ = stopping(&mut stop) => false,
    };
    if !first_bytes {
        connections.release(&slot);
        return;
    }
    // Pushed out for room while its request waited for this task to run: it was never silent,
    // so it takes a place again in the longest-silent one's stead.
    let slot = if connections.holds(&slot) {
        slot
    } else {
        match connections.admit() {
            Admission::Admitted(slot) | Admission::Evicted(slot) => {
                slot.on_read();
                slot
            }
            Admission::Full => return,
        }
    };
    let watch = Arc::new(Mutex::new(ResponseWatch::default()));
    let io = TokioIo::new(ConnectionIo::new(
        stream,
        Arc::clone(&slot),
        Arc::clone(&watch),
    ));
    let service = Answering {
        router,
        peer,
        slot: Arc::clone(&slot),
        watch,
    };
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = slot.closing() => {}
        _ = stopping(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                () = slot.closing() => {}
            }
        }
    }
    connections.release(&slot);
}

/// Whether the client's bytes wait in the socket, unread (without taking them, without waiting).
fn has_unread_bytes(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let flags = rustix::net::RecvFlags::PEEK | rustix::net::RecvFlags::DONTWAIT;
    matches!(rustix::net::recv(stream, &mut byte[..], flags), Ok((n, _)) if n > 0)
}

/// Resolves once shutdown begins.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}

/// Closes silent connections, a few times a second.
async fn sweep(connections: Arc<Connections>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let closed = connections.sweep();
        if closed > 0 {
            tracing::debug!(closed, "closed connections silent past their timeout");
        }
    }
}

/// The application as hyper calls it, keeping the connection's phase and the response watch
/// informed.
struct Answering {
    router: Router,
    /// The client's address, given to every request as `ConnectInfo` (the OIDC rate limit).
    peer: SocketAddr,
    slot: Arc<Slot>,
    watch: Arc<Mutex<ResponseWatch>>,
}

impl hyper::service::Service<Request<Incoming>> for Answering {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<<Router as Service<Request<Incoming>>>::Future>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        self.slot.on_request();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        self.watch
            .lock()
            .request_started(req.method() == axum::http::Method::HEAD);
        // A Router is always ready; `call` on a clone is what `oneshot` would do.
        let mut router = self.router.clone();
        Answer {
            inner: router.call(req),
            slot: Arc::clone(&self.slot),
        }
    }
}

/// The application's answer to one request; the connection is idle again once it is given.
pub struct Answer<F> {
    inner: F,
    slot: Arc<Slot>,
}

impl<F> Future for Answer<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let out = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        self.slot.on_answered();
        Poll::Ready(out)
    }
}

/// Says, at most every [`CAP_LOG_EVERY`], that the connection cap was reached and what it cost.
#[derive(Default)]
struct CapLog {
    last: Option<Instant>,
    evicted: u64,
    refused: u64,
}

impl CapLog {
    fn evicted(&mut self, limits: &ConnectionLimits) {
        self.evicted += 1;
        self.maybe_log(limits);
    }

    fn refused(&mut self, limits: &ConnectionLimits) {
        self.refused += 1;
        self.maybe_log(limits);
    }

    fn maybe_log(&mut self, limits: &ConnectionLimits) {
        if self.last.is_some_and(|t| t.elapsed() < CAP_LOG_EVERY) {
            return;
        }
        tracing::warn!(
            max_connections = limits.max_connections,
            evicted = self.evicted,
            refused = self.refused,
            "connection limit reached: closing the longest-idle connections that sent no complete request to make room (refused: every connection was busy)"
        );
        self.last = Some(Instant::now());
        self.evicted = 0;
        self.refused = 0;
    }
}
