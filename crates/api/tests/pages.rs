//! The sign-in pages over HTTP, in process: what every page response carries, CSRF refusals, the
//! one-time password's ticket, a locked user name refused even with the right password, and a
//! sign-in that owes a second factor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use common::{call, fixture, signed, start_service, Fixture};
use serde_json::json;
use tower::ServiceExt;

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(f: &Fixture, req: Request<Body>) -> Page {
    let resp: Response<Body> = f.app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookies: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .expect("request")
}

fn post(path: &str, cookies: &str, form: &[(&str, &str)]) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(form).expect("form")))
        .expect("request")
}

fn set_cookie(page: &Page, name: &str) -> Option<String> {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The value of the hidden field `name` on the page.
fn hidden(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker).expect("field") + marker.len();
    page.body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A user created with a one-time password; returns the portal path and the password.
async fn otp_user(f: &Fixture, name: &str) -> (String, String) {
    let sid = start_service(f).await;
    let body = json!({
        "user_name": name,
        "display_name": name,
        "password_mode": "OTP",
        "name": {"family_name": "Doe", "given_name": name},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
    })
    .to_string();
    let req = signed(
        "POST",
        &format!("/v1/identity-stores/{sid}/users"),
        &body,
        &f.management,
        &[],
    );
    let (s, b, _) = call(&f.app, req).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (
        format!("/{sid}/portal"),
        b["password"].as_str().expect("password").to_string(),
    )
}

/// A browser's CSRF cookie header and the token its forms carry.
async fn csrf(f: &Fixture, portal: &str) -> (String, String) {
    let page = send(f, get(&format!("{portal}/login"), "")).await;
    let cookie = format!(
        "iic_csrf={}",
        cookie_value(&set_cookie(&page, "iic_csrf").expect("csrf cookie"))
    );
    (cookie, hidden(&page, "csrf_token"))
}

#[tokio::test]
async fn every_page_is_locked_down_and_its_cookies_flagged() {
    let f = fixture().await;
    let (portal, _) = otp_user(&f, "ada").await;
    let page = send(&f, get(&format!("{portal}/login"), "")).await;
    assert_eq!(page.status, StatusCode::OK);
    let h = &page.headers;
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe"));
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let c = set_cookie(&page, "iic_csrf").expect("csrf cookie");
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"));
    assert!(c.contains(&format!("Path={portal}")));
    assert!(!c.contains("Secure"), "the public URL is http");
    // The home page sends a browser without a session to sign in, remembering where it was.
    let home = send(&f, get(&portal, "")).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(home.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with(&format!("{portal}/login?next=")));
    let css = send(&f, get(&format!("{portal}/style.css"), "")).await;
    assert_eq!(css.status, StatusCode::OK);
    let unknown = send(&f, get("/d-0000000000/portal/login", "")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_without_its_browser_s_token_does_nothing() {
    let f = fixture().await;
    let (portal, password) = otp_user(&f, "bob").await;
    let (cookie, token) = csrf(&f, &portal).await;
    let login = format!("{portal}/login");
    let fields = [("username", "bob"), ("password", password.as_str())];
    let none = send(&f, post(&login, &cookie, &fields)).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    let mut with_token = fields.to_vec();
    with_token.push(("csrf_token", &token));
    let no_cookie = send(&f, post(&login, "", &with_token)).await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let other = "iic_csrf=0123456789abcdef0123456789abcdef";
    let foreign = send(&f, post(&login, other, &with_token)).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let good = send(&f, post(&login, &cookie, &with_token)).await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
    assert!(good.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with(&format!("{portal}/password")));
}

#[tokio::test]
async fn the_change_page_wants_an_intact_ticket() {
    let f = fixture().await;
    let (portal, password) = otp_user(&f, "cy").await;
    let (cookie, token) = csrf(&f, &portal).await;
    let fields = [
        ("username", "cy"),
        ("password", password.as_str()),
        ("csrf_token", token.as_str()),
    ];
    let signed_in = send(&f, post(&format!("{portal}/login"), &cookie, &fields)).await;
    assert!(
        set_cookie(&signed_in, "iic_session").is_none(),
        "no session yet"
    );
    let ticket = cookie_value(&set_cookie(&signed_in, "iic_password_change").expect("ticket"));
    let change = [
        ("new_password", "Fresh-Pass-42"),
        ("confirm_password", "Fresh-Pass-42"),
        ("csrf_token", token.as_str()),
    ];
    let mut tampered = ticket.clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    let with = |t: &str| format!("{cookie}; iic_password_change={t}");
    let refused = send(
        &f,
        post(&format!("{portal}/password"), &with(&tampered), &change),
    )
    .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("/login"));
    let changed = send(
        &f,
        post(&format!("{portal}/password"), &with(&ticket), &change),
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let session = set_cookie(&changed, "iic_session").expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("Max-Age=28800"));
    // The ticket is spent with the one-time password.
    let again = send(
        &f,
        post(&format!("{portal}/password"), &with(&ticket), &change),
    )
    .await;
    assert!(set_cookie(&again, "iic_session").is_none());
}

#[tokio::test]
async fn a_locked_name_is_refused_even_with_the_right_password() {
    let f = fixture().await;
    let (portal, password) = otp_user(&f, "dee").await;
    let (cookie, token) = csrf(&f, &portal).await;
    let login = format!("{portal}/login");
    for _ in 0..5 {
        let wrong = [
            ("username", "dee"),
            ("password", "Not-It-123"),
            ("csrf_token", token.as_str()),
        ];
        assert_eq!(
            send(&f, post(&login, &cookie, &wrong)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let right = [
        ("username", "DEE"),
        ("password", password.as_str()),
        ("csrf_token", token.as_str()),
    ];
    let locked = send(&f, post(&login, &cookie, &right)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Too many failed sign-ins"));
}

/// Signs `name` in with its one-time password and changes it; returns the browser's cookie
/// header (CSRF only), its form token and the response to the change.
async fn changed_password(
    f: &Fixture,
    portal: &str,
    name: &str,
    otp: &str,
) -> (String, String, Page) {
    let (cookie, token) = csrf(f, portal).await;
    let fields = [
        ("username", name),
        ("password", otp),
        ("csrf_token", token.as_str()),
    ];
    let signed_in = send(f, post(&format!("{portal}/login"), &cookie, &fields)).await;
    let ticket = cookie_value(&set_cookie(&signed_in, "iic_password_change").expect("ticket"));
    let change = [
        ("new_password", "Fresh-Pass-42"),
        ("confirm_password", "Fresh-Pass-42"),
        ("csrf_token", token.as_str()),
    ];
    let with = format!("{cookie}; iic_password_change={ticket}");
    let changed = send(f, post(&format!("{portal}/password"), &with, &change)).await;
    (cookie, token, changed)
}

#[tokio::test]
async fn a_sign_in_owing_a_second_factor_holds_no_session_until_a_fresh_code() {
    let f = fixture().await;
    let (portal, otp) = otp_user(&f, "eve").await;
    let store = &f.state.store;
    let sid = portal
        .trim_start_matches('/')
        .split('/')
        .next()
        .expect("sid");
    let instance = store
        .find_portal_instance(sid)
        .await
        .expect("read")
        .expect("instance");
    let config = iic_domain::sso_configuration::SsoConfiguration {
        mfa_mode: "ALWAYS_ON".into(),
        ..Default::default()
    };
    assert!(store
        .put_sso_configuration(&instance.instance_id, &config, 1)
        .await
        .expect("put"));
    let user_id = store
        .find_user_id(sid, &iic_store::PrincipalKey::Name("eve".into()))
        .await
        .expect("find")
        .expect("eve");
    let secret = iic_domain::totp::new_secret();
    let device = iic_store::MfaDevice {
        device_id: "0123456789abcdef0123456789abcdef".into(),
        identity_store_id: sid.into(),
        user_id: user_id.clone(),
        mfa_type: "TOTP".into(),
        device_name: "Authenticator app".into(),
        display_name: "phone".into(),
        secret_sealed: Some(
            f.state
                .keys
                .totp
                .seal(&secret, b"0123456789abcdef0123456789abcdef"),
        ),
        last_step: None,
        registered_at: 1,
        last_used_at: None,
    };
    assert_eq!(
        store.add_mfa_device(&device).await.expect("add"),
        iic_store::DeviceAdded::Added
    );

    let (cookie, token, changed) = changed_password(&f, &portal, "eve", &otp).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert!(changed.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .ends_with("/mfa"));
    assert!(
        set_cookie(&changed, "iic_session").is_none(),
        "no session yet"
    );
    let ticket = cookie_value(&set_cookie(&changed, "iic_mfa").expect("pending ticket"));
    let mfa = format!("{portal}/mfa");
    let now = iic_domain::clock::now_millis() / 1000;
    let code = iic_domain::totp::code_at(&secret, iic_domain::totp::step_at(now));
    let form = [("otp", code.as_str()), ("csrf_token", token.as_str())];

    // Without the ticket, or with a forged one (its first character changed), the code opens
    // nothing.
    let first = if ticket.starts_with('A') { 'B' } else { 'A' };
    for jar in [
        cookie.clone(),
        format!("{cookie}; iic_mfa={first}{}", &ticket[1..]),
    ] {
        let refused = send(&f, post(&mfa, &jar, &form)).await;
        assert_eq!(refused.status, StatusCode::SEE_OTHER);
        assert!(refused.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("/login"));
        assert!(set_cookie(&refused, "iic_session").is_none());
    }
    let jar = format!("{cookie}; iic_mfa={ticket}");
    let accepted = send(&f, post(&mfa, &jar, &form)).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let session = cookie_value(&set_cookie(&accepted, "iic_session").expect("session"));
    assert!(set_cookie(&accepted, "iic_mfa")
        .expect("ticket cleared")
        .contains("Max-Age=0"));
    let live = store
        .session_for_cookie(&session, iic_domain::clock::now_millis())
        .await
        .expect("read")
        .expect("live");
    assert!(live.mfa_present, "the session records the second factor");
    // The same code, with the same ticket, is a replay.
    let replay = send(&f, post(&mfa, &jar, &form)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.body.contains("already used"));
}
