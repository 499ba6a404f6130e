//! MFA devices, their enrolment links and the device management setting.

use crate::common::*;
use iic_store::*;

suite!(
    an_enrolment_registers_one_device_once,
    devices_are_listed_renamed_and_deleted_per_user,
    a_time_step_is_accepted_once,
    deleting_the_user_removes_its_devices_and_enrolments,
    device_management_round_trip,
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
    assert!(
        !store
            .complete_mfa_enrolment(&hash, &device(&sid, &bob, "d-bob", now), now)
            .await
            .expect("other user"),
        "a link spends only for the user it was issued to"
    );
    let d = device(&sid, &alice, "d-1", now);
    assert!(store
        .complete_mfa_enrolment(&hash, &d, now)
        .await
        .expect("complete"));
    assert!(!store
        .complete_mfa_enrolment(&hash, &device(&sid, &alice, "d-2", now), now)
        .await
        .expect("again"));
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
    assert!(!store
        .complete_mfa_enrolment(&late, &device(&sid, &alice, "d-3", now), now + 10)
        .await
        .expect("expired"));
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
        assert!(store
            .complete_mfa_enrolment(&hash, &d, 20)
            .await
            .expect("complete"));
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
