//! The portal's reads (assigned accounts and permission sets, through groups, paged) and
//! temporary credentials (issued with their provenance, revoked with their session, swept).

use crate::common::*;
use iic_domain::session::{issue, Origin};
use iic_store::*;

suite!(
    assigned_accounts_and_sets_count_groups_once_and_page,
    credentials_carry_provenance_and_end_with_their_session,
    credentials_need_an_assignment_a_provisioned_set_and_its_name,
    credentials_copy_the_principal_tags_of_their_session,
    expired_credentials_are_swept,
    the_agency_of_a_credential_is_its_set_as_provisioned_now,
);

const NOW: i64 = 1_700_000_000_000;

/// An instance with a user in a group, a second user, three target accounts and two sets.
struct World {
    instance_id: String,
    store_id: String,
    user_id: String,
    other_user_id: String,
    group_id: String,
    accounts: Vec<Account>,
    sets: Vec<PermissionSet>,
}

async fn world(store: &SharedStore) -> World {
    let b = bootstrapped(store).await;
    let org = b.organization.id.clone();
    let root = store.get_root(&org).await.expect("root").expect("x").id;
    let (ins, _) = store
        .create_instance_if_absent(&instance(&org, "cn-north-4"))
        .await
        .expect("instance");
    let sid = ins.identity_store_id.clone();
    let (u, other, g) = (user(&sid, "alice"), user(&sid, "bob"), group(&sid, "ops"));
    store.create_user(&u, 100).await.expect("user");
    store.create_user(&other, 100).await.expect("user");
    store.create_group(&g, 100).await.expect("group");
    store
        .create_membership(&membership(&sid, &g, &u), 100)
        .await
        .expect("membership");
    let mut accounts = Vec::new();
    for name in ["first", "second", "third"] {
        let a = member(&org, &root, name);
        store.insert_account(&a).await.expect("account");
        accounts.push(a);
    }
    let mut sets = Vec::new();
    for name in ["Reader", "Admin"] {
        let s = permission_set(&ins.instance_id, name);
        store.create_permission_set(&s, 100).await.expect("set");
        sets.push(s);
    }
    World {
        instance_id: ins.instance_id,
        store_id: sid,
        user_id: u.user_id,
        other_user_id: other.user_id,
        group_id: g.group_id,
        accounts,
        sets,
    }
}

impl World {
    async fn assign(
        &self,
        store: &SharedStore,
        set: usize,
        to: (PrincipalType, &str),
        account: usize,
    ) {
        let r = request(
            &self.instance_id,
            RequestKind::AssignmentCreate,
            &self.sets[set].permission_set_id,
            Some(to),
            Some(&self.accounts[account].id),
        );
        assert_eq!(run(store, &r).await, RequestStatus::Succeeded);
    }

    async fn unassign(
        &self,
        store: &SharedStore,
        set: usize,
        to: (PrincipalType, &str),
        account: usize,
    ) {
        let r = request(
            &self.instance_id,
            RequestKind::AssignmentDelete,
            &self.sets[set].permission_set_id,
            Some(to),
            Some(&self.accounts[account].id),
        );
        assert_eq!(run(store, &r).await, RequestStatus::Succeeded);
    }

    fn user(&self) -> (PrincipalType, &str) {
        (PrincipalType::User, self.user_id.as_str())
    }

    fn group(&self) -> (PrincipalType, &str) {
        (PrincipalType::Group, self.group_id.as_str())
    }

    async fn session(&self, store: &SharedStore) -> String {
        self.session_with(store, false).await
    }

    async fn session_with(&self, store: &SharedStore, mfa_present: bool) -> String {
        let mut issued = issue(&self.store_id, &self.user_id, NOW, 3_600, Origin::default());
        issued.session.mfa_present = mfa_present;
        store
            .create_session(&issued.session)
            .await
            .expect("session")
            .expect("live user")
    }

    fn ask(&self, session: &str, set: usize, account: usize) -> CredentialRequest {
        let s = &self.sets[set];
        CredentialRequest {
            access_key: iic_domain::ids::access_key(),
            secret_sealed: vec![1, 2, 3],
            security_token_sha256: iic_domain::crypto::sha256_hex(b"token"),
            account_id: self.accounts[account].id.clone(),
            permission_set_id: s.permission_set_id.clone(),
            permission_set_name: s.name.clone(),
            user_id: self.user_id.clone(),
            identity_store_id: self.store_id.clone(),
            instance_id: self.instance_id.clone(),
            session_id: session.to_string(),
        }
    }
}

