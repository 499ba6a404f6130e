//! Issued tokens: looked up by the hash of the access token, refreshed by the hash of the
//! refresh token (which is then spent), revoked one by one or by session, swept once useless.

use super::{NewTokens, OidcSweep, OidcToken};
use crate::db::{to_json, Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::{Store, StoreResult};

macro_rules! token_columns {
    () => {
        "access_sha256, client_id, instance_id, identity_store_id, user_id, session_id, scopes,
         access_expires_at, refresh_expires_at, revoked_at, created_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO oidc_tokens (",
    token_columns!(),
    ", refresh_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
));
/// A token works only while the sign-in session it was issued under lasts: a session past its
/// `max_authentication_age` takes its tokens with it, as an ended one does.
macro_rules! session_live {
    ($now:literal) => {
        concat!(
            " AND EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = oidc_tokens.session_id
               AND s.ended_at IS NULL AND s.not_valid_after > ",
            $now,
            ")"
        )
    };
}

static SPEND_REFRESH: Sql = Sql::new(concat!(
    "UPDATE oidc_tokens SET refresh_sha256 = NULL
     WHERE refresh_sha256 = $1 AND client_id = $2 AND revoked_at IS NULL AND refresh_expires_at > $3",
    session_live!("$3"),
    " RETURNING ",
    token_columns!()
));
static LIVE_ACCESS: Sql = Sql::new(concat!(
    "SELECT ",
    token_columns!(),
    " FROM oidc_tokens WHERE access_sha256 = $1 AND revoked_at IS NULL AND access_expires_at > $2",
    session_live!("$2")
));
static REVOKE: Sql = Sql::new(
    "UPDATE oidc_tokens SET revoked_at = $2, refresh_sha256 = NULL
     WHERE access_sha256 = $1 AND revoked_at IS NULL",
);
static REVOKE_SESSION: Sql = Sql::new(
    "UPDATE oidc_tokens SET revoked_at = $2, refresh_sha256 = NULL
     WHERE session_id = $1 AND revoked_at IS NULL",
);
static REVOKE_SESSIONS: Sql = Sql::new(
    "UPDATE oidc_tokens SET revoked_at = $2, refresh_sha256 = NULL
     WHERE session_id = ANY($1) AND revoked_at IS NULL",
);
static SWEEP_TOKENS: Sql = Sql::new(
    "DELETE FROM oidc_tokens WHERE access_expires_at <= $1
       AND (refresh_expires_at <= $1 OR refresh_sha256 IS NULL)",
);
static SWEEP_GRANTS: Sql = Sql::new("DELETE FROM oidc_device_grants WHERE forget_at <= $1");
static SWEEP_CODES: Sql = Sql::new("DELETE FROM oidc_auth_codes WHERE expires_at <= $1");
static SWEEP_CLIENTS: Sql = Sql::new(
    "DELETE FROM oidc_clients WHERE expires_at <= $1
       AND NOT EXISTS (SELECT 1 FROM oidc_device_grants g WHERE g.client_id = oidc_clients.client_id)
       AND NOT EXISTS (SELECT 1 FROM oidc_auth_codes c WHERE c.client_id = oidc_clients.client_id)",
);

impl FromRow for OidcToken {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(OidcToken {
            access_sha256: r.get(0)?,
            client_id: r.get(1)?,
            instance_id: r.get(2)?,
            identity_store_id: r.get(3)?,
            user_id: r.get(4)?,
            session_id: r.get(5)?,
            scopes: r.json(6)?,
            access_expires_at: r.get(7)?,
            refresh_expires_at: r.get(8)?,
            revoked_at: r.get(9)?,
            created_at: r.get(10)?,
        })
    }
}

pub(super) async fn insert_token(
    db: &mut Db<'_>,
    t: &OidcToken,
    refresh_sha256: Option<&str>,
) -> StoreResult<()> {
    let refresh = refresh_sha256.map(str::to_string);
    let scopes = to_json("insert_token", &t.scopes)?;
    db.execute(
        &INSERT,
        &[
            &t.access_sha256,
            &t.client_id,
            &t.instance_id,
            &t.identity_store_id,
            &t.user_id,
            &t.session_id,
            &scopes,
            &t.access_expires_at,
            &t.refresh_expires_at,
            &t.revoked_at,
            &t.created_at,
            &refresh,
        ],
    )
    .await?;
    Ok(())
}

/// Revokes the tokens issued in the sessions `session_ids`, inside the transaction that ends
/// those sessions.
pub(crate) async fn revoke_in_sessions(
    db: &mut Db<'_>,
    session_ids: &[String],
    now: i64,
) -> StoreResult<u64> {
    if session_ids.is_empty() {
        return Ok(0);
    }
    db.execute(&REVOKE_SESSIONS, &[&TextList(session_ids), &now])
        .await
}

impl Store {
    /// Spends the refresh token whose hash is `refresh_sha256` (it must be `client_id`'s, live
    /// and unrevoked) and issues `tokens` for the same user, session and scopes. The access
    /// token issued with the spent refresh token stays valid until its own expiry.
    pub async fn refresh_oidc_token(
        &self,
        refresh_sha256: &str,
        client_id: &str,
        now: i64,
        tokens: &NewTokens,
    ) -> StoreResult<Option<OidcToken>> {
        let (hash, client, tokens) = (
            refresh_sha256.to_string(),
            client_id.to_string(),
            tokens.clone(),
        );
        self.write("refresh_oidc_token", async move |db| {
            let Some(old): Option<OidcToken> = db
                .query_opt(&SPEND_REFRESH, &[&hash, &client, &now])
                .await?
            else {
                return Ok(None);
            };
            let fresh = OidcToken {
                access_sha256: tokens.access_sha256,
                access_expires_at: tokens.access_expires_at,
                refresh_expires_at: tokens.refresh_expires_at,
                revoked_at: None,
                created_at: now,
                ..old
            };
            insert_token(db, &fresh, Some(&tokens.refresh_sha256)).await?;
            Ok(Some(fresh))
        })
        .await
    }

    /// The live (unexpired, unrevoked) access token whose hash is `access_sha256`.
    pub async fn get_access_token(
        &self,
        access_sha256: &str,
        now: i64,
    ) -> StoreResult<Option<OidcToken>> {
        let hash = access_sha256.to_string();
        self.read("get_access_token", async move |db| {
            db.query_opt(&LIVE_ACCESS, &[&hash, &now]).await
        })
        .await
    }

    /// Revokes one access token and its refresh token; false when none was live.
    pub async fn revoke_oidc_token(&self, access_sha256: &str, now: i64) -> StoreResult<bool> {
        let hash = access_sha256.to_string();
        self.write_one("revoke_oidc_token", async move |db| {
            Ok(db.execute(&REVOKE, &[&hash, &now]).await? > 0)
        })
        .await
    }

    /// Revokes every token issued in session `session_id` (at sign-out); how many.
    pub async fn revoke_oidc_tokens_of_session(
        &self,
        session_id: &str,
        now: i64,
    ) -> StoreResult<u64> {
        let id = session_id.to_string();
        self.write_one("revoke_oidc_tokens_of_session", async move |db| {
            db.execute(&REVOKE_SESSION, &[&id, &now]).await
        })
        .await
    }

    /// Forgets what can no longer answer anything: tokens whose access and refresh lives are
    /// over, grants past their `forget_at`, expired authorization codes, expired clients without grants
    /// or codes.
    pub async fn sweep_oidc(&self, now: i64) -> StoreResult<OidcSweep> {
        self.write("sweep_oidc", async move |db| {
            let tokens = db.execute(&SWEEP_TOKENS, &[&now]).await?;
            let device_grants = db.execute(&SWEEP_GRANTS, &[&now]).await?;
            let auth_codes = db.execute(&SWEEP_CODES, &[&now]).await?;
            let clients = db.execute(&SWEEP_CLIENTS, &[&now]).await?;
            Ok(OidcSweep {
                clients,
                device_grants,
                tokens,
                auth_codes,
            })
        })
        .await
    }
}
