//! The SCIM API over the HTTP layer: bearer authentication, content types, the SCIM error body,
//! and users and groups written through SCIM being the identity store's own rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use iic_api::Limits;
use serde_json::{json, Value};

struct Env {
    f: Fixture,
    sid: String,
    base: String,
    token: String,
}

async fn admin(f: &Fixture, method: &str, path: &str) -> Value {
    let (s, b, _) = call(&f.app, signed(method, path, "", &f.management, &[])).await;
    assert!(s.is_success(), "{method} {path}: {s} {b}");
    b
}

async fn env() -> Env {
    env_with(Limits::default()).await
}

async fn env_with(limits: Limits) -> Env {
    let f = fixture_with(limits).await;
    let sid = start_service(&f).await;
    let tenant = admin(
        &f,
        "POST",
        &format!("/v1/identity-stores/{sid}/provision-tenant"),
    )
    .await;
    let tid = tenant["tenant_id"].as_str().expect("tenant id").to_string();
    assert!(tenant["scim_endpoint"]
        .as_str()
        .expect("endpoint")
        .ends_with(&format!("/{tid}/scim/v2")));
    let token = admin(
        &f,
        "POST",
        &format!("/v1/identity-stores/{sid}/tenant/{tid}/bearer-token"),
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_string();
    Env {
        f,
        sid,
        base: format!("/{tid}/scim/v2"),
        token,
    }
}

fn scim(method: &str, uri: &str, token: &str, body: Option<&Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(uri)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/scim+json");
    let body = body.map_or_else(String::new, Value::to_string);
    b.body(Body::from(body)).expect("request")
}

async fn send(e: &Env, method: &str, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
    let uri = format!("{}{path}", e.base);
    let (s, b, _) = call(&e.f.app, scim(method, &uri, &e.token, body)).await;
    (s, b)
}

fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "displayName": name,
        "name": {"givenName": "G", "familyName": "F"},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
    })
}

fn assert_scim_error(body: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
}

