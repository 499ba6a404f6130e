//! Load generation for the benchmark: keep-alive HTTP/1.1 connections on loopback, each sending
//! its next request as soon as the previous answer arrives, for a fixed time.

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
    /// A GET signed like the official SDK signs it (`GlobalCredentials`, `X-Domain-Id`).
    Signed {
        path: String,
        query: String,
        creds: Arc<Credentials>,
    },
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
        Target::Signed { path, query, creds } => {
            let date = iic_domain::signing::format_sdk_date(iic_domain::clock::now_secs());
            let headers = [
                ("Content-Type", "application/json"),
                ("User-Agent", "huaweicloud-usdk-python/3.0"),
                ("X-Domain-Id", creds.account_id.as_str()),
                ("X-Sdk-Date", date.as_str()),
                ("Host", host),
            ];
            let auth = iic_domain::signing::authorization_for(
                &creds.access_key,
                &creds.secret_key,
                method,
                path,
                query,
                &headers,
                body,
            );
            let uri = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            };
            let mut b = Request::builder().method(method).uri(uri);
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
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// Runs `connections` closed-loop clients against `addr` for `warmup` then `duration`; only
/// requests completed after the warm-up count.
pub async fn run(
    label: &str,
    addr: SocketAddr,
    target: Target,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<Report, String> {
    let host = addr.to_string();
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (target, host) = (target.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let mut samples: Vec<u64> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let req = build_request(&target, &host, "GET", b"");
                let ok = match sender.send_request(req).await {
                    Ok(resp) => {
                        let ok = resp.status().is_success();
                        ok && resp.into_body().collect().await.is_ok()
                    }
                    Err(e) => return Err(e.to_string()),
                };
                let done = Instant::now();
                if sent >= measure_from && done <= end {
                    samples.push(done.duration_since(sent).as_micros() as u64);
                    if !ok {
                        errors += 1;
                    }
                }
            }
            Ok::<_, String>((samples, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (samples, e) = t.await.map_err(|e| e.to_string())??;
        all.extend(samples);
        errors += e;
    }
    all.sort_unstable();
    let seconds = duration.as_secs_f64();
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
