//! MFA devices of identity store users, the one-time enrolment links that register them, and
//! what users of an identity store may do with their own devices.
//!
//! An enrolment is spent and its device written in one transaction, so that a link registers
//! at most one device. A TOTP code is accepted once: [`Store::accept_mfa_step`] moves the
//! device's last accepted time step forward only.

use crate::db::{Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Store, StoreResult};

/// Devices one user may hold (the limit the real service documents for a user's MFA devices).
pub const MAX_DEVICES_PER_USER: i64 = 8;

/// One MFA device of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    pub device_id: String,
    pub identity_store_id: String,
    pub user_id: String,
    /// `TOTP`, `WEBAUTHN` or `WEBAUTHN_SECURITY_KEY`.
    pub mfa_type: String,
    pub device_name: String,
    pub display_name: String,
    /// The TOTP secret, sealed; never the secret itself.
    pub secret_sealed: Option<Vec<u8>>,
    /// The last TOTP time step accepted.
    pub last_step: Option<i64>,
    /// Milliseconds since the epoch.
    pub registered_at: i64,
    pub last_used_at: Option<i64>,
}

macro_rules! device_columns {
    () => {
        "device_id, identity_store_id, user_id, mfa_type, device_name, display_name, secret_sealed, last_step, registered_at, last_used_at"
    };
}

impl FromRow for MfaDevice {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(MfaDevice {
            device_id: r.get(0)?,
            identity_store_id: r.get(1)?,
            user_id: r.get(2)?,
            mfa_type: r.get(3)?,
            device_name: r.get(4)?,
            display_name: r.get(5)?,
            secret_sealed: r.get(6)?,
            last_step: r.get(7)?,
            registered_at: r.get(8)?,
            last_used_at: r.get(9)?,
        })
    }
}

/// The user an enrolment was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaEnrolment {
    pub identity_store_id: String,
    pub user_id: String,
}

impl FromRow for MfaEnrolment {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(MfaEnrolment {
            identity_store_id: r.get(0)?,
            user_id: r.get(1)?,
        })
    }
}

/// Written only for an existing user of the store.
static ENROL: Sql = Sql::new(
    "INSERT INTO mfa_enrolments (work_flow_sha256, identity_store_id, user_id, created_at, expires_at)
     SELECT $1, identity_store_id, user_id, $4, $5 FROM users
     WHERE identity_store_id = $2 AND user_id = $3",
);
static PENDING: Sql = Sql::new(
    "SELECT identity_store_id, user_id FROM mfa_enrolments
     WHERE work_flow_sha256 = $1 AND expires_at > $2",
);
static SPEND: Sql = Sql::new(
    "DELETE FROM mfa_enrolments
     WHERE work_flow_sha256 = $1 AND expires_at > $2 AND identity_store_id = $3 AND user_id = $4",
);
static SWEEP_ENROLMENTS: Sql = Sql::new(
    "DELETE FROM mfa_enrolments WHERE work_flow_sha256 IN
       (SELECT work_flow_sha256 FROM mfa_enrolments WHERE expires_at <= $1 LIMIT $2)",
);
static INSERT_DEVICE: Sql = Sql::new(concat!(
    "INSERT INTO mfa_devices (",
    device_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
));
/// Locks the user while a device is added, so that concurrent additions respect the limit.
static USER_LOCK: Sql =
    Sql::new("SELECT 1 FROM users WHERE identity_store_id = $1 AND user_id = $2 FOR UPDATE");
static COUNT: Sql =
    Sql::new("SELECT COUNT(*) FROM mfa_devices WHERE identity_store_id = $1 AND user_id = $2");
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    device_columns!(),
    " FROM mfa_devices WHERE identity_store_id = $1 AND user_id = $2 ORDER BY seq"
));
static RENAME: Sql = Sql::new(
    "UPDATE mfa_devices SET display_name = $4
     WHERE identity_store_id = $1 AND user_id = $2 AND device_id = $3",
);
static DELETE: Sql = Sql::new(
    "DELETE FROM mfa_devices WHERE identity_store_id = $1 AND user_id = $2 AND device_id = $3",
);
static FORGET_BROWSERS: Sql =
    Sql::new("DELETE FROM remembered_browsers WHERE identity_store_id = $1 AND user_id = $2");
