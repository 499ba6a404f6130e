//! Records and worlds the tests share.

use iic_domain::directory::group::GroupProfile;
use iic_domain::directory::user::{Email, Name, UserProfile};
use iic_store::*;

pub use crate::unique;
pub use iic_domain::assignment::{Principal, PrincipalType, RequestKind, RequestStatus};
pub use iic_domain::directory::ExternalId;
pub use iic_domain::job::JobKind;
pub use iic_domain::names::Named;
pub use iic_domain::organizations::{
    AccountStatus, ClosureState, CreationState, JoinMethod, Refusal,
};

pub fn plan(region: &str) -> BootstrapPlan {
    let (org, acct) = (
        format!("o-{}", iic_domain::ids::hex32()),
        iic_domain::ids::hex32(),
    );
    let ak = format!("AK{}", unique().to_uppercase());
    let root = iic_domain::organizations::root_id();
    BootstrapPlan {
        organization: Organization {
            id: org.clone(),
            management_account_id: acct.clone(),
            created_at: 1,
        },
        root: Root {
            id: root.clone(),
            organization_id: org.clone(),
            name: "root".into(),
            created_at: 1,
        },
        account: Account {
            id: acct.clone(),
            name: "management".into(),
            organization_id: Some(org),
            created_at: 1,
            join_method: JoinMethod::Created,
            status: AccountStatus::Active,
            parent_id: Some(root),
            joined_at: 1,
            ..Default::default()
        },
        project: Project {
            id: iic_domain::ids::hex32(),
            account_id: acct.clone(),
            region: region.into(),
        },
        credential: Credential {
            access_key: ak,
            account_id: acct,
            secret_sealed: vec![1, 2, 3],
            security_token_sha256: None,
            expires_at: None,
            created_at: 1,
        },
    }
}

pub fn instance(org: &str, region: &str) -> Instance {
    Instance {
        seq: 0,
        instance_id: iic_domain::ids::instance_id(),
        identity_store_id: iic_domain::ids::identity_store_id(),
        organization_id: org.into(),
        region: region.into(),
        alias: None,
        created_at: 5,
    }
}

pub async fn bootstrapped(store: &SharedStore) -> Bootstrapped {
    store
        .bootstrap(&plan("cn-north-4"))
        .await
        .expect("bootstrap")
}

pub async fn directory(store: &SharedStore) -> (String, String) {
    let b = bootstrapped(store).await;
    let (i, _) = store
        .create_instance_if_absent(&instance(&b.organization.id, "cn-north-4"))
        .await
        .expect("instance");
    (b.organization.id, i.identity_store_id)
}

pub fn user(store_id: &str, name: &str) -> User {
    User {
        seq: 0,
        user_id: iic_domain::directory::principal_id(store_id),
        identity_store_id: store_id.into(),
        profile: UserProfile {
            user_name: name.into(),
            display_name: format!("{name} display"),
            name: Name {
                family_name: "Doe".into(),
                given_name: name.into(),
                ..Default::default()
            },
            emails: vec![Email {
                value: format!("{name}@Example.com"),
                kind: "work".into(),
                primary: true,
                verification_status: None,
            }],
            addresses: None,
            phone_numbers: None,
            locale: None,
            nickname: None,
            preferred_language: None,
            profile_url: None,
            timezone: None,
            title: None,
            user_type: None,
            enterprise: None,
        },
        external_ids: vec![],
        enabled: true,
        email_verified: false,
        password_hash: None,
        password_reset_email_owed: true,
        password_must_change: false,
        active_assigned: true,
        created_at: 10,
        created_by: "creator".into(),
        updated_at: 10,
        updated_by: "creator".into(),
    }
}

pub fn group(store_id: &str, name: &str) -> Group {
    Group {
        seq: 0,
        group_id: iic_domain::directory::principal_id(store_id),
        identity_store_id: store_id.into(),
        profile: GroupProfile {
            display_name: name.into(),
            description: Some("d".into()),
        },
        external_ids: vec![],
        created_at: 1,
        created_by: "c".into(),
        updated_at: 1,
        updated_by: "c".into(),
    }
}

pub fn membership(store_id: &str, g: &Group, u: &User) -> Membership {
    Membership {
        seq: 0,
        membership_id: iic_domain::directory::principal_id(store_id),
        identity_store_id: store_id.into(),
        group_id: g.group_id.clone(),
        user_id: u.user_id.clone(),
        created_at: 1,
    }
}

pub fn member(org: &str, root: &str, name: &str) -> Account {
    Account {
        id: iic_domain::ids::hex32(),
        name: name.into(),
        organization_id: Some(org.into()),
        created_at: 5,
        join_method: JoinMethod::Created,
        status: AccountStatus::Active,
        parent_id: Some(root.into()),
        joined_at: 5,
        ..Default::default()
    }
}

