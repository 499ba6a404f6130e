//! SCIM provisioning tenants and their bearer tokens.

use crate::common::*;
use iic_store::*;

suite!(
    an_identity_store_holds_one_tenant,
    tokens_are_limited_listed_and_deleted_per_tenant,
    a_token_opens_its_tenant_until_it_expires_or_is_deleted,
    deleting_a_tenant_deletes_its_tokens,
    deleting_the_identity_store_deletes_its_tenants_and_tokens,
);

const YEAR_MS: i64 = 365 * 86_400_000;

fn tenant(sid: &str, created_at: i64) -> ScimTenant {
    ScimTenant {
        tenant_id: iic_domain::ids::uuid_v4(),
        identity_store_id: sid.into(),
        created_at,
    }
}

fn token(t: &ScimTenant, now: i64) -> ScimToken {
    ScimToken {
        token_id: iic_domain::ids::uuid_v4(),
        tenant_id: t.tenant_id.clone(),
        created_at: now,
        expires_at: now + YEAR_MS,
    }
}

/// An identity store of another instance (another region) of the organization.
async fn other_store(store: &SharedStore, org: &str, region: &str) -> String {
    let (i, _) = store
        .create_instance_if_absent(&instance(org, region))
        .await
        .expect("instance");
    i.identity_store_id
}

async fn stored_tenant(store: &SharedStore) -> (String, String, ScimTenant) {
    let (org, sid) = directory(store).await;
    tenant_of(store, org, sid).await
}

async fn tenant_of(store: &SharedStore, org: String, sid: String) -> (String, String, ScimTenant) {
    let t = tenant(&sid, 1_000);
    assert_eq!(
        store.create_scim_tenant(&t).await.expect("tenant"),
        ProvisioningCreated::Created
    );
    (org, sid, t)
}

async fn an_identity_store_holds_one_tenant(store: SharedStore) {
    let (org, sid, t) = stored_tenant(&store).await;
    assert_eq!(
        store
            .create_scim_tenant(&tenant(&sid, 2_000))
            .await
            .expect("second"),
        ProvisioningCreated::Full
    );
    assert_eq!(
        store
            .create_scim_tenant(&tenant("d-0000000000", 2_000))
            .await
            .expect("no store"),
        ProvisioningCreated::NoParent
    );
    assert_eq!(
        store.scim_tenants(&sid).await.expect("list"),
        vec![t.clone()]
    );
    assert_eq!(
        store.scim_tenant(&sid, &t.tenant_id).await.expect("get"),
        Some(t.clone())
    );
    let other = other_store(&store, &org, "ap-southeast-1").await;
    assert_eq!(store.scim_tenants(&other).await.expect("other"), vec![]);
    assert_eq!(
        store.scim_tenant(&other, &t.tenant_id).await.expect("get"),
        None,
        "a tenant is found only under its own identity store"
    );
    assert!(!store
        .delete_scim_tenant(&other, &t.tenant_id)
        .await
        .expect("delete elsewhere"));
    assert_eq!(store.scim_tenants(&sid).await.expect("list").len(), 1);
}

async fn tokens_are_limited_listed_and_deleted_per_tenant(store: SharedStore) {
    let (org, sid, t) = stored_tenant(&store).await;
    let (a, b, c) = (token(&t, 10), token(&t, 20), token(&t, 30));
    for (k, value) in [(&a, "value-a"), (&b, "value-b")] {
        assert_eq!(
            store
                .create_scim_token(&sid, k, value)
                .await
                .expect("token"),
            ProvisioningCreated::Created
        );
    }
    assert_eq!(
        store
            .create_scim_token(&sid, &c, "value-c")
            .await
            .expect("third"),
        ProvisioningCreated::Full,
        "{MAX_TOKENS_PER_TENANT} tokens at most"
    );
    assert_eq!(
        store.scim_tokens(&sid, &t.tenant_id).await.expect("list"),
        vec![a.clone(), b.clone()]
    );
    let other = other_store(&store, &org, "ap-southeast-1").await;
    assert_eq!(
        store
            .scim_tokens(&other, &t.tenant_id)
            .await
            .expect("other"),
        vec![]
    );
    assert!(!store
        .delete_scim_token(&other, &t.tenant_id, &a.token_id)
        .await
        .expect("delete elsewhere"));
    assert!(store
        .delete_scim_token(&sid, &t.tenant_id, &a.token_id)
        .await
        .expect("delete"));
    assert!(!store
        .delete_scim_token(&sid, &t.tenant_id, &a.token_id)
        .await
        .expect("again"));
    assert_eq!(
        store
            .create_scim_token(&sid, &c, "value-c")
            .await
            .expect("third"),
        ProvisioningCreated::Created,
        "room again after a deletion"
    );
    assert_eq!(
        store.scim_tokens(&sid, &t.tenant_id).await.expect("list"),
        vec![b, c]
    );
    let ghost = ScimToken {
        tenant_id: "no-such-tenant".into(),
        ..token(&t, 40)
    };
    assert_eq!(
        store
            .create_scim_token(&sid, &ghost, "value-g")
            .await
            .expect("ghost"),
        ProvisioningCreated::NoParent
    );
    assert_eq!(
        store
            .create_scim_token(&other, &token(&t, 40), "value-o")
            .await
            .expect("other store"),
        ProvisioningCreated::NoParent,
        "a token is added only under the tenant's own identity store"
    );
}

