//! What the SCIM API asks of the directory: bulk member changes, member ids, offset pages,
//! counts.

use crate::common::*;
use iic_store::*;
use std::time::Instant;

suite!(
    scim_members_replace_add_and_remove_in_one_change,
    scim_an_unknown_user_refuses_the_whole_change,
    scim_the_limit_on_groups_per_user_refuses_the_whole_change,
    scim_pages_counts_and_member_lookups,
    scim_five_thousand_members_in_one_change,
    scim_concurrent_changes_neither_fail_nor_deadlock,
);

async fn users(store: &SharedStore, sid: &str, prefix: &str, n: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    let all: Vec<User> = (0..n).map(|i| user(sid, &format!("{prefix}{i}"))).collect();
    for chunk in all.chunks(n.div_ceil(8).max(1)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for u in &chunk {
                let made = store.create_user(u, 100_000).await.expect("create user");
                assert_eq!(made, CreateOutcome::Created);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("user task");
    }
    all.into_iter().map(|u| u.user_id).collect()
}

async fn new_group(store: &SharedStore, sid: &str, name: &str) -> String {
    let g = group(sid, name);
    assert_eq!(
        store.create_group(&g, 1000).await.expect("group"),
        CreateOutcome::Created
    );
    g.group_id
}

fn ids(of: &[&String]) -> Vec<String> {
    of.iter().map(|s| s.to_string()).collect()
}

async fn updated_at(store: &SharedStore, sid: &str, gid: &str) -> i64 {
    store
        .get_group(sid, gid)
        .await
        .expect("get")
        .expect("group")
        .updated_at
}

async fn scim_members_replace_add_and_remove_in_one_change(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let u = users(&store, &sid, "m", 5).await;
    let gid = new_group(&store, &sid, "g").await;
    let change = |replace: Option<Vec<String>>, add: Vec<String>, remove: Vec<String>, now| {
        let (store, sid, gid) = (store.clone(), sid.clone(), gid.clone());
        async move {
            store
                .change_group_members(&sid, &gid, replace.as_deref(), &add, &remove, 1000, now)
                .await
                .expect("change")
        }
    };
    assert_eq!(
        change(None, ids(&[&u[0], &u[1], &u[0]]), vec![], 50).await,
        BulkMembers::Done {
            added: 2,
            removed: 0
        },
        "an id given twice is added once"
    );
    assert_eq!(
        store.group_member_ids(&sid, &gid).await.expect("ids"),
        ids(&[&u[0], &u[1]])
    );
    assert_eq!(updated_at(&store, &sid, &gid).await, 50);
    assert_eq!(
        change(
            None,
            ids(&[&u[1]]),
            ids(&[&u[4], &"no-such-user".to_string()]),
            60
        )
        .await,
        BulkMembers::Done {
            added: 0,
            removed: 0
        },
        "a member added again and non-members removed change nothing"
    );
    assert_eq!(
        updated_at(&store, &sid, &gid).await,
        50,
        "no change, no new time"
    );
    let replaced = change(
        Some(ids(&[&u[2], &u[3], &u[1]])),
        ids(&[&u[4], &u[2]]),
        ids(&[&u[3], &u[0]]),
        70,
    )
    .await;
    assert_eq!(
        replaced,
        BulkMembers::Done {
            added: 2,
            removed: 1
        }
    );
    assert_eq!(
        store.group_member_ids(&sid, &gid).await.expect("ids"),
        ids(&[&u[1], &u[2], &u[4]]),
        "the member kept keeps its place; the new ones follow in the order given"
    );
    assert_eq!(updated_at(&store, &sid, &gid).await, 70);
    let kept = store
        .list_memberships_of_group(&sid, &gid, Page::first(10))
        .await
        .expect("memberships");
    assert!(kept.iter().all(|m| m.identity_store_id == sid));
    let membership_ids: std::collections::HashSet<&String> =
        kept.iter().map(|m| &m.membership_id).collect();
    assert_eq!(
        membership_ids.len(),
        3,
        "each membership has an id of its own"
    );
    assert!(kept
        .iter()
        .filter(|m| m.user_id != u[1])
        .all(|m| m.created_at == 70));
    assert_eq!(
        change(Some(vec![]), vec![], vec![], 80).await,
        BulkMembers::Done {
            added: 0,
            removed: 3
        },
        "an empty replacement removes every member"
    );
    assert!(store
        .group_member_ids(&sid, &gid)
        .await
        .expect("ids")
        .is_empty());
}

async fn scim_an_unknown_user_refuses_the_whole_change(store: SharedStore) {
    let (org, sid) = directory(&store).await;
    let u = users(&store, &sid, "k", 3).await;
    let gid = new_group(&store, &sid, "g").await;
    let (other, _) = store
        .create_instance_if_absent(&instance(&org, "eu-west-1"))
        .await
        .expect("other instance");
    let stranger = users(&store, &other.identity_store_id, "s", 1).await;
    let other_group = new_group(&store, &other.identity_store_id, "og").await;
    let set = |replace: Option<Vec<String>>, add: Vec<String>| {
        let (store, sid, gid) = (store.clone(), sid.clone(), gid.clone());
        async move {
            store
                .change_group_members(&sid, &gid, replace.as_deref(), &add, &[], 1000, 5)
                .await
                .expect("change")
        }
    };
    assert_eq!(
        set(None, ids(&[&u[0]])).await,
        BulkMembers::Done {
            added: 1,
            removed: 0
        }
    );
    let bogus: Vec<String> = (0..15).map(|i| format!("bogus-{i}")).collect();
    let mut add = ids(&[&u[1], &stranger[0]]);
    add.extend(bogus.iter().cloned());
    let mut expected = vec![stranger[0].clone()];
    expected.extend(bogus[..9].iter().cloned());
    assert_eq!(
        set(None, add).await,
        BulkMembers::UnknownUsers(expected),
        "another store's user is unknown here; at most ten are named"
    );
    assert_eq!(
        set(Some(ids(&[&u[2], &bogus[0]])), vec![]).await,
        BulkMembers::UnknownUsers(vec![bogus[0].clone()])
    );
    assert_eq!(
        store.group_member_ids(&sid, &gid).await.expect("ids"),
        ids(&[&u[0]]),
        "nothing was written"
    );
    for missing in ["no-such-group", other_group.as_str()] {
        assert_eq!(
            store
                .change_group_members(&sid, missing, None, &ids(&[&u[1]]), &[], 1000, 5)
                .await
                .expect("change"),
            BulkMembers::NoSuchGroup
        );
    }
    assert!(store
        .groups_with_member(&sid, &u[1])
        .await
        .expect("groups")
        .is_empty());
}

async fn scim_the_limit_on_groups_per_user_refuses_the_whole_change(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let u = users(&store, &sid, "l", 3).await;
    let (g1, g2) = (
        new_group(&store, &sid, "g1").await,
        new_group(&store, &sid, "g2").await,
    );
    let add = |gid: String, add: Vec<String>| {
        let (store, sid) = (store.clone(), sid.clone());
        async move {
            store
                .change_group_members(&sid, &gid, None, &add, &[], 1, 9)
                .await
                .expect("change")
        }
    };
    assert_eq!(
        add(g1.clone(), ids(&[&u[1]])).await,
        BulkMembers::Done {
            added: 1,
            removed: 0
        }
    );
    assert_eq!(
        add(g2.clone(), ids(&[&u[0], &u[1], &u[2]])).await,
        BulkMembers::TooManyGroups(u[1].clone())
    );
    assert!(store
        .group_member_ids(&sid, &g2)
        .await
        .expect("ids")
        .is_empty());
    assert_eq!(
        add(g1.clone(), ids(&[&u[1], &u[2]])).await,
        BulkMembers::Done {
            added: 1,
            removed: 0
        },
        "a member already in the group is not counted twice"
    );
}

async fn scim_pages_counts_and_member_lookups(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    assert_eq!(store.directory_counts(&sid).await.expect("counts"), (0, 0));
    let mut u = Vec::new();
    for i in 0..5 {
        u.extend(users(&store, &sid, &format!("p{i}-"), 1).await);
    }
    let mut g = Vec::new();
    for i in 0..3 {
        g.push(new_group(&store, &sid, &format!("grp{i}")).await);
    }
    assert_eq!(store.directory_counts(&sid).await.expect("counts"), (5, 3));
    assert_eq!(
        store
            .directory_counts("d-ffffffffff")
            .await
            .expect("counts"),
        (0, 0)
    );
    let page: Vec<String> = store
        .users_from(&sid, 1, 3)
        .await
        .expect("users")
        .into_iter()
        .map(|x| x.user_id)
        .collect();
    assert_eq!(page, u[1..4].to_vec());
    assert_eq!(store.users_from(&sid, 4, 10).await.expect("users").len(), 1);
    assert!(store
        .users_from(&sid, 5, 10)
        .await
        .expect("users")
        .is_empty());
    assert!(store
        .users_from(&sid, 0, 0)
        .await
        .expect("users")
        .is_empty());
    let groups: Vec<String> = store
        .groups_from(&sid, 0, 10)
        .await
        .expect("groups")
        .into_iter()
        .map(|x| x.group_id)
        .collect();
    assert_eq!(groups, g);
    assert_eq!(
        store.groups_from(&sid, 2, 10).await.expect("groups")[0].group_id,
        g[2]
    );
    for (gid, members) in [(&g[0], ids(&[&u[3], &u[0]])), (&g[2], ids(&[&u[0]]))] {
        store
            .change_group_members(&sid, gid, None, &members, &[], 1000, 1)
            .await
            .expect("change");
    }
    let with: Vec<String> = store
        .groups_with_member(&sid, &u[0])
        .await
        .expect("groups")
        .into_iter()
        .map(|x| x.group_id)
        .collect();
    assert_eq!(with, ids(&[&g[0], &g[2]]));
    assert!(store
        .groups_with_member(&sid, &u[1])
        .await
        .expect("groups")
        .is_empty());
    let of = store
        .group_member_ids_of(&sid, &ids(&[&g[0], &g[1], &g[2], &"nope".to_string()]))
        .await
        .expect("member ids");
    assert_eq!(of.len(), 4);
    assert_eq!(of[&g[0]], ids(&[&u[3], &u[0]]));
    assert!(of[&g[1]].is_empty());
    assert_eq!(of[&g[2]], ids(&[&u[0]]));
    assert!(of["nope"].is_empty());
    assert!(store
        .group_member_ids_of("d-ffffffffff", &ids(&[&g[0]]))
        .await
        .expect("member ids")[&g[0]]
        .is_empty());
}

async fn scim_five_thousand_members_in_one_change(store: SharedStore) {
    const N: usize = 5000;
    let (_, sid) = directory(&store).await;
    let u = users(&store, &sid, "t", N).await;
    let gid = new_group(&store, &sid, "big").await;
    let started = Instant::now();
    let added = store
        .change_group_members(&sid, &gid, None, &u, &[], 1000, 3)
        .await
        .expect("add");
    let add_time = started.elapsed();
    assert_eq!(
        added,
        BulkMembers::Done {
            added: N as u64,
            removed: 0
        }
    );
    let started = Instant::now();
    let members = store.group_member_ids(&sid, &gid).await.expect("ids");
    let read_time = started.elapsed();
    assert_eq!(members, u);
    let started = Instant::now();
    let removed = store
        .change_group_members(&sid, &gid, None, &[], &u, 1000, 4)
        .await
        .expect("remove");
    let remove_time = started.elapsed();
    assert_eq!(
        removed,
        BulkMembers::Done {
            added: 0,
            removed: N as u64
        }
    );
    eprintln!(
        "{}: {N} members added in {add_time:?}, read in {read_time:?}, removed in {remove_time:?}",
        store.backend_name()
    );
    assert!(add_time.as_secs_f64() < 5.0, "adding took {add_time:?}");
    assert!(
        remove_time.as_secs_f64() < 5.0,
        "removing took {remove_time:?}"
    );
}

async fn scim_concurrent_changes_neither_fail_nor_deadlock(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let u = users(&store, &sid, "c", 2500).await;
    let groups = [
        new_group(&store, &sid, "c1").await,
        new_group(&store, &sid, "c2").await,
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..6 {
        let (store, sid, gid) = (store.clone(), sid.clone(), groups[round % 2].clone());
        let mut ids = u.clone();
        if round % 3 == 1 {
            ids.reverse();
        }
        tasks.spawn(async move {
            let replace = (round % 2 == 0).then_some(&ids[..]);
            let done = store
                .change_group_members(&sid, &gid, replace, &ids, &[], 1000, 7)
                .await
                .expect("bulk change");
            assert!(matches!(done, BulkMembers::Done { .. }), "{done:?}");
        });
    }
    for (i, id) in u.iter().enumerate().take(40) {
        let (store, sid) = (store.clone(), sid.clone());
        let mut g = group(&sid, "unused");
        g.group_id = groups[i % 2].clone();
        let m = membership(&sid, &g, &user(&sid, "unused"));
        let m = Membership {
            user_id: id.clone(),
            ..m
        };
        tasks.spawn(async move {
            store.create_membership(&m, 1000).await.expect("single");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    for gid in &groups {
        let mut members = store.group_member_ids(&sid, gid).await.expect("ids");
        members.sort();
        let mut all = u.clone();
        all.sort();
        assert_eq!(members, all, "every user is a member, once");
    }
}
