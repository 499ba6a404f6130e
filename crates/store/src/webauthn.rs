//! WebAuthn credentials of MFA devices, and the state a WebAuthn ceremony keeps between its two
//! halves.
//!
//! A WebAuthn device is a row of `mfa_devices` (type `WEBAUTHN` or `WEBAUTHN_SECURITY_KEY`)
//! that also holds its credential: the relying-party library's serialized credential (public
//! key, counter, flags; nothing secret) and the credential id, unique over the table, for
//! lookup. The store treats both as opaque text.
//!
//! A use moves the device's signature counter forward only (a counter of 0 means the
//! authenticator keeps none), so of two servers checking the same assertion at once, one wins.
//! A ceremony's state is taken once: reading it deletes it.

use crate::db::{FromRow, Row, Sql};
use crate::error::BoxError;
use crate::mfa_devices::{insert_device, DeviceAdded, MfaDevice};
use crate::{Store, StoreResult};

/// The credential of a WebAuthn device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnCredential {
    pub device_id: String,
    /// `WEBAUTHN` or `WEBAUTHN_SECURITY_KEY`.
    pub mfa_type: String,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    /// The relying party's serialized credential.
    pub credential: String,
    /// The authenticator's signature counter last accepted; 0 when it keeps none.
    pub sign_count: i64,
}

impl FromRow for WebauthnCredential {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(WebauthnCredential {
            device_id: r.get(0)?,
            mfa_type: r.get(1)?,
            credential_id: r.get(2)?,
            credential: r.get(3)?,
            sign_count: r.get(4)?,
        })
    }
}

/// The state of one half-done ceremony (a registration or an authentication) of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnCeremony {
    pub ceremony_id: String,
    pub identity_store_id: String,
    pub user_id: String,
    /// What the ceremony is for, e.g. `register:WEBAUTHN`; taking it must name the same.
    pub purpose: String,
    /// The relying party's serialized ceremony state.
    pub state: String,
    pub expires_at: i64,
}

impl FromRow for WebauthnCeremony {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(WebauthnCeremony {
            ceremony_id: r.get(0)?,
            identity_store_id: r.get(1)?,
            user_id: r.get(2)?,
            purpose: r.get(3)?,
            state: r.get(4)?,
            expires_at: r.get(5)?,
        })
    }
}

static SET_CREDENTIAL: Sql = Sql::new(
    "UPDATE mfa_devices SET credential_id = $2, credential = $3, sign_count = $4 WHERE device_id = $1",
);
static CREDENTIALS: Sql = Sql::new(
    "SELECT device_id, mfa_type, credential_id, credential, sign_count FROM mfa_devices
     WHERE identity_store_id = $1 AND user_id = $2 AND credential IS NOT NULL ORDER BY seq",
);
static CREDENTIAL_TAKEN: Sql =
    Sql::new("SELECT device_id FROM mfa_devices WHERE credential_id = $1");
/// A counter of 0 (the authenticator keeps none) is accepted as often as it comes; a non-zero
/// one only when it moved past the stored one.
static USE: Sql = Sql::new(
    "UPDATE mfa_devices SET credential = $5, sign_count = CAST($4 AS BIGINT), last_used_at = $6
     WHERE identity_store_id = $1 AND user_id = $2 AND device_id = $3 AND credential IS NOT NULL
       AND (CAST($4 AS BIGINT) = 0 OR sign_count < CAST($4 AS BIGINT))",
);
static INSERT_CEREMONY: Sql = Sql::new(
    "INSERT INTO webauthn_ceremonies (ceremony_id, identity_store_id, user_id, purpose, state, expires_at)
     SELECT $1, identity_store_id, user_id, $4, $5, $6 FROM users
     WHERE identity_store_id = $2 AND user_id = $3",
);
/// Every new ceremony clears a bounded number of expired ones, so the table keeps itself small
/// without a worker of its own.
static CLEAR_CEREMONIES: Sql = Sql::new(
    "DELETE FROM webauthn_ceremonies WHERE ceremony_id IN
       (SELECT ceremony_id FROM webauthn_ceremonies WHERE expires_at <= $1 LIMIT 100)",
);
static TAKE_CEREMONY: Sql = Sql::new(
    "DELETE FROM webauthn_ceremonies
     WHERE ceremony_id = $1 AND identity_store_id = $2 AND user_id = $3 AND purpose = $4
     RETURNING ceremony_id, identity_store_id, user_id, purpose, state, expires_at",
);

