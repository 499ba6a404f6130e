//! What the HTTP-level tests share: an app over a fresh SQLite store with a management and a
//! member account, requests signed as the SDK signs them, and answers read back as JSON.
// Test helpers may fail the test by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use iic_api::extract::{JsonBody, Path};
use iic_api::{AppState, Limits, Op, Routes, Service};
use iic_domain::crypto::MasterKey;
use iic_domain::signing::{authorization_for, format_sdk_date};
use iic_store::{Account, BootstrapPlan, Credential, Organization, Project, Root, SharedStore};
use serde_json::Value;
use tower::ServiceExt;

pub const HOST: &str = "127.0.0.1:8080";

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub master: MasterKey,
    pub state: AppState,
    pub app: Router,
    pub management: (String, String, String),
    pub member: (String, String, String),
}

pub fn credential(state: &AppState, account: &str, ak: &str, sk: &str) -> Credential {
    Credential {
        access_key: ak.into(),
        account_id: account.into(),
        secret_sealed: state.keys.credentials.seal(sk.as_bytes(), ak.as_bytes()),
        security_token_sha256: None,
        expires_at: None,
        created_at: 0,
    }
}

async fn boom() -> &'static str {
    panic!("boom")
}

/// Answers what it was sent: the path id and the JSON body, read by the same extractors every
/// operation uses.
async fn echo(Path(id): Path<String>, JsonBody(body): JsonBody<Echo>) -> axum::Json<Value> {
    axum::Json(serde_json::json!({ "id": id, "body": body }))
}

/// A typed body, as every operation's is.
#[derive(serde::Deserialize, serde::Serialize)]
struct Echo {
    a: Option<i64>,
    description: Option<String>,
    tags: Option<Vec<EchoTag>>,
}

#[derive(serde::Deserialize, serde::Serialize)]
struct EchoTag {
    key: String,
    value: String,
}

pub async fn fixture() -> Fixture {
    fixture_with(Limits::default()).await
}

pub async fn fixture_with(limits: Limits) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: SharedStore =
        iic_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .expect("store");
    let master = MasterKey::generate();
    let state = AppState::new(store.clone(), &master, "cn-north-4", limits);
    let (mgmt, member, org) = (
        "a".repeat(32),
        "b".repeat(32),
        "o-".to_string() + &"c".repeat(32),
    );
    store
        .bootstrap(&BootstrapPlan {
            organization: Organization {
                id: org.clone(),
                management_account_id: mgmt.clone(),
                created_at: 0,
            },
            root: Root {
                id: "r-0000aaaa".into(),
                organization_id: org.clone(),
                name: "root".into(),
                created_at: 0,
            },
            account: Account {
                id: mgmt.clone(),
                name: "management".into(),
                organization_id: Some(org.clone()),
                parent_id: Some("r-0000aaaa".into()),
                ..Default::default()
            },
            project: Project {
                id: "d".repeat(32),
                account_id: mgmt.clone(),
                region: "cn-north-4".into(),
            },
            credential: credential(&state, &mgmt, "MGMTKEY", "mgmt-secret"),
        })
        .await
        .expect("bootstrap");
    store
        .insert_account(&Account {
            id: member.clone(),
            name: "member".into(),
            organization_id: Some(org),
            parent_id: Some("r-0000aaaa".into()),
            ..Default::default()
        })
        .await
        .expect("member");
    store
        .insert_credential(&credential(&state, &member, "MEMBERKEY", "member-secret"))
        .await
        .expect("member key");
    let app = iic_api::app(
        state.clone(),
        iic_api::identity_center::routes()
            .merge(iic_api::identity_store::routes())
            .merge(iic_api::scim::routes())
            .merge(
                Routes::new(Service::IdentityCenter)
                    .add(Op::get("TestPanic", "/test/panic"), boom)
                    .add(Op::post("TestEcho", "/test/echo/{id}"), echo),
            ),
    );
    Fixture {
        _dir: dir,
        master,
        state,
        app,
        management: (mgmt, "MGMTKEY".into(), "mgmt-secret".into()),
        member: (member, "MEMBERKEY".into(), "member-secret".into()),
    }
}

/// A request signed like the SDK signs it.
pub fn signed(
    method: &str,
    path_and_query: &str,
    body: &str,
    (account, ak, sk): &(String, String, String),
    extra: &[(&str, &str)],
) -> Request<Body> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let date = format_sdk_date(iic_domain::clock::now_secs());
    let mut headers: Vec<(&str, &str)> = vec![
        ("Content-Type", "application/json"),
        ("Host", HOST),
        ("X-Domain-Id", account),
        ("X-Sdk-Date", &date),
    ];
    headers.retain(|(name, _)| !extra.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
    headers.extend_from_slice(extra);
    let auth = authorization_for(ak, sk, method, path, query, &headers, body.as_bytes());
    let mut b = Request::builder().method(method).uri(path_and_query);
    for (k, v) in &headers {
        b = b.header(*k, *v);
    }
    b.header("Authorization", auth)
        .body(Body::from(body.to_string()))
        .expect("request")
}

pub async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Value, String) {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let rid = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("json body")
    };
    (status, json, rid)
}

/// Starts the service as the management account; returns the identity store id of its instance.
pub async fn start_service(f: &Fixture) -> String {
    let (s, b, _) = call(
        &f.app,
        signed("POST", "/v1/service/start", "", &f.management, &[]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, body, _) = call(
        &f.app,
        signed("GET", "/v1/instances", "", &f.management, &[]),
    )
    .await;
    body["instances"][0]["identity_store_id"]
        .as_str()
        .expect("store id")
        .to_string()
}
