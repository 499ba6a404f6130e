//! The mail outbox: a mail is claimed by one sender at a time, retried until the relay takes or
//! refuses it, and due again when its sender died.

use iic_store::*;

suite!(
    a_queued_mail_is_claimed_once_and_ends_sent,
    a_retried_mail_is_due_again_at_its_time,
    a_mail_whose_sender_died_is_due_after_the_lease,
    a_refused_mail_is_not_claimed_again,
);

const T: i64 = 1_000_000_000_000;
const LEASE: i64 = 60_000;

fn mail(id: &str) -> NewMail {
    NewMail {
        message_id: format!("{id}@iic"),
        recipient: "alice@example.test".into(),
        subject: "Set your password".into(),
        body: "https://sso.example.test/d-1/portal/reset-password?token=00".into(),
    }
}

async fn a_queued_mail_is_claimed_once_and_ends_sent(store: SharedStore) {
    store.queue_mail(&mail("m1"), T).await.expect("queue");
    store.queue_mail(&mail("m2"), T + 1).await.expect("queue");
    let claimed = store.claim_mails(T + 1, LEASE, 10).await.expect("claim");
    let ids: Vec<&str> = claimed.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, ["m1@iic", "m2@iic"]);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].body, mail("m1").body);
    assert!(store
        .claim_mails(T + 2, LEASE, 10)
        .await
        .expect("claim")
        .is_empty());
    store.mail_sent(claimed[0].seq, T + 3).await.expect("sent");
    let state = store
        .mail_state("m1@iic")
        .await
        .expect("state")
        .expect("some");
    assert_eq!((state.state.as_str(), state.attempts), ("sent", 1));
    assert!(
        store.queue_mail(&mail("m1"), T + 4).await.is_err(),
        "a Message-ID is queued once"
    );
}

async fn a_retried_mail_is_due_again_at_its_time(store: SharedStore) {
    store.queue_mail(&mail("r1"), T).await.expect("queue");
    let first = store.claim_mails(T, LEASE, 10).await.expect("claim");
    store
        .retry_mail(first[0].seq, T + 5_000, "connection refused")
        .await
        .expect("retry");
    assert!(store
        .claim_mails(T + 4_999, LEASE, 10)
        .await
        .expect("claim")
        .is_empty());
    let again = store
        .claim_mails(T + 5_000, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].message_id.as_str(), again[0].attempts),
        ("r1@iic", 2)
    );
    let state = store
        .mail_state("r1@iic")
        .await
        .expect("state")
        .expect("some");
    assert_eq!(state.state, "pending");
    assert_eq!(state.last_error.as_deref(), Some("connection refused"));
}

async fn a_mail_whose_sender_died_is_due_after_the_lease(store: SharedStore) {
    store.queue_mail(&mail("d1"), T).await.expect("queue");
    assert_eq!(
        store.claim_mails(T, LEASE, 10).await.expect("claim").len(),
        1
    );
    assert!(store
        .claim_mails(T + LEASE - 1, LEASE, 10)
        .await
        .expect("claim")
        .is_empty());
    let again = store
        .claim_mails(T + LEASE, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, "d1@iic");
}

async fn a_refused_mail_is_not_claimed_again(store: SharedStore) {
    store.queue_mail(&mail("x1"), T).await.expect("queue");
    let claimed = store.claim_mails(T, LEASE, 10).await.expect("claim");
    store
        .mail_refused(claimed[0].seq, T + 1, "550 no such user")
        .await
        .expect("refused");
    assert!(store
        .claim_mails(T + 10 * LEASE, LEASE, 10)
        .await
        .expect("claim")
        .is_empty());
    let state = store
        .mail_state("x1@iic")
        .await
        .expect("state")
        .expect("some");
    assert_eq!(state.state, "refused");
    assert_eq!(state.last_error.as_deref(), Some("550 no such user"));
}
