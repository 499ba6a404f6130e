//! The store: every piece of persistent state of iic, behind one interface with two backends —
//! embedded SQLite (the default) and PostgreSQL (for durability at scale and several servers).
//! No SQL exists outside this crate.

pub mod account_codec;
pub mod assignment_sql;
pub mod directory_sql;
mod model;
pub mod org_sql;
pub mod permission_set_sql;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
pub use iic_domain::directory::group::{Group, Membership};
pub use iic_domain::directory::password::PasswordPolicy;
pub use iic_domain::directory::user::User;
pub use iic_domain::instance::Instance;
pub use iic_domain::permission_set::PermissionSet;
pub use model::*;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; the text names the rule.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed (connection, I/O, corruption). Never shown to API callers.
    #[error("backend: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Organizations, their accounts and projects, and the one-time bootstrap.
#[async_trait]
pub trait OrganizationStore {
    /// Creates the organization, its management account, project and root credential unless an
    /// organization was bootstrapped already; either way returns what is stored. Atomic.
    async fn bootstrap(&self, plan: &BootstrapPlan) -> StoreResult<Bootstrapped>;
    async fn get_account(&self, account_id: &str) -> StoreResult<Option<Account>>;
    async fn get_organization(&self, organization_id: &str) -> StoreResult<Option<Organization>>;
    async fn list_projects(&self, account_id: &str) -> StoreResult<Vec<Project>>;
    /// Adds an account (used by bootstrap, the Organizations API and test fixtures).
    async fn insert_account(&self, account: &Account) -> StoreResult<()>;
    async fn insert_project(&self, project: &Project) -> StoreResult<()>;
}

