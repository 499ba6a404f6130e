//! The structure of organizations: OUs, moves, delegation, closure, creation and deletion.

use crate::common::*;
use iic_store::*;

suite!(
    org_units_accounts_and_moves,
    delegation_needs_a_trusted_service,
    closing_an_account_suspends_it,
    organizations_are_created_and_deleted,
);

async fn org_units_accounts_and_moves(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let eng = ou(&org, &root, "Engineering");
    assert_eq!(store.create_ou(&eng).await.expect("ou"), OrgOutcome::Done);
    assert!(matches!(
        store
            .create_ou(&ou(&org, &root, "Engineering"))
            .await
            .expect("dup"),
        OrgOutcome::Refused(Refusal::OuNameTaken { .. })
    ));
    assert_eq!(
        store
            .create_ou(&ou(&org, "ou-doesnotexist00", "X"))
            .await
            .expect("no parent"),
        OrgOutcome::NotFound
    );
    let nested = ou(&org, &eng.id, "Platform");
    assert_eq!(
        store.create_ou(&nested).await.expect("nested"),
        OrgOutcome::Done
    );
    assert_eq!(
        store
            .get_ou(&org, &nested.id)
            .await
            .expect("get")
            .map(|o| o.parent_id),
        Some(eng.id.clone())
    );
    assert_eq!(
        store
            .list_ous(&org, Some(&root), Page::first(10))
            .await
            .expect("under root")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_ous(&org, None, Page::first(10))
            .await
            .expect("all")
            .len(),
        2
    );

    let dev = member(&org, &root, "dev");
    store.insert_account(&dev).await.expect("member");
    assert_eq!(
        store
            .list_accounts(&org, None, Page::first(10))
            .await
            .expect("all")
            .len(),
        2
    );
    assert!(matches!(
        store
            .move_account(&AccountMove {
                organization_id: org.clone(),
                account_id: dev.id.clone(),
                source_parent_id: (eng.id).to_string(),
                destination_parent_id: (nested.id).to_string(),
            })
            .await
            .expect("wrong source"),
        OrgOutcome::Refused(Refusal::NotUnderSource(_))
    ));
    assert!(matches!(
        store
            .move_account(&AccountMove {
                organization_id: org.clone(),
                account_id: dev.id.clone(),
                source_parent_id: (root).to_string(),
                destination_parent_id: ("ou-nope00000000").to_string(),
            })
            .await
            .expect("no dest"),
        OrgOutcome::Refused(Refusal::NoSuchDestination(_))
    ));
    assert_eq!(
        store
            .move_account(&AccountMove {
                organization_id: org.clone(),
                account_id: dev.id.clone(),
                source_parent_id: (root).to_string(),
                destination_parent_id: (nested.id).to_string(),
            })
            .await
            .expect("move"),
        OrgOutcome::Done
    );
    let under = store
        .list_accounts(&org, Some(&nested.id), Page::first(10))
        .await
        .expect("under ou");
    assert_eq!(
        under.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        vec![dev.id.clone()]
    );
    assert_eq!(
        store
            .update_account_description(&org, &dev.id, Some("the dev account"))
            .await
            .expect("desc"),
        OrgOutcome::Done
    );
    assert_eq!(
        store
            .get_account(&dev.id)
            .await
            .expect("get")
            .and_then(|a| a.description),
        Some("the dev account".into())
    );
    assert!(matches!(
        store
            .remove_account(&org, &b.account.id)
            .await
            .expect("mgmt"),
        OrgOutcome::Refused(Refusal::RemoveManagement)
    ));
    assert_eq!(
        store.remove_account(&org, &dev.id).await.expect("remove"),
        OrgOutcome::Done
    );
    let gone = store
        .get_account(&dev.id)
        .await
        .expect("get")
        .expect("still exists");
    assert_eq!((gone.organization_id, gone.parent_id), (None, None));
    assert_eq!(
        store.remove_account(&org, &dev.id).await.expect("again"),
        OrgOutcome::NotFound
    );
}

