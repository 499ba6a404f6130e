//! Load generation for the benchmark: keep-alive HTTP/1.1 connections on loopback, each sending
//! its next request as soon as the previous answer arrives, for a fixed time.

pub mod directory;
pub mod oidc;
pub mod policies;
pub mod portal;
pub mod scim;
pub mod sign_in;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `bootstrap-credentials.json` of a server.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub account_id: String,
    pub project_id: String,
    pub region: String,
    /// The security token of temporary credentials, sent (and signed) as `X-Security-Token`.
    #[serde(default)]
    pub security_token: Option<String>,
}

impl Credentials {
    pub fn parse(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("credentials file: {e}"))
    }
}

/// What each request of a run looks like.
#[derive(Clone)]
pub enum Target {
    /// An unsigned GET.
    Plain { path: String },
    /// A request signed like the official SDK signs it (`GlobalCredentials` with `X-Domain-Id`).
    Signed {
        path: String,
        query: String,
        creds: Arc<Credentials>,
    },
    /// Signed like the identity store client (`BasicCredentials` with `X-Project-Id`).
    SignedProject {
        path: String,
        query: String,
        creds: Arc<Credentials>,
    },
    /// A portal request: not signed, the OIDC access token in the `access-token` header.
    Portal {
        path: String,
        query: String,
        token: String,
    },
    /// A SCIM request: a tenant's bearer token, `application/scim+json`.
    Scim {
        path: String,
        query: String,
        token: String,
    },
}

fn uri(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Builds one request. A signed request is signed anew each time, as a real client does: the
/// `X-Sdk-Date` and therefore the signature change every second.
pub fn build_request(
    target: &Target,
    host: &str,
    method: &str,
    body: &[u8],
) -> Request<Full<Bytes>> {
    match target {
        Target::Plain { path } => Request::builder()
            .method(method)
            .uri(path.as_str())
            .header("host", host)
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap_or_default(),
        Target::Portal { path, query, token } => Request::builder()
            .method(method)
            .uri(uri(path, query))
            .header("host", host)
            .header("access-token", token.as_str())
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap_or_default(),
        Target::Scim { path, query, token } => Request::builder()
            .method(method)
            .uri(uri(path, query))
            .header("host", host)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json")
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap_or_default(),
        Target::Signed { path, query, creds } | Target::SignedProject { path, query, creds } => {
            let date = iic_domain::signing::format_sdk_date(iic_domain::clock::now_secs());
            let identity = match target {
                Target::SignedProject { .. } => ("X-Project-Id", creds.project_id.as_str()),
                _ => ("X-Domain-Id", creds.account_id.as_str()),
            };
            let mut headers = vec![
                ("Content-Type", "application/json"),
                ("User-Agent", "huaweicloud-usdk-python/3.0"),
                identity,
                ("X-Sdk-Date", date.as_str()),
                ("Host", host),
            ];
            if let Some(token) = &creds.security_token {
                headers.push(("X-Security-Token", token.as_str()));
            }
            let auth = iic_domain::signing::authorization_for(
                &creds.access_key,
                &creds.secret_key,
                method,
                path,
                query,
                &headers,
                body,
            );
            let mut b = Request::builder().method(method).uri(uri(path, query));
            for (k, v) in headers {
                b = b.header(k, v);
            }
            b.header("authorization", auth)
                .body(Full::new(Bytes::copy_from_slice(body)))
                .unwrap_or_default()
        }
    }
}

/// Result of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub label: String,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub rps: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// The `q`-quantile (0..=1) of sorted samples.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Sends one request on a fresh connection and returns the status and body.
pub async fn one_shot(addr: SocketAddr, req: Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
    exchange(addr, req)
        .await
        .map(|(status, _, body)| (status, body))
}

/// Sends one request on a fresh connection and returns the status, headers and body.
pub async fn exchange(
    addr: SocketAddr,
    req: Request<Full<Bytes>>,
) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, headers, body))
}

/// What each connection of a run sends, and what it learns from the answers.
pub trait Workload: Send + Sync + 'static {
    type State: Send + 'static;
    fn start(&self, connection: usize) -> Self::State;
    /// The next request, or None when this connection has nothing left to send.
    fn next(&self, state: &mut Self::State, host: &str) -> Option<Request<Full<Bytes>>>;
    /// Sees each answer (status and body), e.g. to follow paging markers.
    fn answered(&self, _state: &mut Self::State, _status: u16, _body: &Bytes) {}
    /// Whether an answer counts as an error of the run: by default, any status but 2xx.
    fn failed(&self, status: u16, _body: &Bytes) -> bool {
        !(200..300).contains(&status)
    }
}

/// The same request over and over.
pub struct Repeat(pub Target);

impl Workload for Repeat {
    type State = ();
    fn start(&self, _: usize) {}
    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        Some(build_request(&self.0, host, "GET", b""))
    }
}

/// Runs `connections` closed-loop clients against `addr` for `warmup` then at most `duration`
/// (or until every connection's workload is exhausted); only requests completed after the warm-up
/// count.
pub async fn run<W: Workload>(
    label: &str,
    addr: SocketAddr,
    workload: Arc<W>,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<Report, String> {
    let host = addr.to_string();
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(connections);
    for conn_index in 0..connections {
        let (workload, host) = (workload.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let mut state = workload.start(conn_index);
            let mut samples: Vec<u64> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut last_done = start;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let Some(req) = workload.next(&mut state, &host) else {
                    break;
                };
                let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                workload.answered(&mut state, status, &body);
                let done = Instant::now();
                last_done = done;
                if sent >= measure_from && done <= end {
                    samples.push(done.duration_since(sent).as_micros() as u64);
                    if workload.failed(status, &body) {
                        errors += 1;
                    }
                }
            }
            Ok::<_, String>((samples, errors, last_done))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut finished = measure_from;
    for t in tasks {
        let (samples, e, last) = t.await.map_err(|e| e.to_string())??;
        all.extend(samples);
        errors += e;
        finished = finished.max(last);
    }
    all.sort_unstable();
    // A finite workload may end before the time is up: rate over the time actually used.
    let seconds = finished
        .min(end)
        .saturating_duration_since(measure_from)
        .as_secs_f64()
        .max(1e-3);
    Ok(Report {
        label: label.to_string(),
        requests: all.len() as u64,
        errors,
        seconds,
        rps: all.len() as f64 / seconds,
        p50_us: quantile(&all, 0.50),
        p90_us: quantile(&all, 0.90),
        p99_us: quantile(&all, 0.99),
        max_us: all.last().copied().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_sorted_samples() {
        let s: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&s, 0.5), 51);
        assert_eq!(quantile(&s, 0.99), 99);
        assert_eq!(quantile(&s, 1.0), 100);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn credentials_parse_and_signed_requests_carry_the_sdk_headers() {
        let c = Credentials::parse(
            r#"{"access_key":"AK","secret_key":"SK","account_id":"a","project_id":"p","region":"r"}"#,
        )
        .expect("parse");
        assert!(Credentials::parse("{}").is_err());
        let t = Target::Signed {
            path: "/v1/instances".into(),
            query: "limit=100".into(),
            creds: Arc::new(c),
        };
        let req = build_request(&t, "127.0.0.1:1", "GET", b"");
        assert_eq!(req.uri(), "/v1/instances?limit=100");
        let auth = req.headers()["authorization"].to_str().expect("ascii");
        assert!(auth.starts_with("SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;user-agent;x-domain-id;x-sdk-date, Signature="));
    }
}
