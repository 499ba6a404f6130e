//! The SQLite implementation of permission sets.

use super::{map_err, numbered, SqliteStore};
use crate::permission_set_sql as sql;
use crate::*;
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

fn from_row(r: &Row<'_>) -> rusqlite::Result<PermissionSet> {
    let content: String = r.get(7)?;
    Ok(PermissionSet {
        seq: r.get(0)?,
        permission_set_id: r.get(1)?,
        instance_id: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        relay_state: r.get(5)?,
        session_duration: r.get(6)?,
        content: serde_json::from_str(&content).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(e))
        })?,
        version: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

fn content_json(set: &PermissionSet) -> Result<String, StoreError> {
    serde_json::to_string(&set.content).map_err(|e| StoreError::Backend(e.to_string()))
}

#[async_trait]
impl PermissionSetStore for SqliteStore {
    async fn create_permission_set(
        &self,
        set: &PermissionSet,
        quota: i64,
    ) -> StoreResult<CreateOutcome> {
        let (s, content) = (set.clone(), content_json(set)?);
        self.write(move |tx| {
            let name = s.name.to_lowercase();
            if tx
                .prepare_cached(&numbered(sql::NAME_TAKEN))
                .and_then(|mut st| st.exists(params![s.instance_id, name, s.permission_set_id]))
                .map_err(map_err)?
            {
                return Ok(CreateOutcome::NameTaken);
            }
            let count: i64 = tx
                .query_row(&numbered(sql::COUNT), [&s.instance_id], |r| r.get(0))
                .map_err(map_err)?;
            if count >= quota {
                return Ok(CreateOutcome::QuotaExceeded);
            }
            tx.execute(
                &numbered(sql::INSERT),
                params![
                    s.permission_set_id,
                    s.instance_id,
                    s.name,
                    name,
                    s.description,
                    s.relay_state,
                    s.session_duration,
                    content,
                    s.version,
                    s.created_at,
                    s.updated_at
                ],
            )
            .map_err(map_err)?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn get_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let (i, p) = (instance_id.to_string(), permission_set_id.to_string());
        self.read(move |c| {
            c.prepare_cached(&numbered(&format!(
                "SELECT {} FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2",
                sql::COLUMNS
            )))?
            .query_row([i, p], from_row)
            .optional()
        })
        .await
    }

    async fn find_permission_set_by_name(
        &self,
        instance_id: &str,
        name: &str,
    ) -> StoreResult<Option<PermissionSet>> {
        let (i, n) = (instance_id.to_string(), name.to_lowercase());
        self.read(move |c| {
            c.prepare_cached(&numbered(&format!(
                "SELECT {} FROM permission_sets WHERE instance_id = $1 AND name_lower = $2",
                sql::COLUMNS
            )))?
            .query_row([i, n], from_row)
            .optional()
        })
        .await
    }

    async fn list_permission_sets(
        &self,
        instance_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<PermissionSet>> {
        let i = instance_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&numbered(&format!(
                "SELECT {} FROM permission_sets WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                sql::COLUMNS
            )))?
            .query_map(params![i, after_seq.unwrap_or(0), limit], from_row)?
            .collect()
        })
        .await
    }

    async fn count_permission_sets(&self, instance_id: &str) -> StoreResult<i64> {
        let i = instance_id.to_string();
        self.read(move |c| c.query_row(&numbered(sql::COUNT), [i], |r| r.get(0)))
            .await
    }

    async fn save_permission_set(&self, set: &PermissionSet) -> StoreResult<UpdateOutcome> {
        let (s, content) = (set.clone(), content_json(set)?);
        self.write(move |tx| {
            let name = s.name.to_lowercase();
            let exists = tx
                .prepare_cached(&numbered(sql::EXISTS))
                .and_then(|mut st| st.exists(params![s.instance_id, s.permission_set_id]))
                .map_err(map_err)?;
            if !exists {
                return Ok(UpdateOutcome::NotFound);
            }
            if tx
                .prepare_cached(&numbered(sql::NAME_TAKEN))
                .and_then(|mut st| st.exists(params![s.instance_id, name, s.permission_set_id]))
                .map_err(map_err)?
            {
                return Ok(UpdateOutcome::NameTaken);
            }
            let n = tx
                .execute(
                    &numbered(sql::UPDATE),
                    params![
                        s.instance_id,
                        s.permission_set_id,
                        s.name,
                        name,
                        s.description,
                        s.relay_state,
                        s.session_duration,
                        content,
                        s.version,
                        s.updated_at,
                        s.version - 1
                    ],
                )
                .map_err(map_err)?;
            if n == 0 {
                return Err(StoreError::Conflict(
                    "the permission set changed meanwhile".into(),
                ));
            }
            Ok(UpdateOutcome::Updated)
        })
        .await
    }

    async fn delete_permission_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
    ) -> StoreResult<bool> {
        let (i, p) = (instance_id.to_string(), permission_set_id.to_string());
        self.write(move |tx| {
            tx.execute(&numbered(sql::DELETE), params![i, p])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }
}