async fn delegation_needs_a_trusted_service(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let a = member(&org, &root, "delegate");
    store.insert_account(&a).await.expect("account");
    let ic = iic_domain::organizations::IDENTITY_CENTER;
    assert!(matches!(
        store
            .register_delegated_admin(&delegation(&org, &a.id, ic), 1)
            .await
            .expect("untrusted"),
        OrgOutcome::Refused(Refusal::NotTrusted(_))
    ));
    assert!(store
        .enable_trusted_service(&org, ic, 1)
        .await
        .expect("enable"));
    assert!(!store
        .enable_trusted_service(&org, ic, 2)
        .await
        .expect("again"));
    assert!(matches!(
        store
            .register_delegated_admin(&delegation(&org, &b.account.id, ic), 1)
            .await
            .expect("mgmt"),
        OrgOutcome::Refused(Refusal::DelegateManagement)
    ));
    assert_eq!(
        store
            .register_delegated_admin(&delegation(&org, &"f".repeat(32), ic), 1)
            .await
            .expect("unknown"),
        OrgOutcome::NotFound
    );
    assert_eq!(
        store
            .register_delegated_admin(&delegation(&org, &a.id, ic), 3)
            .await
            .expect("register"),
        OrgOutcome::Done
    );
    assert!(matches!(
        store
            .register_delegated_admin(&delegation(&org, &a.id, ic), 3)
            .await
            .expect("dup"),
        OrgOutcome::Refused(Refusal::AlreadyDelegated(_))
    ));
    assert!(store.is_delegated_admin(&a.id, ic).await.expect("is"));
    assert_eq!(
        store
            .list_delegated_admins(&org, Some(ic), Page::first(10))
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_delegated_services(&org, &a.id, Page::first(10))
            .await
            .expect("services")[0]
            .service_principal,
        ic
    );
    assert!(
        matches!(
            store.remove_account(&org, &a.id).await.expect("remove"),
            OrgOutcome::Refused(Refusal::IsDelegatedAdministrator)
        ),
        "a delegate cannot be removed"
    );
    assert_eq!(
        store
            .deregister_delegated_admin(&delegation(&org, &a.id, ic))
            .await
            .expect("dereg"),
        OrgOutcome::Done
    );
    assert!(!store
        .is_delegated_admin(&a.id, ic)
        .await
        .expect("not any more"));
    assert_eq!(
        store
            .deregister_delegated_admin(&delegation(&org, &a.id, ic))
            .await
            .expect("again"),
        OrgOutcome::NotFound
    );
    store
        .register_delegated_admin(&delegation(&org, &a.id, ic), 4)
        .await
        .expect("register again");
    assert!(store
        .disable_trusted_service(&org, ic)
        .await
        .expect("disable"));
    assert!(!store
        .is_delegated_admin(&a.id, ic)
        .await
        .expect("gone with the trust"));
    assert!(store
        .list_trusted_services(&org, Page::first(10))
        .await
        .expect("list")
        .is_empty());
}

async fn closing_an_account_suspends_it(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let a = member(&org, &root, "closing");
    store.insert_account(&a).await.expect("account");
    assert!(matches!(
        store
            .close_account(&org, &b.account.id, &job(JobKind::CloseAccount, "m", 0))
            .await
            .expect("mgmt"),
        OrgOutcome::Refused(Refusal::CloseManagement)
    ));
    let j = job(JobKind::CloseAccount, &a.id, 0);
    assert_eq!(
        store.close_account(&org, &a.id, &j).await.expect("close"),
        OrgOutcome::Done
    );
    assert!(matches!(
        store
            .close_account(&org, &a.id, &job(JobKind::CloseAccount, &a.id, 0))
            .await
            .expect("twice"),
        OrgOutcome::Refused(Refusal::AlreadyClosing)
    ));
    let pending = store
        .list_close_account_statuses(&org, &[ClosureState::PendingClosure], Page::first(10))
        .await
        .expect("list");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        store
            .get_account(&a.id)
            .await
            .expect("get")
            .map(|x| x.status),
        Some(AccountStatus::PendingClosure)
    );
    let claimed = claim_one(&store, "w", 10, 1_000).await.expect("job");
    store
        .finish_account_closure(&claimed, 20)
        .await
        .expect("finish");
    assert_eq!(
        store
            .get_account(&a.id)
            .await
            .expect("get")
            .map(|x| x.status),
        Some(AccountStatus::Suspended)
    );
    let suspended = store
        .list_close_account_statuses(&org, &[ClosureState::Suspended], Page::first(10))
        .await
        .expect("list");
    assert_eq!((suspended.len(), suspended[0].updated_at), (1, 20));
}

async fn organizations_are_created_and_deleted(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let loner = member(&org, &root, "loner");
    store.insert_account(&loner).await.expect("account");
    assert!(matches!(
        store.delete_organization(&org).await.expect("members"),
        OrgOutcome::Refused(Refusal::HasMembers(1))
    ));
    assert_eq!(
        store.remove_account(&org, &loner.id).await.expect("remove"),
        OrgOutcome::Done
    );
    let new_org = Organization {
        id: iic_domain::ids::organization_id(),
        management_account_id: loner.id.clone(),
        created_at: 9,
    };
    let new_root = Root {
        id: iic_domain::organizations::root_id(),
        organization_id: new_org.id.clone(),
        name: "root".into(),
        created_at: 9,
    };
    assert_eq!(
        store
            .create_organization(&new_org, &new_root)
            .await
            .expect("create"),
        OrgOutcome::Done
    );
    assert!(matches!(
        store
            .create_organization(&new_org, &new_root)
            .await
            .expect("again"),
        OrgOutcome::Refused(Refusal::AlreadyInOrganization)
    ));
    let a = store.get_account(&loner.id).await.expect("get").expect("x");
    assert_eq!(
        (a.organization_id.as_deref(), a.parent_id.as_deref()),
        (Some(new_org.id.as_str()), Some(new_root.id.as_str()))
    );
    assert_eq!(
        store
            .delete_organization(&new_org.id)
            .await
            .expect("delete"),
        OrgOutcome::Done
    );
    assert_eq!(
        store.get_organization(&new_org.id).await.expect("gone"),
        None
    );
    assert_eq!(
        store
            .get_account(&loner.id)
            .await
            .expect("get")
            .and_then(|a| a.organization_id),
        None
    );
    // The bootstrap organization cannot go while it has an Identity Center instance.
    store
        .create_instance_if_absent(&instance(&org, "cn-north-4"))
        .await
        .expect("instance");
    assert!(matches!(
        store.delete_organization(&org).await.expect("instance"),
        OrgOutcome::Refused(Refusal::HasInstance)
    ));
}
