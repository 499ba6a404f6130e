//! Workloads of the directory benchmark: creating users, and walking the user listing page by
//! page (following `next_marker`, starting over at the end), both signed like the identity
//! store client.

use crate::{build_request, Credentials, Target, Workload};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Creates users `first..first+count` (`password_mode` EMAIL), spread over the connections.
pub struct CreateUsers {
    pub creds: Arc<Credentials>,
    pub identity_store_id: String,
    pub first: usize,
    pub count: usize,
    pub next_index: AtomicUsize,
}

impl CreateUsers {
    pub fn new(
        creds: Arc<Credentials>,
        identity_store_id: &str,
        first: usize,
        count: usize,
    ) -> Self {
        CreateUsers {
            creds,
            identity_store_id: identity_store_id.to_string(),
            first,
            count,
            next_index: AtomicUsize::new(0),
        }
    }
}

impl Workload for CreateUsers {
    type State = ();

    fn start(&self, _: usize) {}

    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        let i = self.next_index.fetch_add(1, Ordering::Relaxed);
        if i >= self.count {
            return None;
        }
        let n = self.first + i;
        let body = serde_json::json!({
            "user_name": format!("bench.user.{n:07}"),
            "display_name": format!("Bench User {n}"),
            "password_mode": "EMAIL",
            "name": { "family_name": "User", "given_name": format!("Bench{n}") },
            "emails": [{ "value": format!("bench.user.{n}@example.com"), "type": "work", "primary": true }],
            "title": "Load generator",
        })
        .to_string();
        let target = Target::SignedProject {
            path: format!("/v1/identity-stores/{}/users", self.identity_store_id),
            query: String::new(),
            creds: self.creds.clone(),
        };
        Some(build_request(&target, host, "POST", body.as_bytes()))
    }
}

/// Walks ListUsers pages of 100, each connection from its own start, following the markers.
pub struct WalkUsers {
    pub creds: Arc<Credentials>,
    pub identity_store_id: String,
}

impl Workload for WalkUsers {
    type State = Option<String>;

    fn start(&self, _: usize) -> Option<String> {
        None
    }

    fn next(&self, marker: &mut Option<String>, host: &str) -> Option<Request<Full<Bytes>>> {
        let query = match marker {
            Some(m) => format!("limit=100&marker={m}"),
            None => "limit=100".to_string(),
        };
        let target = Target::SignedProject {
            path: format!("/v1/identity-stores/{}/users", self.identity_store_id),
            query,
            creds: self.creds.clone(),
        };
        Some(build_request(&target, host, "GET", b""))
    }

    fn answered(&self, marker: &mut Option<String>, status: u16, body: &Bytes) {
        *marker = if status == 200 {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["page_info"]["next_marker"].as_str().map(str::to_string))
        } else {
            None
        };
    }
}

/// Creates account assignments: user `i / accounts` on account `i % accounts`, for one set.
pub struct CreateAssignments {
    pub creds: Arc<Credentials>,
    pub instance_id: String,
    pub permission_set_id: String,
    pub users: Vec<String>,
    pub accounts: Vec<String>,
    pub next_index: AtomicUsize,
}

impl Workload for CreateAssignments {
    type State = ();

    fn start(&self, _: usize) {}

    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        let i = self.next_index.fetch_add(1, Ordering::Relaxed);
        let total = self.users.len() * self.accounts.len();
        if i >= total || self.accounts.is_empty() {
            return None;
        }
        let body = serde_json::json!({
            "permission_set_id": self.permission_set_id,
            "principal_id": self.users[i / self.accounts.len()],
            "principal_type": "USER",
            "target_id": self.accounts[i % self.accounts.len()],
            "target_type": "ACCOUNT",
        })
        .to_string();
        let target = Target::Signed {
            path: format!(
                "/v1/instances/{}/account-assignments/create",
                self.instance_id
            ),
            query: String::new(),
            creds: self.creds.clone(),
        };
        Some(build_request(&target, host, "POST", body.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Arc<Credentials> {
        Arc::new(Credentials {
            access_key: "AK".into(),
            secret_key: "SK".into(),
            account_id: "a".into(),
            project_id: "p".into(),
            region: "r".into(),
            security_token: None,
        })
    }

    #[test]
    fn create_users_stops_after_its_count() {
        let w = CreateUsers::new(creds(), "d-0123456789", 10, 2);
        let first = w.next(&mut (), "h").expect("first");
        assert_eq!(first.uri(), "/v1/identity-stores/d-0123456789/users");
        assert_eq!(first.headers()["x-project-id"], "p");
        assert!(w.next(&mut (), "h").is_some());
        assert!(w.next(&mut (), "h").is_none());
    }

    #[test]
    fn walk_follows_markers_and_starts_over() {
        let w = WalkUsers {
            creds: creds(),
            identity_store_id: "d-0123456789".into(),
        };
        let mut state = w.start(0);
        w.answered(
            &mut state,
            200,
            &Bytes::from(r#"{"users":[],"page_info":{"next_marker":"abc","current_count":0}}"#),
        );
        assert_eq!(state.as_deref(), Some("abc"));
        let req = w.next(&mut state, "h").expect("req");
        assert!(req.uri().to_string().ends_with("?limit=100&marker=abc"));
        w.answered(
            &mut state,
            200,
            &Bytes::from(r#"{"users":[],"page_info":{"next_marker":null}}"#),
        );
        assert_eq!(state, None);
    }
}
