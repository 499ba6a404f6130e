//! Identity stores: users, groups, memberships, quotas, external ids, the password policy.

use crate::common::*;
use iic_store::*;

suite!(
    directory_users_round_trip,
    directory_quotas_hold,
    directory_groups_and_memberships,
    directory_membership_limit_holds_under_concurrency,
    directory_external_ids_and_password_policy,
    deleting_the_instance_removes_its_directory,
    directory_random_operations_keep_invariants,
);

async fn directory_users_round_trip(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let info = store
        .identity_store(&sid)
        .await
        .expect("info")
        .expect("exists");
    assert_eq!((info.users, info.groups), (0, 0));
    let alice = user(&sid, "alice");
    assert_eq!(
        store.create_user(&alice, 100).await.expect("create"),
        CreateOutcome::Created
    );
    assert_eq!(
        store
            .create_user(&user(&sid, "ALICE"), 100)
            .await
            .expect("dup"),
        CreateOutcome::NameTaken,
        "user names are unique case-insensitively"
    );
    assert_eq!(
        store
            .create_user(&user("d-ffffffffff", "bob"), 100)
            .await
            .expect("no store"),
        CreateOutcome::NoSuchStore
    );
    let got = store
        .get_user(&sid, &alice.user_id)
        .await
        .expect("get")
        .expect("found");
    assert!(got.seq > 0);
    assert_eq!(got.profile, alice.profile);
    assert_eq!(got.created_by, "creator");
    assert_eq!(
        store
            .get_user("d-0000000000", &alice.user_id)
            .await
            .expect("other"),
        None
    );

    let mut ids = vec![alice.user_id.clone()];
    for n in 0..5 {
        let u = user(&sid, &format!("user{n}"));
        store.create_user(&u, 100).await.expect("create");
        ids.push(u.user_id);
    }
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("info")
            .expect("x")
            .users,
        6
    );
    let batch = store
        .get_users(&sid, &[ids[3].clone(), "nope".into(), ids[1].clone()])
        .await
        .expect("batch");
    assert_eq!(
        batch.iter().map(|u| u.user_id.clone()).collect::<Vec<_>>(),
        vec![ids[3].clone(), ids[1].clone()]
    );

    assert_eq!(
        store
            .find_user_id(&sid, &PrincipalKey::Name("Alice".into()))
            .await
            .expect("by name"),
        Some(alice.user_id.clone())
    );
    assert_eq!(
        store
            .find_user_id(&sid, &PrincipalKey::Email("ALICE@example.COM".into()))
            .await
            .expect("by mail"),
        Some(alice.user_id.clone())
    );

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_users(&sid, None, Page { after, limit: 4 })
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.seq);
        seen.extend(page.into_iter().map(|u| u.user_id));
    }
    assert_eq!(seen, ids);
    let filtered = store
        .list_users(&sid, Some("USER3"), Page::first(10))
        .await
        .expect("filter");
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].user_id, ids[4]);

    let mut renamed = got.clone();
    renamed.profile.user_name = "user2".into();
    assert_eq!(
        store.update_user(&renamed).await.expect("clash"),
        UpdateOutcome::NameTaken
    );
    renamed.profile.user_name = "alice2".into();
    renamed.enabled = false;
    renamed.updated_by = "editor".into();
    assert_eq!(
        store.update_user(&renamed).await.expect("update"),
        UpdateOutcome::Updated
    );
    let after_update = store
        .get_user(&sid, &alice.user_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(after_update.profile.user_name, "alice2");
    assert!(!after_update.enabled);
    assert_eq!(after_update.updated_by, "editor");
    let mut ghost = renamed.clone();
    ghost.user_id = iic_domain::directory::principal_id(&sid);
    assert_eq!(
        store.update_user(&ghost).await.expect("ghost"),
        UpdateOutcome::NotFound
    );

    assert!(store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("delete"));
    assert!(!store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("again"));
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("info")
            .expect("x")
            .users,
        5
    );
}

