//! Access keys: permanent ones and temporary ones bound to a security token. A revoked
//! temporary key is not found here; `temporary_credentials.rs` issues, revokes and sweeps them.

use crate::db::{Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Credential, Store, StoreResult};

macro_rules! credential_columns {
    () => {
        "access_key, account_id, secret_sealed, security_token_sha256, expires_at, created_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO credentials (",
    credential_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6)"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    credential_columns!(),
    " FROM credentials WHERE access_key = $1 AND revoked_at IS NULL"
));
static OF_ACCOUNT: Sql = Sql::new(concat!(
    "SELECT ",
    credential_columns!(),
    " FROM credentials WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, access_key"
));
static DELETE: Sql = Sql::new("DELETE FROM credentials WHERE access_key = $1");

impl FromRow for Credential {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Credential {
            access_key: r.get(0)?,
            account_id: r.get(1)?,
            secret_sealed: r.get(2)?,
            security_token_sha256: r.get(3)?,
            expires_at: r.get(4)?,
            created_at: r.get(5)?,
        })
    }
}

pub(crate) async fn insert(db: &mut Db<'_>, c: &Credential) -> StoreResult<()> {
    db.execute(
        &INSERT,
        &[
            &c.access_key,
            &c.account_id,
            &c.secret_sealed,
            &c.security_token_sha256,
            &c.expires_at,
            &c.created_at,
        ],
    )
    .await?;
    Ok(())
}

impl Store {
    pub async fn insert_credential(&self, cred: &Credential) -> StoreResult<()> {
        let c = cred.clone();
        self.write_one("insert_credential", async move |db| insert(db, &c).await)
            .await
    }

    pub async fn get_credential(&self, access_key: &str) -> StoreResult<Option<Credential>> {
        let key = access_key.to_string();
        self.read("get_credential", async move |db| {
            db.query_opt(&GET, &[&key]).await
        })
        .await
    }

    pub async fn list_credentials(&self, account_id: &str) -> StoreResult<Vec<Credential>> {
        let id = account_id.to_string();
        self.read("list_credentials", async move |db| {
            db.query(&OF_ACCOUNT, &[&id]).await
        })
        .await
    }

    pub async fn delete_credential(&self, access_key: &str) -> StoreResult<bool> {
        let key = access_key.to_string();
        self.write_one("delete_credential", async move |db| {
            Ok(db.execute(&DELETE, &[&key]).await? > 0)
        })
        .await
    }
}
