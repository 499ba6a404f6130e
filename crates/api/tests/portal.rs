//! The portal API over real assignments (made through the admin API, run through the store) and
//! real access tokens (a session and an approved device grant, made through the store until the
//! sign-in pages exist): listings, temporary credentials that sign real calls, Logout, refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::*;
use iic_domain::oidc::{hash_secret, new_secret, new_user_code, DeviceState};
use iic_domain::session::{issue, Origin};
use iic_store::{Claim, DeviceDecision, DeviceGrant, NewTokens, OidcClient, PollOutcome};
use serde_json::{json, Value};

struct Env {
    f: Fixture,
    app: Router,
    iid: String,
    sid: String,
    uid: String,
    gid: String,
    /// Account id → the agency URNs the user holds there.
    member: String,
    management: String,
}

async fn admin(f: &Fixture, method: &str, path: &str, body: Value) -> Value {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (s, b, _) = call(&f.app, signed(method, path, &body, &f.management, &[])).await;
    assert!(s.is_success(), "{method} {path}: {s} {b}");
    b
}

/// Runs every queued job (assignments, provisioning) now.
async fn run_jobs(f: &Fixture) {
    loop {
        let now = iic_domain::clock::now_millis();
        let jobs = f
            .state
            .store
            .claim_jobs(Claim {
                worker: "test",
                now,
                lease_ms: 60_000,
                limit: 10,
            })
            .await
            .expect("claim");
        if jobs.is_empty() {
            return;
        }
        f.state
            .store
            .apply_requests(&jobs, now)
            .await
            .expect("apply");
    }
}

async fn env() -> Env {
    let f = fixture().await;
    let sid = start_service(&f).await;
    let instances = admin(&f, "GET", "/v1/instances", Value::Null).await;
    let iid = instances["instances"][0]["instance_id"]
        .as_str()
        .unwrap()
        .to_string();
    let store_path = format!("/v1/identity-stores/{sid}");
    let user = json!({
        "user_name": "alice", "display_name": "Alice", "password_mode": "EMAIL",
        "name": {"family_name": "Doe", "given_name": "Alice"},
        "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
    });
    let uid = admin(&f, "POST", &format!("{store_path}/users"), user).await["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let gid = admin(
        &f,
        "POST",
        &format!("{store_path}/groups"),
        json!({"display_name": "ops"}),
    )
    .await["group_id"]
        .as_str()
        .unwrap()
        .to_string();
    admin(
        &f,
        "POST",
        &format!("{store_path}/group-memberships"),
        json!({"group_id": gid, "member_id": {"user_id": uid}}),
    )
    .await;
    let app = iic_api::router(f.state.clone());
    Env {
        member: f.member.0.clone(),
        management: f.management.0.clone(),
        f,
        app,
        iid,
        sid,
        uid,
        gid,
    }
}

