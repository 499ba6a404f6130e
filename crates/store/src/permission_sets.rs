//! Permission sets of instances.

use crate::db::to_json;
use crate::db::{FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{CreateOutcome, Page, PermissionSet, Store, StoreError, StoreResult, UpdateOutcome};

macro_rules! set_columns {
    () => {
        "seq, permission_set_id, instance_id, name, description, relay_state, session_duration, content, version, created_at, updated_at"
    };
}

/// Locking the instance's row serializes creations per instance, so that the quota holds.
static LOCK_INSTANCE: Sql = Sql::new("SELECT 1 FROM instances WHERE instance_id = $1 FOR UPDATE");
static COUNT: Sql = Sql::new("SELECT COUNT(*) FROM permission_sets WHERE instance_id = $1");
static NAME_TAKEN: Sql = Sql::new(
    "SELECT 1 FROM permission_sets WHERE instance_id = $1 AND name_lower = $2 AND permission_set_id <> $3",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO permission_sets (permission_set_id, instance_id, name, name_lower, description, relay_state, session_duration, content, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
);
/// Writes the set only if its stored version is the one the change was made from ($11).
static UPDATE: Sql = Sql::new(
    "UPDATE permission_sets SET name = $3, name_lower = $4, description = $5, relay_state = $6, session_duration = $7, content = $8, version = $9, updated_at = $10
     WHERE instance_id = $1 AND permission_set_id = $2 AND version = $11",
);
static EXISTS: Sql =
    Sql::new("SELECT 1 FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2");
static DELETE: Sql =
    Sql::new("DELETE FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2");
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    set_columns!(),
    " FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2"
));
static BY_NAME: Sql = Sql::new(concat!(
    "SELECT ",
    set_columns!(),
    " FROM permission_sets WHERE instance_id = $1 AND name_lower = $2"
));
static PAGE: Sql = Sql::new(concat!(
    "SELECT ",
    set_columns!(),
    " FROM permission_sets WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));

impl FromRow for PermissionSet {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(PermissionSet {
            seq: r.get(0)?,
            permission_set_id: r.get(1)?,
            instance_id: r.get(2)?,
            name: r.get(3)?,
            description: r.get(4)?,
            relay_state: r.get(5)?,
            session_duration: r.get(6)?,
            content: r.json(7)?,
            version: r.get(8)?,
            created_at: r.get(9)?,
            updated_at: r.get(10)?,
        })
    }
}

impl Store {
    /// Inserts the set unless its name is taken in the instance or the instance holds `quota`.
    pub async fn create_permission_set(
        &self,
        set: &PermissionSet,
        quota: i64,
    ) -> StoreResult<CreateOutcome> {
        const OP: &str = "create_permission_set";
        let (s, content) = (set.clone(), to_json(OP, &set.content)?);
        self.write(OP, async move |db| {
            let name = s.name.to_lowercase();
            db.exists(&LOCK_INSTANCE, &[&s.instance_id]).await?;
            if db
                .exists(&NAME_TAKEN, &[&s.instance_id, &name, &s.permission_set_id])
                .await?
            {
                return Ok(CreateOutcome::NameTaken);
            }
            let count: i64 = db.query_one(&COUNT, &[&s.instance_id]).await?;
            if count >= quota {
                return Ok(CreateOutcome::QuotaExceeded);
            }
            let inserted = db
                .execute(
                    &INSERT,
                    &[
                        &s.permission_set_id,
                        &s.instance_id,
                        &s.name,
                        &name,
                        &s.description,
                        &s.relay_state,
                        &s.session_duration,
                        &content,
                        &s.version,
                        &s.created_at,
                        &s.updated_at,
                    ],
                )
                .await;
            match inserted {
                Ok(_) => Ok(CreateOutcome::Created),
                Err(e) if e.is_conflict() => {
                    db.discard();
                    Ok(CreateOutcome::NameTaken)
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    pub async fn get_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let (instance, id) = (instance_id.to_string(), permission_set_id.to_string());
        self.read("get_permission_set", async move |db| {
            db.query_opt(&GET, &[&instance, &id]).await
        })
        .await
    }

    /// By name, case-insensitively.
    pub async fn find_permission_set_by_name(
        &self,
        instance_id: &str,
        name: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let (instance, name) = (instance_id.to_string(), name.to_lowercase());
        self.read("find_permission_set_by_name", async move |db| {
            db.query_opt(&BY_NAME, &[&instance, &name]).await
        })
        .await
    }

    pub async fn list_permission_sets(
        &self,
        instance_id: &str,
        page: Page,
    ) -> StoreResult<Vec<PermissionSet>> {
        let instance = instance_id.to_string();
        self.read("list_permission_sets", async move |db| {
            db.query(&PAGE, &[&instance, &page.after_seq(), &page.limit])
                .await
        })
        .await
    }

    pub async fn count_permission_sets(&self, instance_id: &str) -> StoreResult<i64> {
        let instance = instance_id.to_string();
        self.read("count_permission_sets", async move |db| {
            db.query_one(&COUNT, &[&instance]).await
        })
        .await
    }

    /// Writes `set` if the stored version is still `set.version - 1`; a concurrent change is a
    /// [`StoreError::Conflict`].
    pub async fn save_permission_set(&self, set: &PermissionSet) -> StoreResult<UpdateOutcome> {
        const OP: &str = "save_permission_set";
        let (s, content) = (set.clone(), to_json(OP, &set.content)?);
        self.write(OP, async move |db| {
            let name = s.name.to_lowercase();
            let previous = s.version - 1;
            let updated = db
                .execute(
                    &UPDATE,
                    &[
                        &s.instance_id,
                        &s.permission_set_id,
                        &s.name,
                        &name,
                        &s.description,
                        &s.relay_state,
                        &s.session_duration,
                        &content,
                        &s.version,
                        &s.updated_at,
                        &previous,
                    ],
                )
                .await;
            match updated {
                Ok(1..) => Ok(UpdateOutcome::Updated),
                Ok(0)
                    if db
                        .exists(&EXISTS, &[&s.instance_id, &s.permission_set_id])
                        .await? =>
                {
                    Err(StoreError::Conflict {
                        operation: OP,
                        rule: "permission_sets.version".into(),
                    })
                }
                Ok(0) => Ok(UpdateOutcome::NotFound),
                Err(e) if e.is_conflict() => {
                    db.discard();
                    Ok(UpdateOutcome::NameTaken)
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Deletes the set with its assignments and agencies (by cascade).
    pub async fn delete_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<bool> {
        let (instance, id) = (instance_id.to_string(), permission_set_id.to_string());
        self.write_one("delete_permission_set", async move |db| {
            Ok(db.execute(&DELETE, &[&instance, &id]).await? > 0)
        })
        .await
    }
}