pub fn job(kind: JobKind, payload: &str, run_after: i64) -> Job {
    Job {
        id: iic_domain::ids::hex32(),
        kind,
        payload: payload.into(),
        attempts: 0,
        run_after,
        created_at: 1,
    }
}

pub fn ou(org: &str, parent: &str, name: &str) -> OrganizationalUnit {
    OrganizationalUnit {
        seq: 0,
        id: iic_domain::organizations::organizational_unit_id(),
        organization_id: org.into(),
        parent_id: parent.into(),
        name: name.into(),
        created_at: 3,
    }
}

pub fn permission_set(instance_id: &str, name: &str) -> PermissionSet {
    PermissionSet {
        seq: 0,
        permission_set_id: iic_domain::permission_set::permission_set_id(),
        instance_id: instance_id.into(),
        name: name.into(),
        description: Some("d".into()),
        relay_state: None,
        session_duration: "PT1H".into(),
        content: Default::default(),
        version: 1,
        created_at: 1,
        updated_at: 1,
    }
}

pub fn request(
    instance_id: &str,
    kind: RequestKind,
    set: &str,
    principal: Option<(PrincipalType, &str)>,
    target: Option<&str>,
) -> AsyncRequest {
    AsyncRequest {
        seq: 0,
        request_id: iic_domain::ids::uuid_v4(),
        instance_id: instance_id.into(),
        kind,
        status: RequestStatus::InProgress,
        failure_reason: None,
        permission_set_id: set.into(),
        principal_type: principal.map(|p| p.0),
        principal_id: principal.map(|p| p.1.to_string()),
        target_id: target.map(str::to_string),
        created_at: 1,
        updated_at: 1,
    }
}

/// Claims the oldest runnable job, if any.
pub async fn claim_one(store: &SharedStore, worker: &str, now: i64, lease_ms: i64) -> Option<Job> {
    store
        .claim_jobs(Claim {
            worker,
            now,
            lease_ms,
            limit: 1,
        })
        .await
        .expect("claim")
        .into_iter()
        .next()
}

/// Enqueues a request and runs its job right away; returns the final status.
pub async fn run(store: &SharedStore, req: &AsyncRequest) -> RequestStatus {
    let j = job(JobKind::Request(req.kind), &req.request_id, 0);
    assert!(store
        .enqueue_request(req, &j, 1_000)
        .await
        .expect("enqueue"));
    let claimed = claim_one(store, "w", 10, 5_000).await.expect("job");
    assert_eq!(claimed.id, j.id);
    store.apply_request(&claimed, 20).await.expect("apply")
}

pub struct AssignmentWorld {
    pub instance_id: String,
    pub identity_store_id: String,
    pub account_id: String,
    pub user_id: String,
    pub set_id: String,
}

impl AssignmentWorld {
    pub async fn new(store: &SharedStore, name: &str) -> AssignmentWorld {
        let b = bootstrapped(store).await;
        let org = b.organization.id.clone();
        let root = store.get_root(&org).await.expect("root").expect("x").id;
        let (ins, _) = store
            .create_instance_if_absent(&instance(&org, "cn-north-4"))
            .await
            .expect("instance");
        let account = member(&org, &root, &format!("{name}-target"));
        store.insert_account(&account).await.expect("account");
        let u = user(&ins.identity_store_id, name);
        store.create_user(&u, 100).await.expect("user");
        let set = permission_set(&ins.instance_id, name);
        store.create_permission_set(&set, 100).await.expect("set");
        AssignmentWorld {
            instance_id: ins.instance_id,
            identity_store_id: ins.identity_store_id,
            account_id: account.id,
            user_id: u.user_id,
            set_id: set.permission_set_id,
        }
    }

    /// A request to assign the user to the account.
    pub fn create_request(&self) -> AsyncRequest {
        request(
            &self.instance_id,
            RequestKind::AssignmentCreate,
            &self.set_id,
            Some((PrincipalType::User, self.user_id.as_str())),
            Some(&self.account_id),
        )
    }
}

/// Enqueues `count` fresh requests at once; returns whether each was accepted, and its job.
pub async fn enqueue_concurrently(
    store: &SharedStore,
    world: &AssignmentWorld,
    count: usize,
    max_in_flight: i64,
) -> Vec<(bool, Job)> {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (s, r) = (store.clone(), world.create_request());
            tokio::spawn(async move {
                let j = job(
                    JobKind::Request(RequestKind::AssignmentCreate),
                    &r.request_id,
                    0,
                );
                let accepted = s.enqueue_request(&r, &j, max_in_flight).await;
                (accepted, j)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        let (accepted, j) = t.await.expect("join");
        out.push((accepted.expect("enqueue"), j));
    }
    out
}

pub fn delegation(org: &str, account: &str, service: &str) -> Delegation {
    Delegation {
        organization_id: org.into(),
        account_id: account.into(),
        service_principal: service.into(),
    }
}
