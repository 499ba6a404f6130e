//! Attributes for access control: an instance's configuration (created once, updated, deleted,
//! gone with the instance) and the principal tags a session resolves from it when it opens.

use crate::common::*;
use iic_domain::access_control::{AccessControlAttribute, AttributeValue, Configuration};
use iic_domain::directory::user::Enterprise;
use iic_domain::session::{issue, Origin};
use iic_store::*;

suite!(
    a_configuration_is_created_once_updated_and_deleted,
    deleting_instances_removes_their_configuration,
    sessions_resolve_their_tags_when_they_open,
);

const NOW: i64 = 1_700_000_000_000;

fn configuration(pairs: &[(&str, &str)]) -> Configuration {
    Configuration {
        access_control_attributes: pairs
            .iter()
            .map(|(key, source)| AccessControlAttribute {
                key: key.to_string(),
                value: AttributeValue {
                    source: vec![source.to_string()],
                },
            })
            .collect(),
    }
}

async fn an_instance(store: &SharedStore) -> (String, Instance) {
    let b = bootstrapped(store).await;
    let (i, _) = store
        .create_instance_if_absent(&instance(&b.organization.id, "cn-north-4"))
        .await
        .expect("instance");
    (b.organization.id, i)
}

async fn a_configuration_is_created_once_updated_and_deleted(store: SharedStore) {
    let (_, ins) = an_instance(&store).await;
    let id = &ins.instance_id;
    let first = configuration(&[("email", "${user:email}")]);
    assert_eq!(
        store.access_control_configuration(id).await.expect("get"),
        None
    );
    assert!(!store
        .update_access_control_configuration(id, &first, NOW)
        .await
        .expect("update"));
    assert!(!store
        .delete_access_control_configuration(id)
        .await
        .expect("delete"));
    assert_eq!(
        store
            .create_access_control_configuration("ins-0000000000000000", &first, NOW)
            .await
            .expect("create"),
        AccessControlWrite::NoSuchInstance
    );

    assert_eq!(
        store
            .create_access_control_configuration(id, &first, NOW)
            .await
            .expect("create"),
        AccessControlWrite::Done
    );
    let second = configuration(&[
        ("dept", "${path:enterprise.department}"),
        ("Name", "${user:name}"),
    ]);
    assert_eq!(
        store
            .create_access_control_configuration(id, &second, NOW + 1)
            .await
            .expect("create"),
        AccessControlWrite::AlreadyExists
    );
    assert_eq!(
        store.access_control_configuration(id).await.expect("get"),
        Some(AccessControlConfiguration {
            configuration: first,
            created_at: NOW,
            updated_at: NOW,
        }),
        "a second create changes nothing"
    );
    assert!(store
        .update_access_control_configuration(id, &second, NOW + 2)
        .await
        .expect("update"));
    assert_eq!(
        store.access_control_configuration(id).await.expect("get"),
        Some(AccessControlConfiguration {
            configuration: second,
            created_at: NOW,
            updated_at: NOW + 2,
        }),
        "attributes replaced whole, in order"
    );
    assert!(store
        .delete_access_control_configuration(id)
        .await
        .expect("delete"));
    assert_eq!(
        store.access_control_configuration(id).await.expect("get"),
        None
    );
}

async fn deleting_instances_removes_their_configuration(store: SharedStore) {
    let (org, ins) = an_instance(&store).await;
    store
        .create_access_control_configuration(
            &ins.instance_id,
            &configuration(&[("email", "${user:email}")]),
            NOW,
        )
        .await
        .expect("create");
    store
        .delete_instances(&org)
        .await
        .expect("delete instances");
    assert_eq!(
        store
            .access_control_configuration(&ins.instance_id)
            .await
            .expect("get"),
        None
    );
    let (again, _) = store
        .create_instance_if_absent(&Instance {
            instance_id: ins.instance_id.clone(),
            ..instance(&org, "cn-north-4")
        })
        .await
        .expect("instance");
    assert_eq!(
        store
            .access_control_configuration(&again.instance_id)
            .await
            .expect("get"),
        None,
        "an instance of the same id starts without one"
    );
}

async fn open(store: &SharedStore, store_id: &str, user_id: &str) -> Session {
    let issued = issue(store_id, user_id, NOW, 3_600, Origin::default());
    let id = store
        .create_session(&issued.session)
        .await
        .expect("session")
        .expect("live user");
    store
        .live_session(&id, NOW + 1)
        .await
        .expect("read")
        .expect("live")
}

fn tags(pairs: &[(&str, &str)]) -> iic_domain::access_control::PrincipalTags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn sessions_resolve_their_tags_when_they_open(store: SharedStore) {
    let (_, ins) = an_instance(&store).await;
    let sid = ins.identity_store_id.clone();
    let mut ada = user(&sid, "ada");
    ada.profile.enterprise = Some(Enterprise {
        department: Some("Engines".into()),
        division: Some(String::new()),
        ..Enterprise::default()
    });
    ada.profile.title = Some("Analyst".into());
    let bob = user(&sid, "bob");
    store.create_user(&ada, 100).await.expect("user");
    store.create_user(&bob, 100).await.expect("user");

    assert!(
        open(&store, &sid, &ada.user_id)
            .await
            .principal_tags
            .is_empty(),
        "no configuration, no tags"
    );
    store
        .create_access_control_configuration(
            &ins.instance_id,
            &configuration(&[
                ("dept", "${path:enterprise.department}"),
                ("division", "${path:enterprise.division}"),
                ("Login Name", "${user:name}"),
                ("title", "${path:title}"),
            ]),
            NOW,
        )
        .await
        .expect("create");
    let mut asked = issue(&sid, &ada.user_id, NOW, 3_600, Origin::default()).session;
    asked.principal_tags = tags(&[("forged", "x")]);
    let id = store
        .create_session(&asked)
        .await
        .expect("session")
        .expect("live");
    let s = store
        .live_session(&id, NOW + 1)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(
        s.principal_tags,
        tags(&[
            ("Login Name", "ada"),
            ("dept", "Engines"),
            ("title", "Analyst")
        ]),
        "the store resolves the tags itself; an empty division gives none"
    );
    assert_eq!(
        open(&store, &sid, &bob.user_id).await.principal_tags,
        tags(&[("Login Name", "bob")]),
        "a user lacking an attribute has no tag for it"
    );

    let mut changed = ada.clone();
    changed.profile.enterprise = None;
    store.update_user(&changed).await.expect("update");
    assert_eq!(
        store
            .live_session(&id, NOW + 2)
            .await
            .expect("read")
            .expect("live")
            .principal_tags,
        s.principal_tags,
        "an open session keeps what it resolved"
    );
    assert_eq!(
        open(&store, &sid, &ada.user_id).await.principal_tags,
        tags(&[("Login Name", "ada"), ("title", "Analyst")]),
        "a new sign-in sees the change"
    );
}
