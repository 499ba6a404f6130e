//! Workloads of the SCIM benchmark: creating users as a directory pushes them, and looking a
//! user up by `userName` as directories do before every change.

use crate::{build_request, Target, Workload};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The SCIM user name of bench user `n`.
pub fn user_name(n: usize) -> String {
    format!("scim.user.{n:07}")
}

/// Creates users `first..first+count` through SCIM, keeping the first `keep` ids answered.
pub struct CreateUsers {
    pub base: String,
    pub token: String,
    pub first: usize,
    pub count: usize,
    pub keep: usize,
    pub next_index: AtomicUsize,
    pub ids: Mutex<Vec<String>>,
}

impl CreateUsers {
    pub fn new(base: &str, token: &str, first: usize, count: usize, keep: usize) -> Self {
        CreateUsers {
            base: base.to_string(),
            token: token.to_string(),
            first,
            count,
            keep,
            next_index: AtomicUsize::new(0),
            ids: Mutex::new(Vec::new()),
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
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": format!("ext-{n}"),
            "userName": user_name(n),
            "displayName": format!("SCIM User {n}"),
            "name": { "familyName": "User", "givenName": format!("Scim{n}") },
            "emails": [{ "value": format!("scim.user.{n}@example.com"), "type": "work", "primary": true }],
            "active": true,
        })
        .to_string();
        let target = Target::Scim {
            path: format!("{}/Users", self.base),
            query: String::new(),
            token: self.token.clone(),
        };
        Some(build_request(&target, host, "POST", body.as_bytes()))
    }

    fn answered(&self, _: &mut (), status: u16, body: &Bytes) {
        if status != 201 {
            return;
        }
        let mut ids = self.ids.lock();
        if ids.len() < self.keep {
            if let Some(id) = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string))
            {
                ids.push(id);
            }
        }
    }
}

/// `GET /Users?filter=userName eq "…"` over users `0..users`, a different one each time.
pub struct FindByUserName {
    pub base: String,
    pub token: String,
    pub users: usize,
    pub next_index: AtomicUsize,
}

impl Workload for FindByUserName {
    type State = ();

    fn start(&self, _: usize) {}

    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        let i = self.next_index.fetch_add(7919, Ordering::Relaxed) % self.users.max(1);
        let target = Target::Scim {
            path: format!("{}/Users", self.base),
            query: format!("filter=userName%20eq%20%22{}%22", user_name(i)),
            token: self.token.clone(),
        };
        Some(build_request(&target, host, "GET", b""))
    }

    fn failed(&self, status: u16, body: &Bytes) -> bool {
        // Found exactly one.
        status != 200
            || serde_json::from_slice::<serde_json::Value>(body)
                .map_or(true, |v| v["totalResults"] != 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_spread_over_the_users_and_check_one_was_found() {
        let w = FindByUserName {
            base: "/t/scim/v2".into(),
            token: "tok".into(),
            users: 10,
            next_index: AtomicUsize::new(0),
        };
        let a = w.next(&mut (), "h").expect("first");
        let b = w.next(&mut (), "h").expect("second");
        assert_ne!(a.uri(), b.uri());
        assert_eq!(a.headers()["authorization"], "Bearer tok");
        assert!(!w.failed(200, &Bytes::from_static(b"{\"totalResults\":1}")));
        assert!(w.failed(200, &Bytes::from_static(b"{\"totalResults\":0}")));
    }

    #[test]
    fn creation_keeps_the_ids_it_was_asked_to() {
        let w = CreateUsers::new("/t/scim/v2", "tok", 0, 3, 1);
        w.answered(&mut (), 201, &Bytes::from_static(b"{\"id\":\"u1\"}"));
        w.answered(&mut (), 201, &Bytes::from_static(b"{\"id\":\"u2\"}"));
        assert_eq!(*w.ids.lock(), vec!["u1".to_string()]);
        assert!(w.next(&mut (), "h").is_some());
    }
}
