//! Records the store keeps that are not domain types of their own yet.

use iic_domain::access_control::{Configuration, PrincipalTags};
use iic_domain::assignment::{PrincipalType, RequestKind, RequestStatus};
use iic_domain::job::JobKind;
use iic_domain::organizations::{AccountStatus, ClosureState, CreationState, JoinMethod, Refusal};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub management_account_id: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Account {
    /// Keyset-paging key; 0 before the account is stored.
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub organization_id: Option<String>,
    pub created_at: i64,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub join_method: JoinMethod,
    pub status: AccountStatus,
    /// The root or OU the account sits under, while it is in an organization.
    pub parent_id: Option<String>,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub account_id: String,
    /// The region the project lives in; its name is the region id, as on the cloud.
    pub region: String,
}

/// An access key. The secret is kept only sealed with the server's credential key; a temporary
/// key also carries the SHA-256 of its security token and an expiry (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    pub account_id: String,
    pub secret_sealed: Vec<u8>,
    pub security_token_sha256: Option<String>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

/// Where a temporary credential came from: who asked, in which session, for which permission
/// set as provisioned at which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub user_id: String,
    pub identity_store_id: String,
    pub instance_id: String,
    pub permission_set_id: String,
    pub session_id: String,
    pub mfa_present: bool,
    /// The provisioned version of the set's policies and when that snapshot was taken (Unix ms).
    pub policy_version: i64,
    pub policy_provisioned_at: i64,
    /// The principal tags of the session, copied when the credential was issued
    /// (`g:PrincipalTag/<key>`).
    pub principal_tags: PrincipalTags,
}

/// A temporary credential with its provenance and revocation time (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryCredential {
    pub credential: Credential,
    pub provenance: Provenance,
    pub revoked_at: Option<i64>,
}

/// What the portal asks to issue: the key (secret sealed, token hashed) for `account_id`, and
/// who asks. The store decides the expiry and the policy version from the provisioned set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    pub access_key: String,
    pub secret_sealed: Vec<u8>,
    pub security_token_sha256: String,
    pub account_id: String,
    pub permission_set_id: String,
    /// The set's name as the agency names it; another name is another agency.
    pub permission_set_name: String,
    pub user_id: String,
    pub identity_store_id: String,
    pub instance_id: String,
    /// The credential is `mfa_present` when this session is.
    pub session_id: String,
}

/// What asking for temporary credentials came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialIssue {
    /// Stored; valid until this Unix ms.
    Issued { expires_at: i64 },
    /// The user is not assigned the set on the account (directly or through a group), or the set
    /// is not provisioned there, or the agency names another set.
    NotEntitled,
    /// The session the request came from is no longer live.
    SessionEnded,
}

/// An account the user is assigned to; `seq` is the account's keyset key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedAccount {
    pub seq: i64,
    pub account_id: String,
    pub name: String,
    pub email: Option<String>,
}

/// A permission set the user is assigned on an account; `seq` is the set's keyset key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedSet {
    pub seq: i64,
    pub permission_set_id: String,
    pub name: String,
    pub description: Option<String>,
}

/// What the first start of a server creates.
#[derive(Debug, Clone)]
pub struct BootstrapPlan {
    pub organization: Organization,
    pub root: Root,
    pub account: Account,
    pub project: Project,
    pub credential: Credential,
}

/// What exists after bootstrap: the plan's records, or the ones a previous start created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrapped {
    pub organization: Organization,
    pub account: Account,
    pub project: Project,
    /// The access key of the root credential minted at first start.
    pub root_access_key: String,
    pub created_now: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAliasOutcome {
    Set,
    NoSuchInstance,
    /// The instance has an alias already; setting it is one-time.
    AlreadySet,
    /// Another instance uses this alias.
    Taken,
}

/// An identity store and what the directory needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStoreInfo {
    pub identity_store_id: String,
    pub instance_id: String,
    pub organization_id: String,
    pub users: i64,
    pub groups: i64,
    /// None: the default policy.
    pub password_policy: Option<iic_domain::directory::password::PasswordPolicy>,
}

