//! The OIDC API over HTTP, in process: unsigned operations through the same admission steps,
//! and the device flow to its end — approved through the store (the sign-in pages come later),
//! redeemed once, refreshed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{call, fixture_with, Fixture};
use iic_api::oidc::OidcSettings;
use iic_api::Limits;
use iic_domain::oidc::normalize_user_code;
use iic_store::{DeviceDecision, Instance};
use serde_json::{json, Value};

const PUBLIC: &str = "http://127.0.0.1:8080";
const STORE_ID: &str = "d-0123456789";

async fn oidc_fixture(settings: OidcSettings) -> (Fixture, axum::Router) {
    let f = fixture_with(Limits {
        oidc: settings,
        ..Limits::default()
    })
    .await;
    f.state
        .store
        .create_instance_if_absent(&Instance {
            seq: 0,
            instance_id: "ins-0123456789abcdef".into(),
            identity_store_id: STORE_ID.into(),
            organization_id: "o-".to_string() + &"c".repeat(32),
            region: "cn-north-4".into(),
            alias: Some("corp".into()),
            created_at: 0,
        })
        .await
        .expect("instance");
    let app = iic_api::router(f.state.clone());
    (f, app)
}

/// A user of the fixture's identity store signed in for an hour: tokens live only as long as the
/// session they were issued under. Returns the user id and the session id.
async fn live_session(f: &Fixture) -> (String, String) {
    let profile: iic_domain::directory::user::UserProfile = serde_json::from_value(json!({
        "user_name": "ada",
        "display_name": "Ada",
        "name": {"family_name": "Doe", "given_name": "Ada"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
    }))
    .expect("profile");
    let user = iic_store::User {
        seq: 0,
        user_id: iic_domain::directory::principal_id(STORE_ID),
        identity_store_id: STORE_ID.into(),
        profile,
        external_ids: vec![],
        enabled: true,
        email_verified: false,
        password_hash: None,
        password_reset_email_owed: false,
        password_must_change: false,
        active_assigned: true,
        created_at: 0,
        created_by: "test".into(),
        updated_at: 0,
        updated_by: "test".into(),
    };
    f.state.store.create_user(&user, 10).await.expect("user");
    let now = iic_domain::clock::now_millis();
    let issued = iic_domain::session::issue(
        STORE_ID,
        &user.user_id,
        now,
        3_600,
        iic_domain::session::Origin::default(),
    );
    f.state
        .store
        .create_session(&issued.session)
        .await
        .expect("session")
        .expect("stored");
    (user.user_id, issued.session.session_id)
}

fn settings() -> OidcSettings {
    OidcSettings {
        public_url: PUBLIC.into(),
        poll_interval_secs: 1,
        ..OidcSettings::default()
    }
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn register(app: &axum::Router) -> (String, String) {
    register_for(app, &[DEVICE_GRANT]).await
}

async fn register_for(app: &axum::Router, grants: &[&str]) -> (String, String) {
    let (s, b, _) = call(
        app,
        post(
            "/v1/clients",
            &json!({"client_name": "cli", "client_type": "public",
                    "token_endpoint_auth_method": "client_secret_post",
                    "grant_types": grants,
                    "response_types": ["code"], "scopes": ["openid"]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let info = &b["client_info"];
    assert_eq!(info["token_endpoint"], format!("{PUBLIC}/v1/tokens"));
    assert!(
        info["client_secret_expires_at"].as_i64().unwrap()
            >= info["client_id_issued_at"].as_i64().unwrap()
    );
    (
        info["client_id"].as_str().unwrap().to_string(),
        info["client_secret"].as_str().unwrap().to_string(),
    )
}

async fn start(app: &axum::Router, id: &str, secret: &str, start_url: &str) -> (StatusCode, Value) {
    let (s, b, _) = call(
        app,
        post(
            "/v1/device/authorize",
            &json!({"client_id": id, "client_secret": secret, "start_url": start_url}),
        ),
    )
    .await;
    (s, b)
}

async fn token(app: &axum::Router, body: Value) -> (StatusCode, Value) {
    let (s, b, _) = call(app, post("/v1/tokens", &body)).await;
    (s, b)
}

fn device_poll(id: &str, secret: &str, code: &str) -> Value {
    json!({"client_id": id, "client_secret": secret, "device_code": code,
           "grant_type": "urn:ietf:params:oauth:grant-type:device_code"})
}

fn oauth_error(b: &Value) -> &str {
    assert_eq!(b["error_code"], "IIC.400", "{b}");
    assert!(
        b["request_id"].as_str().is_some_and(|r| r.len() == 32),
        "{b}"
    );
    b["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_device_flow_issues_once_and_refreshes() {
    let (f, app) = oidc_fixture(settings()).await;
    let (id, secret) = register(&app).await;
    let (s, d) = start(&app, &id, &secret, &format!("{PUBLIC}/corp/portal")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(
        d["verification_uri"],
        format!("{PUBLIC}/corp/portal/device")
    );
    assert_eq!(d["interval"], 1);
    assert_eq!(d["expires_in"], 600);
    let user_code = d["user_code"].as_str().unwrap();
    assert_eq!(
        d["verification_uri_complete"],
        format!("{PUBLIC}/corp/portal/device?user_code={user_code}")
    );
    let device_code = d["device_code"].as_str().unwrap().to_string();

    let (s, b) = token(&app, device_poll(&id, &secret, &device_code)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&b), "authorization_pending");
    let (_, b) = token(&app, device_poll(&id, &secret, &device_code)).await;
    assert_eq!(oauth_error(&b), "slow_down");

    // The user approves, typing the code in lowercase without its dash.
    let (user_id, session_id) = live_session(&f).await;
    let typed = user_code.replace('-', "").to_lowercase();
    let stored = normalize_user_code(&typed).expect("a user code");
    let approved = f
        .state
        .store
        .decide_device_grant(
            &stored,
            &DeviceDecision::Approve {
                user_id: user_id.clone(),
                session_id: session_id.clone(),
            },
            iic_domain::clock::now_millis(),
        )
        .await
        .expect("decide")
        .expect("a pending grant");
    assert_eq!(approved.identity_store_id, STORE_ID);

    // The slow_down grew the interval to 6 s, but only a pending grant is slowed down: the
    // next poll of the approved one redeems it.
    let (s, b) = token(&app, device_poll(&id, &secret, &device_code)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let info = &b["token_info"];
    assert_eq!(info["token_type"], "BearerToken");
    assert_eq!(info["expires_in"], 3600);
    let access = info["access_token"].as_str().unwrap().to_string();
    let refresh = info["refresh_token"].as_str().unwrap().to_string();
    let now = iic_domain::clock::now_millis();
    let live = f
        .state
        .store
        .get_access_token(&iic_domain::oidc::hash_secret(&access), now)
        .await
        .expect("lookup")
        .expect("live");
    assert_eq!(
        (live.user_id.as_str(), live.session_id.as_deref()),
        (user_id.as_str(), Some(session_id.as_str()))
    );

    let (_, b) = token(&app, device_poll(&id, &secret, &device_code)).await;
    assert_eq!(oauth_error(&b), "invalid_grant", "single use");

    let refresh_body = |r: &str| {
        json!({"client_id": id, "client_secret": secret, "grant_type": "refresh_token",
               "refresh_token": r})
    };
    let (s, b) = token(&app, refresh_body(&refresh)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let access2 = b["token_info"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(access2, access);
    let store = &f.state.store;
    for a in [&access, &access2] {
        assert!(
            store
                .get_access_token(&iic_domain::oidc::hash_secret(a), now)
                .await
                .expect("lookup")
                .is_some(),
            "a refresh leaves earlier access tokens valid"
        );
    }
    let (_, b) = token(&app, refresh_body(&refresh)).await;
    assert_eq!(
        oauth_error(&b),
        "invalid_grant",
        "a refresh token is spent once"
    );
}

#[tokio::test]
async fn client_and_request_errors_carry_oauth_codes() {
    let (_f, app) = oidc_fixture(settings()).await;
    let (id, secret) = register(&app).await;
    let (_, b) = token(&app, device_poll(&id, "wrong", "abc")).await;
    assert_eq!(oauth_error(&b), "invalid_client");
    let (_, b) = token(&app, device_poll("oc-nosuch", &secret, "abc")).await;
    assert_eq!(oauth_error(&b), "invalid_client");
    let (_, b) = token(&app, device_poll(&id, &secret, "abc")).await;
    assert_eq!(oauth_error(&b), "invalid_grant");
    let mut scoped = device_poll(&id, &secret, "abc");
    scoped["scopes"] = json!(["openid", "admin"]);
    let (_, b) = token(&app, scoped).await;
    assert_eq!(oauth_error(&b), "invalid_scope");
    let (_, b) = token(
        &app,
        json!({"client_id": id, "client_secret": secret, "grant_type": "password"}),
    )
    .await;
    assert_eq!(oauth_error(&b), "unsupported_grant_type");
    let (s, b) = token(&app, device_poll(&id, &secret, "NOT-LOWER")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&b), "invalid_request");
    assert!(
        b["error_msg"].as_str().unwrap().contains("device_code"),
        "{b}"
    );
    let (_, b, _) = call(&app, post("/v1/tokens", &json!([1]))).await;
    assert_eq!(oauth_error(&b), "invalid_request");

    let (s, b) = start(&app, &id, &secret, "http://elsewhere.test/corp/portal").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["error_msg"].as_str().unwrap().contains("start_url"),
        "{b}"
    );
    let (s, _) = start(&app, &id, &secret, &format!("{PUBLIC}/d-9999999999/portal")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, d) = start(&app, &id, &secret, &format!("{PUBLIC}/{STORE_ID}/portal/")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let (_, b) = start(&app, &id, "wrong", &format!("{PUBLIC}/corp/portal")).await;
    assert_eq!(oauth_error(&b), "invalid_client");

    // A client uses only the grants it registered (and refresh, which any grant leads to).
    let (_, b) = token(
        &app,
        json!({"client_id": id, "client_secret": secret, "grant_type": "authorization_code",
               "code": "abc", "redirect_uri": "http://127.0.0.1:9999/cb"}),
    )
    .await;
    assert_eq!(oauth_error(&b), "unauthorized_client");
    let (web, web_secret) = register_for(&app, &["authorization_code"]).await;
    let (s, b) = start(&app, &web, &web_secret, &format!("{PUBLIC}/corp/portal")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&b), "unauthorized_client");
    let (_, b) = token(&app, device_poll(&web, &web_secret, "abc")).await;
    assert_eq!(oauth_error(&b), "unauthorized_client");
}

#[tokio::test]
async fn unsigned_operations_keep_the_body_rules() {
    let (_f, app) = oidc_fixture(settings()).await;
    let req = Request::builder()
        .method("POST")
        .uri("/v1/clients")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .expect("request");
    let (s, b, _) = call(&app, req).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
    let big = json!({"client_name": "x".repeat(70_000)});
    let (s, _, _) = call(&app, post("/v1/clients", &big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, b, _) = call(
        &app,
        post(
            "/v1/clients",
            &json!({"client_name": "cli", "client_type": "confidential",
                    "token_endpoint_auth_method": "client_secret_post",
                    "grant_types": ["authorization_code"], "response_types": ["code"]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        b["error_msg"]
            .as_str()
            .unwrap()
            .contains("client_type must be public"),
        "{b}"
    );
    // A signed-only operation still refuses an unsigned request.
    let (s, _, _) = call(
        &app,
        post(
            "/v1/instances/ins-0123456789abcdef/alias",
            &json!({"alias": "x"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn registrations_are_rate_limited_per_address() {
    let (_f, app) = oidc_fixture(OidcSettings {
        rate_per_minute: 2,
        ..settings()
    })
    .await;
    register(&app).await;
    let (id, secret) = register(&app).await;
    let (s, b) = start(&app, &id, &secret, &format!("{PUBLIC}/corp/portal")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert!(
        b["error_code"].as_str().is_some() && b["request_id"].as_str().is_some(),
        "{b}"
    );
}

#[tokio::test]
async fn an_expired_device_code_says_so() {
    let (f, app) = oidc_fixture(OidcSettings {
        device_code_ttl_secs: 1,
        ..settings()
    })
    .await;
    let (id, secret) = register(&app).await;
    let (_, d) = start(&app, &id, &secret, &format!("{PUBLIC}/corp/portal")).await;
    let code = d["device_code"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (_, b) = token(&app, device_poll(&id, &secret, &code)).await;
    assert_eq!(oauth_error(&b), "expired_token");
    let (_, b) = token(&app, device_poll(&id, &secret, &code)).await;
    assert_eq!(oauth_error(&b), "expired_token", "and keeps saying so");
    let swept = f
        .state
        .store
        .sweep_oidc(iic_domain::clock::now_millis())
        .await
        .expect("sweep");
    assert_eq!(swept.device_grants, 0, "kept for another lifetime");
    let swept = f
        .state
        .store
        .sweep_oidc(iic_domain::clock::now_millis() + 1_000)
        .await
        .expect("sweep");
    assert_eq!(swept.device_grants, 1);
    let (_, b) = token(&app, device_poll(&id, &secret, &code)).await;
    assert_eq!(oauth_error(&b), "invalid_grant", "forgotten");
}

#[tokio::test]
async fn an_expired_client_is_an_invalid_client() {
    let (_f, app) = oidc_fixture(OidcSettings {
        client_ttl_secs: 0,
        ..settings()
    })
    .await;
    let (id, secret) = register(&app).await;
    let (_, b) = start(&app, &id, &secret, &format!("{PUBLIC}/corp/portal")).await;
    assert_eq!(oauth_error(&b), "invalid_client");
    let (_, b) = token(&app, device_poll(&id, &secret, "abc")).await;
    assert_eq!(oauth_error(&b), "invalid_client");
}

#[tokio::test]
async fn an_authorization_code_is_redeemed_with_its_pkce_verifier() {
    let (f, app) = oidc_fixture(settings()).await;
    let (id, secret) = register_for(&app, &[DEVICE_GRANT, "authorization_code"]).await;
    let code = iic_domain::oidc::new_secret();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let (user_id, session_id) = live_session(&f).await;
    f.state
        .store
        .create_auth_code(&iic_store::AuthCode {
            code_sha256: iic_domain::oidc::hash_secret(&code),
            client_id: id.clone(),
            redirect_uri: "http://127.0.0.1:9999/cb".into(),
            code_challenge: Some(iic_domain::oidc::pkce::s256_challenge(verifier)),
            instance_id: "ins-0123456789abcdef".into(),
            identity_store_id: STORE_ID.into(),
            user_id,
            session_id,
            scopes: vec!["openid".into()],
            expires_at: iic_domain::clock::now_millis() + 60_000,
        })
        .await
        .expect("code");
    let body = |v: &str| {
        json!({"client_id": id, "client_secret": secret, "grant_type": "authorization_code",
               "code": code, "redirect_uri": "http://127.0.0.1:9999/cb", "code_verifier": v})
    };
    let (s, b) = token(&app, body("x")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&b), "invalid_request");
    assert!(
        b["error_msg"].as_str().unwrap().contains("code_verifier"),
        "{b}"
    );
    let (s, b) = token(&app, body(verifier)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b["token_info"]["refresh_token"].as_str().is_some());
    let (_, b) = token(&app, body(verifier)).await;
    assert_eq!(oauth_error(&b), "invalid_grant", "single use");
}
