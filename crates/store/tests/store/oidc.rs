//! OIDC clients, device grants and tokens.

use crate::common::*;
use iic_domain::oidc::{hash_secret, new_secret, new_user_code, DeviceState, OAuthError};
use iic_store::*;

suite!(
    clients_and_portal_instances,
    a_device_grant_is_polled_decided_and_redeemed_once,
    concurrent_polls_redeem_an_approved_grant_once,
    refresh_spends_the_refresh_token_and_keeps_access_tokens,
    revoking_by_session_and_sweeping,
    tokens_last_no_longer_than_their_session,
    authorization_codes_are_redeemed_once_with_pkce,
);

const T0: i64 = 1_700_000_000_000;

fn client(expires_at: i64) -> OidcClient {
    OidcClient {
        client_id: iic_domain::oidc::new_client_id(),
        secret_sha256: hash_secret("s"),
        name: "cli".into(),
        client_type: "public".into(),
        scopes: vec!["openid".into()],
        grant_types: vec![iic_domain::oidc::DEVICE_CODE_GRANT.into()],
        issued_at: T0,
        expires_at,
    }
}

fn grant(client_id: &str, store_id: &str, device_code: &str) -> DeviceGrant {
    DeviceGrant {
        device_code_sha256: hash_secret(device_code),
        user_code: new_user_code(),
        client_id: client_id.into(),
        instance_id: "ins-0000000000000000".into(),
        identity_store_id: store_id.into(),
        scopes: vec!["openid".into()],
        state: DeviceState::Pending,
        interval_secs: 5,
        last_poll_at: None,
        expires_at: T0 + 600_000,
        forget_at: T0 + 1_200_000,
        user_id: None,
        session_id: None,
        created_at: T0,
    }
}

fn tokens() -> (NewTokens, String, String) {
    let (access, refresh) = (new_secret(), new_secret());
    (
        NewTokens {
            access_sha256: hash_secret(&access),
            refresh_sha256: hash_secret(&refresh),
            access_expires_at: T0 + 3_600_000,
            refresh_expires_at: T0 + 86_400_000,
        },
        access,
        refresh,
    )
}

fn approve(session: &str) -> DeviceDecision {
    DeviceDecision::Approve {
        user_id: "u-1".into(),
        session_id: session.into(),
    }
}

/// A registered client with one pending grant; returns the client id and the grant.
async fn pending(store: &SharedStore, device_code: &str) -> (String, DeviceGrant) {
    let c = client(T0 + 86_400_000);
    store.register_oidc_client(&c).await.expect("register");
    let g = grant(&c.client_id, "d-0000000001", device_code);
    store.start_device_grant(&g).await.expect("start");
    (c.client_id, g)
}

async fn clients_and_portal_instances(store: SharedStore) {
    let c = client(T0 + 1);
    store.register_oidc_client(&c).await.expect("register");
    assert_eq!(
        store.get_oidc_client(&c.client_id).await.expect("get"),
        Some(c.clone())
    );
    assert_eq!(store.get_oidc_client("oc-none").await.expect("get"), None);
    let (org, store_id) = directory(&store).await;
    let found = store
        .find_portal_instance(&store_id)
        .await
        .expect("find")
        .expect("by identity store id");
    assert_eq!(found.organization_id, org);
    assert_eq!(
        store
            .set_alias(&found.instance_id, "corp")
            .await
            .expect("alias"),
        SetAliasOutcome::Set
    );
    let by_alias = store.find_portal_instance("corp").await.expect("find");
    assert_eq!(by_alias.map(|i| i.instance_id), Some(found.instance_id));
    assert_eq!(
        store.find_portal_instance("nope").await.expect("find"),
        None
    );
}

