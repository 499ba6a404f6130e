//! WebAuthn credentials of MFA devices (the credential column, its uniqueness, the counter
//! that moves forward only) and the ceremony state taken once.

use crate::common::*;
use iic_store::*;

suite!(
    a_webauthn_device_keeps_its_credential,
    the_counter_moves_forward_only,
    a_ceremony_is_taken_once_by_its_user_and_purpose,
    deleting_the_user_removes_credentials_and_ceremonies,
);

async fn stored_user(store: &SharedStore, name: &str) -> (String, User) {
    let (_, sid) = directory(store).await;
    let u = user(&sid, name);
    store.create_user(&u, 100).await.expect("user");
    (sid, u)
}

fn device(sid: &str, u: &User, id: &str, mfa_type: &str) -> (MfaDevice, WebauthnCredential) {
    let d = MfaDevice {
        device_id: id.into(),
        identity_store_id: sid.into(),
        user_id: u.user_id.clone(),
        mfa_type: mfa_type.into(),
        device_name: format!("key-{id}"),
        display_name: "blue key".into(),
        secret_sealed: None,
        last_step: None,
        registered_at: 100,
        last_used_at: None,
    };
    let c = WebauthnCredential {
        device_id: id.into(),
        mfa_type: mfa_type.into(),
        credential_id: format!("c0ffee{id}"),
        credential: format!("{{\"cred\":\"{id}\"}}"),
        sign_count: 0,
    };
    (d, c)
}

async fn a_webauthn_device_keeps_its_credential(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let (d, c) = device(&sid, &alice, "w-1", "WEBAUTHN_SECURITY_KEY");
    assert_eq!(
        store.add_webauthn_device(&d, &c).await.expect("add"),
        DeviceAdded::Added
    );
    assert_eq!(
        store
            .list_mfa_devices(&sid, &alice.user_id)
            .await
            .expect("list"),
        vec![d.clone()],
        "listed like any device, with its type"
    );
    assert_eq!(
        store
            .webauthn_credentials(&sid, &alice.user_id)
            .await
            .expect("credentials"),
        vec![c.clone()]
    );
    assert!(store
        .webauthn_credential_taken(&c.credential_id)
        .await
        .expect("taken"));
    assert!(!store
        .webauthn_credential_taken("c0ffee-other")
        .await
        .expect("free"));

    // The same credential id again, even for another user: refused by the unique index.
    let bob = user(&sid, "bob");
    store.create_user(&bob, 100).await.expect("bob");
    let (mut d2, c2) = device(&sid, &bob, "w-2", "WEBAUTHN");
    let c2 = WebauthnCredential {
        credential_id: c.credential_id.clone(),
        ..c2
    };
    let again = store.add_webauthn_device(&d2, &c2).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert!(
        store
            .list_mfa_devices(&sid, &bob.user_id)
            .await
            .expect("list")
            .is_empty(),
        "the refused device is not half written"
    );
    // No such user: nothing written.
    d2.user_id = "no-such-user".into();
    let (_, c3) = device(&sid, &bob, "w-3", "WEBAUTHN");
    assert_eq!(
        store.add_webauthn_device(&d2, &c3).await.expect("ghost"),
        DeviceAdded::NoUser
    );

    assert!(store
        .webauthn_credentials(&sid, &bob.user_id)
        .await
        .expect("none")
        .is_empty());

    // At most MAX_DEVICES_PER_USER devices, whatever their kind.
    for i in 2..=MAX_DEVICES_PER_USER {
        let (d, c) = device(&sid, &alice, &format!("w-a{i}"), "WEBAUTHN");
        assert_eq!(
            store.add_webauthn_device(&d, &c).await.expect("add"),
            DeviceAdded::Added
        );
    }
    let (d, c) = device(&sid, &alice, "w-a9", "WEBAUTHN");
    assert_eq!(
        store.add_webauthn_device(&d, &c).await.expect("full"),
        DeviceAdded::Full
    );
    assert!(!store
        .webauthn_credential_taken(&c.credential_id)
        .await
        .expect("not written"));
}