impl Env {
    async fn permission_set(&self, name: &str, duration: &str) -> String {
        let b = admin(
            &self.f,
            "POST",
            &format!("/v1/instances/{}/permission-sets", self.iid),
            json!({"name": name, "session_duration": duration}),
        )
        .await;
        b["permission_set"]["permission_set_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn assignment(&self, op: &str, set: &str, principal: (&str, &str), account: &str) {
        admin(
            &self.f,
            "POST",
            &format!("/v1/instances/{}/account-assignments/{op}", self.iid),
            json!({"permission_set_id": set, "principal_type": principal.0,
                   "principal_id": principal.1, "target_type": "ACCOUNT", "target_id": account}),
        )
        .await;
        run_jobs(&self.f).await;
    }

    async fn assign(&self, set: &str, principal: (&str, &str), account: &str) {
        self.assignment("create", set, principal, account).await;
    }

    fn user(&self) -> (&str, &str) {
        ("USER", &self.uid)
    }

    fn group(&self) -> (&str, &str) {
        ("GROUP", &self.gid)
    }

    /// Signs the user in and approves a device grant in that session; returns the access token
    /// and the session id.
    async fn sign_in(&self, token_ttl_ms: i64) -> (String, String) {
        let store = &self.f.state.store;
        let now = iic_domain::clock::now_millis();
        let session = issue(&self.sid, &self.uid, now, 3_600, Origin::default()).session;
        let session_id = store
            .create_session(&session)
            .await
            .expect("session")
            .expect("live");
        let client = OidcClient {
            client_id: iic_domain::oidc::new_client_id(),
            secret_sha256: hash_secret("s"),
            name: "cli".into(),
            client_type: "public".into(),
            scopes: vec!["openid".into()],
            grant_types: vec![iic_domain::oidc::DEVICE_CODE_GRANT.into()],
            issued_at: now,
            expires_at: now + 86_400_000,
        };
        store.register_oidc_client(&client).await.expect("client");
        let device_code = new_secret();
        let grant = DeviceGrant {
            device_code_sha256: hash_secret(&device_code),
            user_code: new_user_code(),
            client_id: client.client_id.clone(),
            instance_id: self.iid.clone(),
            identity_store_id: self.sid.clone(),
            scopes: vec!["openid".into()],
            state: DeviceState::Pending,
            interval_secs: 5,
            last_poll_at: None,
            expires_at: now + 600_000,
            forget_at: now + 1_200_000,
            user_id: None,
            session_id: None,
            created_at: now,
        };
        store.start_device_grant(&grant).await.expect("grant");
        let approve = DeviceDecision::Approve {
            user_id: self.uid.clone(),
            session_id: session_id.clone(),
        };
        store
            .decide_device_grant(&grant.user_code, &approve, now)
            .await
            .expect("decide")
            .expect("pending");
        let access = new_secret();
        let tokens = NewTokens {
            access_sha256: hash_secret(&access),
            refresh_sha256: hash_secret(&new_secret()),
            access_expires_at: now + token_ttl_ms,
            refresh_expires_at: now + 86_400_000,
        };
        let out = store
            .poll_device_grant(&grant.device_code_sha256, &client.client_id, now, &tokens)
            .await
            .expect("poll");
        assert!(matches!(out, PollOutcome::Issued(_)), "{out:?}");
        (access, session_id)
    }

    async fn portal(&self, method: &str, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", HOST);
        if let Some(t) = token {
            b = b.header("access-token", t);
        }
        let (s, body, rid) = call(&self.app, b.body(Body::empty()).unwrap()).await;
        if !s.is_success() {
            assert_eq!(body["request_id"], rid.as_str(), "{body}");
            assert!(body["error_code"].is_string(), "{body}");
            assert!(body["error_msg"].is_string(), "{body}");
        }
        (s, body)
    }

    async fn agencies(&self, token: &str, account: &str) -> Vec<Value> {
        let (s, b) = self
            .portal(
                "GET",
                &format!("/v1/assigned-agencies?account_id={account}"),
                Some(token),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["agency_list"].as_array().unwrap().clone()
    }

    async fn credentials(&self, token: &str, account: &str, urn: &str) -> (StatusCode, Value) {
        let q = format!(
            "/v1/credentials?target_account_id={account}&agency_urn={}",
            urn.replace(':', "%3A")
        );
        self.portal("GET", &q, Some(token)).await
    }

    /// Signs ListInstances with temporary credentials (`token` sent as X-Security-Token).
    async fn list_instances_with(
        &self,
        creds: &Value,
        account: &str,
        token: &str,
    ) -> (StatusCode, Value) {
        let key = (
            account.to_string(),
            creds["access_key_id"].as_str().unwrap().to_string(),
            creds["secret_access_key"].as_str().unwrap().to_string(),
        );
        let (s, b, _) = call(
            &self.app,
            signed(
                "GET",
                "/v1/instances",
                "",
                &key,
                &[("X-Security-Token", token)],
            ),
        )
        .await;
        (s, b)
    }
}

#[tokio::test]
async fn accounts_and_agencies_come_directly_and_through_groups() {
    let e = env().await;
    let (reader, admin_set) = (
        e.permission_set("Reader", "PT2H").await,
        e.permission_set("Admin", "PT1H").await,
    );
    e.assign(&reader, e.user(), &e.member).await;
    e.assign(&admin_set, e.group(), &e.member).await;
    e.assign(&reader, e.group(), &e.member).await;
    e.assign(&admin_set, e.group(), &e.management).await;
    let (token, _) = e.sign_in(3_600_000).await;

    let (s, b) = e.portal("GET", "/v1/assigned-accounts", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let ids: Vec<&str> = b["account_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![e.management.as_str(), e.member.as_str()]);
    assert_eq!(b["account_list"][1]["account_name"], "member");
    assert_eq!(b["page_info"]["current_count"], 2);
    assert!(b["page_info"]["next_marker"].is_null());

    let (s, b) = e
        .portal("GET", "/v1/assigned-accounts?limit=1", Some(&token))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["account_list"][0]["account_id"], e.management.as_str());
    let marker = b["page_info"]["next_marker"].as_str().unwrap();
    let (_, b) = e
        .portal(
            "GET",
            &format!("/v1/assigned-accounts?limit=1&marker={marker}"),
            Some(&token),
        )
        .await;
    assert_eq!(b["account_list"][0]["account_id"], e.member.as_str());
    assert!(b["page_info"]["next_marker"].is_null());
    for bad in ["limit=0", "limit=2001", "marker=0123456789abcdef01234567"] {
        let (s, b) = e
            .portal("GET", &format!("/v1/assigned-accounts?{bad}"), Some(&token))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
    }

    let agencies = e.agencies(&token, &e.member).await;
    let names: Vec<&str> = agencies
        .iter()
        .map(|a| a["permission_set_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Reader", "Admin"], "each set once");
    let digits = reader.strip_prefix("ps-").unwrap();
    assert_eq!(
        agencies[0]["agency_name"],
        format!("IdentityCenter_Reader_{digits}")
    );
    assert_eq!(
        agencies[0]["agency_urn"],
        format!("iam::{}:agency:IdentityCenter_Reader_{digits}", e.member)
    );
    assert_eq!(agencies[0]["account_id"], e.member.as_str());
    let (s, _) = e.portal("GET", "/v1/assigned-agencies", Some(&token)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "account_id is required");
}

#[tokio::test]
async fn temporary_credentials_act_as_the_target_account_until_logout() {
    let e = env().await;
    let set = e.permission_set("Admin", "PT2H").await;
    // The credentials act under the set's policies: the read-only system policy allows the
    // ListInstances below.
    admin(
        &e.f,
        "POST",
        &format!(
            "/v1/instances/{}/permission-sets/{set}/attach-managed-policy",
            e.iid
        ),
        json!({"managed_policy_id": "8a14c1e2f0b34c4f9a0e6f1d2c3b4a51"}),
    )
    .await;
    e.assign(&set, e.group(), &e.management).await;
    e.assign(&set, e.user(), &e.member).await;
    let (token, _) = e.sign_in(3_600_000).await;

    let urn = e.agencies(&token, &e.management).await[0]["agency_urn"]
        .as_str()
        .unwrap()
        .to_string();
    let before = iic_domain::clock::now_secs();
    let (s, b) = e.credentials(&token, &e.management, &urn).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let creds = b["agency_credentials"].clone();
    let expiration = creds["expiration"].as_i64().unwrap();
    assert!(
        (before + 7_200..=before + 7_202).contains(&expiration),
        "Unix seconds, now + PT2H: {expiration}"
    );
    let ak = creds["access_key_id"].as_str().unwrap();
    assert_eq!(ak.len(), 20);
    let security = creds["session_token"].as_str().unwrap().to_string();

    // A real call, signed with them, acting as the management account.
    let (s, b) = e
        .list_instances_with(&creds, &e.management, &security)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["instances"][0]["instance_id"], e.iid.as_str());
    // A tampered token is refused.
    let mut tampered = security.clone().into_bytes();
    tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
    let (s, b) = e
        .list_instances_with(&creds, &e.management, &String::from_utf8(tampered).unwrap())
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, _, _) = call(
        &e.app,
        signed(
            "GET",
            "/v1/instances",
            "",
            &(
                e.management.clone(),
                ak.to_string(),
                creds["secret_access_key"].as_str().unwrap().to_string(),
            ),
            &[],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the token is required");

    // Credentials for the member account authenticate as the member (which the admin API refuses).
    let member_urn = e.agencies(&token, &e.member).await[0]["agency_urn"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = e.credentials(&token, &e.member, &member_urn).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let member_creds = b["agency_credentials"].clone();
    let member_token = member_creds["session_token"].as_str().unwrap().to_string();
    let (s, b) = e
        .list_instances_with(&member_creds, &e.member, &member_token)
        .await;
    assert_eq!(
        (s, b["error_code"].as_str()),
        (StatusCode::FORBIDDEN, Some("IIC.1215")),
        "{b}"
    );

    // Logout: the token and every credential issued in its session stop working.
    let (s, b) = e.portal("POST", "/v1/logout", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = e
        .list_instances_with(&creds, &e.management, &security)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, _) = e
        .list_instances_with(&member_creds, &e.member, &member_token)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = e.portal("GET", "/v1/assigned-accounts", Some(&token)).await;
    assert_eq!(
        (s, b["error_code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("IIC.401"))
    );
}

#[tokio::test]
async fn expired_temporary_credentials_are_refused() {
    let e = env().await;
    let set = e.permission_set("Admin", "PT1H").await;
    e.assign(&set, e.user(), &e.management).await;
    let (token, _) = e.sign_in(3_600_000).await;
    let urn = e.agencies(&token, &e.management).await[0]["agency_urn"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, b) = e.credentials(&token, &e.management, &urn).await;
    let creds = b["agency_credentials"].clone();
    let security = creds["session_token"].as_str().unwrap().to_string();
    // Age the stored credential past its expiry: re-issue the same key as already expired.
    let store = &e.f.state.store;
    let ak = creds["access_key_id"].as_str().unwrap();
    let mut c = store.get_credential(ak).await.unwrap().unwrap();
    store.delete_credential(ak).await.unwrap();
    c.expires_at = Some(iic_domain::clock::now_millis() - 1);
    store.insert_credential(&c).await.unwrap();
    e.f.state.callers.clear();
    let (s, b) = e
        .list_instances_with(&creds, &e.management, &security)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(b["error_msg"].as_str().unwrap().contains("expired"), "{b}");
}

#[tokio::test]
async fn credentials_are_refused_without_an_assignment() {
    let e = env().await;
    let set = e.permission_set("Admin", "PT1H").await;
    let other = e.permission_set("Other", "PT1H").await;
    e.assign(&set, e.user(), &e.member).await;
    e.assign(&other, e.user(), &e.management).await;
    let (token, _) = e.sign_in(3_600_000).await;
    let urn = e.agencies(&token, &e.member).await[0]["agency_urn"]
        .as_str()
        .unwrap()
        .to_string();
    let other_urn = e.agencies(&token, &e.management).await[0]["agency_urn"]
        .as_str()
        .unwrap()
        .to_string();
    let moved = other_urn.replace(&e.management, &e.member);
    for (account, urn) in [
        (&e.management, urn.as_str()),
        (&e.member, moved.as_str()),
        (&e.member, "iam::x:agency:Admin"),
    ] {
        let (s, b) = e.credentials(&token, account, urn).await;
        assert_eq!(
            (s, b["error_code"].as_str()),
            (StatusCode::FORBIDDEN, Some("IIC.1001")),
            "{urn}: {b}"
        );
    }
    assert!(e.agencies(&token, "no-such-account").await.is_empty());
    // Once the assignment goes, so does the right to new credentials.
    e.assignment("delete", &set, e.user(), &e.member).await;
    let (s, _) = e.credentials(&token, &e.member, &urn).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = e
        .portal("GET", "/v1/credentials?agency_urn=x", Some(&token))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "target_account_id is required");
}

#[tokio::test]
async fn every_operation_refuses_a_missing_malformed_expired_or_revoked_token() {
    let e = env().await;
    let (expired, _) = e.sign_in(-1).await;
    let (revoked, _) = e.sign_in(3_600_000).await;
    e.f.state
        .store
        .revoke_oidc_token(&hash_secret(&revoked), iic_domain::clock::now_millis())
        .await
        .unwrap();
    let ops = [
        ("GET", "/v1/assigned-accounts".to_string()),
        (
            "GET",
            format!("/v1/assigned-agencies?account_id={}", e.member),
        ),
        (
            "GET",
            format!(
                "/v1/credentials?target_account_id={0}&agency_urn=iam%3A%3A{0}%3Aagency%3Ax",
                e.member
            ),
        ),
        ("POST", "/v1/logout".to_string()),
    ];
    let unknown = new_secret();
    let long = "a".repeat(4097);
    for (method, path) in &ops {
        for token in [
            None,
            Some("not a token!"),
            Some(long.as_str()),
            Some(unknown.as_str()),
            Some(expired.as_str()),
            Some(revoked.as_str()),
        ] {
            let (s, b) = e.portal(method, path, token).await;
            assert_eq!(
                (s, b["error_code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("IIC.401")),
                "{method} {path} {token:?}: {b}"
            );
        }
    }
}
