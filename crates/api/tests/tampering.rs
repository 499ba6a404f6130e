//! A signed request changed in any one byte after signing is refused: every byte of its method,
//! path, query, signed headers, Authorization header and body is flipped in turn.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{call, fixture, Fixture, HOST};
use iic_domain::signing::{authorization_for, format_sdk_date};

/// One signed request, kept in parts so that each part can be changed on its own.
#[derive(Clone)]
struct Parts {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Parts {
    fn signed(f: &Fixture, method: &str, path: &str, query: &str, body: &str) -> Parts {
        let (account, ak, sk) = &f.management;
        let date = format_sdk_date(iic_domain::clock::now_secs());
        let headers: Vec<(&str, &str)> = vec![
            ("Content-Type", "application/json"),
            ("Host", HOST),
            ("X-Domain-Id", account),
            ("X-Sdk-Date", &date),
        ];
        let auth = authorization_for(ak, sk, method, path, query, &headers, body.as_bytes());
        let mut owned: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        owned.push(("Authorization".into(), auth));
        Parts {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: owned,
            body: body.into(),
        }
    }

    fn request(&self) -> Request<Body> {
        let uri = if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        let mut b = Request::builder().method(self.method.as_str()).uri(uri);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(Body::from(self.body.clone())).expect("request")
    }
}

/// A different byte that keeps the request well formed wherever it stands: letters and digits
/// move to the next in their class, anything else becomes a letter.
fn flip(b: u8) -> u8 {
    match b {
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => b + 1,
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        _ => b'x',
    }
}

fn flipped(s: &str, i: usize) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[i] = flip(bytes[i]);
    String::from_utf8(bytes).expect("ascii stays ascii")
}

/// What a tampered request may get: refused as unauthenticated, or, when the change left no
/// such route, the gateway's answer; a changed Content-Type is refused before the signature.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Allowed {
    Unauthenticated,
    UnauthenticatedOrNoRoute,
    UnsupportedMediaType,
}

async fn expect_refused(f: &Fixture, what: &str, tampered: &Parts, allowed: Allowed) {
    let (status, body, rid) = call(&f.app, tampered.request()).await;
    let code = body["error_code"].as_str().unwrap_or_default();
    let ok = match (status, allowed) {
        (StatusCode::UNAUTHORIZED, Allowed::Unauthenticated)
        | (StatusCode::UNAUTHORIZED, Allowed::UnauthenticatedOrNoRoute) => code == "APIGW.0301",
        (StatusCode::NOT_FOUND, Allowed::UnauthenticatedOrNoRoute)
        | (StatusCode::METHOD_NOT_ALLOWED, Allowed::UnauthenticatedOrNoRoute) => {
            code == "APIGW.0101"
        }
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Allowed::UnsupportedMediaType) => code == "IIC.400",
        _ => false,
    };
    assert!(
        ok,
        "{what}: expected {allowed:?}, got {status} {body} for {} {}?{} {:?} {}",
        tampered.method, tampered.path, tampered.query, tampered.headers, tampered.body
    );
    assert_eq!(body["request_id"], rid.as_str(), "{what}: envelope");
}