async fn a_device_grant_is_polled_decided_and_redeemed_once(store: SharedStore) {
    let (client_id, g) = pending(&store, "code1").await;
    let hash = hash_secret("code1");
    let poll = |now: i64| {
        let (store, hash, client_id) = (store.clone(), hash.clone(), client_id.clone());
        async move {
            store
                .poll_device_grant(&hash, &client_id, now, &tokens().0)
                .await
                .expect("poll")
        }
    };
    assert_eq!(
        poll(T0).await,
        PollOutcome::Refused(OAuthError::AuthorizationPending)
    );
    assert_eq!(
        poll(T0 + 1_000).await,
        PollOutcome::Refused(OAuthError::SlowDown)
    );
    // The interval is now 10 s, counted from the previous poll.
    assert_eq!(
        poll(T0 + 9_000).await,
        PollOutcome::Refused(OAuthError::SlowDown)
    );
    assert_eq!(
        poll(T0 + 25_000).await,
        PollOutcome::Refused(OAuthError::AuthorizationPending)
    );
    let other = store
        .poll_device_grant(&hash, "oc-other", T0 + 40_000, &tokens().0)
        .await
        .expect("poll");
    assert_eq!(other, PollOutcome::Refused(OAuthError::InvalidGrant));
    let unknown = store
        .poll_device_grant(&hash_secret("nope"), &client_id, T0, &tokens().0)
        .await
        .expect("poll");
    assert_eq!(unknown, PollOutcome::Unknown);

    let decided = store
        .decide_device_grant(&g.user_code, &approve("s-1"), T0 + 30_000)
        .await
        .expect("decide")
        .expect("pending");
    assert_eq!(decided.state, DeviceState::Approved);
    assert_eq!(decided.session_id.as_deref(), Some("s-1"));
    let again = store
        .decide_device_grant(&g.user_code, &approve("s-2"), T0 + 30_000)
        .await
        .expect("decide");
    assert_eq!(again, None, "a decided grant is not decided again");
    let PollOutcome::Issued(token) = poll(T0 + 31_000).await else {
        panic!("not issued");
    };
    assert_eq!(
        (token.user_id.as_str(), token.session_id.as_deref()),
        ("u-1", Some("s-1"))
    );
    assert_eq!(token.identity_store_id, "d-0000000001");
    assert_eq!(
        poll(T0 + 60_000).await,
        PollOutcome::Refused(OAuthError::InvalidGrant)
    );
    let stored = store
        .get_device_grant_by_user_code(&g.user_code)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(stored.state, DeviceState::Redeemed);

    // Denied, and expired.
    let (client2, g2) = pending(&store, "code2").await;
    store
        .decide_device_grant(
            &g2.user_code,
            &DeviceDecision::Deny {
                user_id: "u-1".into(),
                session_id: "s-1".into(),
            },
            T0,
        )
        .await
        .expect("deny")
        .expect("pending");
    let denied = store
        .poll_device_grant(&hash_secret("code2"), &client2, T0 + 1, &tokens().0)
        .await
        .expect("poll");
    assert_eq!(denied, PollOutcome::Refused(OAuthError::AccessDenied));
    let (client3, g3) = pending(&store, "code3").await;
    let late = store
        .decide_device_grant(&g3.user_code, &approve("s-1"), g3.expires_at)
        .await
        .expect("decide");
    assert_eq!(late, None, "an expired grant cannot be approved");
    let expired = store
        .poll_device_grant(&hash_secret("code3"), &client3, g3.expires_at, &tokens().0)
        .await
        .expect("poll");
    assert_eq!(expired, PollOutcome::Refused(OAuthError::ExpiredToken));
}

async fn concurrent_polls_redeem_an_approved_grant_once(store: SharedStore) {
    let (client_id, g) = pending(&store, "race").await;
    store
        .decide_device_grant(&g.user_code, &approve("s-1"), T0)
        .await
        .expect("decide")
        .expect("pending");
    let polls = (0..8).map(|i| {
        let (store, client_id) = (store.clone(), client_id.clone());
        tokio::spawn(async move {
            store
                .poll_device_grant(&hash_secret("race"), &client_id, T0 + 1 + i, &tokens().0)
                .await
                .expect("poll")
        })
    });
    let outcomes = futures::future::join_all(polls).await;
    let issued = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(PollOutcome::Issued(_))))
        .count();
    assert_eq!(issued, 1, "{outcomes:?}");
    for o in outcomes.iter().flatten() {
        if !matches!(o, PollOutcome::Issued(_)) {
            assert_eq!(o, &PollOutcome::Refused(OAuthError::InvalidGrant));
        }
    }
}

