//! Authorization codes: issued by the sign-in pages, redeemed once by their client at the
//! token endpoint with the same redirect URI and, when a PKCE challenge was given, its verifier.

use super::tokens::insert_token;
use super::{AuthCode, CodeRedemption, NewTokens, OidcToken, PollOutcome};
use crate::db::{to_json, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Store, StoreResult};
use iic_domain::oidc::{pkce, OAuthError};

macro_rules! code_columns {
    () => {
        "code_sha256, client_id, redirect_uri, code_challenge, instance_id, identity_store_id,
         user_id, session_id, scopes, expires_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO oidc_auth_codes (",
    code_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
));
/// The unredeemed code, held for the rest of the transaction.
static FOR_REDEMPTION: Sql = Sql::new(concat!(
    "SELECT ",
    code_columns!(),
    " FROM oidc_auth_codes WHERE code_sha256 = $1 AND redeemed_at IS NULL FOR UPDATE"
));
static REDEEM: Sql = Sql::new(
    "UPDATE oidc_auth_codes SET redeemed_at = $2 WHERE code_sha256 = $1 AND redeemed_at IS NULL",
);

impl FromRow for AuthCode {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(AuthCode {
            code_sha256: r.get(0)?,
            client_id: r.get(1)?,
            redirect_uri: r.get(2)?,
            code_challenge: r.get(3)?,
            instance_id: r.get(4)?,
            identity_store_id: r.get(5)?,
            user_id: r.get(6)?,
            session_id: r.get(7)?,
            scopes: r.json(8)?,
            expires_at: r.get(9)?,
        })
    }
}

impl Store {
    /// Records an authorization code (the sign-in pages issue it).
    pub async fn create_auth_code(&self, code: &AuthCode) -> StoreResult<()> {
        let c = code.clone();
        self.write_one("create_auth_code", async move |db| {
            let scopes = to_json("create_auth_code", &c.scopes)?;
            db.execute(
                &INSERT,
                &[
                    &c.code_sha256,
                    &c.client_id,
                    &c.redirect_uri,
                    &c.code_challenge,
                    &c.instance_id,
                    &c.identity_store_id,
                    &c.user_id,
                    &c.session_id,
                    &scopes,
                    &c.expires_at,
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// Redeems a code at `now`, once, issuing `tokens`. A code presented by its own client is
    /// spent whatever else is wrong (a wrong redirect URI or verifier burns it, as RFC 6749
    /// §10.5 advises); another client's code is left alone. Every refusal is `invalid_grant`.
    pub async fn redeem_auth_code(
        &self,
        redemption: &CodeRedemption,
        now: i64,
        tokens: &NewTokens,
    ) -> StoreResult<PollOutcome> {
        let (r, tokens) = (redemption.clone(), tokens.clone());
        self.write("redeem_auth_code", async move |db| {
            let found: Option<AuthCode> = db.query_opt(&FOR_REDEMPTION, &[&r.code_sha256]).await?;
            let Some(code) = found else {
                return Ok(PollOutcome::Unknown);
            };
            if code.client_id != r.client_id {
                return Ok(PollOutcome::Refused(OAuthError::InvalidGrant));
            }
            if db.execute(&REDEEM, &[&r.code_sha256, &now]).await? != 1 {
                return Ok(PollOutcome::Refused(OAuthError::InvalidGrant));
            }
            let redirect_ok = r.redirect_uri.as_deref() == Some(code.redirect_uri.as_str());
            let pkce_ok = match (&code.code_challenge, &r.code_verifier) {
                (None, _) => true,
                (Some(challenge), Some(verifier)) => pkce::verifies(verifier, challenge),
                (Some(_), None) => false,
            };
            if now >= code.expires_at || !redirect_ok || !pkce_ok {
                return Ok(PollOutcome::Refused(OAuthError::InvalidGrant));
            }
            let token = OidcToken {
                access_sha256: tokens.access_sha256.clone(),
                client_id: code.client_id,
                instance_id: code.instance_id,
                identity_store_id: code.identity_store_id,
                user_id: code.user_id,
                session_id: Some(code.session_id),
                scopes: code.scopes,
                access_expires_at: tokens.access_expires_at,
                refresh_expires_at: tokens.refresh_expires_at,
                revoked_at: None,
                created_at: now,
            };
            insert_token(db, &token, Some(&tokens.refresh_sha256)).await?;
            Ok(PollOutcome::Issued(Box::new(token)))
        })
        .await
    }
}
