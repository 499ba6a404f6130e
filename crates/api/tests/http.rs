//! HTTP-level tests of the pipeline: signature verification, temporary credentials, the caller
//! authorization of the admin API, the envelope, panics.
// Test helpers outside #[test] functions may fail the test by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{call, credential, fixture, signed, Fixture};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn management_account_is_served() {
    let f = fixture().await;
    let (status, body, rid) = call(
        &f.app,
        signed("GET", "/v1/instances?limit=10", "", &f.management, &[]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["instances"], Value::Array(vec![]));
    assert_eq!(body["page_info"]["current_count"], 0);
    assert!(body["page_info"]["next_marker"].is_null());
    assert_eq!(rid.len(), 32);
}

#[tokio::test]
async fn member_account_is_refused_with_a_decodable_authorization_message() {
    let f = fixture().await;
    let (status, body, rid) =
        call(&f.app, signed("GET", "/v1/instances", "", &f.member, &[])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error_code"], "IIC.1215");
    assert_eq!(body["error_msg"], iic_domain::error::NOT_ADMIN_MESSAGE);
    assert_eq!(body["request_id"], rid.as_str());
    let blob = body["encoded_authorization_message"]
        .as_str()
        .expect("encoded_authorization_message");
    let keys = iic_api::ServerKeys::derive(&f.master);
    let ctx = iic_domain::authz::decode(&keys.authorization, blob).expect("decodes");
    assert_eq!(ctx.account_id, f.member.0);
    assert_eq!(ctx.access_key, "MEMBERKEY");
    assert_eq!(ctx.action, "IdentityCenter:instance:list");
    assert_eq!(ctx.path, "/v1/instances");
    assert_eq!(ctx.request_id, rid);
    assert!(ctx
        .reason
        .contains("neither its management account nor a delegated administrator"));
}

async fn insert_temporary(f: &Fixture, token: &str, expires_at: i64) {
    let mut cred = credential(&f.state, &f.management.0, "TEMPKEY", "temp-secret");
    cred.security_token_sha256 = Some(hex::encode(Sha256::digest(token.as_bytes())));
    cred.expires_at = Some(expires_at);
    f.state
        .store
        .insert_credential(&cred)
        .await
        .expect("temp key");
}

#[tokio::test]
async fn temporary_credentials_need_their_token_and_expire() {
    let f = fixture().await;
    let now = iic_domain::clock::now_millis();
    insert_temporary(&f, "good-token", now + 60_000).await;
    let temp = (
        f.management.0.clone(),
        "TEMPKEY".to_string(),
        "temp-secret".to_string(),
    );

    // Authenticated, but issued outside the portal: it acts under no agency, so no policy
    // allows it anything.
    let (s, b, _) = call(
        &f.app,
        signed(
            "GET",
            "/v1/instances",
            "",
            &temp,
            &[("X-Security-Token", "good-token")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["error_code"], "IIC.1000");
    let keys = iic_api::ServerKeys::derive(&f.master);
    let blob = b["encoded_authorization_message"].as_str().unwrap_or("");
    let ctx = iic_domain::authz::decode(&keys.authorization, blob).expect("decodes");
    let story = ctx.policy.expect("a policy story");
    assert_eq!(story.decision, "denied: the agency has no policies");
    assert_eq!(story.resources, ["*"]);

    let (s, b, _) = call(&f.app, signed("GET", "/v1/instances", "", &temp, &[])).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b["error_msg"]
        .as_str()
        .unwrap_or("")
        .contains("X-Security-Token"));

    let (s, b, _) = call(
        &f.app,
        signed(
            "GET",
            "/v1/instances",
            "",
            &temp,
            &[("X-Security-Token", "bad-token")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b["error_msg"]
        .as_str()
        .unwrap_or("")
        .contains("security token"));

    let (s, b, _) = call(
        &f.app,
        signed(
            "GET",
            "/v1/instances",
            "",
            &f.management,
            &[("X-Security-Token", "good-token")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
}

#[tokio::test]
async fn expired_security_token_is_refused() {
    let f = fixture().await;
    insert_temporary(&f, "old-token", iic_domain::clock::now_millis() - 1).await;
    let temp = (
        f.management.0.clone(),
        "TEMPKEY".to_string(),
        "temp-secret".to_string(),
    );
    let (s, b, _) = call(
        &f.app,
        signed(
            "GET",
            "/v1/instances",
            "",
            &temp,
            &[("X-Security-Token", "old-token")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error_code"], "APIGW.0301");
    assert!(
        b["error_msg"].as_str().unwrap_or("").contains("expired"),
        "{b}"
    );
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let f = fixture().await;
    let (s, b, rid) = call(&f.app, signed("GET", "/test/panic", "", &f.management, &[])).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(b["error_code"], "IIC.500");
    assert_eq!(b["request_id"], rid.as_str());
    let (s, _, _) = call(
        &f.app,
        signed("GET", "/v1/instances", "", &f.management, &[]),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_signed_route_refuses_an_unsigned_request_even_when_its_handler_ignores_the_caller() {
    let f = fixture().await;
    // The panicking test handler takes no Caller: the route itself must refuse.
    let req = Request::builder()
        .method("GET")
        .uri("/test/panic")
        .body(Body::empty())
        .expect("request");
    let (s, b, rid) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert_eq!(b["error_code"], "APIGW.0301");
    assert!(
        b["error_msg"]
            .as_str()
            .unwrap_or("")
            .contains("Authorization"),
        "{b}"
    );
    assert_eq!(b["request_id"], rid.as_str());
    // Unknown paths and wrong methods answer before any signature is asked for.
    let unknown = Request::builder()
        .uri("/v1/nothing-here")
        .body(Body::empty())
        .expect("request");
    assert_eq!(call(&f.app, unknown).await.0, StatusCode::NOT_FOUND);
    let wrong_method = Request::builder()
        .method("PUT")
        .uri("/v1/instances")
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        call(&f.app, wrong_method).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn signed_headers_must_cover_host_and_date() {
    let f = fixture().await;
    let mut req = signed("GET", "/v1/instances", "", &f.management, &[]);
    let auth = req.headers()["authorization"]
        .to_str()
        .expect("ascii")
        .to_string();
    let tampered = auth.replace(
        "SignedHeaders=content-type;host;x-domain-id;x-sdk-date",
        "SignedHeaders=content-type;x-domain-id;x-sdk-date",
    );
    assert_ne!(auth, tampered);
    req.headers_mut()
        .insert("authorization", tampered.parse().expect("header"));
    let (s, b, _) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["error_msg"].as_str().unwrap_or("").contains("host"),
        "{b}"
    );
}

#[tokio::test]
async fn a_json_body_is_always_covered_by_the_signature() {
    let f = fixture().await;
    let unsigned = [("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")];
    let req = signed(
        "POST",
        "/v1/instances/ins-0000000000000000/alias",
        r#"{"alias": "acme"}"#,
        &f.management,
        &unsigned,
    );
    let (s, b, _) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(
        b["error_msg"].as_str().unwrap_or("").contains("signature"),
        "{b}"
    );
    // A body that is not JSON, signed as UNSIGNED-PAYLOAD as the SDK would sign it, is refused
    // before it is read: no operation takes such a body, so none can be swapped unseen.
    let req = signed(
        "POST",
        "/v1/instances/ins-0000000000000000/alias",
        "alias=acme",
        &f.management,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ],
    );
    let (s, b, _) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
    assert_eq!(b["error_code"], "IIC.400");
    assert!(
        b["error_msg"]
            .as_str()
            .unwrap_or("")
            .contains("application/json"),
        "{b}"
    );
}

#[tokio::test]
async fn a_marker_from_one_listing_is_refused_by_another_organization() {
    let f = fixture().await;
    let foreign = f.state.keys.markers.encode("instances:o-other", 1);
    let (s, b, _) = call(
        &f.app,
        signed(
            "GET",
            &format!("/v1/instances?marker={foreign}"),
            "",
            &f.management,
            &[],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["error_msg"].as_str().unwrap_or("").contains("marker"));
}

#[tokio::test]
async fn member_account_cannot_reach_the_identity_store() {
    let f = fixture().await;
    let store_id = common::start_service(&f).await;
    let path = format!("/v1/identity-stores/{store_id}/users");
    let (s, _, _) = call(&f.app, signed("GET", &path, "", &f.management, &[])).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b, _) = call(&f.app, signed("GET", &path, "", &f.member, &[])).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["error_code"], "IIC.1215");
    let blob = b["encoded_authorization_message"]
        .as_str()
        .expect("message");
    let keys = iic_api::ServerKeys::derive(&f.master);
    let ctx = iic_domain::authz::decode(&keys.authorization, blob).expect("decodes");
    // The table's action of ListUsers (the identity-policy reference's).
    assert_eq!(ctx.action, "IdentityCenter:user:list");
}

/// A caller check names no action: the envelope seals the one the table gives the operation
/// that answered, also where a handler once named another
/// (`IdentityCenter:permissionSet:tagResource`).
#[tokio::test]
async fn a_caller_check_denial_carries_the_action_of_the_table() {
    let f = fixture().await;
    let store_id = common::start_service(&f).await;
    let keys = iic_api::ServerKeys::derive(&f.master);
    let cases = [
        (
            "identitystore",
            "DescribeUser",
            "GET",
            format!("/v1/identity-stores/{store_id}/users/u-1"),
            "",
            "IdentityCenter:user:describe",
        ),
        (
            "identitycenter",
            "CreateTagResource",
            "POST",
            "/v1/instances/identitycenter:permissionset/ps-1/tags/create".to_string(),
            r#"{"tags":[{"key":"team","value":"a"}]}"#,
            "IdentityCenter:resources:tag",
        ),
        (
            "identitycenter",
            "DeleteIdentityCenter",
            "POST",
            "/v1/service/delete".to_string(),
            "",
            "IdentityCenter:instance:deleteIdentityCenter",
        ),
    ];
    for (api, operation, method, path, body, expected) in cases {
        let entry = iic_api::actions::of(api, operation).expect("an entry of the table");
        assert_eq!(
            entry.actions.first().copied(),
            Some(expected),
            "{operation}"
        );
        let (s, b, _) = call(&f.app, signed(method, &path, body, &f.member, &[])).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{operation}: {b}");
        assert_eq!(b["error_code"], "IIC.1215", "{operation}");
        let blob = b["encoded_authorization_message"]
            .as_str()
            .expect("message");
        let ctx = iic_domain::authz::decode(&keys.authorization, blob).expect("decodes");
        assert_eq!(ctx.action, expected, "{operation}");
        assert_eq!(ctx.path, path, "{operation}");
    }
}

#[tokio::test]
async fn readyz_answers_when_the_database_does() {
    let f = fixture().await;
    let req = Request::builder()
        .uri("/readyz")
        .body(Body::empty())
        .expect("request");
    let (s, b, rid) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "ready");
    assert!(!rid.is_empty());
}
