//! The PostgreSQL implementation of permission sets.

use super::{map_err, PgStore};
use crate::permission_set_sql as sql;
use crate::*;
use async_trait::async_trait;
use tokio_postgres::Row;

fn from_row(r: &Row) -> StoreResult<PermissionSet> {
    let content: String = r.try_get(7)?;
    Ok(PermissionSet {
        seq: r.try_get(0)?,
        permission_set_id: r.try_get(1)?,
        instance_id: r.try_get(2)?,
        name: r.try_get(3)?,
        description: r.try_get(4)?,
        relay_state: r.try_get(5)?,
        session_duration: r.try_get(6)?,
        content: serde_json::from_str(&content).map_err(|e| StoreError::Backend(e.to_string()))?,
        version: r.try_get(8)?,
        created_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
    })
}

fn content_json(set: &PermissionSet) -> Result<String, StoreError> {
    serde_json::to_string(&set.content).map_err(|e| StoreError::Backend(e.to_string()))
}

#[async_trait]
impl PermissionSetStore for PgStore {
    async fn create_permission_set(
        &self,
        s: &PermissionSet,
        quota: i64,
    ) -> StoreResult<CreateOutcome> {
        let content = content_json(s)?;
        let name = s.name.to_lowercase();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        // Serializes creations per instance so the quota holds.
        tx.query_opt(
            "SELECT 1 FROM instances WHERE instance_id = $1 FOR UPDATE",
            &[&s.instance_id],
        )
        .await
        .map_err(map_err)?;
        if tx
            .query_opt(
                sql::NAME_TAKEN,
                &[&s.instance_id, &name, &s.permission_set_id],
            )
            .await
            .map_err(map_err)?
            .is_some()
        {
            return Ok(CreateOutcome::NameTaken);
        }
        let count: i64 = tx
            .query_one(sql::COUNT, &[&s.instance_id])
            .await
            .map_err(map_err)?
            .try_get(0)?;
        if count >= quota {
            return Ok(CreateOutcome::QuotaExceeded);
        }
        match tx
            .execute(
                sql::INSERT,
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
            .await
            .map_err(map_err)
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(CreateOutcome::NameTaken),
            Err(e) => return Err(e),
        }
        tx.commit().await.map_err(map_err)?;
        Ok(CreateOutcome::Created)
    }

    async fn get_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2",
                sql::COLUMNS
            ))
            .await
            .map_err(map_err)?;
        c.query_opt(&st, &[&instance_id, &permission_set_id])
            .await
            .map_err(map_err)?
            .map(|r| from_row(&r))
            .transpose()
    }

    async fn find_permission_set_by_name(
        &self,
        instance_id: &str,
        name: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let c = self.client().await?;
        c.query_opt(
            &format!(
                "SELECT {} FROM permission_sets WHERE instance_id = $1 AND name_lower = $2",
                sql::COLUMNS
            ),
            &[&instance_id, &name.to_lowercase()],
        )
        .await
        .map_err(map_err)?
        .map(|r| from_row(&r))
        .transpose()
    }

    async fn list_permission_sets(
        &self,
        instance_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<PermissionSet>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM permission_sets WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                sql::COLUMNS
            ))
            .await
            .map_err(map_err)?;
        c.query(&st, &[&instance_id, &after_seq.unwrap_or(0), &limit])
            .await
            .map_err(map_err)?
            .iter()
            .map(from_row)
            .collect()
    }

    async fn count_permission_sets(&self, instance_id: &str) -> StoreResult<i64> {
        let c = self.client().await?;
        Ok(c.query_one(sql::COUNT, &[&instance_id])
            .await
            .map_err(map_err)?
            .try_get(0)?)
    }

    async fn save_permission_set(&self, s: &PermissionSet) -> StoreResult<UpdateOutcome> {
        let content = content_json(s)?;
        let name = s.name.to_lowercase();
        let c = self.client().await?;
        if c.query_opt(sql::EXISTS, &[&s.instance_id, &s.permission_set_id])
            .await
            .map_err(map_err)?
            .is_none()
        {
            return Ok(UpdateOutcome::NotFound);
        }
        let previous = s.version - 1;
        let updated = c
            .execute(
                sql::UPDATE,
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
            .await
            .map_err(map_err);
        match updated {
            Ok(0) => Err(StoreError::Conflict(
                "the permission set changed meanwhile".into(),
            )),
            Ok(_) => Ok(UpdateOutcome::Updated),
            Err(StoreError::Conflict(_)) => Ok(UpdateOutcome::NameTaken),
            Err(e) => Err(e),
        }
    }

    async fn delete_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(sql::DELETE, &[&instance_id, &permission_set_id])
            .await
            .map_err(map_err)?
            > 0)
    }
}
