//! What is decided before a body is read, and what bounds reading it: the caller's head, the
//! operation's body limit, the content type, the idle timeout and the server-wide budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use common::{call, fixture, fixture_with, signed, Fixture};
use iic_api::Limits;
use std::time::Duration;

const ALIAS: &str = "/v1/instances/ins-0000000000000000/alias";

/// A body that announces `declared` bytes and never sends one.
fn silent_body(mut req: Request<Body>, declared: u64) -> Request<Body> {
    req.headers_mut()
        .insert("content-length", declared.to_string().parse().expect("len"));
    let pending = futures::stream::pending::<Result<Bytes, std::io::Error>>();
    req.map(|_| Body::from_stream(pending))
}

/// Answers within a second, which a request that waited on its silent body could not.
async fn prompt(f: &Fixture, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let (s, b, _) = tokio::time::timeout(Duration::from_secs(1), call(&f.app, req))
        .await
        .expect("answered without reading the body");
    (s, b)
}

#[tokio::test]
async fn a_declared_length_over_the_operation_limit_is_refused_before_reading() {
    let f = fixture().await;
    let req = silent_body(signed("POST", ALIAS, "", &f.management, &[]), 12_000_000);
    let (s, b) = prompt(&f, req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    let limit = iic_api::operations()
        .into_iter()
        .find(|op| op.name == "CreateAlias")
        .map(|op| op.body_limit)
        .expect("operation is routed");
    assert!(
        limit < 100_000,
        "a small operation has a small limit: {limit}"
    );
    assert!(
        b["error_msg"]
            .as_str()
            .unwrap_or_default()
            .contains(&limit.to_string()),
        "{b}"
    );
}

#[tokio::test]
async fn an_unknown_or_unsigned_caller_is_refused_before_reading() {
    let f = fixture().await;
    let unsigned = Request::builder()
        .method("POST")
        .uri(ALIAS)
        .header("content-type", "application/json")
        .body(Body::empty())
        .expect("request");
    let (s, _) = prompt(&f, silent_body(unsigned, 1_000)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let stranger = (
        f.management.0.clone(),
        "NOSUCHKEY".to_string(),
        "secret".to_string(),
    );
    let req = silent_body(signed("POST", ALIAS, "", &stranger, &[]), 1_000);
    let (s, b) = prompt(&f, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["error_msg"]
            .as_str()
            .unwrap_or_default()
            .contains("NOSUCHKEY"),
        "{b}"
    );
}

#[tokio::test]
async fn a_body_of_another_type_is_refused_before_reading() {
    let f = fixture().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        let req = signed(
            "POST",
            ALIAS,
            "",
            &f.management,
            &[("Content-Type", content_type)],
        );
        let (s, b) = prompt(&f, silent_body(req, 100)).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}: {b}");
        assert_eq!(b["error_code"], "IIC.400");
    }
    // Parameters of the media type are fine.
    let req = signed(
        "POST",
        ALIAS,
        r#"{"alias":"acme"}"#,
        &f.management,
        &[("Content-Type", "application/json; charset=utf-8")],
    );
    let (s, b, _) = call(&f.app, req).await;
    assert_ne!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408() {
    let f = fixture_with(Limits {
        body_idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    let req = silent_body(signed("POST", ALIAS, "", &f.management, &[]), 100);
    let (s, b) = prompt(&f, req).await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{b}");
    assert_eq!(b["error_code"], "APIGW.0201");
}

#[tokio::test]
async fn bodies_beyond_the_server_budget_are_answered_429_and_the_budget_comes_back() {
    let f = fixture_with(Limits {
        body_budget_bytes: 1_000,
        body_idle_timeout: Duration::from_secs(5),
        ..Limits::default()
    })
    .await;
    // One stalled body holds most of the budget while it is being read.
    let app = f.app.clone();
    let held = silent_body(signed("POST", ALIAS, "", &f.management, &[]), 900);
    let holder = tokio::spawn(async move { call(&app, held).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(f.state.body_gate.available(), 100);
    let body = format!(r#"{{"alias":"{}"}}"#, "a".repeat(200));
    let (s, b, _) = call(&f.app, signed("POST", ALIAS, &body, &f.management, &[])).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert_eq!(b["error_code"], "APIGW.0308");
    holder.abort();
    let _ = holder.await;
    assert_eq!(f.state.body_gate.available(), 1_000);
    let (s, b, _) = call(&f.app, signed("POST", ALIAS, &body, &f.management, &[])).await;
    assert_ne!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
}