async fn accounts(store: &SharedStore, w: &World, user: &str, page: Page) -> Vec<String> {
    store
        .list_assigned_accounts(&w.instance_id, user, page)
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.account_id)
        .collect()
}

async fn assigned_accounts_and_sets_count_groups_once_and_page(store: SharedStore) {
    let w = world(&store).await;
    // first: the user directly; second: through the group; third: both, with both sets.
    w.assign(&store, 0, w.user(), 0).await;
    w.assign(&store, 1, w.group(), 1).await;
    w.assign(&store, 0, w.user(), 2).await;
    w.assign(&store, 0, w.group(), 2).await;
    w.assign(&store, 1, w.group(), 2).await;
    let ids: Vec<String> = w.accounts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(accounts(&store, &w, &w.user_id, Page::first(10)).await, ids);
    assert!(accounts(&store, &w, &w.other_user_id, Page::first(10))
        .await
        .is_empty());

    let first = store
        .list_assigned_accounts(&w.instance_id, &w.user_id, Page::first(2))
        .await
        .expect("page");
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].name, "first");
    let rest = accounts(&store, &w, &w.user_id, Page::after(first[1].seq, 2)).await;
    assert_eq!(
        rest,
        vec![ids[2].clone()],
        "the next page starts after the marker"
    );

    let sets = store
        .list_assigned_sets(&w.instance_id, &w.user_id, &ids[2], Page::first(10))
        .await
        .expect("sets");
    let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["Reader", "Admin"],
        "each set once, in set order"
    );
    let one = store
        .list_assigned_sets(
            &w.instance_id,
            &w.user_id,
            &ids[2],
            Page::after(sets[0].seq, 10),
        )
        .await
        .expect("page");
    assert_eq!(one.len(), 1);
    assert!(store
        .list_assigned_sets(&w.instance_id, &w.other_user_id, &ids[2], Page::first(10))
        .await
        .expect("other")
        .is_empty());
}

/// A credential carries the tags its session resolved at sign-in, even after the instance's
/// configuration changes.
async fn credentials_copy_the_principal_tags_of_their_session(store: SharedStore) {
    use iic_domain::access_control::{AccessControlAttribute, AttributeValue, Configuration};
    let w = world(&store).await;
    w.assign(&store, 1, w.group(), 0).await;
    let attribute = |key: &str, source: &str| AccessControlAttribute {
        key: key.into(),
        value: AttributeValue {
            source: vec![source.into()],
        },
    };
    let configuration = Configuration {
        access_control_attributes: vec![
            attribute("email", "${user:email}"),
            attribute("dept", "${path:enterprise.department}"),
        ],
    };
    assert_eq!(
        store
            .create_access_control_configuration(&w.instance_id, &configuration, NOW)
            .await
            .expect("configure"),
        AccessControlWrite::Done
    );
    let session = w.session(&store).await;
    store
        .delete_access_control_configuration(&w.instance_id)
        .await
        .expect("delete");
    let ask = w.ask(&session, 1, 0);
    assert!(matches!(
        store
            .issue_temporary_credential(&ask, NOW + 5)
            .await
            .expect("issue"),
        CredentialIssue::Issued { .. }
    ));
    let t = store
        .get_temporary_credential(&ask.access_key)
        .await
        .expect("get")
        .expect("temporary");
    let expected: Vec<(String, String)> = vec![("email".into(), "alice@Example.com".into())];
    assert_eq!(
        t.provenance.principal_tags.into_iter().collect::<Vec<_>>(),
        expected,
        "the session's tags, though the configuration went after the sign-in; no tag for a missing department"
    );
    let later = w.session(&store).await;
    let ask = w.ask(&later, 1, 0);
    store
        .issue_temporary_credential(&ask, NOW + 6)
        .await
        .expect("issue");
    let t = store
        .get_temporary_credential(&ask.access_key)
        .await
        .expect("get")
        .expect("temporary");
    assert!(
        t.provenance.principal_tags.is_empty(),
        "a session opened without a configuration has no tags"
    );
}