async fn a_token_opens_its_tenant_until_it_expires_or_is_deleted(store: SharedStore) {
    let (org, sid, t) = stored_tenant(&store).await;
    let other_sid = other_store(&store, &org, "ap-southeast-1").await;
    let (_, _, other) = tenant_of(&store, org, other_sid.clone()).await;
    let now = 5_000;
    let k = token(&t, now);
    store
        .create_scim_token(&sid, &k, "secret-1")
        .await
        .expect("token");
    store
        .create_scim_token(&other_sid, &token(&other, now), "secret-2")
        .await
        .expect("other token");
    let found = |tenant_id: &str, value: &str, at: i64| {
        let (store, tenant_id, value) = (store.clone(), tenant_id.to_string(), value.to_string());
        async move {
            store
                .scim_tenant_for_token(&tenant_id, &value, at)
                .await
                .expect("lookup")
        }
    };
    assert_eq!(found(&t.tenant_id, "secret-1", now).await, Some(t.clone()));
    assert_eq!(
        found(&t.tenant_id, "secret-1", k.expires_at - 1).await,
        Some(t.clone())
    );
    assert_eq!(
        found(&t.tenant_id, "secret-1", k.expires_at).await,
        None,
        "expired"
    );
    assert_eq!(
        found(&t.tenant_id, "secret-2", now).await,
        None,
        "another tenant's token"
    );
    assert_eq!(
        found(&other.tenant_id, "secret-1", now).await,
        None,
        "another tenant"
    );
    assert_eq!(found(&t.tenant_id, "secret-", now).await, None);
    assert_eq!(found(&t.tenant_id, "", now).await, None);
    assert!(store
        .delete_scim_token(&sid, &t.tenant_id, &k.token_id)
        .await
        .expect("delete"));
    assert_eq!(found(&t.tenant_id, "secret-1", now).await, None, "deleted");
    assert_eq!(
        found(&other.tenant_id, "secret-2", now).await,
        Some(other),
        "the other tenant's token is untouched"
    );
}

async fn deleting_a_tenant_deletes_its_tokens(store: SharedStore) {
    let (_, sid, t) = stored_tenant(&store).await;
    store
        .create_scim_token(&sid, &token(&t, 10), "secret-t")
        .await
        .expect("token");
    assert!(store
        .delete_scim_tenant(&sid, &t.tenant_id)
        .await
        .expect("delete"));
    assert!(!store
        .delete_scim_tenant(&sid, &t.tenant_id)
        .await
        .expect("again"));
    assert_eq!(store.scim_tenants(&sid).await.expect("list"), vec![]);
    assert_eq!(
        store.scim_tokens(&sid, &t.tenant_id).await.expect("tokens"),
        vec![]
    );
    assert_eq!(
        store
            .scim_tenant_for_token(&t.tenant_id, "secret-t", 10)
            .await
            .expect("lookup"),
        None
    );
    let again = tenant(&sid, 2_000);
    assert_eq!(
        store.create_scim_tenant(&again).await.expect("again"),
        ProvisioningCreated::Created,
        "provisioning can be turned on again"
    );
    assert_eq!(
        store
            .create_scim_token(&sid, &token(&again, 20), "secret-t")
            .await
            .expect("same value, new tenant"),
        ProvisioningCreated::Created
    );
}

async fn deleting_the_identity_store_deletes_its_tenants_and_tokens(store: SharedStore) {
    let (org, sid, t) = stored_tenant(&store).await;
    store
        .create_scim_token(&sid, &token(&t, 10), "secret-d")
        .await
        .expect("token");
    assert_eq!(store.delete_instances(&org).await.expect("delete"), 1);
    assert_eq!(store.scim_tenants(&sid).await.expect("list"), vec![]);
    assert_eq!(
        store
            .scim_tenant_for_token(&t.tenant_id, "secret-d", 10)
            .await
            .expect("lookup"),
        None
    );
}
