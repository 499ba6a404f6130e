//! Workloads of the OIDC benchmark: starting device authorizations (keeping their device codes),
//! and polling CreateToken for codes nobody approves, so that every answer is
//! `authorization_pending`. The server answers `slow_down` to a code polled again within its
//! interval (at least 1 s), so the polls go round-robin over many codes: with `n` codes a code
//! is polled again only after `n` other polls.

use crate::Workload;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An OIDC client as RegisterClient answered it.
#[derive(Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
}

fn post_json(host: &str, path: &str, body: &serde_json::Value) -> Request<Full<Bytes>> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

/// RegisterClient's body for a public device-flow client.
pub fn register_body() -> serde_json::Value {
    serde_json::json!({
        "client_name": "iic-bench",
        "client_type": "public",
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": [DEVICE_GRANT],
        "response_types": ["code"],
        "scopes": ["openid"],
    })
}

pub fn register_request(host: &str) -> Request<Full<Bytes>> {
    post_json(host, "/v1/clients", &register_body())
}

/// `count` StartDeviceAuthorization calls; the device codes answered are kept in `codes`.
pub struct StartDevices {
    pub client: Client,
    pub start_url: String,
    pub count: usize,
    pub next_index: AtomicUsize,
    pub codes: Mutex<Vec<String>>,
}

impl Workload for StartDevices {
    type State = ();

    fn start(&self, _: usize) {}

    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        if self.next_index.fetch_add(1, Ordering::Relaxed) >= self.count {
            return None;
        }
        let body = serde_json::json!({
            "client_id": self.client.id,
            "client_secret": self.client.secret,
            "start_url": self.start_url,
        });
        Some(post_json(host, "/v1/device/authorize", &body))
    }

    fn answered(&self, _: &mut (), _status: u16, body: &Bytes) {
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["device_code"].as_str().map(str::to_string));
        if let (Some(code), Ok(mut codes)) = (code, self.codes.lock()) {
            codes.push(code);
        }
    }
}

/// CreateToken polls over `codes`, round-robin across all connections. Only an answer naming
/// `authorization_pending` counts as a success; `slow_down` (a code polled too soon) is a
/// failure of the benchmark's pacing and is counted apart.
pub struct PollPending {
    pub client: Client,
    pub codes: Vec<String>,
    pub next_index: AtomicUsize,
    pub slow_downs: AtomicUsize,
}

impl Workload for PollPending {
    type State = ();

    fn start(&self, _: usize) {}

    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        let i = self.next_index.fetch_add(1, Ordering::Relaxed) % self.codes.len().max(1);
        let body = serde_json::json!({
            "client_id": self.client.id,
            "client_secret": self.client.secret,
            "grant_type": DEVICE_GRANT,
            "device_code": self.codes.get(i)?,
        });
        Some(post_json(host, "/v1/tokens", &body))
    }

    fn answered(&self, _: &mut (), _status: u16, body: &Bytes) {
        if contains(body, b"slow_down") {
            self.slow_downs.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn failed(&self, status: u16, body: &Bytes) -> bool {
        !(status == 400 && contains(body, b"\"authorization_pending\""))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_authorization_pending_counts_as_a_success() {
        let w = PollPending {
            client: Client {
                id: "c".into(),
                secret: "s".into(),
            },
            codes: vec!["a".into(), "b".into()],
            next_index: AtomicUsize::new(0),
            slow_downs: AtomicUsize::new(0),
        };
        let pending = Bytes::from_static(br#"{"error":"authorization_pending"}"#);
        let slow = Bytes::from_static(br#"{"error":"slow_down"}"#);
        assert!(!w.failed(400, &pending));
        assert!(w.failed(400, &slow));
        assert!(w.failed(200, &pending));
        w.answered(&mut (), 400, &slow);
        assert_eq!(w.slow_downs.load(Ordering::Relaxed), 1);
    }
}
