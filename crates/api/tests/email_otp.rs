//! E-mail sign-in codes (the functions the MFA step calls): mailed to the user's address,
//! accepted once, void after five wrong tries, replaced by a newer code, and not sent without a
//! relay or a user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fixture_with, Fixture};
use iic_api::pages::email_otp::{send_code, verify_code, CodeMail, MAX_WRONG_TRIES, SENDS};
use iic_api::{AppState, Limits};
use iic_store::{Instance, User};
use serde_json::json;

const STORE_ID: &str = "d-0123456789";

async fn world(relay: bool) -> (Fixture, User) {
    let f = fixture_with(Limits {
        mail_relay: relay,
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
            alias: None,
            created_at: 0,
        })
        .await
        .expect("instance");
    let profile = serde_json::from_value(json!({
        "user_name": "ada",
        "display_name": "Ada Lovelace",
        "name": {"family_name": "Lovelace", "given_name": "Ada"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
    }))
    .expect("profile");
    let user = User {
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
    (f, user)
}

/// The code of the one mail queued since the last call (claimed, so it is not seen again).
async fn mailed_code(state: &AppState) -> String {
    let mut mails = state
        .store
        .claim_mails(iic_domain::clock::now_millis() + 1, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(mails.len(), 1);
    let mut mail = mails.pop().expect("a mail");
    assert!(
        !mail.body.contains("Ada Lovelace"),
        "queued sealed, never in clear"
    );
    mail.body = iic_domain::mail_body::open(&state.keys.outbox, &mail.message_id, &mail.body)
        .expect("sealed by this server for this mail");
    assert_eq!(mail.recipient, "ada@example.com");
    assert!(mail.body.contains("Ada Lovelace"));
    assert!(mail.body.contains("10 minutes"));
    assert!(mail.body.contains("/d-0123456789/portal"));
    mail.body
        .lines()
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code line")
        .to_string()
}

async fn sent(state: &AppState, user: &User) -> bool {
    send_code(state, &user.identity_store_id, &user.user_id)
        .await
        .ok()
        .expect("send")
        == CodeMail::Queued
}

async fn check(state: &AppState, user: &User, code: &str) -> bool {
    verify_code(state, &user.identity_store_id, &user.user_id, code)
        .await
        .ok()
        .expect("verify")
}

#[tokio::test]
async fn a_mailed_code_is_accepted_once() {
    let (f, user) = world(true).await;
    assert!(sent(&f.state, &user).await);
    let code = mailed_code(&f.state).await;
    assert!(check(&f.state, &user, &code).await);
    assert!(!check(&f.state, &user, &code).await);
}

#[tokio::test]
async fn five_wrong_tries_void_a_code() {
    let (f, user) = world(true).await;
    assert!(sent(&f.state, &user).await);
    let code = mailed_code(&f.state).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    // Not six digits: refused without counting.
    assert!(!check(&f.state, &user, "12345").await);
    assert!(!check(&f.state, &user, "abcdef").await);
    for _ in 0..MAX_WRONG_TRIES {
        assert!(!check(&f.state, &user, wrong).await);
    }
    assert!(!check(&f.state, &user, &code).await);
}

#[tokio::test]
async fn four_wrong_tries_leave_the_code_usable() {
    let (f, user) = world(true).await;
    assert!(sent(&f.state, &user).await);
    let code = mailed_code(&f.state).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..MAX_WRONG_TRIES - 1 {
        assert!(!check(&f.state, &user, wrong).await);
    }
    assert!(check(&f.state, &user, &code).await);
}

#[tokio::test]
async fn a_new_code_replaces_the_old() {
    let (f, user) = world(true).await;
    assert!(sent(&f.state, &user).await);
    let first = mailed_code(&f.state).await;
    assert!(sent(&f.state, &user).await);
    let second = mailed_code(&f.state).await;
    if first != second {
        assert!(!check(&f.state, &user, &first).await);
    }
    assert!(check(&f.state, &user, &second).await);
}

#[tokio::test]
async fn nothing_is_sent_without_a_relay_or_a_user() {
    let (f, user) = world(false).await;
    assert!(!sent(&f.state, &user).await);
    assert!(f
        .state
        .store
        .claim_mails(iic_domain::clock::now_millis() + 1, 60_000, 10)
        .await
        .expect("claim")
        .is_empty());
    let (f, mut user) = world(true).await;
    user.user_id = iic_domain::directory::principal_id(STORE_ID);
    assert!(!sent(&f.state, &user).await);
    assert!(!check(&f.state, &user, "123456").await);
}

#[tokio::test]
async fn at_most_five_codes_are_mailed_in_the_window() {
    let (f, user) = world(true).await;
    for _ in 0..SENDS.max_failures {
        assert!(sent(&f.state, &user).await);
    }
    let last = f
        .state
        .store
        .claim_mails(iic_domain::clock::now_millis() + 1, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(last.len() as i64, SENDS.max_failures);
    assert_eq!(
        send_code(&f.state, &user.identity_store_id, &user.user_id)
            .await
            .ok()
            .expect("send"),
        CodeMail::TooMany
    );
    assert!(f
        .state
        .store
        .claim_mails(iic_domain::clock::now_millis() + 1, 60_000, 10)
        .await
        .expect("claim")
        .is_empty());
    // The last code mailed still works.
    let newest = last.last().expect("a mail");
    let body = iic_domain::mail_body::open(&f.state.keys.outbox, &newest.message_id, &newest.body)
        .expect("sealed by this server");
    let code = body
        .lines()
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code line")
        .to_string();
    assert!(check(&f.state, &user, &code).await);
}
