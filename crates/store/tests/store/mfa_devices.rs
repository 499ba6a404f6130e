//! MFA devices, their enrolment links and the device management setting.

use crate::common::*;
use iic_store::*;

suite!(
    an_enrolment_registers_one_device_once,
    devices_are_listed_renamed_and_deleted_per_user,
    a_time_step_is_accepted_once,
    deleting_the_user_removes_its_devices_and_enrolments,
    device_management_round_trip,
    a_user_holds_at_most_the_limit_of_devices,
    a_browser_is_remembered_per_user_until_it_expires,
);

const DAY_MS: i64 = 86_400_000;

async fn stored_user(store: &SharedStore, name: &str) -> (String, User) {
    let (_, sid) = directory(store).await;
    let u = user(&sid, name);
    store.create_user(&u, 100).await.expect("user");
    (sid, u)
}

fn enrolment(sid: &str, u: &User) -> MfaEnrolment {
    MfaEnrolment {
        identity_store_id: sid.into(),
        user_id: u.user_id.clone(),
    }
}

fn device(sid: &str, u: &User, id: &str, now: i64) -> MfaDevice {
    MfaDevice {
        device_id: id.into(),
        identity_store_id: sid.into(),
        user_id: u.user_id.clone(),
        mfa_type: "TOTP".into(),
        device_name: format!("totp-{id}"),
        display_name: "phone".into(),
        secret_sealed: Some(vec![1, 2, 3]),
        last_step: Some(7),
        registered_at: now,
        last_used_at: None,
    }
}

async fn an_enrolment_registers_one_device_once(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let now = 1_000_000;
    let hash = [7u8; 32];
    assert!(store
        .create_mfa_enrolment(&enrolment(&sid, &alice), &hash, now, now + DAY_MS)
        .await
        .expect("enrol"));
    let ghost = MfaEnrolment {
        identity_store_id: sid.clone(),
        user_id: "no-such-user".into(),
    };
    assert!(!store
        .create_mfa_enrolment(&ghost, &[8u8; 32], now, now + DAY_MS)
        .await
        .expect("ghost"));
    assert_eq!(
        store.mfa_enrolment(&hash, now).await.expect("read"),
        Some(enrolment(&sid, &alice))
    );
    assert_eq!(
        store
            .mfa_enrolment(&hash, now + DAY_MS)
            .await
            .expect("read"),
        None,
        "expired"
    );
    let bob = user(&sid, "bob");
    store.create_user(&bob, 100).await.expect("bob");
    assert_eq!(
        store
            .complete_mfa_enrolment(&hash, &device(&sid, &bob, "d-bob", now), now)
            .await
            .expect("other user"),
        DeviceAdded::NoUser,
        "a link spends only for the user it was issued to"
    );
    let d = device(&sid, &alice, "d-1", now);
    assert_eq!(
        store
            .complete_mfa_enrolment(&hash, &d, now)
            .await
            .expect("complete"),
        DeviceAdded::Added
    );
    assert_eq!(
        store
            .complete_mfa_enrolment(&hash, &device(&sid, &alice, "d-2", now), now)
            .await
            .expect("again"),
        DeviceAdded::NoUser
    );
    assert_eq!(store.mfa_enrolment(&hash, now).await.expect("read"), None);
    assert_eq!(
        store
            .list_mfa_devices(&sid, &alice.user_id)
            .await
            .expect("list"),
        vec![d]
    );
    assert!(store
        .list_mfa_devices(&sid, &bob.user_id)
        .await
        .expect("list")
        .is_empty());

    let late = [9u8; 32];
    store
        .create_mfa_enrolment(&enrolment(&sid, &alice), &late, now, now + 10)
        .await
        .expect("enrol");
    assert_eq!(
        store
            .complete_mfa_enrolment(&late, &device(&sid, &alice, "d-3", now), now + 10)
            .await
            .expect("expired"),
        DeviceAdded::NoUser
    );
    assert_eq!(
        store
            .sweep_mfa_enrolments(now + 10, 100)
            .await
            .expect("sweep"),
        1
    );
}