/// How to find a user or group other than by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKey {
    /// `user_name` of a user or `display_name` of a group, compared case-insensitively.
    Name(String),
    /// The primary e-mail address of a user, compared case-insensitively.
    Email(String),
    External {
        issuer: String,
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// Another principal of the store has this name (case-insensitively).
    NameTaken,
    /// The store holds as many principals of this kind as its quota allows.
    QuotaExceeded,
    NoSuchStore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated,
    NotFound,
    NameTaken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipOutcome {
    Created,
    /// The user is in the group already; the existing membership id.
    AlreadyMember(String),
    NoSuchUser,
    NoSuchGroup,
    /// The user belongs to the maximum number of groups.
    TooManyGroups,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationalUnit {
    pub seq: i64,
    pub id: String,
    pub organization_id: String,
    pub parent_id: String,
    pub name: String,
    pub created_at: i64,
}

/// The state of one CreateAccount request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateAccountStatus {
    pub seq: i64,
    pub id: String,
    pub organization_id: String,
    pub account_id: String,
    pub account_name: String,
    pub state: CreationState,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// What the account will be created with.
    pub request: Account,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseAccountStatus {
    pub seq: i64,
    pub account_id: String,
    pub organization_id: String,
    pub state: ClosureState,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedAdministrator {
    pub seq: i64,
    pub organization_id: String,
    pub account_id: String,
    pub service_principal: String,
    pub enabled_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedService {
    pub seq: i64,
    pub organization_id: String,
    pub service_principal: String,
    pub enabled_at: i64,
}

/// A unit of durable background work. `payload` is the kind's own JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub payload: String,
    pub attempts: i64,
    /// Not to be run before this time (Unix ms).
    pub run_after: i64,
    pub created_at: i64,
}

/// A job as stored: where it is and why it last failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub job: Job,
    pub state: crate::JobState,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgOutcome {
    Done,
    NotFound,
    /// The organization's state does not allow the change.
    Refused(Refusal),
}

/// An asynchronous request of the admin API (assignment creation or deletion, provisioning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncRequest {
    pub seq: i64,
    pub request_id: String,
    pub instance_id: String,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub failure_reason: Option<String>,
    pub permission_set_id: String,
    pub principal_type: Option<PrincipalType>,
    pub principal_id: Option<String>,
    /// The account; None for provisioning to all provisioned accounts.
    pub target_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountAssignment {
    pub seq: i64,
    pub instance_id: String,
    pub permission_set_id: String,
    pub principal_type: PrincipalType,
    pub principal_id: String,
    pub account_id: String,
    pub created_at: i64,
}

/// A permission set provisioned to an account: the agency there, with the set's version and a
/// snapshot of its policies at provisioning time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedSet {
    pub seq: i64,
    pub instance_id: String,
    pub permission_set_id: String,
    pub account_id: String,
    pub version: i64,
    pub snapshot: String,
    pub updated_at: i64,
}

/// Moves an account from one parent (root or OU) to another within its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMove {
    pub organization_id: String,
    pub account_id: String,
    pub source_parent_id: String,
    pub destination_parent_id: String,
}

/// One account's delegated administration of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub organization_id: String,
    pub account_id: String,
    pub service_principal: String,
}

/// What a worker asks for when it claims jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    pub worker: &'a str,
    pub now: i64,
    /// How long the jobs stay reserved for this worker.
    pub lease_ms: i64,
    pub limit: usize,
}

/// The assignments of one account, optionally of one permission set only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountAssignments<'a> {
    pub account_id: &'a str,
    pub permission_set_id: Option<&'a str>,
}

/// A membership looked up by its group and user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberOf<'a> {
    pub group_id: &'a str,
    pub user_id: &'a str,
}

/// Which of the things an assignment request names exist now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignmentTargets {
    /// The permission set, in the instance.
    pub permission_set: bool,
    /// The user or group, in the instance's identity store.
    pub principal: bool,
    /// The account, active and in the instance's organization.
    pub account: bool,
}

/// An instance's attributes for access control, as stored (times in Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessControlConfiguration {
    pub configuration: Configuration,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What creating an instance's access-control configuration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessControlWrite {
    Done,
    NoSuchInstance,
    /// The instance has one already.
    AlreadyExists,
}