async fn credentials_carry_provenance_and_end_with_their_session(store: SharedStore) {
    let w = world(&store).await;
    w.assign(&store, 1, w.group(), 0).await;
    let session = w.session(&store).await;
    let ask = w.ask(&session, 1, 0);
    let issued = store
        .issue_temporary_credential(&ask, NOW + 5)
        .await
        .expect("issue");
    assert_eq!(
        issued,
        CredentialIssue::Issued {
            expires_at: NOW + 5 + 3_600_000
        },
        "the set's session duration, PT1H"
    );
    let cred = store
        .get_credential(&ask.access_key)
        .await
        .expect("get")
        .expect("usable");
    assert_eq!(cred.account_id, w.accounts[0].id);
    assert_eq!(
        cred.security_token_sha256,
        Some(ask.security_token_sha256.clone())
    );
    let t = store
        .get_temporary_credential(&ask.access_key)
        .await
        .expect("get")
        .expect("temporary");
    assert_eq!(
        t.provenance,
        Provenance {
            user_id: w.user_id.clone(),
            identity_store_id: w.store_id.clone(),
            instance_id: w.instance_id.clone(),
            permission_set_id: w.sets[1].permission_set_id.clone(),
            session_id: session.clone(),
            mfa_present: false,
            policy_version: 1,
            policy_provisioned_at: 20,
            principal_tags: Default::default(),
        }
    );
    assert_eq!(t.revoked_at, None);

    let before: i64 = store
        .get_meta(REVOCATIONS)
        .await
        .expect("meta")
        .map_or(0, |v| v.parse().expect("count"));
    let ended = store
        .end_sessions(
            &w.store_id,
            &w.user_id,
            std::slice::from_ref(&session),
            NOW + 10,
        )
        .await
        .expect("end");
    assert_eq!(ended, vec![session.clone()]);
    assert_eq!(
        store.get_credential(&ask.access_key).await.expect("get"),
        None,
        "revoked with the session"
    );
    let t = store
        .get_temporary_credential(&ask.access_key)
        .await
        .expect("get")
        .expect("kept until swept");
    assert_eq!(t.revoked_at, Some(NOW + 10));
    let after: i64 = store
        .get_meta(REVOCATIONS)
        .await
        .expect("meta")
        .expect("bumped")
        .parse()
        .expect("count");
    assert_eq!(after, before + 1, "every server's cache hears of it");
    let again = w.ask(&session, 1, 0);
    assert_eq!(
        store
            .issue_temporary_credential(&again, NOW + 20)
            .await
            .expect("issue"),
        CredentialIssue::SessionEnded
    );
    assert_eq!(
        store.get_credential(&again.access_key).await.expect("get"),
        None
    );

    // Disabling the user (through another session) revokes that session's credentials too.
    let session = w.session(&store).await;
    let ask = w.ask(&session, 1, 0);
    assert!(matches!(
        store
            .issue_temporary_credential(&ask, NOW + 30)
            .await
            .expect("issue"),
        CredentialIssue::Issued { .. }
    ));
    store
        .end_user_sessions(&w.store_id, &w.user_id, NOW + 40)
        .await
        .expect("end all");
    assert_eq!(
        store.get_credential(&ask.access_key).await.expect("get"),
        None
    );
    // A credential is MFA-present exactly when the session it came from is.
    let session = w.session_with(&store, true).await;
    let ask = w.ask(&session, 1, 0);
    store
        .issue_temporary_credential(&ask, NOW + 50)
        .await
        .expect("issue");
    let t = store
        .get_temporary_credential(&ask.access_key)
        .await
        .expect("get")
        .expect("temporary");
    assert!(t.provenance.mfa_present);
}

async fn credentials_need_an_assignment_a_provisioned_set_and_its_name(store: SharedStore) {
    let w = world(&store).await;
    w.assign(&store, 0, w.user(), 0).await;
    let session = w.session(&store).await;
    let refused = |a: CredentialRequest| {
        let store = store.clone();
        async move {
            let out = store
                .issue_temporary_credential(&a, NOW)
                .await
                .expect("issue");
            assert_eq!(out, CredentialIssue::NotEntitled);
            assert_eq!(
                store.get_credential(&a.access_key).await.expect("get"),
                None
            );
        }
    };
    refused(w.ask(&session, 1, 0)).await;
    refused(w.ask(&session, 0, 1)).await;
    let mut renamed = w.ask(&session, 0, 0);
    renamed.permission_set_name = "Other".into();
    refused(renamed).await;
    let mut other = w.ask(&session, 0, 0);
    other.user_id = w.other_user_id.clone();
    assert_eq!(
        store
            .issue_temporary_credential(&other, NOW)
            .await
            .expect("issue"),
        CredentialIssue::SessionEnded,
        "the session is another user's"
    );
    // Through the group, then not at all once the assignment goes.
    w.assign(&store, 1, w.group(), 0).await;
    assert!(matches!(
        store
            .issue_temporary_credential(&w.ask(&session, 1, 0), NOW)
            .await
            .expect("issue"),
        CredentialIssue::Issued { .. }
    ));
    w.unassign(&store, 1, w.group(), 0).await;
    refused(w.ask(&session, 1, 0)).await;
}

