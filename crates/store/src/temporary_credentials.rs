//! Temporary credentials the portal issues: stored with where they came from, issued only while
//! the user's session is live and the user is entitled to the permission set on the account,
//! revoked with their session, swept once expired.

use crate::assignments::snapshot_session_secs;
use crate::db::{Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::meta::{self, REVOCATIONS};
use crate::{
    Credential, CredentialIssue, CredentialRequest, Provenance, Store, StoreError, StoreResult,
    TemporaryCredential,
};
use iic_domain::assignment::PrincipalType;
use iic_domain::names::Named;

/// Holds the session against a concurrent ending until the credential is written, so that a
/// credential is never left live for a session that ended.
static SESSION_LIVE: Sql = Sql::new(
    "SELECT mfa_present, principal_tags FROM sessions WHERE session_id = $1 AND identity_store_id = $2 AND user_id = $3
       AND ended_at IS NULL AND not_valid_after > $4 FOR SHARE",
);
/// The provisioned snapshot of set $2 on account $3 when user $4 is assigned it there, directly
/// or through a group ($5 and $6 are the user and group principal types), and the set is still
/// named $7.
static ENTITLEMENT: Sql = Sql::new(
    "SELECT ps.version, ps.snapshot, ps.updated_at
     FROM provisioned_sets ps JOIN permission_sets p ON p.permission_set_id = ps.permission_set_id
     WHERE ps.instance_id = $1 AND ps.permission_set_id = $2 AND ps.account_id = $3 AND p.name = $7
       AND EXISTS (SELECT 1 FROM account_assignments x
                   WHERE x.instance_id = $1 AND x.permission_set_id = $2 AND x.account_id = $3
                     AND ((x.principal_type = $5 AND x.principal_id = $4)
                       OR (x.principal_type = $6 AND x.principal_id IN
                            (SELECT m.group_id FROM memberships m WHERE m.user_id = $4))))",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO credentials (access_key, account_id, secret_sealed, security_token_sha256,
       expires_at, created_at, user_id, identity_store_id, instance_id, permission_set_id,
       policy_version, policy_provisioned_at, session_id, mfa_present, principal_tags)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
);
static GET: Sql = Sql::new(
    "SELECT access_key, account_id, secret_sealed, security_token_sha256, expires_at, created_at,
       user_id, identity_store_id, instance_id, permission_set_id, session_id, mfa_present,
       policy_version, policy_provisioned_at, revoked_at, principal_tags
     FROM credentials WHERE access_key = $1 AND session_id IS NOT NULL",
);
static REVOKE_IN_SESSIONS: Sql = Sql::new(
    "UPDATE credentials SET revoked_at = $2 WHERE session_id = ANY($1) AND revoked_at IS NULL",
);
static SWEEP: Sql = Sql::new(
    "DELETE FROM credentials WHERE access_key IN
       (SELECT access_key FROM credentials WHERE expires_at <= $1 LIMIT $2)",
);

/// What a credential takes over from its session: whether it proved MFA, and its principal
/// tags as the stored JSON object (copied unchanged).
struct SessionFacts {
    mfa_present: bool,
    principal_tags: String,
}

impl FromRow for SessionFacts {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(SessionFacts {
            mfa_present: r.get(0)?,
            principal_tags: r.get(1)?,
        })
    }
}

struct Snapshot {
    version: i64,
    snapshot: String,
    updated_at: i64,
}

impl FromRow for Snapshot {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Snapshot {
            version: r.get(0)?,
            snapshot: r.get(1)?,
            updated_at: r.get(2)?,
        })
    }
}

