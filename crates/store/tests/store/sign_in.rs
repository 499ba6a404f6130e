//! Sign-in state: failure counters and their locks, and a user's own password replacing a
//! one-time password.

use crate::common::*;
use iic_domain::sign_in::ThrottlePolicy;
use iic_store::*;

suite!(
    failures_within_the_window_lock_the_key,
    a_window_that_ran_out_starts_counting_again,
    clearing_and_sweeping_forget_counters,
    a_password_is_set_only_over_the_one_proved,
);

const MINUTE: i64 = 60_000;
const POLICY: ThrottlePolicy = ThrottlePolicy {
    max_failures: 3,
    window_ms: 15 * MINUTE,
    lock_ms: 10 * MINUTE,
};

async fn failures_within_the_window_lock_the_key(store: SharedStore) {
    let t = 1_000_000_000_000;
    let keys = ["user:d-1:zoe".to_string(), "address:10.0.0.1".to_string()];
    for i in 0..2 {
        let locked = store.record_sign_in_failure(&keys[0], POLICY, t + i * MINUTE);
        assert_eq!(locked.await.expect("count"), None);
    }
    assert_eq!(
        store
            .sign_in_locked_until(&keys, t + 2 * MINUTE)
            .await
            .expect("read"),
        None
    );
    let until = store
        .record_sign_in_failure(&keys[0], POLICY, t + 2 * MINUTE)
        .await
        .expect("count");
    assert_eq!(until, Some(t + 12 * MINUTE));
    assert_eq!(
        store
            .sign_in_locked_until(&keys, t + 5 * MINUTE)
            .await
            .expect("read"),
        Some(t + 12 * MINUTE),
        "either key being locked locks the attempt"
    );
    assert_eq!(
        store
            .sign_in_locked_until(&keys[1..], t + 5 * MINUTE)
            .await
            .expect("read"),
        None,
        "the other key is not locked"
    );
    assert_eq!(
        store
            .sign_in_locked_until(&keys, t + 12 * MINUTE)
            .await
            .expect("read"),
        None,
        "the lock ends"
    );
    // After a lock the count starts from nothing.
    let again = store.record_sign_in_failure(&keys[0], POLICY, t + 13 * MINUTE);
    assert_eq!(again.await.expect("count"), None);
}

async fn a_window_that_ran_out_starts_counting_again(store: SharedStore) {
    let t = 1_000_000_000_000;
    let key = "user:d-1:amy";
    for at in [t, t + MINUTE] {
        assert_eq!(
            store
                .record_sign_in_failure(key, POLICY, at)
                .await
                .expect("count"),
            None
        );
    }
    // 16 minutes after the first failure the window starts again: two more do not lock.
    for at in [t + 16 * MINUTE, t + 17 * MINUTE] {
        assert_eq!(
            store
                .record_sign_in_failure(key, POLICY, at)
                .await
                .expect("count"),
            None
        );
    }
    assert_eq!(
        store
            .record_sign_in_failure(key, POLICY, t + 18 * MINUTE)
            .await
            .expect("count"),
        Some(t + 28 * MINUTE)
    );
}

async fn clearing_and_sweeping_forget_counters(store: SharedStore) {
    let t = 1_000_000_000_000;
    for key in ["a", "b", "c"] {
        for i in 0..3 {
            store
                .record_sign_in_failure(key, POLICY, t + i)
                .await
                .expect("count");
        }
    }
    store.clear_sign_in_failures("a").await.expect("clear");
    let keys = ["a".to_string(), "b".to_string()];
    assert_eq!(
        store
            .sign_in_locked_until(&keys[..1], t + 5)
            .await
            .expect("read"),
        None,
        "a cleared key is unlocked"
    );
    assert!(store
        .sign_in_locked_until(&keys, t + 5)
        .await
        .expect("read")
        .is_some());
    // Nothing is swept while a lock or its window lasts.
    let window = 15 * MINUTE;
    assert_eq!(
        store
            .sweep_sign_in_failures(t + 5, window, 100)
            .await
            .expect("sweep"),
        0
    );
    let later = t + window + 2;
    assert_eq!(
        store
            .sweep_sign_in_failures(later, window, 100)
            .await
            .expect("sweep"),
        2
    );
    assert_eq!(
        store
            .sweep_sign_in_failures(later, window, 100)
            .await
            .expect("sweep"),
        0
    );
}

async fn a_password_is_set_only_over_the_one_proved(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let mut u = user(&sid, "otto");
    u.password_hash = Some("$argon2id$one-time".into());
    u.password_must_change = true;
    store.create_user(&u, 100).await.expect("user");
    let read = store
        .get_user(&sid, &u.user_id)
        .await
        .expect("get")
        .expect("user");
    assert!(read.password_must_change);
    let set = |current: &'static str| {
        let (store, sid, id) = (store.clone(), sid.clone(), u.user_id.clone());
        async move {
            store
                .set_user_password(&sid, &id, current, "$argon2id$chosen", 5)
                .await
                .expect("set")
        }
    };
    assert!(
        !set("$argon2id$stale").await,
        "a password that is no longer current"
    );
    assert!(set("$argon2id$one-time").await);
    let read = store
        .get_user(&sid, &u.user_id)
        .await
        .expect("get")
        .expect("user");
    assert_eq!(read.password_hash.as_deref(), Some("$argon2id$chosen"));
    assert!(!read.password_must_change);
    assert!(
        !set("$argon2id$one-time").await,
        "the one-time password is spent"
    );
}
