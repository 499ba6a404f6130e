//! One-time links and sign-in codes mailed to users: issued with their mail, replaced by a newer
//! one, spent once, and only while live.

use crate::common::*;
use iic_domain::session::{issue, Origin};
use iic_store::*;

suite!(
    a_new_user_and_their_link_are_written_together,
    a_reset_link_sets_the_password_once_and_ends_sessions,
    a_new_link_replaces_the_old_and_expired_ones_are_refused,
    a_link_of_a_disabled_user_sets_nothing_and_stays,
    a_verification_link_verifies_only_the_address_it_was_sent_to,
    links_and_codes_need_a_user_and_go_with_it,
    a_code_is_accepted_once_and_void_after_five_wrong_tries,
    a_new_code_replaces_the_old_and_expired_codes_are_swept,
);

const HOUR: i64 = 3_600_000;

fn mail(to: &str) -> NewMail {
    NewMail {
        message_id: format!("{}@iic", iic_domain::ids::hex32()),
        recipient: to.into(),
        subject: "Set your password".into(),
        body: "link".into(),
    }
}

fn link(purpose: LinkPurpose, token_sha256: &[u8], expires_at: i64, mail: &NewMail) -> NewLink {
    NewLink {
        purpose,
        token_sha256: token_sha256.to_vec(),
        expires_at,
        mail: mail.clone(),
    }
}

fn token(b: u8) -> Vec<u8> {
    vec![b; 32]
}

async fn stored_user(store: &SharedStore, name: &str) -> (String, User) {
    let (_, sid) = directory(store).await;
    let u = user(&sid, name);
    store.create_user(&u, 100).await.expect("user");
    (sid, u)
}

async fn a_reset_link_sets_the_password_once_and_ends_sessions(store: SharedStore) {
    let (sid, mut u) = stored_user(&store, "alice").await;
    u.password_hash = Some("old".into());
    u.password_must_change = true;
    store.update_user(&u).await.expect("update");
    let now = iic_domain::clock::now_millis();
    let s = issue(&sid, &u.user_id, now, 3_600, Origin::default());
    store.create_session(&s.session).await.expect("session");
    let m = mail("alice@example.com");
    assert!(store
        .issue_mailed_link(
            &sid,
            &u.user_id,
            &link(LinkPurpose::PasswordReset, &token(1), now + HOUR, &m),
            now
        )
        .await
        .expect("issue"));
    assert_eq!(
        store
            .mail_state(&m.message_id)
            .await
            .expect("state")
            .expect("queued")
            .state,
        "pending"
    );
    let link = store
        .mailed_link(&token(1), LinkPurpose::PasswordReset, now)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(
        (link.user_id.as_str(), link.email.as_str()),
        (u.user_id.as_str(), "alice@example.com")
    );
    // A reset link is not a verification link.
    assert!(store
        .mailed_link(&token(1), LinkPurpose::VerifyEmail, now)
        .await
        .expect("read")
        .is_none());
    let set = store
        .reset_password_by_link(&token(1), "new", now + 1)
        .await
        .expect("reset")
        .expect("set");
    assert_eq!(set.user_name_lower, "alice");
    assert_eq!(set.ended_sessions, 1);
    let after = store
        .get_user(&sid, &u.user_id)
        .await
        .expect("get")
        .expect("user");
    assert_eq!(after.password_hash.as_deref(), Some("new"));
    assert!(!after.password_must_change && !after.password_reset_email_owed);
    assert!(store
        .session_for_cookie(&s.cookie, now + 2)
        .await
        .expect("session")
        .is_none());
    // Spent.
    assert!(store
        .reset_password_by_link(&token(1), "again", now + 3)
        .await
        .expect("reset")
        .is_none());
    assert!(store
        .mailed_link(&token(1), LinkPurpose::PasswordReset, now + 3)
        .await
        .expect("read")
        .is_none());
}

