//! Sign-in sessions and the SSO configuration of instances.

use crate::common::*;
use iic_domain::session::{issue, Origin};
use iic_domain::sso_configuration::SsoConfiguration;
use iic_store::*;

suite!(
    sessions_are_found_by_cookie_listed_and_ended,
    sessions_list_by_keyset_pages,
    disabling_or_deleting_a_user_ends_its_sessions,
    sweeping_removes_ended_and_expired_sessions,
    sso_configuration_round_trip,
    ending_a_session_revokes_its_tokens,
    a_sign_in_beyond_the_cap_ends_the_oldest_session,
);

const HOUR_MS: i64 = 3_600_000;

fn origin() -> Origin {
    Origin {
        ip_address: Some("192.0.2.7".into()),
        user_agent: Some("Mozilla/5.0 test".into()),
    }
}

/// A stored user and its store id.
async fn stored_user(store: &SharedStore, name: &str) -> (String, User) {
    let (_, sid) = directory(store).await;
    let u = user(&sid, name);
    store.create_user(&u, 100).await.expect("user");
    (sid, u)
}

async fn live_ids(store: &SharedStore, sid: &str, user_id: &str, now: i64) -> Vec<String> {
    store
        .list_sessions(sid, user_id, now, Page::first(100))
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.session_id)
        .collect()
}

async fn sessions_are_found_by_cookie_listed_and_ended(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let bob = user(&sid, "bob");
    store.create_user(&bob, 100).await.expect("bob");
    let now = iic_domain::clock::now_millis();
    let a1 = issue(&sid, &alice.user_id, now, 3_600, origin());
    let a2 = issue(&sid, &alice.user_id, now, 3_600, Origin::default());
    let b1 = issue(&sid, &bob.user_id, now, 3_600, origin());
    for s in [&a1, &a2, &b1] {
        assert_eq!(
            store.create_session(&s.session).await.expect("create"),
            Some(s.session.session_id.clone())
        );
    }
    let ghost = issue(&sid, "no-such-user", now, 3_600, origin());
    assert_eq!(
        store.create_session(&ghost.session).await.expect("ghost"),
        None
    );

    let found = store
        .session_for_cookie(&a1.cookie, now)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(found.session_id, a1.session.session_id);
    assert_eq!(found.ip_address.as_deref(), Some("192.0.2.7"));
    assert_eq!(found.user_agent.as_deref(), Some("Mozilla/5.0 test"));
    assert_eq!(found.secret_sha256.len(), 32, "only the hash is kept");
    let (id, _) = a1.cookie.split_once('.').expect("cookie");
    let forged = format!("{id}.{}", "0".repeat(64));
    assert_eq!(
        store.session_for_cookie(&forged, now).await.expect("read"),
        None
    );
    assert_eq!(
        store
            .session_for_cookie(&a1.cookie, now + 2 * HOUR_MS)
            .await
            .expect("read"),
        None,
        "an expired session is not live"
    );

    assert_eq!(
        live_ids(&store, &sid, &alice.user_id, now).await,
        vec![a1.session.session_id.clone(), a2.session.session_id.clone()]
    );
    let ended = store
        .end_sessions(
            &sid,
            &alice.user_id,
            &[
                a1.session.session_id.clone(),
                b1.session.session_id.clone(),
                "unknown".into(),
            ],
            now,
        )
        .await
        .expect("end");
    assert_eq!(
        ended,
        vec![a1.session.session_id.clone()],
        "only the user's own live sessions are ended"
    );
    assert_eq!(
        store
            .end_sessions(
                &sid,
                &alice.user_id,
                std::slice::from_ref(&a1.session.session_id),
                now
            )
            .await
            .expect("again"),
        Vec::<String>::new(),
        "ending twice ends nothing"
    );
    assert_eq!(
        store
            .session_for_cookie(&a1.cookie, now)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        live_ids(&store, &sid, &alice.user_id, now).await,
        vec![a2.session.session_id.clone()]
    );
    assert_eq!(
        live_ids(&store, &sid, &bob.user_id, now).await,
        vec![b1.session.session_id.clone()]
    );
    let all = store
        .end_user_sessions(&sid, &alice.user_id, now)
        .await
        .expect("end all");
    assert_eq!(all, vec![a2.session.session_id.clone()]);
    assert!(live_ids(&store, &sid, &alice.user_id, now).await.is_empty());
}

