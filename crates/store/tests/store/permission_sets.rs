//! Permission sets.

use crate::common::*;
use iic_store::*;

suite!(permission_sets_round_trip,);

async fn permission_sets_round_trip(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let (ins, _) = store
        .create_instance_if_absent(&instance(&b.organization.id, "cn-north-4"))
        .await
        .expect("instance");
    let iid = ins.instance_id.clone();
    let admin = permission_set(&iid, "Admin");
    assert_eq!(
        store
            .create_permission_set(&admin, 3)
            .await
            .expect("create"),
        CreateOutcome::Created
    );
    assert_eq!(
        store
            .create_permission_set(&permission_set(&iid, "ADMIN"), 3)
            .await
            .expect("dup"),
        CreateOutcome::NameTaken
    );
    store
        .create_permission_set(&permission_set(&iid, "Dev"), 3)
        .await
        .expect("2");
    store
        .create_permission_set(&permission_set(&iid, "Ops"), 3)
        .await
        .expect("3");
    assert_eq!(
        store
            .create_permission_set(&permission_set(&iid, "Four"), 3)
            .await
            .expect("4"),
        CreateOutcome::QuotaExceeded
    );
    assert_eq!(store.count_permission_sets(&iid).await.expect("count"), 3);
    let got = store
        .get_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("get")
        .expect("x");
    assert!(got.seq > 0);
    assert_eq!(
        PermissionSet {
            seq: 0,
            ..got.clone()
        },
        admin
    );
    assert_eq!(
        store
            .find_permission_set_by_name(&iid, "admin")
            .await
            .expect("find")
            .map(|p| p.permission_set_id),
        Some(admin.permission_set_id.clone())
    );
    assert_eq!(
        store
            .get_permission_set("ins-other", &admin.permission_set_id)
            .await
            .expect("other"),
        None
    );
    let page = store
        .list_permission_sets(&iid, Page::first(2))
        .await
        .expect("page");
    let rest = store
        .list_permission_sets(
            &iid,
            Page {
                after: page.last().map(|p| p.seq),
                limit: 2,
            },
        )
        .await
        .expect("rest");
    assert_eq!((page.len(), rest.len()), (2, 1));

    let mut changed = got.clone();
    changed.version += 1;
    changed.session_duration = "PT8H".into();
    changed.content.custom_policy = Some("{}".into());
    changed.content.tags = vec![iic_domain::organizations::Tag {
        key: "team".into(),
        value: "core".into(),
    }];
    assert_eq!(
        store.save_permission_set(&changed).await.expect("save"),
        UpdateOutcome::Updated
    );
    let stale = changed.clone();
    assert!(
        matches!(
            store.save_permission_set(&stale).await,
            Err(StoreError::Conflict { .. })
        ),
        "a stale version is refused"
    );
    let mut renamed = changed.clone();
    renamed.version += 1;
    renamed.name = "dev".into();
    assert_eq!(
        store.save_permission_set(&renamed).await.expect("clash"),
        UpdateOutcome::NameTaken
    );
    let reread = store
        .get_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("get")
        .expect("x");
    assert_eq!(
        (reread.version, reread.session_duration.as_str()),
        (2, "PT8H")
    );
    assert_eq!(reread.content.tags.len(), 1);
    assert!(store
        .delete_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("delete"));
    assert!(!store
        .delete_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("again"));
    store
        .delete_instances(&b.organization.id)
        .await
        .expect("delete instance");
    assert_eq!(
        store.count_permission_sets(&iid).await.expect("count"),
        0,
        "sets go with their instance"
    );
}