#[tokio::test]
async fn every_single_byte_change_to_a_signed_request_is_refused() {
    let f = fixture().await;
    let original = Parts::signed(
        &f,
        "POST",
        "/test/echo/ps-0123abcd",
        "limit=10&marker=a%2Fb",
        r#"{"description":"Read-only access","tags":[{"key":"k","value":"v"}]}"#,
    );
    let (status, body, _) = call(&f.app, original.request()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the untouched request is served: {body}"
    );
    assert_eq!(body["id"], "ps-0123abcd");
    assert_eq!(body["body"]["tags"][0]["value"], "v");

    let mut tried = 0;
    for i in 0..original.method.len() {
        let mut t = original.clone();
        t.method = flipped(&t.method, i);
        expect_refused(&f, "method", &t, Allowed::UnauthenticatedOrNoRoute).await;
        tried += 1;
    }
    for i in 0..original.path.len() {
        let mut t = original.clone();
        t.path = flipped(&t.path, i);
        let what = format!("path byte {i}");
        let allowed = if i == 0 {
            // A path that no longer starts with '/' is not a request target at all.
            continue;
        } else {
            Allowed::UnauthenticatedOrNoRoute
        };
        expect_refused(&f, &what, &t, allowed).await;
        tried += 1;
    }
    for i in 0..original.query.len() {
        let mut t = original.clone();
        t.query = flipped(&t.query, i);
        expect_refused(&f, &format!("query byte {i}"), &t, Allowed::Unauthenticated).await;
        tried += 1;
    }
    for (h, (name, value)) in original.headers.iter().enumerate() {
        let allowed = if name == "Content-Type" {
            Allowed::UnsupportedMediaType
        } else {
            Allowed::Unauthenticated
        };
        for i in 0..value.len() {
            let mut t = original.clone();
            t.headers[h].1 = flipped(value, i);
            expect_refused(&f, &format!("{name} byte {i}"), &t, allowed).await;
            tried += 1;
        }
    }
    for i in 0..original.body.len() {
        let mut t = original.clone();
        t.body = flipped(&t.body, i);
        expect_refused(&f, &format!("body byte {i}"), &t, Allowed::Unauthenticated).await;
        tried += 1;
    }
    // Also the whole body swapped for another that claims not to be signed.
    let mut t = original.clone();
    t.headers
        .push(("X-Sdk-Content-Sha256".into(), "UNSIGNED-PAYLOAD".into()));
    t.body = r#"{"description":"swapped"}"#.into();
    expect_refused(&f, "unsigned-payload swap", &t, Allowed::Unauthenticated).await;
    assert!(tried > 300, "only {tried} changes tried");
}

#[tokio::test]
async fn a_body_is_exactly_one_json_object() {
    let f = fixture().await;
    let path = "/test/echo/x";
    for (body, reason) in [
        (r#"{"description":"g"}xyz"#, "trailing"),
        (r#"{"description":"g"}{"description":"h"}"#, "trailing"),
        (r#"{"description":"g"} {}"#, "trailing"),
        (r#"["g"]"#, "object"),
        (r#""g""#, "object"),
        ("42", "object"),
        ("null", "object"),
        (r#"{"a":1,"a":2}"#, "duplicate"),
    ] {
        let req = common::signed("POST", path, body, &f.management, &[]);
        let (s, b, rid) = call(&f.app, req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert_eq!(b["error_code"], "IIC.400", "{body}: {b}");
        assert_eq!(b["request_id"], rid.as_str());
        let msg = b["error_msg"].as_str().unwrap_or_default();
        assert!(
            msg.contains("body"),
            "{body}: message names the body: {msg}"
        );
        assert!(msg.contains(reason), "{body}: message says why: {msg}");
    }
    // Whitespace around the one object is fine.
    let req = common::signed("POST", path, " \n{\"a\":1}\r\n ", &f.management, &[]);
    let (s, b, _) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

#[tokio::test]
async fn a_bad_path_id_gets_the_envelope_naming_the_parameter() {
    let f = fixture().await;
    for (method, path, what, name) in [
        ("POST", "/v1/instances/%FF/alias", "UTF-8", "instance_id"),
        (
            "POST",
            "/v1/instances/ins-%00/alias",
            "control characters",
            "instance_id",
        ),
        ("POST", "/test/echo/a%1Bb", "control characters", "id"),
        // The tag routes share the instance routes' place; the catalogue calls it resource_type.
        (
            "GET",
            "/v1/instances/a%00b/ps-1/tags",
            "control characters",
            "resource_type",
        ),
    ] {
        let body = if method == "POST" {
            r#"{"alias":"acme"}"#
        } else {
            ""
        };
        let req = common::signed(method, path, body, &f.management, &[]);
        let (s, b, rid) = call(&f.app, req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {b}");
        assert_eq!(b["error_code"], "IIC.400", "{path}: {b}");
        assert_eq!(b["request_id"], rid.as_str(), "{path}");
        let msg = b["error_msg"].as_str().unwrap_or_default();
        assert!(msg.contains(what), "{path}: {msg}");
        assert!(
            msg.contains(&format!("{name} must")),
            "{path}: names the parameter {name}: {msg}"
        );
    }
}

#[tokio::test]
async fn control_characters_in_a_query_value_name_the_parameter() {
    let f = fixture().await;
    let req = common::signed("GET", "/v1/instances?marker=a%00b", "", &f.management, &[]);
    let (s, b, _) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let msg = b["error_msg"].as_str().unwrap_or_default();
    assert!(msg.contains("marker") && msg.contains("U+0000"), "{msg}");
}