async fn a_new_link_replaces_the_old_and_expired_ones_are_refused(store: SharedStore) {
    let (sid, u) = stored_user(&store, "bob").await;
    let now = 1_000_000;
    for (t, at) in [(1, now), (2, now + 10)] {
        assert!(store
            .issue_mailed_link(
                &sid,
                &u.user_id,
                &link(
                    LinkPurpose::PasswordReset,
                    &token(t),
                    at + HOUR,
                    &mail("bob@example.com")
                ),
                at
            )
            .await
            .expect("issue"));
    }
    // Another purpose does not replace it.
    assert!(store
        .issue_mailed_link(
            &sid,
            &u.user_id,
            &link(
                LinkPurpose::VerifyEmail,
                &token(3),
                now + HOUR,
                &mail("bob@example.com")
            ),
            now
        )
        .await
        .expect("issue"));
    assert!(store
        .reset_password_by_link(&token(1), "x", now + 20)
        .await
        .expect("old")
        .is_none());
    assert!(store
        .mailed_link(&token(3), LinkPurpose::VerifyEmail, now + 20)
        .await
        .expect("read")
        .is_some());
    // Expired.
    assert!(store
        .reset_password_by_link(&token(2), "x", now + 10 + HOUR)
        .await
        .expect("expired")
        .is_none());
    assert_eq!(
        store
            .sweep_mailed_links(now + 10 + HOUR, 100)
            .await
            .expect("sweep"),
        2
    );
}

async fn a_link_of_a_disabled_user_sets_nothing_and_stays(store: SharedStore) {
    let (sid, mut u) = stored_user(&store, "carol").await;
    let now = 1_000_000;
    store
        .issue_mailed_link(
            &sid,
            &u.user_id,
            &link(
                LinkPurpose::PasswordReset,
                &token(1),
                now + HOUR,
                &mail("carol@example.com"),
            ),
            now,
        )
        .await
        .expect("issue");
    u.enabled = false;
    store.update_user(&u).await.expect("disable");
    assert!(store
        .reset_password_by_link(&token(1), "x", now + 1)
        .await
        .expect("reset")
        .is_none());
    u.enabled = true;
    store.update_user(&u).await.expect("enable");
    assert!(store
        .reset_password_by_link(&token(1), "x", now + 2)
        .await
        .expect("reset")
        .is_some());
}

async fn a_verification_link_verifies_only_the_address_it_was_sent_to(store: SharedStore) {
    let (sid, mut u) = stored_user(&store, "dave").await;
    let now = 1_000_000;
    let issue_link = |t: u8| {
        let (store, sid, uid) = (store.clone(), sid.clone(), u.user_id.clone());
        async move {
            store
                .issue_mailed_link(
                    &sid,
                    &uid,
                    &link(
                        LinkPurpose::VerifyEmail,
                        &token(t),
                        now + HOUR,
                        &mail("dave@example.com"),
                    ),
                    now,
                )
                .await
                .expect("issue")
        }
    };
    assert!(issue_link(1).await);
    let (link, verified) = store
        .verify_email_by_link(&token(1), now + 1)
        .await
        .expect("verify")
        .expect("live");
    assert!(verified);
    assert_eq!(link.user_id, u.user_id);
    let after = store
        .get_user(&sid, &u.user_id)
        .await
        .expect("get")
        .expect("user");
    assert!(after.email_verified);
    assert_eq!(
        after.profile.emails[0].verification_status.as_deref(),
        Some("VERIFIED")
    );
    assert!(store
        .verify_email_by_link(&token(1), now + 2)
        .await
        .expect("again")
        .is_none());
    // The address changed after the link was sent: the link is spent, nothing verified.
    u.email_verified = false;
    u.profile.emails[0].value = "dave@elsewhere.example".into();
    u.profile.emails[0].verification_status = None;
    store.update_user(&u).await.expect("update");
    assert!(issue_link(2).await);
    let (_, verified) = store
        .verify_email_by_link(&token(2), now + 3)
        .await
        .expect("verify")
        .expect("live");
    assert!(!verified);
    assert!(
        !store
            .get_user(&sid, &u.user_id)
            .await
            .expect("get")
            .expect("user")
            .email_verified
    );
}

async fn links_and_codes_need_a_user_and_go_with_it(store: SharedStore) {
    let (sid, u) = stored_user(&store, "erin").await;
    let now = 1_000_000;
    let ghost = mail("ghost@example.com");
    assert!(!store
        .issue_mailed_link(
            &sid,
            "no-such-user",
            &link(LinkPurpose::PasswordReset, &token(1), now + HOUR, &ghost),
            now
        )
        .await
        .expect("issue"));
    assert!(!store
        .issue_email_code(&sid, "no-such-user", &[1; 32], now + HOUR, &ghost, now)
        .await
        .expect("code"));
    // Nothing was queued for them.
    assert!(store
        .mail_state(&ghost.message_id)
        .await
        .expect("state")
        .is_none());
    store
        .issue_mailed_link(
            &sid,
            &u.user_id,
            &link(
                LinkPurpose::PasswordReset,
                &token(2),
                now + HOUR,
                &mail("erin@example.com"),
            ),
            now,
        )
        .await
        .expect("issue");
    store
        .issue_email_code(
            &sid,
            &u.user_id,
            &[2; 32],
            now + HOUR,
            &mail("erin@example.com"),
            now,
        )
        .await
        .expect("code");
    assert!(store.delete_user(&sid, &u.user_id).await.expect("delete"));
    assert!(store
        .mailed_link(&token(2), LinkPurpose::PasswordReset, now)
        .await
        .expect("read")
        .is_none());
    assert_eq!(
        store
            .check_email_code(&sid, &u.user_id, &[2; 32], 5, now)
            .await
            .expect("check"),
        CodeCheck::NoCode
    );
}