async fn devices_are_listed_renamed_and_deleted_per_user(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let bob = user(&sid, "bob");
    store.create_user(&bob, 100).await.expect("bob");
    for (i, u) in [&alice, &alice, &bob].into_iter().enumerate() {
        let hash = [i as u8; 32];
        store
            .create_mfa_enrolment(&enrolment(&sid, u), &hash, 10, DAY_MS)
            .await
            .expect("enrol");
        let d = device(&sid, u, &format!("d-{i}"), 10 + i as i64);
        assert_eq!(
            store
                .complete_mfa_enrolment(&hash, &d, 20)
                .await
                .expect("complete"),
            DeviceAdded::Added
        );
    }
    let ids = |v: Vec<MfaDevice>| v.into_iter().map(|d| d.device_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .list_mfa_devices(&sid, &alice.user_id)
            .await
            .expect("list")),
        ["d-0", "d-1"]
    );
    assert!(!store
        .rename_mfa_device(&sid, &alice.user_id, "d-2", "stolen")
        .await
        .expect("not hers"));
    assert!(store
        .rename_mfa_device(&sid, &alice.user_id, "d-1", "laptop")
        .await
        .expect("rename"));
    let listed = store
        .list_mfa_devices(&sid, &alice.user_id)
        .await
        .expect("list");
    assert_eq!(listed[1].display_name, "laptop");
    assert!(!store
        .delete_mfa_device(&sid, &alice.user_id, "d-2")
        .await
        .expect("not hers"));
    assert!(store
        .delete_mfa_device(&sid, &alice.user_id, "d-0")
        .await
        .expect("delete"));
    assert!(!store
        .delete_mfa_device(&sid, &alice.user_id, "d-0")
        .await
        .expect("again"));
    assert_eq!(
        ids(store
            .list_mfa_devices(&sid, &alice.user_id)
            .await
            .expect("list")),
        ["d-1"]
    );
    assert_eq!(
        ids(store
            .list_mfa_devices(&sid, &bob.user_id)
            .await
            .expect("list")),
        ["d-2"]
    );
}

async fn a_time_step_is_accepted_once(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let hash = [1u8; 32];
    store
        .create_mfa_enrolment(&enrolment(&sid, &alice), &hash, 10, DAY_MS)
        .await
        .expect("enrol");
    let d = device(&sid, &alice, "d-1", 10);
    store
        .complete_mfa_enrolment(&hash, &d, 10)
        .await
        .expect("complete");
    assert!(!store
        .accept_mfa_step("d-1", 7, 50)
        .await
        .expect("enrolment's step"));
    assert!(!store.accept_mfa_step("d-1", 6, 50).await.expect("older"));
    assert!(store.accept_mfa_step("d-1", 8, 50).await.expect("next"));
    assert!(!store.accept_mfa_step("d-1", 8, 60).await.expect("replay"));
    let listed = store
        .list_mfa_devices(&sid, &alice.user_id)
        .await
        .expect("list");
    assert_eq!(listed[0].last_step, Some(8));
    assert_eq!(listed[0].last_used_at, Some(50));
}

async fn deleting_the_user_removes_its_devices_and_enrolments(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    store
        .create_mfa_enrolment(&enrolment(&sid, &alice), &[1u8; 32], 10, DAY_MS)
        .await
        .expect("enrol");
    store
        .complete_mfa_enrolment(&[1u8; 32], &device(&sid, &alice, "d-1", 10), 10)
        .await
        .expect("complete");
    store
        .create_mfa_enrolment(&enrolment(&sid, &alice), &[2u8; 32], 10, DAY_MS)
        .await
        .expect("enrol");
    assert!(store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("delete user"));
    assert!(store
        .list_mfa_devices(&sid, &alice.user_id)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store.mfa_enrolment(&[2u8; 32], 20).await.expect("read"),
        None
    );
}

