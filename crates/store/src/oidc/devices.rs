//! Device grants: started by a client, decided by a signed-in user, polled by the client until
//! it is redeemed once. A poll runs in one transaction holding the grant's row, so concurrent
//! polls of one approved code issue tokens exactly once.

use super::tokens::insert_token;
use super::{DeviceDecision, DeviceGrant, NewTokens, OidcToken, PollOutcome};
use crate::db::{to_json, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Store, StoreResult};
use iic_domain::names::Named;
use iic_domain::oidc::{self, DeviceState, GrantView, PollStep};

macro_rules! grant_columns {
    () => {
        "device_code_sha256, user_code, client_id, instance_id, identity_store_id, scopes, state,
         interval_secs, last_poll_at, expires_at, forget_at, user_id, session_id, created_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO oidc_device_grants (",
    grant_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
));
static FOR_POLL: Sql = Sql::new(concat!(
    "SELECT ",
    grant_columns!(),
    " FROM oidc_device_grants WHERE device_code_sha256 = $1 FOR UPDATE"
));
static BY_USER_CODE: Sql = Sql::new(concat!(
    "SELECT ",
    grant_columns!(),
    " FROM oidc_device_grants WHERE user_code = $1"
));
static RECORD_POLL: Sql = Sql::new(
    "UPDATE oidc_device_grants SET last_poll_at = $2, interval_secs = $3
     WHERE device_code_sha256 = $1",
);
static REDEEM: Sql = Sql::new(
    "UPDATE oidc_device_grants SET state = 'redeemed', last_poll_at = $2
     WHERE device_code_sha256 = $1 AND state = 'approved'",
);
static DECIDE: Sql = Sql::new(concat!(
    "UPDATE oidc_device_grants SET state = $2, user_id = $3, session_id = $4
     WHERE user_code = $1 AND state = 'pending' AND expires_at > $5
     RETURNING ",
    grant_columns!()
));

impl FromRow for DeviceGrant {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(DeviceGrant {
            device_code_sha256: r.get(0)?,
            user_code: r.get(1)?,
            client_id: r.get(2)?,
            instance_id: r.get(3)?,
            identity_store_id: r.get(4)?,
            scopes: r.json(5)?,
            state: r.named(6)?,
            interval_secs: r.get(7)?,
            last_poll_at: r.get(8)?,
            expires_at: r.get(9)?,
            forget_at: r.get(10)?,
            user_id: r.get(11)?,
            session_id: r.get(12)?,
            created_at: r.get(13)?,
        })
    }
}

impl Store {
    /// Records a new device grant. A user code already in use is a `Conflict` (the caller draws
    /// another).
    pub async fn start_device_grant(&self, grant: &DeviceGrant) -> StoreResult<()> {
        let g = grant.clone();
        self.write_one("start_device_grant", async move |db| {
            let scopes = to_json("start_device_grant", &g.scopes)?;
            db.execute(
                &INSERT,
                &[
                    &g.device_code_sha256,
                    &g.user_code,
                    &g.client_id,
                    &g.instance_id,
                    &g.identity_store_id,
                    &scopes,
                    &g.state.name(),
                    &g.interval_secs,
                    &g.last_poll_at,
                    &g.expires_at,
                    &g.forget_at,
                    &g.user_id,
                    &g.session_id,
                    &g.created_at,
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// The grant a user code names (stored form), whatever its state.
    pub async fn get_device_grant_by_user_code(
        &self,
        user_code: &str,
    ) -> StoreResult<Option<DeviceGrant>> {
        let code = user_code.to_string();
        self.read("get_device_grant_by_user_code", async move |db| {
            db.query_opt(&BY_USER_CODE, &[&code]).await
        })
        .await
    }

    /// Approves or denies the pending, unexpired grant of `user_code` (stored form); None when
    /// there is no such grant (unknown, expired, or already decided).
    pub async fn decide_device_grant(
        &self,
        user_code: &str,
        decision: &DeviceDecision,
        now: i64,
    ) -> StoreResult<Option<DeviceGrant>> {
        let code = user_code.to_string();
        let (state, user_id, session_id) = match decision.clone() {
            DeviceDecision::Approve {
                user_id,
                session_id,
            } => (DeviceState::Approved, user_id, session_id),
            DeviceDecision::Deny {
                user_id,
                session_id,
            } => (DeviceState::Denied, user_id, session_id),
        };
        self.write_one("decide_device_grant", async move |db| {
            db.query_opt(
                &DECIDE,
                &[&code, &state.name(), &user_id, &session_id, &now],
            )
            .await
        })
        .await
    }

    /// One poll by `client_id` of the grant whose device code hashes to `device_code_sha256`,
    /// at `now` (Unix ms), atomically: the poll time and any slow-down are recorded, and an
    /// approved grant is redeemed once, issuing `tokens`.
    pub async fn poll_device_grant(
        &self,
        device_code_sha256: &str,
        client_id: &str,
        now: i64,
        tokens: &NewTokens,
    ) -> StoreResult<PollOutcome> {
        let (hash, client, tokens) = (
            device_code_sha256.to_string(),
            client_id.to_string(),
            tokens.clone(),
        );
        self.write("poll_device_grant", async move |db| {
            let Some(grant): Option<DeviceGrant> = db.query_opt(&FOR_POLL, &[&hash]).await? else {
                return Ok(PollOutcome::Unknown);
            };
            let view = GrantView {
                client_id: grant.client_id.clone(),
                state: grant.state,
                expires_at: grant.expires_at,
                interval_secs: grant.interval_secs,
                last_poll_at: grant.last_poll_at,
            };
            match oidc::poll(&view, &client, now) {
                PollStep::Refuse {
                    error,
                    interval_secs,
                } => {
                    // Another client's poll is not this grant's poll.
                    if grant.client_id == client {
                        db.execute(&RECORD_POLL, &[&hash, &now, &interval_secs])
                            .await?;
                    }
                    Ok(PollOutcome::Refused(error))
                }
                PollStep::Issue => {
                    if db.execute(&REDEEM, &[&hash, &now]).await? != 1 {
                        return Ok(PollOutcome::Refused(oidc::OAuthError::InvalidGrant));
                    }
                    let token = OidcToken {
                        access_sha256: tokens.access_sha256.clone(),
                        client_id: grant.client_id,
                        instance_id: grant.instance_id,
                        identity_store_id: grant.identity_store_id,
                        user_id: grant.user_id.unwrap_or_default(),
                        session_id: grant.session_id,
                        scopes: grant.scopes,
                        access_expires_at: tokens.access_expires_at,
                        refresh_expires_at: tokens.refresh_expires_at,
                        revoked_at: None,
                        created_at: now,
                    };
                    insert_token(db, &token, Some(&tokens.refresh_sha256)).await?;
                    Ok(PollOutcome::Issued(Box::new(token)))
                }
            }
        })
        .await
    }
}