/// A signed-in session with id `session_id`, live from T0 for `hours`: tokens work only while the
/// session they were issued under does.
async fn session(store: &SharedStore, session_id: &str, hours: i64) {
    let (_, sid) = directory(store).await;
    let u = user(&sid, "ada");
    store.create_user(&u, 100).await.expect("user");
    let mut s =
        iic_domain::session::issue(&sid, &u.user_id, T0, hours * 3_600, Default::default()).session;
    s.session_id = session_id.into();
    store
        .create_session(&s)
        .await
        .expect("session")
        .expect("stored");
}

async fn refresh_spends_the_refresh_token_and_keeps_access_tokens(store: SharedStore) {
    let (client_id, g) = pending(&store, "r").await;
    session(&store, "s-1", 48).await;
    store
        .decide_device_grant(&g.user_code, &approve("s-1"), T0)
        .await
        .expect("decide");
    let (first, access1, refresh1) = tokens();
    let issued = store
        .poll_device_grant(&hash_secret("r"), &client_id, T0 + 1, &first)
        .await
        .expect("poll");
    assert!(matches!(issued, PollOutcome::Issued(_)));
    let (second, access2, _) = tokens();
    let wrong_client = store
        .refresh_oidc_token(&hash_secret(&refresh1), "oc-other", T0 + 2, &second)
        .await
        .expect("refresh");
    assert_eq!(wrong_client, None);
    let fresh = store
        .refresh_oidc_token(&hash_secret(&refresh1), &client_id, T0 + 2, &second)
        .await
        .expect("refresh")
        .expect("refreshed");
    assert_eq!(fresh.session_id.as_deref(), Some("s-1"));
    let spent = store
        .refresh_oidc_token(&hash_secret(&refresh1), &client_id, T0 + 3, &tokens().0)
        .await
        .expect("refresh");
    assert_eq!(spent, None, "a refresh token is spent once");
    for a in [&access1, &access2] {
        assert!(store
            .get_access_token(&hash_secret(a), T0 + 4)
            .await
            .expect("get")
            .is_some());
    }
    let after_expiry = store
        .get_access_token(&hash_secret(&access1), first.access_expires_at)
        .await
        .expect("get");
    assert_eq!(after_expiry, None);
}

async fn tokens_last_no_longer_than_their_session(store: SharedStore) {
    let (client_id, g) = pending(&store, "age").await;
    session(&store, "s-short", 1).await;
    store
        .decide_device_grant(&g.user_code, &approve("s-short"), T0)
        .await
        .expect("decide");
    let (mut t, access, refresh) = tokens();
    t.access_expires_at = T0 + 2 * 3_600_000;
    store
        .poll_device_grant(&hash_secret("age"), &client_id, T0 + 1, &t)
        .await
        .expect("poll");
    let hash = hash_secret(&access);
    let within = store.get_access_token(&hash, T0 + 3_599_999);
    assert!(within.await.expect("get").is_some());
    let past = store.get_access_token(&hash, T0 + 3_600_000);
    assert_eq!(
        past.await.expect("get"),
        None,
        "the session reached its age"
    );
    let refreshed = store
        .refresh_oidc_token(
            &hash_secret(&refresh),
            &client_id,
            T0 + 3_600_001,
            &tokens().0,
        )
        .await
        .expect("refresh");
    assert_eq!(refreshed, None);
}