async fn device_management_round_trip(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    assert_eq!(store.mfa_device_management(&sid).await.expect("get"), None);
    assert!(store
        .put_mfa_device_management(&sid, "READ_ACTIONS", 10)
        .await
        .expect("put"));
    assert!(store
        .put_mfa_device_management(&sid, "ALL_ACTIONS", 20)
        .await
        .expect("put again"));
    assert_eq!(
        store.mfa_device_management(&sid).await.expect("get"),
        Some("ALL_ACTIONS".into())
    );
    assert!(!store
        .put_mfa_device_management("d-0000000000", "ALL_ACTIONS", 10)
        .await
        .expect("unknown store"));
}

async fn a_user_holds_at_most_the_limit_of_devices(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    for i in 0..MAX_DEVICES_PER_USER {
        assert_eq!(
            store
                .add_mfa_device(&device(&sid, &alice, &format!("d-{i}"), 10))
                .await
                .expect("add"),
            DeviceAdded::Added
        );
    }
    assert_eq!(
        store
            .add_mfa_device(&device(&sid, &alice, "d-over", 10))
            .await
            .expect("over"),
        DeviceAdded::Full
    );
    let hash = [3u8; 32];
    store
        .create_mfa_enrolment(&enrolment(&sid, &alice), &hash, 10, 10 + DAY_MS)
        .await
        .expect("enrol");
    assert_eq!(
        store
            .complete_mfa_enrolment(&hash, &device(&sid, &alice, "d-link", 20), 20)
            .await
            .expect("full"),
        DeviceAdded::Full
    );
    assert!(
        store
            .mfa_enrolment(&hash, 20)
            .await
            .expect("read")
            .is_some(),
        "a refused link is not spent"
    );
    let mut ghost = alice.clone();
    ghost.user_id = "no-such-user".into();
    assert_eq!(
        store
            .add_mfa_device(&device(&sid, &ghost, "d-ghost", 10))
            .await
            .expect("ghost"),
        DeviceAdded::NoUser
    );
}

async fn a_browser_is_remembered_per_user_until_it_expires(store: SharedStore) {
    let (sid, alice) = stored_user(&store, "alice").await;
    let bob = user(&sid, "bob");
    store.create_user(&bob, 100).await.expect("bob");
    let browser = [9u8; 32];
    let known = |u: &User, now| {
        let (store, sid, uid) = (store.clone(), sid.clone(), u.user_id.clone());
        async move {
            store
                .remembered_browser_address(&browser, &sid, &uid, now)
                .await
                .expect("read")
        }
    };
    assert_eq!(known(&alice, 10).await, None);
    store
        .remember_browser(&browser, &sid, &alice.user_id, "192.0.2.1", 10, 1_000)
        .await
        .expect("remember");
    assert_eq!(known(&alice, 20).await.as_deref(), Some("192.0.2.1"));
    assert_eq!(known(&bob, 20).await, None, "known to alice only");
    store
        .remember_browser(&browser, &sid, &alice.user_id, "192.0.2.7", 30, 2_000)
        .await
        .expect("again");
    assert_eq!(known(&alice, 1_500).await.as_deref(), Some("192.0.2.7"));
    assert_eq!(known(&alice, 2_000).await, None, "expired");
    store
        .remember_browser(&browser, &sid, &bob.user_id, "192.0.2.1", 30, 5_000)
        .await
        .expect("bob");
    assert_eq!(
        store
            .sweep_remembered_browsers(2_000, 100)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        store
            .forget_browsers(&sid, &bob.user_id)
            .await
            .expect("forget"),
        1
    );
    assert_eq!(known(&bob, 40).await, None);

    // Removing a device forgets the browsers remembered for its user.
    store
        .remember_browser(&browser, &sid, &alice.user_id, "192.0.2.1", 50, 5_000)
        .await
        .expect("again");
    store
        .add_mfa_device(&device(&sid, &alice, "d-1", 50))
        .await
        .expect("add");
    assert!(store
        .delete_mfa_device(&sid, &alice.user_id, "d-1")
        .await
        .expect("delete"));
    assert_eq!(known(&alice, 60).await, None);
}
