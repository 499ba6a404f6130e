//! SCIM's writes: a user's external ids and `active` replaced with the user, a group and its
//! members written in one transaction or not at all.

use crate::common::*;
use iic_domain::directory::ExternalId;
use iic_store::*;

suite!(
    scim_replacing_a_user_moves_its_external_id_and_keeps_unassigned_active,
    scim_a_group_and_its_members_are_written_together_or_not_at_all,
);

fn ext(issuer: &str, id: &str) -> ExternalId {
    ExternalId {
        issuer: issuer.into(),
        id: id.into(),
    }
}

async fn scim_replacing_a_user_moves_its_external_id_and_keeps_unassigned_active(
    store: SharedStore,
) {
    let (_, sid) = directory(&store).await;
    let mut a = user(&sid, "a");
    a.external_ids = vec![ext("tenant", "A-1"), ext("idp", "x")];
    a.active_assigned = false;
    store.create_user(&a, 100).await.expect("create");
    let b = user(&sid, "b");
    store.create_user(&b, 100).await.expect("create");
    let by = |id: &str| PrincipalKey::External {
        issuer: "tenant".into(),
        id: id.into(),
    };
    assert_eq!(
        store.find_user_id(&sid, &by("A-1")).await.expect("find"),
        Some(a.user_id.clone())
    );
    let read = store
        .get_user(&sid, &a.user_id)
        .await
        .expect("get")
        .expect("user");
    assert!(!read.active_assigned, "unassigned active is kept");
    // The tenant's id changes; the other issuer's stays.
    let mut changed = read.clone();
    changed.external_ids = vec![ext("idp", "x"), ext("tenant", "A-2")];
    changed.enabled = false;
    changed.active_assigned = true;
    assert_eq!(
        store.replace_user(&changed).await.expect("replace"),
        UpdateOutcome::Updated
    );
    assert_eq!(
        store.find_user_id(&sid, &by("A-1")).await.expect("find"),
        None
    );
    assert_eq!(
        store.find_user_id(&sid, &by("A-2")).await.expect("find"),
        Some(a.user_id.clone())
    );
    let idp = PrincipalKey::External {
        issuer: "idp".into(),
        id: "x".into(),
    };
    assert_eq!(
        store.find_user_id(&sid, &idp).await.expect("find"),
        Some(a.user_id.clone())
    );
    let read = store
        .get_user(&sid, &a.user_id)
        .await
        .expect("get")
        .expect("user");
    assert!(read.active_assigned && !read.enabled);
    // An external id another user holds fails the write, which leaves nothing behind.
    let mut stolen = store
        .get_user(&sid, &b.user_id)
        .await
        .expect("get")
        .expect("b");
    stolen.external_ids = vec![ext("tenant", "A-2")];
    stolen.profile.display_name = "changed".into();
    let refused = store.replace_user(&stolen).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.is_conflict()),
        "{refused:?}"
    );
    let b_now = store
        .get_user(&sid, &b.user_id)
        .await
        .expect("get")
        .expect("b");
    assert_eq!(b_now.profile.display_name, b.profile.display_name);
    assert!(b_now.external_ids.is_empty());
}

async fn scim_a_group_and_its_members_are_written_together_or_not_at_all(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let members: Vec<User> = (0..3).map(|i| user(&sid, &format!("m{i}"))).collect();
    for m in &members {
        store.create_user(m, 100).await.expect("create");
    }
    let ids: Vec<String> = members.iter().map(|m| m.user_id.clone()).collect();
    let mut g = group(&sid, "eng");
    g.external_ids = vec![ext("tenant", "G-1")];
    let add = |ids: Vec<String>| MemberDelta {
        add: ids,
        ..MemberDelta::default()
    };
    // Created with a member that does not exist: no group either.
    let refused = store
        .write_group(
            GroupRow::Create {
                group: g.clone(),
                quota: 10,
            },
            add(vec![ids[0].clone(), "nobody".into()]),
            1000,
            1,
        )
        .await
        .expect("write");
    assert_eq!(refused, GroupWrite::UnknownUsers(vec!["nobody".into()]));
    assert!(store
        .get_group(&sid, &g.group_id)
        .await
        .expect("get")
        .is_none());
    assert_eq!(store.directory_counts(&sid).await.expect("counts").1, 0);
    let made = store
        .write_group(
            GroupRow::Create {
                group: g.clone(),
                quota: 10,
            },
            add(ids[..2].to_vec()),
            1000,
            1,
        )
        .await
        .expect("write");
    assert_eq!(made, GroupWrite::Done);
    assert_eq!(
        store
            .group_member_ids(&sid, &g.group_id)
            .await
            .expect("ids"),
        ids[..2].to_vec()
    );
    // Renamed and re-membered together; then a refused member change leaves the name as it was.
    let mut renamed = g.clone();
    renamed.profile.display_name = "platform".into();
    renamed.external_ids = vec![ext("tenant", "G-2")];
    let replace = MemberDelta {
        replace: Some(vec![ids[2].clone()]),
        ..MemberDelta::default()
    };
    let done = store
        .write_group(GroupRow::Update(renamed.clone()), replace, 1000, 2)
        .await
        .expect("write");
    assert_eq!(done, GroupWrite::Done);
    let key = PrincipalKey::External {
        issuer: "tenant".into(),
        id: "G-2".into(),
    };
    assert_eq!(
        store.find_group_id(&sid, &key).await.expect("find"),
        Some(g.group_id.clone())
    );
    let mut again = renamed.clone();
    again.profile.display_name = "never".into();
    let refused = store
        .write_group(GroupRow::Update(again), add(vec!["ghost".into()]), 1000, 3)
        .await
        .expect("write");
    assert_eq!(refused, GroupWrite::UnknownUsers(vec!["ghost".into()]));
    let now = store
        .get_group(&sid, &g.group_id)
        .await
        .expect("get")
        .expect("group");
    assert_eq!(now.profile.display_name, "platform");
    assert_eq!(
        store
            .group_member_ids(&sid, &g.group_id)
            .await
            .expect("ids"),
        vec![ids[2].clone()]
    );
    // A name another group holds is refused, members untouched.
    let other = group(&sid, "other");
    store.create_group(&other, 10).await.expect("other");
    let mut clash = now.clone();
    clash.profile.display_name = "OTHER".into();
    let refused = store
        .write_group(GroupRow::Update(clash), add(vec![ids[0].clone()]), 1000, 4)
        .await
        .expect("write");
    assert_eq!(refused, GroupWrite::NameTaken);
    assert_eq!(
        store
            .group_member_ids(&sid, &g.group_id)
            .await
            .expect("ids"),
        vec![ids[2].clone()]
    );
}