async fn revoking_by_session_and_sweeping(store: SharedStore) {
    let (client_id, g) = pending(&store, "s").await;
    store
        .decide_device_grant(&g.user_code, &approve("s-9"), T0)
        .await
        .expect("decide");
    let (t, access, refresh) = tokens();
    store
        .poll_device_grant(&hash_secret("s"), &client_id, T0 + 1, &t)
        .await
        .expect("poll");
    assert_eq!(
        store
            .revoke_oidc_tokens_of_session("s-9", T0 + 2)
            .await
            .expect("revoke"),
        1
    );
    assert_eq!(
        store
            .get_access_token(&hash_secret(&access), T0 + 3)
            .await
            .expect("get"),
        None
    );
    let refreshed = store
        .refresh_oidc_token(&hash_secret(&refresh), &client_id, T0 + 3, &tokens().0)
        .await
        .expect("refresh");
    assert_eq!(refreshed, None, "a revoked token cannot be refreshed");
    assert!(!store
        .revoke_oidc_token(&hash_secret(&access), T0 + 4)
        .await
        .expect("revoke"));

    let nothing = store.sweep_oidc(T0 + 5).await.expect("sweep");
    assert_eq!(nothing, OidcSweep::default());
    let swept = store
        .sweep_oidc(T0 + 100 * 86_400_000)
        .await
        .expect("sweep");
    assert_eq!(
        swept,
        OidcSweep {
            clients: 1,
            device_grants: 1,
            tokens: 1,
            auth_codes: 0,
        }
    );
    assert_eq!(
        store
            .get_device_grant_by_user_code(&g.user_code)
            .await
            .expect("get"),
        None
    );
}

fn auth_code(client_id: &str, code: &str, challenge: Option<String>) -> AuthCode {
    AuthCode {
        code_sha256: hash_secret(code),
        client_id: client_id.into(),
        redirect_uri: "http://127.0.0.1:9999/cb".into(),
        code_challenge: challenge,
        instance_id: "ins-0000000000000000".into(),
        identity_store_id: "d-0000000001".into(),
        user_id: "u-1".into(),
        session_id: "s-1".into(),
        scopes: vec!["openid".into()],
        expires_at: T0 + 60_000,
    }
}

fn redemption(client_id: &str, code: &str, verifier: Option<&str>) -> CodeRedemption {
    CodeRedemption {
        code_sha256: hash_secret(code),
        client_id: client_id.into(),
        redirect_uri: Some("http://127.0.0.1:9999/cb".into()),
        code_verifier: verifier.map(str::to_string),
    }
}

async fn authorization_codes_are_redeemed_once_with_pkce(store: SharedStore) {
    let c = client(T0 + 86_400_000);
    store.register_oidc_client(&c).await.expect("register");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = iic_domain::oidc::pkce::s256_challenge(verifier);
    store
        .create_auth_code(&auth_code(&c.client_id, "good", Some(challenge.clone())))
        .await
        .expect("code");
    let redeem = |r: CodeRedemption| {
        let store = store.clone();
        async move {
            store
                .redeem_auth_code(&r, T0 + 1, &tokens().0)
                .await
                .expect("redeem")
        }
    };
    assert_eq!(
        redeem(redemption("oc-other", "good", Some(verifier))).await,
        PollOutcome::Refused(OAuthError::InvalidGrant),
        "another client's code"
    );
    let PollOutcome::Issued(t) = redeem(redemption(&c.client_id, "good", Some(verifier))).await
    else {
        panic!("not issued");
    };
    assert_eq!(t.session_id.as_deref(), Some("s-1"));
    assert_eq!(
        redeem(redemption(&c.client_id, "good", Some(verifier))).await,
        PollOutcome::Unknown,
        "spent"
    );
    // A wrong verifier burns the code.
    store
        .create_auth_code(&auth_code(&c.client_id, "bad", Some(challenge)))
        .await
        .expect("code");
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
    assert_eq!(
        redeem(redemption(&c.client_id, "bad", Some(wrong))).await,
        PollOutcome::Refused(OAuthError::InvalidGrant)
    );
    assert_eq!(
        redeem(redemption(&c.client_id, "bad", Some(verifier))).await,
        PollOutcome::Unknown
    );
    // Without PKCE, the redirect URI must still match.
    store
        .create_auth_code(&auth_code(&c.client_id, "plain", None))
        .await
        .expect("code");
    let mut elsewhere = redemption(&c.client_id, "plain", None);
    elsewhere.redirect_uri = Some("http://127.0.0.1:9999/other".into());
    assert_eq!(
        redeem(elsewhere).await,
        PollOutcome::Refused(OAuthError::InvalidGrant)
    );
    let swept = store.sweep_oidc(T0 + 60_000).await.expect("sweep");
    assert_eq!(swept.auth_codes, 3);
}