async fn sessions_list_by_keyset_pages(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let now = iic_domain::clock::now_millis();
    let mut made = Vec::new();
    for _ in 0..5 {
        let s = issue(&sid, &alice.user_id, now, 3_600, origin());
        store.create_session(&s.session).await.expect("create");
        made.push(s.session.session_id);
    }
    let mut seen = Vec::new();
    let mut page = Page::first(2);
    loop {
        let rows = store
            .list_sessions(&sid, &alice.user_id, now, page)
            .await
            .expect("page");
        assert!(rows.len() <= 2);
        let Some(last) = rows.last().map(|s| s.seq) else {
            break;
        };
        seen.extend(rows.into_iter().map(|s| s.session_id));
        page = Page::after(last, 2);
    }
    assert_eq!(seen, made, "every session once, oldest first");
}

async fn disabling_or_deleting_a_user_ends_its_sessions(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let now = iic_domain::clock::now_millis();
    let s = issue(&sid, &alice.user_id, now, 3_600, origin());
    store.create_session(&s.session).await.expect("create");
    let mut disabled = store
        .get_user(&sid, &alice.user_id)
        .await
        .expect("get")
        .expect("alice");
    disabled.enabled = false;
    assert_eq!(
        store.update_user(&disabled).await.expect("disable"),
        UpdateOutcome::Updated
    );
    assert_eq!(
        store
            .session_for_cookie(&s.cookie, now)
            .await
            .expect("read"),
        None
    );
    let again = issue(&sid, &alice.user_id, now, 3_600, origin());
    assert_eq!(
        store.create_session(&again.session).await.expect("create"),
        None,
        "a disabled user gets no session"
    );
    disabled.enabled = true;
    store.update_user(&disabled).await.expect("enable");
    let later = issue(&sid, &alice.user_id, now, 3_600, origin());
    store.create_session(&later.session).await.expect("create");
    assert!(store
        .session_for_cookie(&later.cookie, now)
        .await
        .expect("read")
        .is_some());
    assert!(store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("delete"));
    assert_eq!(
        store
            .session_for_cookie(&later.cookie, now)
            .await
            .expect("read"),
        None
    );
    assert!(live_ids(&store, &sid, &alice.user_id, now).await.is_empty());
}

async fn sweeping_removes_ended_and_expired_sessions(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let now = iic_domain::clock::now_millis();
    let expired = issue(&sid, &alice.user_id, now - 2 * HOUR_MS, 3_600, origin());
    let ended = issue(&sid, &alice.user_id, now, 3_600, origin());
    let live = issue(&sid, &alice.user_id, now, 3_600, origin());
    for s in [&expired, &ended, &live] {
        store.create_session(&s.session).await.expect("create");
    }
    store
        .end_sessions(
            &sid,
            &alice.user_id,
            std::slice::from_ref(&ended.session.session_id),
            now,
        )
        .await
        .expect("end");
    assert_eq!(store.sweep_sessions(now, 1_000).await.expect("sweep"), 2);
    assert_eq!(store.sweep_sessions(now, 1_000).await.expect("sweep"), 0);
    assert_eq!(
        live_ids(&store, &sid, &alice.user_id, now).await,
        vec![live.session.session_id.clone()]
    );
    // A sweep takes at most its batch of each kind.
    for _ in 0..3 {
        let s = issue(&sid, &alice.user_id, now - 2 * HOUR_MS, 60, origin());
        store.create_session(&s.session).await.expect("create");
    }
    assert_eq!(store.sweep_sessions(now, 2).await.expect("sweep"), 2);
    assert_eq!(store.sweep_sessions(now, 2).await.expect("sweep"), 1);
}

async fn sso_configuration_round_trip(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let (i, _) = store
        .create_instance_if_absent(&instance(&b.organization.id, "cn-north-4"))
        .await
        .expect("instance");
    assert_eq!(
        store.sso_configuration(&i.instance_id).await.expect("get"),
        None
    );
    let mut c = SsoConfiguration {
        mfa_mode: "ALWAYS_ON".into(),
        ..Default::default()
    };
    c.session_configuration.max_authentication_age = "P1DT12H".into();
    assert!(store
        .put_sso_configuration(&i.instance_id, &c, 1)
        .await
        .expect("put"));
    assert_eq!(
        store.sso_configuration(&i.instance_id).await.expect("get"),
        Some(c.clone())
    );
    c.allowed_mfa_types = vec!["WEBAUTHN".into()];
    assert!(store
        .put_sso_configuration(&i.instance_id, &c, 2)
        .await
        .expect("replace"));
    assert_eq!(
        store.sso_configuration(&i.instance_id).await.expect("get"),
        Some(c.clone())
    );
    assert!(!store
        .put_sso_configuration("ins-0000000000000000", &c, 3)
        .await
        .expect("unknown"));
    assert_eq!(
        store
            .sso_configuration("ins-0000000000000000")
            .await
            .expect("get"),
        None
    );
    store
        .delete_instances(&b.organization.id)
        .await
        .expect("delete");
    assert_eq!(
        store.sso_configuration(&i.instance_id).await.expect("get"),
        None,
        "the configuration goes with its instance"
    );
}