static ACCEPT_STEP: Sql = Sql::new(
    "UPDATE mfa_devices SET last_step = $2, last_used_at = $3
     WHERE device_id = $1 AND (last_step IS NULL OR last_step < $2)",
);
static GET_MANAGEMENT: Sql =
    Sql::new("SELECT user_permission FROM mfa_device_management WHERE identity_store_id = $1");
/// Written only for an existing identity store.
static PUT_MANAGEMENT: Sql = Sql::new(
    "INSERT INTO mfa_device_management (identity_store_id, user_permission, updated_at)
     SELECT identity_store_id, $2, $3 FROM identity_stores WHERE identity_store_id = $1
     ON CONFLICT (identity_store_id) DO UPDATE SET user_permission = excluded.user_permission, updated_at = excluded.updated_at",
);

/// What adding a device came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAdded {
    Added,
    /// The user (or the enrolment) is gone.
    NoUser,
    /// The user holds [`MAX_DEVICES_PER_USER`] already.
    Full,
}

/// Inserts the device unless its user is gone or full, in the caller's transaction; a refusal
/// rolls the transaction back, so an enrolment spent with it is not spent.
pub(crate) async fn insert_device(db: &mut Db<'_>, d: &MfaDevice) -> StoreResult<DeviceAdded> {
    if !db
        .exists(&USER_LOCK, &[&d.identity_store_id, &d.user_id])
        .await?
    {
        db.discard();
        return Ok(DeviceAdded::NoUser);
    }
    let held: i64 = db
        .query_one(&COUNT, &[&d.identity_store_id, &d.user_id])
        .await?;
    if held >= MAX_DEVICES_PER_USER {
        db.discard();
        return Ok(DeviceAdded::Full);
    }
    db.execute(
        &INSERT_DEVICE,
        &[
            &d.device_id,
            &d.identity_store_id,
            &d.user_id,
            &d.mfa_type,
            &d.device_name,
            &d.display_name,
            &d.secret_sealed,
            &d.last_step,
            &d.registered_at,
            &d.last_used_at,
        ],
    )
    .await?;
    Ok(DeviceAdded::Added)
}

impl Store {
    /// Records a one-time enrolment link for the user, by the SHA-256 of its value; false when
    /// the store holds no such user.
    pub async fn create_mfa_enrolment(
        &self,
        enrolment: &MfaEnrolment,
        work_flow_sha256: &[u8],
        now: i64,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let (hash, e) = (work_flow_sha256.to_vec(), enrolment.clone());
        self.write_one("create_mfa_enrolment", async move |db| {
            let n = db
                .execute(
                    &ENROL,
                    &[&hash, &e.identity_store_id, &e.user_id, &now, &expires_at],
                )
                .await?;
            Ok(n > 0)
        })
        .await
    }

    /// The user a live enrolment was issued to; None when it is unknown, spent or expired.
    pub async fn mfa_enrolment(
        &self,
        work_flow_sha256: &[u8],
        now: i64,
    ) -> StoreResult<Option<MfaEnrolment>> {
        let hash = work_flow_sha256.to_vec();
        self.read("mfa_enrolment", async move |db| {
            db.query_opt(&PENDING, &[&hash, &now]).await
        })
        .await
    }

    /// Spends the live enrolment issued to the device's user and stores the device, together;
    /// nothing is written unless it is [`DeviceAdded::Added`] (`NoUser`: no such enrolment any
    /// more).
    pub async fn complete_mfa_enrolment(
        &self,
        work_flow_sha256: &[u8],
        device: &MfaDevice,
        now: i64,
    ) -> StoreResult<DeviceAdded> {
        let (hash, d) = (work_flow_sha256.to_vec(), device.clone());
        self.write("complete_mfa_enrolment", async move |db| {
            let spent = db
                .execute(&SPEND, &[&hash, &now, &d.identity_store_id, &d.user_id])
                .await?;
            if spent == 0 {
                return Ok(DeviceAdded::NoUser);
            }
            insert_device(db, &d).await
        })
        .await
    }