async fn expired_credentials_are_swept(store: SharedStore) {
    let w = world(&store).await;
    w.assign(&store, 0, w.user(), 0).await;
    let session = w.session(&store).await;
    let ask = w.ask(&session, 0, 0);
    let CredentialIssue::Issued { expires_at } = store
        .issue_temporary_credential(&ask, NOW)
        .await
        .expect("issue")
    else {
        panic!("not issued")
    };
    assert_eq!(
        store
            .sweep_temporary_credentials(expires_at - 1, 100)
            .await
            .expect("sweep"),
        0,
        "live until its expiry"
    );
    let permanent = store
        .list_credentials(&w.accounts[0].id)
        .await
        .expect("list")
        .len();
    assert_eq!(
        store
            .sweep_temporary_credentials(expires_at, 100)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        store
            .get_temporary_credential(&ask.access_key)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .list_credentials(&w.accounts[0].id)
            .await
            .expect("list")
            .len(),
        permanent - 1,
        "only the expired temporary key went"
    );
}

/// What policy evaluation reads of a credential: its holder, MFA, and the set as provisioned on
/// its account now (gone once the set leaves the account); nothing for permanent, unknown or
/// revoked keys. And a set's tags with its instance.
async fn the_agency_of_a_credential_is_its_set_as_provisioned_now(store: SharedStore) {
    let mut w = world(&store).await;
    w.sets[1].content.tags = vec![iic_domain::organizations::Tag {
        key: "team".into(),
        value: "blue".into(),
    }];
    w.sets[1].version = 2;
    store
        .save_permission_set(&w.sets[1])
        .await
        .expect("tag the set");
    w.assign(&store, 1, w.user(), 0).await;
    let session = w.session_with(&store, true).await;
    let ask = w.ask(&session, 1, 0);
    store
        .issue_temporary_credential(&ask, NOW + 5)
        .await
        .expect("issue");
    let agency = store
        .agency_of_credential(&ask.access_key)
        .await
        .expect("read")
        .expect("a temporary credential has an agency");
    assert_eq!(agency.user_id, w.user_id);
    assert_eq!(agency.user_name.as_deref(), Some("alice"));
    assert_eq!(agency.instance_id, w.instance_id);
    assert_eq!(agency.permission_set_id, w.sets[1].permission_set_id);
    assert!(agency.mfa_present);
    assert!(agency.principal_tags.is_empty());
    let (version, snapshot) = agency.provisioned.expect("provisioned");
    assert_eq!(version, 2);
    assert!(snapshot.contains("\"team\""), "{snapshot}");
    let tags = store
        .permission_set_tags(&w.sets[1].permission_set_id)
        .await
        .expect("tags")
        .expect("the set exists");
    assert_eq!(tags.instance_id, w.instance_id);
    assert_eq!(tags.tags[0].value, "blue");
    assert!(store
        .permission_set_tags("ps-0000000000000000")
        .await
        .expect("tags")
        .is_none());

    w.unassign(&store, 1, w.user(), 0).await;
    let agency = store
        .agency_of_credential(&ask.access_key)
        .await
        .expect("read")
        .expect("still an agency");
    assert_eq!(agency.provisioned, None, "the set left the account");

    let permanent = Credential {
        access_key: "PERMANENTKEY".into(),
        account_id: w.accounts[0].id.clone(),
        secret_sealed: vec![1, 2, 3],
        security_token_sha256: None,
        expires_at: None,
        created_at: 1,
    };
    store.insert_credential(&permanent).await.expect("insert");
    for key in ["PERMANENTKEY", "NOSUCHKEY"] {
        assert_eq!(
            store.agency_of_credential(key).await.expect("read"),
            None,
            "{key}"
        );
    }
    store
        .end_sessions(&w.store_id, &w.user_id, &[session], NOW + 10)
        .await
        .expect("end");
    assert_eq!(
        store
            .agency_of_credential(&ask.access_key)
            .await
            .expect("read"),
        None,
        "revoked with its session"
    );
}