/// Tokens issued through a device grant approved in `session_id`; returns the access token.
async fn tokens_in_session(store: &SharedStore, sid: &str, session_id: &str, now: i64) -> String {
    use iic_domain::oidc::{hash_secret, new_client_id, new_secret, new_user_code, DeviceState};
    let client = OidcClient {
        client_id: new_client_id(),
        secret_sha256: hash_secret("s"),
        name: "cli".into(),
        client_type: "public".into(),
        scopes: vec!["openid".into()],
        grant_types: vec![iic_domain::oidc::DEVICE_CODE_GRANT.into()],
        issued_at: now,
        expires_at: now + 24 * HOUR_MS,
    };
    store.register_oidc_client(&client).await.expect("client");
    let device_code = new_secret();
    let grant = DeviceGrant {
        device_code_sha256: hash_secret(&device_code),
        user_code: new_user_code(),
        client_id: client.client_id.clone(),
        instance_id: "ins-0000000000000000".into(),
        identity_store_id: sid.into(),
        scopes: vec!["openid".into()],
        state: DeviceState::Pending,
        interval_secs: 5,
        last_poll_at: None,
        expires_at: now + HOUR_MS,
        forget_at: now + 2 * HOUR_MS,
        user_id: None,
        session_id: None,
        created_at: now,
    };
    store.start_device_grant(&grant).await.expect("grant");
    let decision = DeviceDecision::Approve {
        user_id: "u".into(),
        session_id: session_id.into(),
    };
    store
        .decide_device_grant(&grant.user_code, &decision, now)
        .await
        .expect("approve");
    let (access, refresh) = (new_secret(), new_secret());
    let issued = NewTokens {
        access_sha256: hash_secret(&access),
        refresh_sha256: hash_secret(&refresh),
        access_expires_at: now + HOUR_MS,
        refresh_expires_at: now + 24 * HOUR_MS,
    };
    let outcome = store
        .poll_device_grant(&hash_secret(&device_code), &client.client_id, now, &issued)
        .await
        .expect("poll");
    assert!(matches!(outcome, PollOutcome::Issued(_)), "{outcome:?}");
    access
}

async fn ending_a_session_revokes_its_tokens(store: SharedStore) {
    use iic_domain::oidc::hash_secret;
    let (sid, alice) = stored_user(&store, "alice").await;
    let now = iic_domain::clock::now_millis();
    let ended = issue(&sid, &alice.user_id, now, 3_600, origin());
    let kept = issue(&sid, &alice.user_id, now, 3_600, origin());
    for s in [&ended, &kept] {
        store.create_session(&s.session).await.expect("session");
    }
    let in_ended = tokens_in_session(&store, &sid, &ended.session.session_id, now).await;
    let in_kept = tokens_in_session(&store, &sid, &kept.session.session_id, now).await;
    let live = async |access: &str| {
        store
            .get_access_token(&hash_secret(access), now + 1)
            .await
            .expect("get")
            .is_some()
    };
    assert!(live(&in_ended).await && live(&in_kept).await);
    store
        .end_sessions(
            &sid,
            &alice.user_id,
            std::slice::from_ref(&ended.session.session_id),
            now,
        )
        .await
        .expect("end");
    assert!(
        !live(&in_ended).await,
        "the ended session's token is revoked"
    );
    assert!(live(&in_kept).await, "another session's token is not");
    store
        .end_user_sessions(&sid, &alice.user_id, now)
        .await
        .expect("end all");
    assert!(!live(&in_kept).await);
}

async fn a_sign_in_beyond_the_cap_ends_the_oldest_session(store: SharedStore) {
    use iic_domain::session::MAX_LIVE_SESSIONS;
    let (sid, alice) = stored_user(&store, "alice").await;
    let now = iic_domain::clock::now_millis();
    let mut ids = Vec::new();
    for i in 0..=MAX_LIVE_SESSIONS {
        let s = issue(&sid, &alice.user_id, now + i, 3_600, origin());
        store.create_session(&s.session).await.expect("session");
        ids.push(s.session.session_id);
    }
    let live = live_ids(&store, &sid, &alice.user_id, now + 1_000).await;
    assert_eq!(live.len() as i64, MAX_LIVE_SESSIONS);
    assert!(!live.contains(&ids[0]), "the oldest was ended");
    assert_eq!(live, ids[1..].to_vec(), "the newest stay, oldest first");
}