async fn the_counter_moves_forward_only(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let (d, c) = device(&sid, &alice, "w-1", "WEBAUTHN_SECURITY_KEY");
    store.add_webauthn_device(&d, &c).await.expect("add");
    let uid = &alice.user_id;
    assert!(store
        .use_webauthn_credential(&sid, uid, "w-1", "{\"v\":1}", 5, 200)
        .await
        .expect("first use"));
    assert!(!store
        .use_webauthn_credential(&sid, uid, "w-1", "{\"v\":2}", 5, 300)
        .await
        .expect("same counter"));
    assert!(!store
        .use_webauthn_credential(&sid, uid, "w-1", "{\"v\":2}", 4, 300)
        .await
        .expect("older counter"));
    assert!(store
        .use_webauthn_credential(&sid, uid, "w-1", "{\"v\":3}", 6, 400)
        .await
        .expect("next"));
    assert!(!store
        .use_webauthn_credential(&sid, "someone-else", "w-1", "{}", 9, 500)
        .await
        .expect("not theirs"));
    let cred = &store.webauthn_credentials(&sid, uid).await.expect("read")[0];
    assert_eq!(
        (cred.sign_count, cred.credential.as_str()),
        (6, "{\"v\":3}")
    );
    let listed = &store.list_mfa_devices(&sid, uid).await.expect("list")[0];
    assert_eq!(listed.last_used_at, Some(400));

    // An authenticator without a counter (0) is accepted each time.
    let (d, c) = device(&sid, &alice, "w-2", "WEBAUTHN");
    store.add_webauthn_device(&d, &c).await.expect("add");
    for now in [600, 700] {
        assert!(store
            .use_webauthn_credential(&sid, uid, "w-2", "{}", 0, now)
            .await
            .expect("no counter"));
    }
}

async fn a_ceremony_is_taken_once_by_its_user_and_purpose(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let bob = user(&sid, "bob");
    store.create_user(&bob, 100).await.expect("bob");
    let ceremony = WebauthnCeremony {
        ceremony_id: "c-1".into(),
        identity_store_id: sid.clone(),
        user_id: alice.user_id.clone(),
        purpose: "register:WEBAUTHN".into(),
        state: "{\"challenge\":\"x\"}".into(),
        expires_at: 1_000,
    };
    assert!(store
        .put_webauthn_ceremony(&ceremony, 100)
        .await
        .expect("put"));
    let ghost = WebauthnCeremony {
        ceremony_id: "c-ghost".into(),
        user_id: "no-such-user".into(),
        ..ceremony.clone()
    };
    assert!(!store
        .put_webauthn_ceremony(&ghost, 100)
        .await
        .expect("ghost"));
    let take = |id: &'static str, uid: String, purpose: &'static str, now: i64| {
        let (store, sid) = (store.clone(), sid.clone());
        async move {
            store
                .take_webauthn_ceremony(id, &sid, &uid, purpose, now)
                .await
                .expect("take")
        }
    };
    assert_eq!(
        take("c-1", bob.user_id.clone(), "register:WEBAUTHN", 200).await,
        None
    );
    assert_eq!(
        take("c-1", alice.user_id.clone(), "authenticate:WEBAUTHN", 200).await,
        None
    );
    assert_eq!(
        take("c-1", alice.user_id.clone(), "register:WEBAUTHN", 200).await,
        Some(ceremony.clone())
    );
    assert_eq!(
        take("c-1", alice.user_id.clone(), "register:WEBAUTHN", 200).await,
        None,
        "taken once"
    );

    // An expired one is not handed out, and a later ceremony clears it away.
    let late = WebauthnCeremony {
        ceremony_id: "c-2".into(),
        ..ceremony.clone()
    };
    store.put_webauthn_ceremony(&late, 100).await.expect("put");
    assert_eq!(
        take("c-2", alice.user_id.clone(), "register:WEBAUTHN", 1_000).await,
        None
    );
    let stale = WebauthnCeremony {
        ceremony_id: "c-3".into(),
        ..ceremony.clone()
    };
    store.put_webauthn_ceremony(&stale, 100).await.expect("put");
    let fresh = WebauthnCeremony {
        ceremony_id: "c-4".into(),
        expires_at: 5_000,
        ..ceremony.clone()
    };
    store
        .put_webauthn_ceremony(&fresh, 2_000)
        .await
        .expect("put");
    assert_eq!(
        take("c-3", alice.user_id.clone(), "register:WEBAUTHN", 0).await,
        None,
        "cleared by the later ceremony"
    );
    assert_eq!(
        take("c-4", alice.user_id.clone(), "register:WEBAUTHN", 2_000).await,
        Some(fresh)
    );
}

async fn deleting_the_user_removes_credentials_and_ceremonies(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let (d, c) = device(&sid, &alice, "w-1", "WEBAUTHN");
    store.add_webauthn_device(&d, &c).await.expect("add");
    let ceremony = WebauthnCeremony {
        ceremony_id: "c-1".into(),
        identity_store_id: sid.clone(),
        user_id: alice.user_id.clone(),
        purpose: "authenticate:WEBAUTHN".into(),
        state: "{}".into(),
        expires_at: 1_000,
    };
    store
        .put_webauthn_ceremony(&ceremony, 100)
        .await
        .expect("put");
    assert!(store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("delete"));
    assert!(!store
        .webauthn_credential_taken(&c.credential_id)
        .await
        .expect("gone"));
    assert_eq!(
        store
            .take_webauthn_ceremony("c-1", &sid, &alice.user_id, "authenticate:WEBAUTHN", 200)
            .await
            .expect("take"),
        None
    );
}