    /// Adds a device to its user (enrolled at sign-in or in the portal); refused when the user
    /// is gone or already holds [`MAX_DEVICES_PER_USER`].
    pub async fn add_mfa_device(&self, device: &MfaDevice) -> StoreResult<DeviceAdded> {
        let d = device.clone();
        self.write("add_mfa_device", async move |db| {
            insert_device(db, &d).await
        })
        .await
    }

    /// Deletes up to `limit` expired enrolments; returns how many.
    pub async fn sweep_mfa_enrolments(&self, now: i64, limit: i64) -> StoreResult<u64> {
        self.write_one("sweep_mfa_enrolments", async move |db| {
            db.execute(&SWEEP_ENROLMENTS, &[&now, &limit]).await
        })
        .await
    }

    /// The user's devices, oldest first.
    pub async fn list_mfa_devices(
        &self,
        identity_store_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<MfaDevice>> {
        let (sid, uid) = (identity_store_id.to_string(), user_id.to_string());
        self.read("list_mfa_devices", async move |db| {
            db.query(&LIST, &[&sid, &uid]).await
        })
        .await
    }

    /// Sets a device's display name; false when the user holds no such device.
    pub async fn rename_mfa_device(
        &self,
        identity_store_id: &str,
        user_id: &str,
        device_id: &str,
        display_name: &str,
    ) -> StoreResult<bool> {
        let args = [identity_store_id, user_id, device_id, display_name].map(str::to_string);
        self.write_one("rename_mfa_device", async move |db| {
            let [a, b, c, d] = &args;
            Ok(db.execute(&RENAME, &[a, b, c, d]).await? > 0)
        })
        .await
    }

    /// Removes a device, and with it every browser remembered for the user (they vouched for
    /// a set of devices that changed: a lost phone removed must not leave a browser that skips
    /// the prompt); false when the user holds no such device.
    pub async fn delete_mfa_device(
        &self,
        identity_store_id: &str,
        user_id: &str,
        device_id: &str,
    ) -> StoreResult<bool> {
        let args = [identity_store_id, user_id, device_id].map(str::to_string);
        self.write("delete_mfa_device", async move |db| {
            let [a, b, c] = &args;
            if db.execute(&DELETE, &[a, b, c]).await? == 0 {
                return Ok(false);
            }
            db.execute(&FORGET_BROWSERS, &[a, b]).await?;
            Ok(true)
        })
        .await
    }

    /// Records that the device's code for time step `step` was accepted; false when a step at
    /// or after it was accepted before (a replay).
    pub async fn accept_mfa_step(&self, device_id: &str, step: i64, now: i64) -> StoreResult<bool> {
        let id = device_id.to_string();
        self.write_one("accept_mfa_step", async move |db| {
            Ok(db.execute(&ACCEPT_STEP, &[&id, &step, &now]).await? > 0)
        })
        .await
    }

    /// What users of the identity store may do with their own devices, when it was ever set.
    pub async fn mfa_device_management(
        &self,
        identity_store_id: &str,
    ) -> StoreResult<Option<String>> {
        let id = identity_store_id.to_string();
        self.read("mfa_device_management", async move |db| {
            db.query_opt(&GET_MANAGEMENT, &[&id]).await
        })
        .await
    }

    /// Sets what users of the identity store may do with their own devices; false when there
    /// is no such identity store.
    pub async fn put_mfa_device_management(
        &self,
        identity_store_id: &str,
        user_permission: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let (id, p) = (identity_store_id.to_string(), user_permission.to_string());
        self.write_one("put_mfa_device_management", async move |db| {
            Ok(db.execute(&PUT_MANAGEMENT, &[&id, &p, &now]).await? > 0)
        })
        .await
    }
}
