//! The portal's self-service of MFA devices over HTTP, in process: the list, renaming and
//! removing one's own devices, refusals under READ_ACTIONS and for another user's device, and
//! the WebAuthn pages' script served under the CSP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{call, fixture, signed, start_service, Fixture};
use iic_store::{MfaDevice, WebauthnCredential};
use serde_json::json;
use tower::ServiceExt;

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(f: &Fixture, req: Request<Body>) -> Page {
    let resp = f.app.clone().oneshot(req).await.expect("response");
    let (status, headers) = (resp.status(), resp.headers().clone());
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

/// The `name=value` of cookie `name` the response sets.
fn cookie(page: &Page, name: &str) -> String {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .expect("cookie")
        .to_string()
}

fn hidden(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker).expect("field") + marker.len();
    page.body[start..].split('"').next().unwrap().to_string()
}

/// A signed-in browser of a new user: (portal path, identity store id, user id, cookies, CSRF
/// token).
struct Browser {
    portal: String,
    sid: String,
    user_id: String,
    cookies: String,
    token: String,
}

async fn signed_in(f: &Fixture, sid: &str, name: &str) -> Browser {
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
    let (user_id, password) = (
        b["user_id"].as_str().expect("user id").to_string(),
        b["password"].as_str().expect("password").to_string(),
    );
    let portal = format!("/{sid}/portal");
    let login = send(f, get(&format!("{portal}/login"), "")).await;
    let csrf = cookie(&login, "iic_csrf");
    let token = hidden(&login, "csrf_token");
    let fields = [
        ("username", name),
        ("password", password.as_str()),
        ("csrf_token", token.as_str()),
    ];
    let proved = send(f, post(&format!("{portal}/login"), &csrf, &fields)).await;
    let ticket = cookie(&proved, "iic_password_change");
    let change = [
        ("new_password", "Fresh-Pass-42"),
        ("confirm_password", "Fresh-Pass-42"),
        ("csrf_token", token.as_str()),
    ];
    let changed = send(
        f,
        post(
            &format!("{portal}/password"),
            &format!("{csrf}; {ticket}"),
            &change,
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let session = cookie(&changed, "iic_session");
    Browser {
        portal,
        sid: sid.to_string(),
        user_id,
        cookies: format!("{csrf}; {session}"),
        token,
    }
}

/// Gives the user a security key device straight in the store.
async fn key_of(f: &Fixture, b: &Browser, device_id: &str) {
    let device = MfaDevice {
        device_id: device_id.into(),
        identity_store_id: b.sid.clone(),
        user_id: b.user_id.clone(),
        mfa_type: "WEBAUTHN_SECURITY_KEY".into(),
        device_name: format!("security-key-{device_id}"),
        display_name: "Blue key".into(),
        secret_sealed: None,
        last_step: None,
        registered_at: 1_700_000_000_000,
        last_used_at: None,
    };
    let credential = WebauthnCredential {
        device_id: device_id.into(),
        mfa_type: device.mfa_type.clone(),
        credential_id: format!("aa{device_id}"),
        credential: "{}".into(),
        sign_count: 0,
    };
    let added = f
        .state
        .store
        .add_webauthn_device(&device, &credential)
        .await
        .expect("add");
    assert_eq!(added, iic_store::DeviceAdded::Added);
}

async fn names(f: &Fixture, b: &Browser) -> Vec<String> {
    f.state
        .store
        .list_mfa_devices(&b.sid, &b.user_id)
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.display_name)
        .collect()
}

#[tokio::test]
async fn users_rename_and_remove_their_own_devices_only() {
    let f = fixture().await;
    let sid = start_service(&f).await;
    let ada = signed_in(&f, &sid, "ada").await;
    let bob = signed_in(&f, &sid, "bob").await;
    key_of(&f, &ada, "dev-ada").await;
    key_of(&f, &bob, "dev-bob").await;

    let home = send(&f, get(&ada.portal, &ada.cookies)).await;
    assert!(home
        .body
        .contains(&format!("href=\"{}/devices\"", ada.portal)));
    let page = send(&f, get(&format!("{}/devices", ada.portal), &ada.cookies)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-device-id=\"dev-ada\""));
    assert!(page.body.contains("Security key"));
    assert!(!page.body.contains("dev-bob"), "only her own devices");
    assert!(page.body.contains("name=\"display_name\""));
    assert!(page.body.contains("/mfa/webauthn/register"));
    assert!(page.body.contains("/mfa/totp/add"));

    let rename = format!("{}/devices/rename", ada.portal);
    let token = ada.token.as_str();
    // Bob's device, named by Ada: refused, nothing changed.
    let foreign = [
        ("device_id", "dev-bob"),
        ("display_name", "mine now"),
        ("csrf_token", token),
    ];
    let refused = send(&f, post(&rename, &ada.cookies, &foreign)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert_eq!(names(&f, &bob).await, ["Blue key"]);
    let remove = format!("{}/devices/remove", ada.portal);
    let foreign = [
        ("device_id", "dev-bob"),
        ("confirm", "yes"),
        ("csrf_token", token),
    ];
    let refused = send(&f, post(&remove, &ada.cookies, &foreign)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let confirm = send(
        &f,
        get(&format!("{remove}?device_id=dev-bob"), &ada.cookies),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::NOT_FOUND);
    assert_eq!(names(&f, &bob).await, ["Blue key"]);

    // Without the CSRF token: refused.
    let tokenless = [("device_id", "dev-ada"), ("display_name", "x")];
    let stale = send(&f, post(&rename, &ada.cookies, &tokenless)).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    // A control character: refused.
    let bad = [
        ("device_id", "dev-ada"),
        ("display_name", "a\u{7}b"),
        ("csrf_token", token),
    ];
    let refused = send(&f, post(&rename, &ada.cookies, &bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    let own = [
        ("device_id", "dev-ada"),
        ("display_name", "Red key"),
        ("csrf_token", token),
    ];
    let renamed = send(&f, post(&rename, &ada.cookies, &own)).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    assert_eq!(names(&f, &ada).await, ["Red key"]);

    let confirm = send(
        &f,
        get(&format!("{remove}?device_id=dev-ada"), &ada.cookies),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Red key") && confirm.body.contains("id=\"remove-device\""));
    let own = [
        ("device_id", "dev-ada"),
        ("confirm", "yes"),
        ("csrf_token", token),
    ];
    let removed = send(&f, post(&remove, &ada.cookies, &own)).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(names(&f, &ada).await.is_empty());
    assert_eq!(names(&f, &bob).await, ["Blue key"]);

    // Without a session: to sign in.
    let anonymous = send(&f, get(&format!("{}/devices", ada.portal), "")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn under_read_actions_devices_are_listed_only() {
    let f = fixture().await;
    let sid = start_service(&f).await;
    let ada = signed_in(&f, &sid, "ada").await;
    key_of(&f, &ada, "dev-ada").await;
    assert!(f
        .state
        .store
        .put_mfa_device_management(&sid, "READ_ACTIONS", 1)
        .await
        .expect("put"));

    let page = send(&f, get(&format!("{}/devices", ada.portal), &ada.cookies)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Blue key"));
    assert!(
        !page.body.contains("name=\"display_name\""),
        "no rename form"
    );
    assert!(!page.body.contains("/devices/remove"), "no remove link");
    assert!(!page.body.contains("/mfa/webauthn/register"), "no add link");
    assert!(page.body.contains("id=\"managed-by-administrator\""));

    let token = ada.token.as_str();
    let rename = [
        ("device_id", "dev-ada"),
        ("display_name", "Red key"),
        ("csrf_token", token),
    ];
    let refused = send(
        &f,
        post(
            &format!("{}/devices/rename", ada.portal),
            &ada.cookies,
            &rename,
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let remove = [
        ("device_id", "dev-ada"),
        ("confirm", "yes"),
        ("csrf_token", token),
    ];
    let refused = send(
        &f,
        post(
            &format!("{}/devices/remove", ada.portal),
            &ada.cookies,
            &remove,
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let confirm = send(
        &f,
        get(
            &format!("{}/devices/remove?device_id=dev-ada", ada.portal),
            &ada.cookies,
        ),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::FORBIDDEN);
    let register = send(
        &f,
        get(
            &format!("{}/mfa/webauthn/register", ada.portal),
            &ada.cookies,
        ),
    )
    .await;
    assert_eq!(register.status, StatusCode::FORBIDDEN);
    let register = send(
        &f,
        post(
            &format!("{}/mfa/webauthn/register", ada.portal),
            &ada.cookies,
            &[("kind", "security-key"), ("csrf_token", token)],
        ),
    )
    .await;
    assert_eq!(register.status, StatusCode::FORBIDDEN);
    assert_eq!(names(&f, &ada).await, ["Blue key"]);
}

#[tokio::test]
async fn the_script_is_served_and_allowed_by_the_policy() {
    let f = fixture().await;
    let sid = start_service(&f).await;
    let ada = signed_in(&f, &sid, "ada").await;
    let js = send(&f, get(&format!("{}/webauthn.js", ada.portal), "")).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.body.contains("navigator.credentials"));
    let page = send(&f, get(&format!("{}/devices", ada.portal), &ada.cookies)).await;
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    // The fixture's public URL is an IP address: the registration page says WebAuthn is
    // unavailable rather than offering a ceremony that cannot work.
    let register = send(
        &f,
        get(
            &format!("{}/mfa/webauthn/register", ada.portal),
            &ada.cookies,
        ),
    )
    .await;
    assert_eq!(register.status, StatusCode::OK);
    assert!(register.body.contains("id=\"webauthn-unavailable\""));
    // The sign-in step needs the pending-MFA ticket.
    let step = send(&f, get(&format!("{}/mfa/webauthn", ada.portal), "")).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn on_localhost_the_registration_page_starts_a_ceremony() {
    let limits = iic_api::Limits {
        oidc: iic_api::oidc::OidcSettings {
            public_url: "http://localhost:8080".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let f = common::fixture_with(limits).await;
    let sid = start_service(&f).await;
    let ada = signed_in(&f, &sid, "ada").await;
    let page = send(
        &f,
        get(
            &format!("{}/mfa/webauthn/register", ada.portal),
            &ada.cookies,
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"register-security-key\""));
    assert!(
        !page.body.contains("id=\"register-passkey\""),
        "the default configuration allows no passkeys"
    );
    assert!(
        page.body.contains("&quot;id&quot;:&quot;localhost&quot;"),
        "rp id"
    );
    assert!(page.body.contains("webauthn.js"));
    // An answer that is no credential spends the ceremony and registers nothing.
    let ceremony = hidden(&page, "ceremony");
    let form = [
        ("kind", "security-key"),
        ("ceremony", ceremony.as_str()),
        ("credential", "{\"not\":\"a credential\"}"),
        ("csrf_token", ada.token.as_str()),
    ];
    let path = format!("{}/mfa/webauthn/register", ada.portal);
    let refused = send(&f, post(&path, &ada.cookies, &form)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"error\""));
    assert!(names(&f, &ada).await.is_empty());
    // A kind the configuration does not allow is refused.
    let passkey = [
        ("kind", "passkey"),
        ("ceremony", ceremony.as_str()),
        ("csrf_token", ada.token.as_str()),
    ];
    let refused = send(&f, post(&path, &ada.cookies, &passkey)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_page_offers_only_the_kinds_the_instance_allows() {
    let f = fixture().await;
    let sid = start_service(&f).await;
    let ada = signed_in(&f, &sid, "ada").await;
    let instance = f
        .state
        .store
        .find_portal_instance(&sid)
        .await
        .expect("find")
        .expect("instance");
    let only_totp = iic_domain::sso_configuration::SsoConfiguration {
        allowed_mfa_types: vec!["TOTP".into()],
        ..Default::default()
    };
    assert!(f
        .state
        .store
        .put_sso_configuration(&instance.instance_id, &only_totp, 1)
        .await
        .expect("put"));
    let page = send(&f, get(&format!("{}/devices", ada.portal), &ada.cookies)).await;
    assert!(page.body.contains("id=\"add-totp\""));
    assert!(!page.body.contains("id=\"add-webauthn\""));
}
