//! ListSessions and BatchDeleteSessions over real sessions, which only the store can create
//! until the sign-in pages exist; and what disabling or deleting a user does to them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::*;
use iic_domain::session::{issue, IssuedSession, Origin};
use serde_json::{json, Value};

struct Env {
    f: Fixture,
    sid: String,
    uid: String,
}

async fn env() -> Env {
    let f = fixture().await;
    let sid = start_service(&f).await;
    let user = json!({
        "user_name": "alice",
        "display_name": "Alice",
        "password_mode": "EMAIL",
        "name": {"family_name": "Doe", "given_name": "Alice"},
        "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
    })
    .to_string();
    let (s, b, _) = call(
        &f.app,
        signed(
            "POST",
            &format!("/v1/identity-stores/{sid}/users"),
            &user,
            &f.management,
            &[],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let uid = b["user_id"].as_str().expect("user id").to_string();
    Env { f, sid, uid }
}

impl Env {
    async fn sign_in(&self, ip: &str, age_secs: i64) -> IssuedSession {
        let now = iic_domain::clock::now_millis();
        let issued = issue(
            &self.sid,
            &self.uid,
            now,
            age_secs,
            Origin {
                ip_address: Some(ip.into()),
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            },
        );
        let stored = self
            .f
            .state
            .store
            .create_session(&issued.session)
            .await
            .expect("store");
        assert_eq!(stored.as_deref(), Some(issued.session.session_id.as_str()));
        issued
    }

    fn path(&self, rest: &str) -> String {
        format!("/v1/identity-stores/{}/users/{}/{rest}", self.sid, self.uid)
    }

    async fn list(&self) -> Value {
        let (s, b, _) = call(
            &self.f.app,
            signed("GET", &self.path("sessions"), "", &self.f.management, &[]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    async fn batch_delete(&self, ids: &[&str]) -> (StatusCode, Value) {
        let body = json!({ "session_ids": ids }).to_string();
        let (s, b, _) = call(
            &self.f.app,
            signed(
                "POST",
                &self.path("sessions/batch-delete"),
                &body,
                &self.f.management,
                &[],
            ),
        )
        .await;
        (s, b)
    }

    async fn is_live(&self, issued: &IssuedSession) -> bool {
        let now = iic_domain::clock::now_millis();
        self.f
            .state
            .store
            .session_for_cookie(&issued.cookie, now)
            .await
            .expect("read")
            .is_some()
    }

    async fn user_call(&self, method: &str, rest: &str) -> StatusCode {
        let path = format!("/v1/identity-stores/{}/users/{}{rest}", self.sid, self.uid);
        let (s, b, _) = call(
            &self.f.app,
            signed(method, &path, "", &self.f.management, &[]),
        )
        .await;
        assert!(s.is_success(), "{b}");
        s
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["session_list"]
        .as_array()
        .expect("session_list")
        .iter()
        .map(|s| s["session_id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn sessions_are_listed_with_every_catalogued_field() {
    let e = env().await;
    assert_eq!(e.list().await, json!({ "session_list": [] }));
    let first = e.sign_in("192.0.2.1", 3_600).await;
    let second = e.sign_in("198.51.100.2", 8 * 3_600).await;
    let list = e.list().await;
    assert_eq!(
        ids(&list),
        vec![
            first.session.session_id.clone(),
            second.session.session_id.clone()
        ]
    );
    let shown = &list["session_list"][0];
    assert_eq!(
        shown,
        &json!({
            "session_id": first.session.session_id,
            "user_id": e.uid,
            "creation_time": first.session.created_at,
            "session_not_valid_after": first.session.created_at + 3_600_000,
            "ip_address": "192.0.2.1",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        })
    );
    assert!(
        !list.to_string().contains(&first.cookie[33..]),
        "the cookie secret is never shown"
    );
}

#[tokio::test]
async fn batch_delete_ends_the_named_sessions_and_passes_over_unknown_ids() {
    let e = env().await;
    let keep = e.sign_in("192.0.2.1", 3_600).await;
    let end = e.sign_in("192.0.2.2", 3_600).await;
    let (s, b) = e
        .batch_delete(&[&end.session.session_id, "0123456789abcdef0123456789abcdef"])
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, Value::Null, "no body");
    assert_eq!(ids(&e.list().await), vec![keep.session.session_id.clone()]);
    assert!(!e.is_live(&end).await, "its browser is signed out");
    assert!(e.is_live(&keep).await);
    let (s, _) = e.batch_delete(&[&end.session.session_id]).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "ending an ended session again is not an error"
    );
    let (s, b) = e.batch_delete(&[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["error_msg"]
        .as_str()
        .unwrap_or("")
        .contains("session_ids"));
}

#[tokio::test]
async fn a_session_past_its_end_is_not_listed() {
    let e = env().await;
    let now = iic_domain::clock::now_millis();
    let old = issue(&e.sid, &e.uid, now - 7_200_000, 3_600, Origin::default());
    e.f.state
        .store
        .create_session(&old.session)
        .await
        .expect("store");
    assert_eq!(e.list().await, json!({ "session_list": [] }));
}

#[tokio::test]
async fn disabling_or_deleting_the_user_ends_its_sessions() {
    let e = env().await;
    let s = e.sign_in("192.0.2.1", 3_600).await;
    e.user_call("POST", "/disable").await;
    assert!(!e.is_live(&s).await);
    assert_eq!(e.list().await, json!({ "session_list": [] }));
    e.user_call("POST", "/enable").await;
    assert!(
        !e.is_live(&s).await,
        "enabling again does not revive a session"
    );
    let again = e.sign_in("192.0.2.1", 3_600).await;
    assert!(e.is_live(&again).await);
    e.user_call("DELETE", "").await;
    assert!(!e.is_live(&again).await);
    let (status, b, _) = call(
        &e.f.app,
        signed("GET", &e.path("sessions"), "", &e.f.management, &[]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error_code"], "IIC.404");
}

#[tokio::test]
async fn member_accounts_cannot_list_or_end_sessions() {
    let e = env().await;
    let (s, b, _) = call(
        &e.f.app,
        signed("GET", &e.path("sessions"), "", &e.f.member, &[]),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["error_code"], "IIC.1215");
}