impl Store {
    /// Stores a WebAuthn device with its credential, like [`Store::add_mfa_device`] (refused
    /// when the user is gone or holds the most devices allowed). A credential id already
    /// registered (to anyone) is a [`crate::StoreError::Conflict`], and nothing is written.
    pub async fn add_webauthn_device(
        &self,
        device: &MfaDevice,
        credential: &WebauthnCredential,
    ) -> StoreResult<DeviceAdded> {
        let (d, c) = (device.clone(), credential.clone());
        self.write("add_webauthn_device", async move |db| {
            let added = insert_device(db, &d).await?;
            if added == DeviceAdded::Added {
                db.execute(
                    &SET_CREDENTIAL,
                    &[&d.device_id, &c.credential_id, &c.credential, &c.sign_count],
                )
                .await?;
            }
            Ok(added)
        })
        .await
    }

    /// The WebAuthn credentials of the user's devices, oldest first.
    pub async fn webauthn_credentials(
        &self,
        identity_store_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<WebauthnCredential>> {
        let (sid, uid) = (identity_store_id.to_string(), user_id.to_string());
        self.read("webauthn_credentials", async move |db| {
            db.query(&CREDENTIALS, &[&sid, &uid]).await
        })
        .await
    }

    /// Whether a credential id is registered already, to anyone.
    pub async fn webauthn_credential_taken(&self, credential_id: &str) -> StoreResult<bool> {
        let id = credential_id.to_string();
        self.read("webauthn_credential_taken", async move |db| {
            let found: Option<String> = db.query_opt(&CREDENTIAL_TAKEN, &[&id]).await?;
            Ok(found.is_some())
        })
        .await
    }

    /// Records a use of the user's device: its updated credential, counter and time. False
    /// when the user holds no such WebAuthn device, or the counter did not move past the
    /// stored one (a replay or a cloned authenticator).
    pub async fn use_webauthn_credential(
        &self,
        identity_store_id: &str,
        user_id: &str,
        device_id: &str,
        credential: &str,
        sign_count: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let args = [identity_store_id, user_id, device_id, credential].map(str::to_string);
        self.write_one("use_webauthn_credential", async move |db| {
            let [sid, uid, did, cred] = &args;
            let n = db
                .execute(&USE, &[sid, uid, did, &sign_count, cred, &now])
                .await?;
            Ok(n > 0)
        })
        .await
    }

    /// Keeps a ceremony's state until `expires_at`; false when the store holds no such user.
    pub async fn put_webauthn_ceremony(
        &self,
        ceremony: &WebauthnCeremony,
        now: i64,
    ) -> StoreResult<bool> {
        let c = ceremony.clone();
        self.write("put_webauthn_ceremony", async move |db| {
            db.execute(&CLEAR_CEREMONIES, &[&now]).await?;
            let n = db
                .execute(
                    &INSERT_CEREMONY,
                    &[
                        &c.ceremony_id,
                        &c.identity_store_id,
                        &c.user_id,
                        &c.purpose,
                        &c.state,
                        &c.expires_at,
                    ],
                )
                .await?;
            Ok(n > 0)
        })
        .await
    }

    /// Takes (reads and deletes) the user's ceremony for `purpose`; None when there is no such
    /// ceremony, it was taken before, or it expired.
    pub async fn take_webauthn_ceremony(
        &self,
        ceremony_id: &str,
        identity_store_id: &str,
        user_id: &str,
        purpose: &str,
        now: i64,
    ) -> StoreResult<Option<WebauthnCeremony>> {
        let args = [ceremony_id, identity_store_id, user_id, purpose].map(str::to_string);
        let taken = self
            .write_one("take_webauthn_ceremony", async move |db| {
                let [a, b, c, d] = &args;
                db.query_opt::<WebauthnCeremony>(&TAKE_CEREMONY, &[a, b, c, d])
                    .await
            })
            .await?;
        Ok(taken.filter(|c| c.expires_at > now))
    }
}