#[tokio::test]
async fn a_token_is_needed_and_binds_to_its_tenant() {
    let e = env().await;
    for token in ["", "wrong-token"] {
        let uri = format!("{}/Users", e.base);
        let (s, b, rid) = call(&e.f.app, scim("GET", &uri, token, None)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_scim_error(&b, 401, None);
        assert!(!rid.is_empty());
    }
    // The token of this tenant under another tenant's path.
    let (s, _, _) = call(
        &e.f.app,
        scim(
            "GET",
            "/0f3e7c4a-0000-4000-8000-000000000000/scim/v2/Users",
            &e.token,
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = send(&e, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["patch"]["supported"], true);
}

#[tokio::test]
async fn users_are_identity_store_users() {
    let e = env().await;
    let (s, created) = send(&e, "POST", "/Users", Some(&user("ana"))).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["meta"]["resourceType"], "User");
    // The identity-store API sees the same row, with the tenant as the external id's issuer.
    let stored = admin(
        &e.f,
        "GET",
        &format!("/v1/identity-stores/{}/users/{id}", e.sid),
    )
    .await;
    assert_eq!(stored["user_name"], "ana");
    assert_eq!(stored["external_ids"][0]["id"], "ext-ana");
    // A clash is 409 uniqueness; bad input is 400 naming the attribute.
    let (s, b) = send(&e, "POST", "/Users", Some(&user("ANA"))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_scim_error(&b, 409, Some("uniqueness"));
    let mut bad = user("bob");
    bad["emails"] = json!([{"value": "x", "type": "work"}]);
    let (s, b) = send(&e, "POST", "/Users", Some(&bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        b["detail"].as_str().unwrap().contains("emails.value"),
        "{b}"
    );
    // Deactivation through PATCH as Entra ID sends it.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    });
    let (s, b) = send(&e, "PATCH", &format!("/Users/{id}"), Some(&patch)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["active"], false);
    let stored = admin(
        &e.f,
        "GET",
        &format!("/v1/identity-stores/{}/users/{id}", e.sid),
    )
    .await;
    assert_eq!(stored["enabled"], false);
    // Filters by index; paging.
    let (s, b) = send(&e, "GET", "/Users?filter=userName+eq+%22ANA%22", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["totalResults"], 1);
    assert_eq!(b["Resources"][0]["id"], id.as_str());
    let (_, b) = send(
        &e,
        "GET",
        "/Users?filter=externalId%20eq%20%22EXT-ana%22",
        None,
    )
    .await;
    assert_eq!(b["totalResults"], 0, "externalId is case-exact");
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"ana\"",
        "attributes": ["userName"],
    });
    let (s, b) = send(&e, "POST", "/Users/.search", Some(&search)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Resources"][0]["userName"], "ana");
    assert!(b["Resources"][0].get("emails").is_none(), "{b}");
    let (s, b) = send(&e, "POST", "/.search", Some(&search)).await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
    assert_scim_error(&b, 501, None);
    let (s, b) = send(&e, "GET", "/Users?filter=userName%20zz%20%22x%22", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_scim_error(&b, 400, Some("invalidFilter"));
    // Deleted through SCIM, gone from the identity store.
    let (s, _) = send(&e, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = send(&e, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_scim_error(&b, 404, None);
}

#[tokio::test]
async fn group_members_change_in_bulk_and_atomically() {
    let e = env().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (_, u) = send(&e, "POST", "/Users", Some(&user(&format!("member{n}")))).await;
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Engineering",
        "members": [{"value": ids[0]}],
    });
    let (s, g) = send(&e, "POST", "/Groups", Some(&group)).await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "displayName", "value": "Eng"},
            {"op": "add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}]},
            {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])},
        ],
    });
    let (s, b) = send(&e, "PATCH", &format!("/Groups/{gid}"), Some(&add)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let (_, g) = send(&e, "GET", &format!("/Groups/{gid}"), None).await;
    assert_eq!(g["displayName"], "Eng");
    let members: Vec<&str> = g["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, vec![ids[1].as_str(), ids[2].as_str()]);
    // An unknown member refuses the whole request: the rename does not happen either.
    let bad = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "displayName", "value": "Renamed"},
            {"op": "add", "path": "members", "value": [{"value": "nobody"}]},
        ],
    });
    let (s, b) = send(&e, "PATCH", &format!("/Groups/{gid}"), Some(&bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["detail"].as_str().unwrap().contains("nobody"), "{b}");
    let (_, g) = send(
        &e,
        "GET",
        &format!("/Groups/{gid}?excludedAttributes=members"),
        None,
    )
    .await;
    assert_eq!(g["displayName"], "Eng");
    assert!(g.get("members").is_none());
    let (_, b) = send(
        &e,
        "GET",
        &format!("/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D", ids[2]),
        None,
    )
    .await;
    assert_eq!(b["totalResults"], 1);
}

#[tokio::test]
async fn bodies_must_be_json_of_a_scim_type() {
    let e = env().await;
    let uri = format!("{}/Users", e.base);
    let req = Request::builder()
        .method("POST")
        .uri(&uri)
        .header("Authorization", format!("Bearer {}", e.token))
        .header("Content-Type", "text/plain")
        .body(Body::from(user("carl").to_string()))
        .unwrap();
    let (s, b, _) = call(&e.f.app, req).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(b["status"], 415, "{b}");
    let req = scim("POST", &uri, &e.token, None);
    let (s, b, _) = call(&e.f.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_scim_error(&b, 400, Some("invalidSyntax"));
    let (s, b) = send(&e, "GET", "/Nothing", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["status"], 404, "{b}");
}

#[tokio::test]
async fn a_filter_no_index_answers_is_refused_on_a_large_store() {
    let e = env_with(Limits {
        scim_scan_limit: 2,
        ..Limits::default()
    })
    .await;
    for n in 0..2 {
        let (s, _) = send(&e, "POST", "/Users", Some(&user(&format!("small{n}")))).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let scan = "/Users?filter=displayName%20co%20%22small%22";
    let (s, b) = send(&e, "GET", scan, None).await;
    assert_eq!(s, StatusCode::OK, "a store at the limit is scanned: {b}");
    assert_eq!(b["totalResults"], 2);
    send(&e, "POST", "/Users", Some(&user("small2"))).await;
    let (s, b) = send(&e, "GET", scan, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_scim_error(&b, 400, Some("invalidFilter"));
    assert!(b["detail"].as_str().unwrap().contains("userName"), "{b}");
    // Indexed filters, alone or narrowing an and, still answer.
    let narrowed =
        "/Users?filter=userName%20eq%20%22small2%22%20and%20displayName%20co%20%22small%22";
    let (s, b) = send(&e, "GET", narrowed, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["totalResults"], 1);
}
