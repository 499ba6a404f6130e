//! The SQLite implementation of the directory.

use super::{map_err, numbered, SqliteStore};
use crate::directory_sql as sql;
use crate::*;
use async_trait::async_trait;
use iic_domain::directory::ExternalId;
use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Row};

fn prep<'c>(c: &'c Connection, sql: &str) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    c.prepare_cached(&numbered(sql))
}

fn json_col<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        seq: r.get(0)?,
        user_id: r.get(1)?,
        identity_store_id: r.get(2)?,
        profile: json_col(r, 3)?,
        external_ids: json_col(r, 4)?,
        enabled: r.get(5)?,
        email_verified: r.get(6)?,
        password_hash: r.get(7)?,
        password_reset_email_owed: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        updated_by: r.get(12)?,
    })
}

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        seq: r.get(0)?,
        group_id: r.get(1)?,
        identity_store_id: r.get(2)?,
        profile: json_col(r, 3)?,
        external_ids: json_col(r, 4)?,
        created_at: r.get(5)?,
        created_by: r.get(6)?,
        updated_at: r.get(7)?,
        updated_by: r.get(8)?,
    })
}

fn membership_from_row(r: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        seq: r.get(0)?,
        membership_id: r.get(1)?,
        identity_store_id: r.get(2)?,
        group_id: r.get(3)?,
        user_id: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn exists(c: &Connection, query: &str, p: impl rusqlite::Params) -> Result<bool, StoreError> {
    c.prepare_cached(query)
        .and_then(|mut st| st.exists(p))
        .map_err(map_err)
}

fn insert_external_ids(
    c: &Connection,
    store: &str,
    kind: &str,
    principal: &str,
    ids: &[ExternalId],
) -> Result<(), StoreError> {
    for e in ids {
        c.execute(
            &numbered(sql::INSERT_EXTERNAL_ID),
            params![store, kind, e.issuer, e.id, principal],
        )
        .map_err(map_err)?;
    }
    Ok(())
}

fn find_external(
    c: &Connection,
    store: &str,
    kind: &str,
    issuer: &str,
    id: &str,
) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(&numbered(sql::FIND_BY_EXTERNAL_ID))?
        .query_row(params![store, kind, issuer, id], |r| r.get(0))
        .optional()
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn identity_store(
        &self,
        identity_store_id: &str,
    ) -> StoreResult<Option<IdentityStoreInfo>> {
        let id = identity_store_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&numbered(sql::STORE_INFO))?
                .query_row([id], |r| {
                    let policy: Option<String> = r.get(5)?;
                    Ok(IdentityStoreInfo {
                        identity_store_id: r.get(0)?,
                        instance_id: r.get(1)?,
                        organization_id: r.get(2)?,
                        users: r.get(3)?,
                        groups: r.get(4)?,
                        password_policy: policy.and_then(|p| serde_json::from_str(&p).ok()),
                    })
                })
                .optional()
        })
        .await
    }

    async fn set_password_policy(
        &self,
        identity_store_id: &str,
        policy: &PasswordPolicy,
    ) -> StoreResult<bool> {
        let (id, json) = (identity_store_id.to_string(), to_json(policy)?);
        self.write(move |tx| {
            tx.execute(&numbered(sql::SET_POLICY), params![id, json])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn create_user(&self, user: &User, quota: i64) -> StoreResult<CreateOutcome> {
        let u = user.clone();
        let (profile, external) = (to_json(&u.profile)?, to_json(&u.external_ids)?);
        self.write(move |tx| {
            let name = u.profile.user_name.to_lowercase();
            if exists(
                tx,
                &numbered(sql::USER_NAME_TAKEN),
                params![u.identity_store_id, name, u.user_id],
            )? {
                return Ok(CreateOutcome::NameTaken);
            }
            if tx
                .execute(
                    &numbered(sql::TAKE_USER_QUOTA),
                    params![u.identity_store_id, quota],
                )
                .map_err(map_err)?
                == 0
            {
                return Ok(
                    if exists(tx, &numbered(sql::STORE_EXISTS), [&u.identity_store_id])? {
                        CreateOutcome::QuotaExceeded
                    } else {
                        CreateOutcome::NoSuchStore
                    },
                );
            }
            tx.execute(
                &numbered(sql::INSERT_USER),
                params![
                    u.user_id,
                    u.identity_store_id,
                    name,
                    u.profile.primary_email_lower(),
                    profile,
                    external,
                    u.enabled,
                    u.email_verified,
                    u.password_hash,
                    u.password_reset_email_owed,
                    u.created_at,
                    u.created_by,
                    u.updated_at,
                    u.updated_by
                ],
            )
            .map_err(map_err)?;
            insert_external_ids(
                tx,
                &u.identity_store_id,
                "user",
                &u.user_id,
                &u.external_ids,
            )?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn get_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<Option<User>> {
        let (s, u) = (identity_store_id.to_string(), user_id.to_string());
        self.read(move |c| {
            prep(
                c,
                &format!(
                    "SELECT {} FROM users WHERE identity_store_id = $1 AND user_id = $2",
                    &numbered(sql::USER_COLUMNS)
                ),
            )?
            .query_row([s, u], user_from_row)
            .optional()
        })
        .await
    }

    async fn get_users(
        &self,
        identity_store_id: &str,
        user_ids: &[String],
    ) -> StoreResult<Vec<User>> {
        let (s, ids) = (identity_store_id.to_string(), user_ids.to_vec());
        self.read(move |c| {
            let mut st = prep(
                c,
                &format!(
                    "SELECT {} FROM users WHERE identity_store_id = $1 AND user_id = $2",
                    &numbered(sql::USER_COLUMNS)
                ),
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(u) = st.query_row([&s, &id], user_from_row).optional()? {
                    out.push(u);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn find_user_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>> {
        let (s, key) = (identity_store_id.to_string(), key.clone());
        self.read(move |c| match key {
            PrincipalKey::Name(n) => c
                .prepare_cached(&numbered(sql::FIND_USER_BY_NAME))?
                .query_row([s, n.to_lowercase()], |r| r.get(0))
                .optional(),
            PrincipalKey::Email(e) => c
                .prepare_cached(&numbered(sql::FIND_USER_BY_EMAIL))?
                .query_row([s, e.to_lowercase()], |r| r.get(0))
                .optional(),
            PrincipalKey::External { issuer, id } => find_external(c, &s, "user", &issuer, &id),
        })
        .await
    }

    async fn list_users(
        &self,
        identity_store_id: &str,
        user_name: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<User>> {
        let (s, name) = (
            identity_store_id.to_string(),
            user_name.map(str::to_lowercase),
        );
        self.read(move |c| match name {
            None => prep(c, &format!(
                    "SELECT {} FROM users WHERE identity_store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &numbered(sql::USER_COLUMNS)
                ))?
                .query_map(params![s, after_seq.unwrap_or(0), limit], user_from_row)?
                .collect(),
            Some(n) => prep(c, &format!(
                    "SELECT {} FROM users WHERE identity_store_id = $1 AND seq > $2 AND user_name_lower = $4 ORDER BY seq LIMIT $3",
                    &numbered(sql::USER_COLUMNS)
                ))?
                .query_map(params![s, after_seq.unwrap_or(0), limit, n], user_from_row)?
                .collect(),
        })
        .await
    }

    async fn update_user(&self, user: &User) -> StoreResult<UpdateOutcome> {
        let u = user.clone();
        let (profile, external) = (to_json(&u.profile)?, to_json(&u.external_ids)?);
        self.write(move |tx| {
            let name = u.profile.user_name.to_lowercase();
            if !exists(
                tx,
                &numbered(sql::USER_EXISTS),
                params![u.identity_store_id, u.user_id],
            )? {
                return Ok(UpdateOutcome::NotFound);
            }
            if exists(
                tx,
                &numbered(sql::USER_NAME_TAKEN),
                params![u.identity_store_id, name, u.user_id],
            )? {
                return Ok(UpdateOutcome::NameTaken);
            }
            tx.execute(
                &numbered(sql::UPDATE_USER),
                params![
                    u.identity_store_id,
                    u.user_id,
                    name,
                    u.profile.primary_email_lower(),
                    profile,
                    external,
                    u.enabled,
                    u.email_verified,
                    u.password_hash,
                    u.password_reset_email_owed,
                    u.updated_at,
                    u.updated_by
                ],
            )
            .map_err(map_err)?;
            Ok(UpdateOutcome::Updated)
        })
        .await
    }

    async fn delete_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<bool> {
        let (s, u) = (identity_store_id.to_string(), user_id.to_string());
        self.write(move |tx| {
            if tx
                .execute(&numbered(sql::DELETE_USER), params![s, u])
                .map_err(map_err)?
                == 0
            {
                return Ok(false);
            }
            tx.execute(
                &numbered(crate::assignment_sql::DEPROVISION_FOR_PRINCIPAL),
                [&u],
            )
            .map_err(map_err)?;
            tx.execute(&numbered(sql::DELETE_ASSIGNMENTS_OF), [&u])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::DELETE_EXTERNAL_IDS), params![s, u])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::RELEASE_USER_QUOTA), [&s])
                .map_err(map_err)?;
            Ok(true)
        })
        .await
    }

    async fn create_group(&self, group: &Group, quota: i64) -> StoreResult<CreateOutcome> {
        let g = group.clone();
        let (profile, external) = (to_json(&g.profile)?, to_json(&g.external_ids)?);
        self.write(move |tx| {
            let name = g.profile.display_name.to_lowercase();
            if exists(
                tx,
                &numbered(sql::GROUP_NAME_TAKEN),
                params![g.identity_store_id, name, g.group_id],
            )? {
                return Ok(CreateOutcome::NameTaken);
            }
            if tx
                .execute(
                    &numbered(sql::TAKE_GROUP_QUOTA),
                    params![g.identity_store_id, quota],
                )
                .map_err(map_err)?
                == 0
            {
                return Ok(
                    if exists(tx, &numbered(sql::STORE_EXISTS), [&g.identity_store_id])? {
                        CreateOutcome::QuotaExceeded
                    } else {
                        CreateOutcome::NoSuchStore
                    },
                );
            }
            tx.execute(
                &numbered(sql::INSERT_GROUP),
                params![
                    g.group_id,
                    g.identity_store_id,
                    name,
                    profile,
                    external,
                    g.created_at,
                    g.created_by,
                    g.updated_at,
                    g.updated_by
                ],
            )
            .map_err(map_err)?;
            insert_external_ids(
                tx,
                &g.identity_store_id,
                "group",
                &g.group_id,
                &g.external_ids,
            )?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn get_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
    ) -> StoreResult<Option<Group>> {
        let (s, g) = (identity_store_id.to_string(), group_id.to_string());
        self.read(move |c| {
            prep(
                c,
                &format!(
                "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2",
                &numbered(sql::GROUP_COLUMNS)
            ),
            )?
            .query_row([s, g], group_from_row)
            .optional()
        })
        .await
    }

    async fn get_groups(
        &self,
        identity_store_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<Group>> {
        let (s, ids) = (identity_store_id.to_string(), group_ids.to_vec());
        self.read(move |c| {
            let mut st = prep(
                c,
                &format!(
                "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2",
                &numbered(sql::GROUP_COLUMNS)
            ),
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(g) = st.query_row([&s, &id], group_from_row).optional()? {
                    out.push(g);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn find_group_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>> {
        let (s, key) = (identity_store_id.to_string(), key.clone());
        self.read(move |c| match key {
            PrincipalKey::Name(n) => c
                .prepare_cached(&numbered(sql::FIND_GROUP_BY_NAME))?
                .query_row([s, n.to_lowercase()], |r| r.get(0))
                .optional(),
            PrincipalKey::Email(_) => Ok(None),
            PrincipalKey::External { issuer, id } => find_external(c, &s, "group", &issuer, &id),
        })
        .await
    }

    async fn list_groups(
        &self,
        identity_store_id: &str,
        display_name: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Group>> {
        let (s, prefix) = (
            identity_store_id.to_string(),
            display_name.map(str::to_lowercase),
        );
        self.read(move |c| match prefix {
            None => prep(c, &format!(
                    "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &numbered(sql::GROUP_COLUMNS)
                ))?
                .query_map(params![s, after_seq.unwrap_or(0), limit], group_from_row)?
                .collect(),
            Some(p) => prep(c, &format!(
                    "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND seq > $2
                     AND display_name_lower >= $4 AND display_name_lower < $5 ORDER BY seq LIMIT $3",
                    &numbered(sql::GROUP_COLUMNS)
                ))?
                .query_map(
                    params![s, after_seq.unwrap_or(0), limit, p, sql::prefix_upper_bound(&p)],
                    group_from_row,
                )?
                .collect(),
        })
        .await
    }

    async fn update_group(&self, group: &Group) -> StoreResult<UpdateOutcome> {
        let g = group.clone();
        let (profile, external) = (to_json(&g.profile)?, to_json(&g.external_ids)?);
        self.write(move |tx| {
            let name = g.profile.display_name.to_lowercase();
            if !exists(
                tx,
                &numbered(sql::GROUP_EXISTS),
                params![g.identity_store_id, g.group_id],
            )? {
                return Ok(UpdateOutcome::NotFound);
            }
            if exists(
                tx,
                &numbered(sql::GROUP_NAME_TAKEN),
                params![g.identity_store_id, name, g.group_id],
            )? {
                return Ok(UpdateOutcome::NameTaken);
            }
            tx.execute(
                &numbered(sql::UPDATE_GROUP),
                params![
                    g.identity_store_id,
                    g.group_id,
                    name,
                    profile,
                    external,
                    g.updated_at,
                    g.updated_by
                ],
            )
            .map_err(map_err)?;
            Ok(UpdateOutcome::Updated)
        })
        .await
    }

    async fn delete_group(&self, identity_store_id: &str, group_id: &str) -> StoreResult<bool> {
        let (s, g) = (identity_store_id.to_string(), group_id.to_string());
        self.write(move |tx| {
            if tx
                .execute(&numbered(sql::DELETE_GROUP), params![s, g])
                .map_err(map_err)?
                == 0
            {
                return Ok(false);
            }
            tx.execute(
                &numbered(crate::assignment_sql::DEPROVISION_FOR_PRINCIPAL),
                [&g],
            )
            .map_err(map_err)?;
            tx.execute(&numbered(sql::DELETE_ASSIGNMENTS_OF), [&g])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::DELETE_EXTERNAL_IDS), params![s, g])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::RELEASE_GROUP_QUOTA), [&s])
                .map_err(map_err)?;
            Ok(true)
        })
        .await
    }

    async fn create_membership(
        &self,
        m: &Membership,
        max_groups: i64,
    ) -> StoreResult<MembershipOutcome> {
        let m = m.clone();
        self.write(move |tx| {
            if !exists(
                tx,
                &numbered(sql::USER_EXISTS),
                params![m.identity_store_id, m.user_id],
            )? {
                return Ok(MembershipOutcome::NoSuchUser);
            }
            if !exists(
                tx,
                &numbered(sql::GROUP_EXISTS),
                params![m.identity_store_id, m.group_id],
            )? {
                return Ok(MembershipOutcome::NoSuchGroup);
            }
            if let Some(id) = tx
                .query_row(
                    &numbered(sql::FIND_MEMBERSHIP),
                    params![m.identity_store_id, m.group_id, m.user_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?
            {
                return Ok(MembershipOutcome::AlreadyMember(id));
            }
            let count: i64 = tx
                .query_row(&numbered(sql::COUNT_USER_GROUPS), [&m.user_id], |r| {
                    r.get(0)
                })
                .map_err(map_err)?;
            if count >= max_groups {
                return Ok(MembershipOutcome::TooManyGroups);
            }
            tx.execute(
                &numbered(sql::INSERT_MEMBERSHIP),
                params![
                    m.membership_id,
                    m.identity_store_id,
                    m.group_id,
                    m.user_id,
                    m.created_at
                ],
            )
            .map_err(map_err)?;
            Ok(MembershipOutcome::Created)
        })
        .await
    }

    async fn get_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<Option<Membership>> {
        let (s, m) = (identity_store_id.to_string(), membership_id.to_string());
        self.read(move |c| {
            prep(
                c,
                &format!(
                "SELECT {} FROM memberships WHERE identity_store_id = $1 AND membership_id = $2",
                &numbered(sql::MEMBERSHIP_COLUMNS)
            ),
            )?
            .query_row([s, m], membership_from_row)
            .optional()
        })
        .await
    }

    async fn find_membership_id(
        &self,
        identity_store_id: &str,
        group_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<String>> {
        let (s, g, u) = (
            identity_store_id.to_string(),
            group_id.to_string(),
            user_id.to_string(),
        );
        self.read(move |c| {
            c.prepare_cached(&numbered(sql::FIND_MEMBERSHIP))?
                .query_row([s, g, u], |r| r.get(0))
                .optional()
        })
        .await
    }

    async fn delete_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<bool> {
        let (s, m) = (identity_store_id.to_string(), membership_id.to_string());
        self.write(move |tx| {
            tx.execute(&numbered(sql::DELETE_MEMBERSHIP), params![s, m])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn list_memberships_of_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Membership>> {
        let (s, g) = (identity_store_id.to_string(), group_id.to_string());
        self.read(move |c| {
            prep(c, &format!(
                "SELECT {} FROM memberships WHERE group_id = $1 AND identity_store_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &numbered(sql::MEMBERSHIP_COLUMNS)
            ))?
            .query_map(params![g, s, after_seq.unwrap_or(0), limit], membership_from_row)?
            .collect()
        })
        .await
    }

    async fn list_memberships_of_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Membership>> {
        let (s, u) = (identity_store_id.to_string(), user_id.to_string());
        self.read(move |c| {
            prep(c, &format!(
                "SELECT {} FROM memberships WHERE user_id = $1 AND identity_store_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &numbered(sql::MEMBERSHIP_COLUMNS)
            ))?
            .query_map(params![u, s, after_seq.unwrap_or(0), limit], membership_from_row)?
            .collect()
        })
        .await
    }

    async fn groups_containing(
        &self,
        identity_store_id: &str,
        user_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let (s, u, ids) = (
            identity_store_id.to_string(),
            user_id.to_string(),
            group_ids.to_vec(),
        );
        self.read(move |c| {
            let mut st = c.prepare_cached(&numbered(sql::FIND_MEMBERSHIP))?;
            let mut out = Vec::new();
            for g in ids {
                if st.exists([&s, &g, &u])? {
                    out.push(g);
                }
            }
            Ok(out)
        })
        .await
    }
}
