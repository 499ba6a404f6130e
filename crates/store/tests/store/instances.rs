//! Instances, aliases and regions.

use crate::common::*;
use iic_store::*;

suite!(
    instances_are_one_per_organization_and_region,
    instances_page_by_keyset,
    alias_outcomes,
    delete_instances_removes_them,
    instance_list_follows_every_write,
    regions_register_once,
    concurrent_instance_creation_yields_one,
);

async fn instances_are_one_per_organization_and_region(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let (a, created) = store
        .create_instance_if_absent(&instance(org, "cn-north-4"))
        .await
        .expect("create");
    assert!(created);
    assert!(a.seq > 0);
    let (again, created) = store
        .create_instance_if_absent(&instance(org, "cn-north-4"))
        .await
        .expect("again");
    assert!(!created);
    assert_eq!(again, a);
    assert_eq!(
        store.get_instance(&a.instance_id).await.expect("get"),
        Some(a)
    );
    assert_eq!(store.get_instance("ins-none").await.expect("get"), None);
}

async fn instances_page_by_keyset(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let mut ids = Vec::new();
    for r in 0..5 {
        let (i, _) = store
            .create_instance_if_absent(&instance(org, &format!("region-{r}")))
            .await
            .expect("create");
        ids.push(i.instance_id);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_instances(org, Page { after, limit: 2 })
            .await
            .expect("page");
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        assert!(page.windows(2).all(|w| w[0].seq < w[1].seq));
        after = page.last().map(|i| i.seq);
        seen.extend(page.into_iter().map(|i| i.instance_id));
    }
    assert_eq!(seen, ids, "every instance once, in creation order");
    assert!(store
        .list_instances("o-other", Page::first(10))
        .await
        .expect("other org")
        .is_empty());
}

async fn alias_outcomes(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let (a, _) = store
        .create_instance_if_absent(&instance(org, "r1"))
        .await
        .expect("a");
    let (c, _) = store
        .create_instance_if_absent(&instance(org, "r2"))
        .await
        .expect("c");
    assert_eq!(
        store.set_alias(&a.instance_id, "acme").await.expect("set"),
        SetAliasOutcome::Set
    );
    assert_eq!(
        store
            .set_alias(&a.instance_id, "other")
            .await
            .expect("again"),
        SetAliasOutcome::AlreadySet
    );
    assert_eq!(
        store
            .set_alias(&c.instance_id, "acme")
            .await
            .expect("taken"),
        SetAliasOutcome::Taken
    );
    assert_eq!(
        store
            .set_alias("ins-missing", "zzz")
            .await
            .expect("missing"),
        SetAliasOutcome::NoSuchInstance
    );
    let stored = store
        .get_instance(&a.instance_id)
        .await
        .expect("get")
        .expect("a");
    assert_eq!(stored.alias.as_deref(), Some("acme"));
    let c_stored = store
        .get_instance(&c.instance_id)
        .await
        .expect("get")
        .expect("c");
    assert_eq!(c_stored.alias, None);
}

async fn delete_instances_removes_them(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let (a, _) = store
        .create_instance_if_absent(&instance(org, "r1"))
        .await
        .expect("a");
    assert_eq!(store.delete_instances(org).await.expect("delete"), 1);
    assert_eq!(store.get_instance(&a.instance_id).await.expect("get"), None);
    assert_eq!(store.delete_instances(org).await.expect("again"), 0);
}

async fn instance_list_follows_every_write(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let list = |s: SharedStore, o: String| async move {
        s.list_instances(&o, Page::first(10)).await.expect("list")
    };
    assert!(list(store.clone(), org.clone()).await.is_empty());
    let (a, _) = store
        .create_instance_if_absent(&instance(org, "r1"))
        .await
        .expect("a");
    assert_eq!(list(store.clone(), org.clone()).await, vec![a.clone()]);
    store
        .set_alias(&a.instance_id, "after-read")
        .await
        .expect("alias");
    let listed = list(store.clone(), org.clone()).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].alias.as_deref(), Some("after-read"));
    store.delete_instances(org).await.expect("delete");
    assert!(list(store.clone(), org.clone()).await.is_empty());
}

async fn regions_register_once(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    assert!(store
        .register_region(org, "cn-north-4")
        .await
        .expect("first"));
    assert!(!store
        .register_region(org, "cn-north-4")
        .await
        .expect("second"));
    assert_eq!(
        store.list_regions(org).await.expect("list"),
        vec!["cn-north-4".to_string()]
    );
}

async fn concurrent_instance_creation_yields_one(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (s, org) = (store.clone(), org.clone());
            tokio::spawn(async move { s.create_instance_if_absent(&instance(&org, "r")).await })
        })
        .collect();
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (i, c) = t.await.expect("join").expect("create");
        created += c as usize;
        ids.insert(i.instance_id);
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
    assert_eq!(
        store
            .list_instances(&org, Page::first(10))
            .await
            .expect("list")
            .len(),
        1
    );
}