impl FromRow for TemporaryCredential {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(TemporaryCredential {
            credential: Credential {
                access_key: r.get(0)?,
                account_id: r.get(1)?,
                secret_sealed: r.get(2)?,
                security_token_sha256: r.get(3)?,
                expires_at: r.get(4)?,
                created_at: r.get(5)?,
            },
            provenance: Provenance {
                user_id: r.get(6)?,
                identity_store_id: r.get(7)?,
                instance_id: r.get(8)?,
                permission_set_id: r.get(9)?,
                session_id: r.get(10)?,
                mfa_present: r.get(11)?,
                policy_version: r.get(12)?,
                policy_provisioned_at: r.get(13)?,
                principal_tags: r.json(15)?,
            },
            revoked_at: r.get(14)?,
        })
    }
}

/// Revokes the temporary credentials issued in the sessions `session_ids`, inside the
/// transaction that ends them, and bumps the revocation counter when any were live, so that
/// every server drops its cached copies.
pub(crate) async fn revoke_in_sessions(
    db: &mut Db<'_>,
    session_ids: &[String],
    now: i64,
) -> StoreResult<u64> {
    if session_ids.is_empty() {
        return Ok(0);
    }
    let revoked = db
        .execute(&REVOKE_IN_SESSIONS, &[&TextList(session_ids), &now])
        .await?;
    if revoked > 0 {
        meta::increment(db, REVOCATIONS).await?;
    }
    Ok(revoked)
}

impl Store {
    /// Issues the credential `req` describes at `now`, in one transaction: the session must be
    /// live and the user entitled to the set on the account; the expiry is `now` plus the session
    /// duration of the set as provisioned there, whose version the credential records.
    pub async fn issue_temporary_credential(
        &self,
        req: &CredentialRequest,
        now: i64,
    ) -> StoreResult<CredentialIssue> {
        let r = req.clone();
        self.write("issue_temporary_credential", async move |db| {
            let live: Option<SessionFacts> = db
                .query_opt(
                    &SESSION_LIVE,
                    &[&r.session_id, &r.identity_store_id, &r.user_id, &now],
                )
                .await?;
            let Some(SessionFacts {
                mfa_present,
                principal_tags,
            }) = live
            else {
                return Ok(CredentialIssue::SessionEnded);
            };
            let (user, group) = (PrincipalType::User.name(), PrincipalType::Group.name());
            let found: Option<Snapshot> = db
                .query_opt(
                    &ENTITLEMENT,
                    &[
                        &r.instance_id,
                        &r.permission_set_id,
                        &r.account_id,
                        &r.user_id,
                        &user,
                        &group,
                        &r.permission_set_name,
                    ],
                )
                .await?;
            let Some(set) = found else {
                return Ok(CredentialIssue::NotEntitled);
            };
            let secs = snapshot_session_secs(&set.snapshot).ok_or_else(|| {
                StoreError::backend(
                    "issue_temporary_credential",
                    "the provisioned snapshot has no readable session duration",
                )
            })?;
            let expires_at = now + secs * 1000;
            db.execute(
                &INSERT,
                &[
                    &r.access_key,
                    &r.account_id,
                    &r.secret_sealed,
                    &r.security_token_sha256,
                    &expires_at,
                    &now,
                    &r.user_id,
                    &r.identity_store_id,
                    &r.instance_id,
                    &r.permission_set_id,
                    &set.version,
                    &set.updated_at,
                    &r.session_id,
                    &mfa_present,
                    &principal_tags,
                ],
            )
            .await?;
            Ok(CredentialIssue::Issued { expires_at })
        })
        .await
    }

    /// A temporary credential with its provenance, revoked or not; None for a permanent key.
    pub async fn get_temporary_credential(
        &self,
        access_key: &str,
    ) -> StoreResult<Option<TemporaryCredential>> {
        let key = access_key.to_string();
        self.read("get_temporary_credential", async move |db| {
            db.query_opt(&GET, &[&key]).await
        })
        .await
    }

    /// Deletes up to `batch` temporary credentials expired at `now`; how many went.
    pub async fn sweep_temporary_credentials(&self, now: i64, batch: i64) -> StoreResult<u64> {
        self.write_one("sweep_temporary_credentials", async move |db| {
            db.execute(&SWEEP, &[&now, &batch]).await
        })
        .await
    }
}