async fn directory_quotas_hold(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let a = user(&sid, "qa");
    assert_eq!(
        store.create_user(&a, 2).await.expect("1"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_user(&user(&sid, "qb"), 2).await.expect("2"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_user(&user(&sid, "qc"), 2).await.expect("3"),
        CreateOutcome::QuotaExceeded
    );
    store.delete_user(&sid, &a.user_id).await.expect("delete");
    assert_eq!(
        store.create_user(&user(&sid, "qc"), 2).await.expect("4"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_group(&group(&sid, "g1"), 1).await.expect("g1"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_group(&group(&sid, "g2"), 1).await.expect("g2"),
        CreateOutcome::QuotaExceeded
    );
}

async fn directory_groups_and_memberships(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let admins = group(&sid, "Admins");
    let auditors = group(&sid, "Auditors");
    let devs = group(&sid, "Developers");
    for g in [&admins, &auditors, &devs] {
        assert_eq!(
            store.create_group(g, 100).await.expect("create"),
            CreateOutcome::Created
        );
    }
    assert_eq!(
        store
            .create_group(&group(&sid, "admins"), 100)
            .await
            .expect("dup"),
        CreateOutcome::NameTaken
    );
    assert_eq!(
        store
            .find_group_id(&sid, &PrincipalKey::Name("ADMINS".into()))
            .await
            .expect("find"),
        Some(admins.group_id.clone())
    );
    let prefixed = store
        .list_groups(&sid, Some("a"), Page::first(10))
        .await
        .expect("prefix");
    assert_eq!(
        prefixed
            .iter()
            .map(|g| g.profile.display_name.clone())
            .collect::<Vec<_>>(),
        vec!["Admins", "Auditors"]
    );
    assert_eq!(
        store
            .list_groups(&sid, None, Page::first(10))
            .await
            .expect("all")
            .len(),
        3
    );

    let mut renamed = admins.clone();
    renamed.profile.display_name = "Auditors".into();
    assert_eq!(
        store.update_group(&renamed).await.expect("clash"),
        UpdateOutcome::NameTaken
    );
    renamed.profile.display_name = "Administrators".into();
    assert_eq!(
        store.update_group(&renamed).await.expect("ok"),
        UpdateOutcome::Updated
    );

    let u = user(&sid, "member");
    store.create_user(&u, 100).await.expect("user");
    let m1 = membership(&sid, &admins, &u);
    assert_eq!(
        store.create_membership(&m1, 2).await.expect("m1"),
        MembershipOutcome::Created
    );
    assert_eq!(
        store
            .create_membership(&membership(&sid, &admins, &u), 2)
            .await
            .expect("dup"),
        MembershipOutcome::AlreadyMember(m1.membership_id.clone())
    );
    assert_eq!(
        store
            .create_membership(&membership(&sid, &auditors, &u), 2)
            .await
            .expect("m2"),
        MembershipOutcome::Created
    );
    assert_eq!(
        store
            .create_membership(&membership(&sid, &devs, &u), 2)
            .await
            .expect("m3"),
        MembershipOutcome::TooManyGroups
    );
    let mut ghost_user = u.clone();
    ghost_user.user_id = iic_domain::directory::principal_id(&sid);
    assert_eq!(
        store
            .create_membership(&membership(&sid, &devs, &ghost_user), 2)
            .await
            .expect("nu"),
        MembershipOutcome::NoSuchUser
    );
    let mut ghost_group = devs.clone();
    ghost_group.group_id = iic_domain::directory::principal_id(&sid);
    assert_eq!(
        store
            .create_membership(&membership(&sid, &ghost_group, &u), 2)
            .await
            .expect("ng"),
        MembershipOutcome::NoSuchGroup
    );

    assert_eq!(
        store
            .get_membership(&sid, &m1.membership_id)
            .await
            .expect("get")
            .map(|m| m.group_id),
        Some(admins.group_id.clone())
    );
    assert_eq!(
        store
            .find_membership_id(
                &sid,
                MemberOf {
                    group_id: &admins.group_id,
                    user_id: &u.user_id,
                },
            )
            .await
            .expect("find"),
        Some(m1.membership_id.clone())
    );
    let of_user = store
        .list_memberships_of_user(&sid, &u.user_id, Page::first(1))
        .await
        .expect("user page 1");
    assert_eq!(of_user.len(), 1);
    let rest = store
        .list_memberships_of_user(&sid, &u.user_id, Page::after(of_user[0].seq, 10))
        .await
        .expect("page 2");
    assert_eq!(rest.len(), 1);
    assert_eq!(
        store
            .list_memberships_of_group(&sid, &admins.group_id, Page::first(10))
            .await
            .expect("group")
            .len(),
        1
    );
    assert_eq!(
        store
            .groups_containing(
                &sid,
                &u.user_id,
                &[
                    devs.group_id.clone(),
                    admins.group_id.clone(),
                    auditors.group_id.clone()
                ]
            )
            .await
            .expect("contains"),
        vec![admins.group_id.clone(), auditors.group_id.clone()]
    );

    // Deleting a group removes its memberships; deleting a user removes the rest.
    assert!(store
        .delete_group(&sid, &admins.group_id)
        .await
        .expect("delete group"));
    assert_eq!(
        store
            .get_membership(&sid, &m1.membership_id)
            .await
            .expect("gone"),
        None
    );
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("i")
            .expect("x")
            .groups,
        2
    );
    assert!(store
        .delete_user(&sid, &u.user_id)
        .await
        .expect("delete user"));
    assert!(store
        .list_memberships_of_group(&sid, &auditors.group_id, Page::first(10))
        .await
        .expect("g")
        .is_empty());
    assert!(!store
        .delete_membership(&sid, &m1.membership_id)
        .await
        .expect("none left"));
}

async fn directory_membership_limit_holds_under_concurrency(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let u = user(&sid, "busy");
    store.create_user(&u, 100).await.expect("user");
    let mut groups = Vec::new();
    for n in 0..8 {
        let g = group(&sid, &format!("cg{n}"));
        store.create_group(&g, 100).await.expect("group");
        groups.push(g);
    }
    let tasks: Vec<_> = groups
        .iter()
        .map(|g| {
            let (s, m) = (store.clone(), membership(&sid, g, &u));
            tokio::spawn(async move { s.create_membership(&m, 3).await })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        if t.await.expect("join").expect("create") == MembershipOutcome::Created {
            created += 1;
        }
    }
    assert_eq!(created, 3);
    assert_eq!(
        store
            .list_memberships_of_user(&sid, &u.user_id, Page::first(100))
            .await
            .expect("list")
            .len(),
        3
    );
}

async fn directory_external_ids_and_password_policy(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let mut u = user(&sid, "scimmed");
    u.external_ids = vec![ExternalId {
        issuer: "okta".into(),
        id: "00u1".into(),
    }];
    store.create_user(&u, 100).await.expect("create");
    let key = PrincipalKey::External {
        issuer: "okta".into(),
        id: "00u1".into(),
    };
    assert_eq!(
        store.find_user_id(&sid, &key).await.expect("find"),
        Some(u.user_id.clone())
    );
    assert_eq!(
        store.find_group_id(&sid, &key).await.expect("not a group"),
        None
    );
    let got = store
        .get_user(&sid, &u.user_id)
        .await
        .expect("get")
        .expect("x");
    assert_eq!(
        got.external_ids, u.external_ids,
        "external ids come back exactly as given"
    );
    store.delete_user(&sid, &u.user_id).await.expect("delete");
    assert_eq!(store.find_user_id(&sid, &key).await.expect("gone"), None);

    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("i")
            .expect("x")
            .password_policy,
        None
    );
    let policy = PasswordPolicy {
        minimum_password_length: 12,
        ..Default::default()
    };
    assert!(store.set_password_policy(&sid, &policy).await.expect("set"));
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("i")
            .expect("x")
            .password_policy,
        Some(policy)
    );
    assert!(!store
        .set_password_policy("d-0000000000", &policy)
        .await
        .expect("none"));
}

async fn deleting_the_instance_removes_its_directory(store: SharedStore) {
    let (org, sid) = directory(&store).await;
    let u = user(&sid, "doomed");
    let g = group(&sid, "doomed");
    store.create_user(&u, 100).await.expect("user");
    store.create_group(&g, 100).await.expect("group");
    store
        .create_membership(&membership(&sid, &g, &u), 10)
        .await
        .expect("m");
    assert_eq!(store.delete_instances(&org).await.expect("delete"), 1);
    assert_eq!(store.identity_store(&sid).await.expect("info"), None);
    assert_eq!(store.get_user(&sid, &u.user_id).await.expect("user"), None);
    assert_eq!(
        store.get_group(&sid, &g.group_id).await.expect("group"),
        None
    );
}

/// Property: any sequence of creates, renames and deletes of users, groups and memberships
/// leaves the store agreeing with a simple model — names unique per kind (case-insensitively),
/// memberships only between existing principals, counts right.
async fn directory_random_operations_keep_invariants(store: SharedStore) {
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet};

    let (_, sid) = directory(&store).await;
    for seed in [1u64, 7, 42] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let names = ["ann", "Ann", "bob", "cy", "dee", "eve", "fay", "gus"];
        let mut users: BTreeMap<String, User> = BTreeMap::new();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut members: BTreeSet<(String, String)> = BTreeSet::new();
        let pick = |rng: &mut rand::rngs::StdRng, keys: Vec<String>| -> Option<String> {
            if keys.is_empty() {
                None
            } else {
                Some(keys[rng.gen_range(0..keys.len())].clone())
            }
        };
        for _ in 0..150 {
            let name = format!("{}{seed}", names[rng.gen_range(0..names.len())]);
            match rng.gen_range(0..8) {
                0 => {
                    let u = user(&sid, &name);
                    let taken = users
                        .values()
                        .any(|x| x.profile.user_name.eq_ignore_ascii_case(&name));
                    let out = store.create_user(&u, 1_000).await.expect("create user");
                    assert_eq!(out == CreateOutcome::NameTaken, taken, "{name}");
                    if !taken {
                        users.insert(u.user_id.clone(), u);
                    }
                }
                1 => {
                    if let Some(id) = pick(&mut rng, users.keys().cloned().collect()) {
                        let mut u = users[&id].clone();
                        u.profile.user_name = name.clone();
                        let taken = users.values().any(|x| {
                            x.user_id != id && x.profile.user_name.eq_ignore_ascii_case(&name)
                        });
                        let out = store.update_user(&u).await.expect("rename user");
                        assert_eq!(out == UpdateOutcome::NameTaken, taken);
                        if !taken {
                            users.insert(id, u);
                        }
                    }
                }
                2 => {
                    if let Some(id) = pick(&mut rng, users.keys().cloned().collect()) {
                        assert!(store.delete_user(&sid, &id).await.expect("delete user"));
                        users.remove(&id);
                        members.retain(|(_, u)| *u != id);
                    }
                }
                3 => {
                    let g = group(&sid, &name);
                    let taken = groups
                        .values()
                        .any(|x| x.profile.display_name.eq_ignore_ascii_case(&name));
                    let out = store.create_group(&g, 1_000).await.expect("create group");
                    assert_eq!(out == CreateOutcome::NameTaken, taken);
                    if !taken {
                        groups.insert(g.group_id.clone(), g);
                    }
                }
                4 => {
                    if let Some(id) = pick(&mut rng, groups.keys().cloned().collect()) {
                        let mut g = groups[&id].clone();
                        g.profile.display_name = name.clone();
                        let taken = groups.values().any(|x| {
                            x.group_id != id && x.profile.display_name.eq_ignore_ascii_case(&name)
                        });
                        assert_eq!(
                            store.update_group(&g).await.expect("rename group")
                                == UpdateOutcome::NameTaken,
                            taken
                        );
                        if !taken {
                            groups.insert(id, g);
                        }
                    }
                }
                5 => {
                    if let Some(id) = pick(&mut rng, groups.keys().cloned().collect()) {
                        assert!(store.delete_group(&sid, &id).await.expect("delete group"));
                        groups.remove(&id);
                        members.retain(|(g, _)| *g != id);
                    }
                }
                6 => {
                    let (Some(g), Some(u)) = (
                        pick(&mut rng, groups.keys().cloned().collect()),
                        pick(&mut rng, users.keys().cloned().collect()),
                    ) else {
                        continue;
                    };
                    let out = store
                        .create_membership(&membership(&sid, &groups[&g], &users[&u]), 1_000)
                        .await
                        .expect("join");
                    let existed = !members.insert((g, u));
                    assert_eq!(matches!(out, MembershipOutcome::AlreadyMember(_)), existed);
                }
                _ => {
                    if let Some((g, u)) = members.iter().next().cloned() {
                        let id = store
                            .find_membership_id(
                                &sid,
                                MemberOf {
                                    group_id: &g,
                                    user_id: &u,
                                },
                            )
                            .await
                            .expect("find")
                            .expect("exists");
                        assert!(store.delete_membership(&sid, &id).await.expect("leave"));
                        members.remove(&(g, u));
                    }
                }
            }
        }
        // The store agrees with the model.
        let info = store
            .identity_store(&sid)
            .await
            .expect("info")
            .expect("store");
        let listed_users = store
            .list_users(&sid, None, Page::first(10_000))
            .await
            .expect("users");
        let listed_groups = store
            .list_groups(&sid, None, Page::first(10_000))
            .await
            .expect("groups");
        let mine_u: Vec<_> = listed_users
            .iter()
            .filter(|u| users.contains_key(&u.user_id))
            .collect();
        let mine_g: Vec<_> = listed_groups
            .iter()
            .filter(|g| groups.contains_key(&g.group_id))
            .collect();
        assert_eq!(mine_u.len(), users.len());
        assert_eq!(mine_g.len(), groups.len());
        for u in &mine_u {
            assert_eq!(u.profile.user_name, users[&u.user_id].profile.user_name);
        }
        let mut lowered: Vec<String> = listed_users
            .iter()
            .map(|u| u.profile.user_name.to_lowercase())
            .collect();
        let n = lowered.len();
        lowered.sort();
        lowered.dedup();
        assert_eq!(lowered.len(), n, "user names stay unique");
        assert_eq!(
            info.users as usize,
            listed_users.len(),
            "the user count matches the rows"
        );
        assert_eq!(
            info.groups as usize,
            listed_groups.len(),
            "the group count matches the rows"
        );
        let mut stored_members = BTreeSet::new();
        for g in &mine_g {
            for m in store
                .list_memberships_of_group(&sid, &g.group_id, Page::first(10_000))
                .await
                .expect("members")
            {
                assert!(
                    users.contains_key(&m.user_id),
                    "a membership never outlives its user"
                );
                stored_members.insert((m.group_id, m.user_id));
            }
        }
        assert_eq!(stored_members, members);
        // Clean up so the next seed starts from an empty directory.
        for id in users.keys() {
            store.delete_user(&sid, id).await.expect("cleanup user");
        }
        for id in groups.keys() {
            store.delete_group(&sid, id).await.expect("cleanup group");
        }
    }
}