async fn a_code_is_accepted_once_and_void_after_five_wrong_tries(store: SharedStore) {
    let (sid, u) = stored_user(&store, "frank").await;
    let now = 1_000_000;
    let send = |h: u8| {
        let (store, sid, uid) = (store.clone(), sid.clone(), u.user_id.clone());
        async move {
            assert!(store
                .issue_email_code(
                    &sid,
                    &uid,
                    &[h; 32],
                    now + 600_000,
                    &mail("frank@example.com"),
                    now
                )
                .await
                .expect("code"));
        }
    };
    let check = |h: u8| {
        let (store, sid, uid) = (store.clone(), sid.clone(), u.user_id.clone());
        async move {
            store
                .check_email_code(&sid, &uid, &[h; 32], 5, now + 1)
                .await
                .expect("check")
        }
    };
    send(1).await;
    assert_eq!(check(9).await, CodeCheck::Wrong { tries_left: 4 });
    assert_eq!(check(1).await, CodeCheck::Accepted);
    assert_eq!(check(1).await, CodeCheck::NoCode);
    send(2).await;
    for left in (0..5).rev() {
        assert_eq!(check(9).await, CodeCheck::Wrong { tries_left: left });
    }
    // Void: even the right code is refused now.
    assert_eq!(check(2).await, CodeCheck::NoCode);
}

async fn a_new_code_replaces_the_old_and_expired_codes_are_swept(store: SharedStore) {
    let (sid, u) = stored_user(&store, "grace").await;
    let now = 1_000_000;
    for (h, at) in [(1u8, now), (2, now + 10)] {
        store
            .issue_email_code(
                &sid,
                &u.user_id,
                &[h; 32],
                at + 600_000,
                &mail("grace@example.com"),
                at,
            )
            .await
            .expect("code");
    }
    let check = |h: u8, at: i64| {
        let (store, sid, uid) = (store.clone(), sid.clone(), u.user_id.clone());
        async move {
            store
                .check_email_code(&sid, &uid, &[h; 32], 5, at)
                .await
                .expect("check")
        }
    };
    assert_eq!(check(1, now + 20).await, CodeCheck::Wrong { tries_left: 4 });
    assert_eq!(check(2, now + 10 + 600_000).await, CodeCheck::NoCode);
    assert_eq!(
        store
            .sweep_email_codes(now + 10 + 600_000, 100)
            .await
            .expect("sweep"),
        1
    );
}

async fn a_new_user_and_their_link_are_written_together(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let u = user(&sid, "hank");
    let m = mail("hank@example.com");
    let l = link(
        LinkPurpose::PasswordReset,
        &token(1),
        u.created_at + HOUR,
        &m,
    );
    assert_eq!(
        store
            .create_user_with_link(&u, 100, Some(&l))
            .await
            .expect("create"),
        CreateOutcome::Created
    );
    let live = store
        .mailed_link(&token(1), LinkPurpose::PasswordReset, u.created_at)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(live.user_id, u.user_id);
    assert!(store
        .mail_state(&m.message_id)
        .await
        .expect("state")
        .is_some());
    // A name taken: neither the user nor the link nor the mail.
    let twin = user(&sid, "hank");
    let m2 = mail("hank@example.com");
    let l2 = link(
        LinkPurpose::PasswordReset,
        &token(2),
        twin.created_at + HOUR,
        &m2,
    );
    assert_eq!(
        store
            .create_user_with_link(&twin, 100, Some(&l2))
            .await
            .expect("create"),
        CreateOutcome::NameTaken
    );
    assert!(store
        .mailed_link(&token(2), LinkPurpose::PasswordReset, twin.created_at)
        .await
        .expect("read")
        .is_none());
    assert!(store
        .mail_state(&m2.message_id)
        .await
        .expect("state")
        .is_none());
}