/// The structure of organizations: roots, OUs, member accounts and their lifecycle, delegated
/// administrators and trusted services.
#[async_trait]
pub trait OrgStructureStore {
    /// Makes `account_id` (in no organization) the management account of a new organization.
    async fn create_organization(&self, org: &Organization, root: &Root)
        -> StoreResult<OrgOutcome>;
    /// Deletes an organization that has no member accounts and no Identity Center instance.
    async fn delete_organization(&self, organization_id: &str) -> StoreResult<OrgOutcome>;
    async fn get_root(&self, organization_id: &str) -> StoreResult<Option<Root>>;
    /// Adds an OU under a root or OU of the organization; names are unique under one parent.
    async fn create_ou(&self, ou: &OrganizationalUnit) -> StoreResult<OrgOutcome>;
    async fn get_ou(
        &self,
        organization_id: &str,
        ou_id: &str,
    ) -> StoreResult<Option<OrganizationalUnit>>;
    async fn list_ous(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<OrganizationalUnit>>;
    async fn list_accounts(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Account>>;
    async fn update_account_description(
        &self,
        organization_id: &str,
        account_id: &str,
        description: Option<&str>,
    ) -> StoreResult<OrgOutcome>;
    async fn move_account(
        &self,
        organization_id: &str,
        account_id: &str,
        source: &str,
        destination: &str,
    ) -> StoreResult<OrgOutcome>;
    /// Takes a member account out of the organization (it stands alone afterwards).
    async fn remove_account(
        &self,
        organization_id: &str,
        account_id: &str,
    ) -> StoreResult<OrgOutcome>;
    /// Marks the account pending closure and queues `job` to finish it.
    async fn close_account(
        &self,
        organization_id: &str,
        account_id: &str,
        job: &Job,
    ) -> StoreResult<OrgOutcome>;
    async fn list_close_account_statuses(
        &self,
        organization_id: &str,
        states: &[String],
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CloseAccountStatus>>;

    async fn register_delegated_admin(
        &self,
        organization_id: &str,
        account_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<OrgOutcome>;
    async fn deregister_delegated_admin(
        &self,
        organization_id: &str,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<OrgOutcome>;
    async fn list_delegated_admins(
        &self,
        organization_id: &str,
        service_principal: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DelegatedAdministrator>>;
    async fn list_delegated_services(
        &self,
        organization_id: &str,
        account_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DelegatedAdministrator>>;
    async fn is_delegated_admin(
        &self,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool>;
    /// True when the service was not trusted before.
    async fn enable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Also deregisters the service's delegated administrators. True when it was trusted.
    async fn disable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool>;
    async fn list_trusted_services(
        &self,
        organization_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<TrustedService>>;

    /// Records a CreateAccount request and queues its job, unless the name is taken.
    async fn request_account_creation(
        &self,
        status: &CreateAccountStatus,
        job: &Job,
    ) -> StoreResult<OrgOutcome>;
    async fn get_create_account_status(
        &self,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<Option<CreateAccountStatus>>;
    async fn list_create_account_statuses(
        &self,
        organization_id: &str,
        states: &[String],
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CreateAccountStatus>>;
}

/// Durable background work: claimed by one worker at a time under a lease, finished exactly once.
#[async_trait]
pub trait JobStore {
    /// Claims up to `limit` runnable jobs, oldest first: pending and due, then running with an
    /// expired lease. Each is leased to `worker` until `now + lease_ms`.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<Job>>;
    /// Claims the oldest runnable job.
    async fn claim_job(&self, worker: &str, now: i64, lease_ms: i64) -> StoreResult<Option<Job>> {
        Ok(self
            .claim_jobs(worker, now, lease_ms, 1)
            .await?
            .into_iter()
            .next())
    }
    /// Puts a job back to be tried again at `run_after`.
    async fn retry_job(&self, job_id: &str, run_after: i64) -> StoreResult<()>;
    /// Creates the account of a CreateAccount request (and its project) and finishes the
    /// request and the job, all in one transaction; returns the request's final state.
    async fn finish_account_creation(
        &self,
        job_id: &str,
        status_id: &str,
        project: &Project,
        now: i64,
    ) -> StoreResult<String>;
    /// Suspends a closing account and finishes the job, in one transaction.
    async fn finish_account_closure(
        &self,
        job_id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Finishes a job whose work is gone (e.g. its request was deleted).
    async fn abandon_job(&self, job_id: &str, now: i64) -> StoreResult<()>;
}

/// Access keys: permanent ones and temporary ones bound to a security token.
#[async_trait]
pub trait CredentialStore {
    async fn insert_credential(&self, cred: &Credential) -> StoreResult<()>;
    async fn get_credential(&self, access_key: &str) -> StoreResult<Option<Credential>>;
    async fn list_credentials(&self, account_id: &str) -> StoreResult<Vec<Credential>>;
    async fn delete_credential(&self, access_key: &str) -> StoreResult<bool>;
}

/// IAM Identity Center instances and the regions the service is registered in.
#[async_trait]
pub trait InstanceStore {
    /// Inserts `instance` unless the organization already has one in that region; returns the
    /// instance that exists afterwards and whether it was created now.
    async fn create_instance_if_absent(&self, instance: &Instance)
        -> StoreResult<(Instance, bool)>;
    async fn get_instance(&self, instance_id: &str) -> StoreResult<Option<Instance>>;
    /// Keyset page of an organization's instances in `seq` order, starting after `after_seq`.
    async fn list_instances(
        &self,
        organization_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Instance>>;
    async fn set_alias(&self, instance_id: &str, alias: &str) -> StoreResult<SetAliasOutcome>;
    /// Removes every instance of the organization and everything under them; returns how many.
    async fn delete_instances(&self, organization_id: &str) -> StoreResult<u64>;
    /// Records a region; false when it was registered already.
    async fn register_region(&self, organization_id: &str, region_id: &str) -> StoreResult<bool>;
    async fn list_regions(&self, organization_id: &str) -> StoreResult<Vec<String>>;
}

/// Server-wide key/value facts (the master-key check value, schema facts).
#[async_trait]
pub trait MetaStore {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key` unless a value exists; returns the value stored afterwards.
    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Adds one to the counter kept under `key` (0 when absent) and returns the new value.
    async fn increment_meta(&self, key: &str) -> StoreResult<i64>;
}

/// Users, groups and memberships of identity stores, and their password policies.
#[async_trait]
pub trait DirectoryStore {
    async fn identity_store(
        &self,
        identity_store_id: &str,
    ) -> StoreResult<Option<IdentityStoreInfo>>;
    async fn set_password_policy(
        &self,
        identity_store_id: &str,
        policy: &PasswordPolicy,
    ) -> StoreResult<bool>;

    /// Inserts the user unless its name is taken or the store is at `quota` users.
    async fn create_user(&self, user: &User, quota: i64) -> StoreResult<CreateOutcome>;
    async fn get_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<Option<User>>;
    /// The users among `user_ids` that exist, in the order asked.
    async fn get_users(
        &self,
        identity_store_id: &str,
        user_ids: &[String],
    ) -> StoreResult<Vec<User>>;
    async fn find_user_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>>;
    /// Keyset page in creation order; `user_name` filters by exact name, case-insensitively.
    async fn list_users(
        &self,
        identity_store_id: &str,
        user_name: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<User>>;
    /// Replaces the stored user (matched by store and id) with `user`.
    async fn update_user(&self, user: &User) -> StoreResult<UpdateOutcome>;
    /// Deletes the user, its memberships and external ids in one transaction.
    async fn delete_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<bool>;

    async fn create_group(&self, group: &Group, quota: i64) -> StoreResult<CreateOutcome>;
    async fn get_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
    ) -> StoreResult<Option<Group>>;
    async fn get_groups(
        &self,
        identity_store_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<Group>>;
    async fn find_group_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>>;
    /// Keyset page in creation order; `display_name` filters by name prefix, case-insensitively.
    async fn list_groups(
        &self,
        identity_store_id: &str,
        display_name: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Group>>;
    async fn update_group(&self, group: &Group) -> StoreResult<UpdateOutcome>;
    /// Deletes the group, its memberships and external ids in one transaction.
    async fn delete_group(&self, identity_store_id: &str, group_id: &str) -> StoreResult<bool>;

    /// Adds the user to the group, refusing a user already in `max_groups` groups.
    async fn create_membership(
        &self,
        membership: &Membership,
        max_groups: i64,
    ) -> StoreResult<MembershipOutcome>;
    async fn get_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<Option<Membership>>;
    async fn find_membership_id(
        &self,
        identity_store_id: &str,
        group_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<String>>;
    async fn delete_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<bool>;
    async fn list_memberships_of_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Membership>>;
    async fn list_memberships_of_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Membership>>;
    /// Which of `group_ids` the user is a member of.
    async fn groups_containing(
        &self,
        identity_store_id: &str,
        user_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<String>>;
}

/// Permission sets of instances.
#[async_trait]
pub trait PermissionSetStore {
    /// Inserts the set unless its name is taken in the instance or the instance holds `quota`.
    async fn create_permission_set(
        &self,
        set: &PermissionSet,
        quota: i64,
    ) -> StoreResult<CreateOutcome>;
    async fn get_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<Option<PermissionSet>>;
    async fn find_permission_set_by_name(
        &self,
        instance_id: &str,
        name: &str,
    ) -> StoreResult<Option<PermissionSet>>;
    async fn list_permission_sets(
        &self,
        instance_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<PermissionSet>>;
    async fn count_permission_sets(&self, instance_id: &str) -> StoreResult<i64>;
    /// Writes `set` if the stored version is still `set.version - 1`; a concurrent change is
    /// `StoreError::Conflict`.
    async fn save_permission_set(&self, set: &PermissionSet) -> StoreResult<UpdateOutcome>;
    async fn delete_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<bool>;
}

/// Account assignments, provisioning, and the asynchronous requests that change them.
#[async_trait]
pub trait AssignmentStore {
    /// Records a request and queues its job, unless `max_in_flight` requests of the instance
    /// are still in progress (then false, nothing written).
    async fn enqueue_request(
        &self,
        request: &AsyncRequest,
        job: &Job,
        max_in_flight: i64,
    ) -> StoreResult<bool>;
    async fn get_request(
        &self,
        instance_id: &str,
        kind: &str,
        request_id: &str,
    ) -> StoreResult<Option<AsyncRequest>>;
    async fn list_requests(
        &self,
        instance_id: &str,
        kind: &str,
        status: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AsyncRequest>>;
    /// Runs an assignment creation (checking that the set, principal and account still exist,
    /// provisioning the set to the account if needed), finishing request and job in the same
    /// transaction. Returns the request's final status.
    async fn apply_assignment_create(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String>;
    async fn apply_assignment_delete(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String>;
    async fn apply_provision(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String>;
    async fn list_assignments(
        &self,
        instance_id: &str,
        account_id: &str,
        permission_set_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AccountAssignment>>;
    async fn list_assignments_for_principal(
        &self,
        instance_id: &str,
        principal_type: &str,
        principal_id: &str,
        account_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AccountAssignment>>;
    /// Removes every assignment of a principal; returns how many.
    async fn disassociate_principal(
        &self,
        instance_id: &str,
        principal_type: &str,
        principal_id: &str,
    ) -> StoreResult<u64>;
    async fn list_provisioned_for_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ProvisionedSet>>;
    async fn list_provisioned_for_account(
        &self,
        instance_id: &str,
        account_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ProvisionedSet>>;
    async fn is_provisioned(&self, permission_set_id: &str) -> StoreResult<bool>;
}

pub trait Store:
    OrganizationStore
    + OrgStructureStore
    + CredentialStore
    + InstanceStore
    + MetaStore
    + DirectoryStore
    + JobStore
    + PermissionSetStore
    + AssignmentStore
    + Send
    + Sync
{
    fn backend_name(&self) -> &'static str;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store named by `url`: `sqlite://<path>` (or a bare path) or `postgres://…`.
/// Migrations are applied before it returns.
pub async fn open(url: &str) -> StoreResult<DynStore> {
    open_in_schema(url, None).await
}

/// Like [`open`]; on PostgreSQL, keeps every table in `schema` (created if missing).
pub async fn open_in_schema(url: &str, schema: Option<&str>) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            postgres::PgStore::connect_with_schema(url, schema).await?,
        ))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(sqlite::SqliteStore::open(path).await?))
    }
}
