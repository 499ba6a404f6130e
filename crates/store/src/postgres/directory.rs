//! The PostgreSQL implementation of the directory.

use super::{map_err, PgStore};
use crate::directory_sql as sql;
use crate::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use iic_domain::directory::ExternalId;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

fn from_json<T: serde::de::DeserializeOwned>(r: &Row, i: usize) -> Result<T, StoreError> {
    let text: String = r.try_get(i).map_err(map_err)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Backend(format!("stored JSON: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

fn user(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        seq: r.try_get(0)?,
        user_id: r.try_get(1)?,
        identity_store_id: r.try_get(2)?,
        profile: from_json(r, 3)?,
        external_ids: from_json(r, 4)?,
        enabled: r.try_get(5)?,
        email_verified: r.try_get(6)?,
        password_hash: r.try_get(7)?,
        password_reset_email_owed: r.try_get(8)?,
        created_at: r.try_get(9)?,
        created_by: r.try_get(10)?,
        updated_at: r.try_get(11)?,
        updated_by: r.try_get(12)?,
    })
}

fn group(r: &Row) -> Result<Group, StoreError> {
    Ok(Group {
        seq: r.try_get(0)?,
        group_id: r.try_get(1)?,
        identity_store_id: r.try_get(2)?,
        profile: from_json(r, 3)?,
        external_ids: from_json(r, 4)?,
        created_at: r.try_get(5)?,
        created_by: r.try_get(6)?,
        updated_at: r.try_get(7)?,
        updated_by: r.try_get(8)?,
    })
}

fn membership(r: &Row) -> StoreResult<Membership> {
    Ok(Membership {
        seq: r.try_get(0)?,
        membership_id: r.try_get(1)?,
        identity_store_id: r.try_get(2)?,
        group_id: r.try_get(3)?,
        user_id: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

async fn exists<C: GenericClient>(c: &C, q: &str, p: &[&(dyn ToSql + Sync)]) -> StoreResult<bool> {
    Ok(c.query_opt(q, p).await.map_err(map_err)?.is_some())
}

async fn one_string<C: GenericClient>(
    c: &C,
    q: &str,
    p: &[&(dyn ToSql + Sync)],
) -> StoreResult<Option<String>> {
    Ok(c.query_opt(q, p)
        .await
        .map_err(map_err)?
        .map(|r| r.try_get(0))
        .transpose()?)
}

async fn insert_external_ids<C: GenericClient>(
    c: &C,
    store: &str,
    kind: &str,
    principal: &str,
    ids: &[ExternalId],
) -> StoreResult<()> {
    for e in ids {
        c.execute(
            sql::INSERT_EXTERNAL_ID,
            &[&store, &kind, &e.issuer, &e.id, &principal],
        )
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(_))
}

#[async_trait]
impl DirectoryStore for PgStore {
    async fn identity_store(
        &self,
        identity_store_id: &str,
    ) -> StoreResult<Option<IdentityStoreInfo>> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::STORE_INFO).await.map_err(map_err)?;
        Ok(c.query_opt(&st, &[&identity_store_id])
            .await
            .map_err(map_err)?
            .map(|r| -> StoreResult<_> {
                let policy: Option<String> = r.try_get(5)?;
                Ok(IdentityStoreInfo {
                    identity_store_id: r.try_get(0)?,
                    instance_id: r.try_get(1)?,
                    organization_id: r.try_get(2)?,
                    users: r.try_get(3)?,
                    groups: r.try_get(4)?,
                    password_policy: policy.and_then(|p| serde_json::from_str(&p).ok()),
                })
            })
            .transpose()?)
    }

    async fn set_password_policy(
        &self,
        identity_store_id: &str,
        policy: &PasswordPolicy,
    ) -> StoreResult<bool> {
        let json = to_json(policy)?;
        let c = self.client().await?;
        Ok(c.execute(sql::SET_POLICY, &[&identity_store_id, &json])
            .await
            .map_err(map_err)?
            > 0)
    }

    async fn create_user(&self, u: &User, quota: i64) -> StoreResult<CreateOutcome> {
        let (profile, external) = (to_json(&u.profile)?, to_json(&u.external_ids)?);
        let name = u.profile.user_name.to_lowercase();
        let email = u.profile.primary_email_lower();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if exists(
            &tx,
            sql::USER_NAME_TAKEN,
            &[&u.identity_store_id, &name, &u.user_id],
        )
        .await?
        {
            return Ok(CreateOutcome::NameTaken);
        }
        if tx
            .execute(sql::TAKE_USER_QUOTA, &[&u.identity_store_id, &quota])
            .await
            .map_err(map_err)?
            == 0
        {
            return Ok(
                if exists(&tx, sql::STORE_EXISTS, &[&u.identity_store_id]).await? {
                    CreateOutcome::QuotaExceeded
                } else {
                    CreateOutcome::NoSuchStore
                },
            );
        }
        let inserted = tx
            .execute(
                sql::INSERT_USER,
                &[
                    &u.user_id,
                    &u.identity_store_id,
                    &name,
                    &email,
                    &profile,
                    &external,
                    &u.enabled,
                    &u.email_verified,
                    &u.password_hash,
                    &u.password_reset_email_owed,
                    &u.created_at,
                    &u.created_by,
                    &u.updated_at,
                    &u.updated_by,
                ],
            )
            .await
            .map_err(map_err);
        match inserted {
            Err(e) if is_conflict(&e) => return Ok(CreateOutcome::NameTaken),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        insert_external_ids(
            &tx,
            &u.identity_store_id,
            "user",
            &u.user_id,
            &u.external_ids,
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(CreateOutcome::Created)
    }

    async fn get_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<Option<User>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM users WHERE identity_store_id = $1 AND user_id = $2",
                sql::USER_COLUMNS
            ))
            .await
            .map_err(map_err)?;
        c.query_opt(&st, &[&identity_store_id, &user_id])
            .await
            .map_err(map_err)?
            .map(|r| user(&r))
            .transpose()
    }

    async fn get_users(
        &self,
        identity_store_id: &str,
        user_ids: &[String],
    ) -> StoreResult<Vec<User>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {} FROM users WHERE identity_store_id = $1 AND user_id = ANY($2)",
                    sql::USER_COLUMNS
                ),
                &[&identity_store_id, &user_ids],
            )
            .await
            .map_err(map_err)?;
        let mut found: Vec<User> = rows.iter().map(user).collect::<StoreResult<_>>()?;
        found.sort_by_key(|u| user_ids.iter().position(|id| *id == u.user_id));
        Ok(found)
    }

    async fn find_user_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        match key {
            PrincipalKey::Name(n) => {
                one_string(
                    &c,
                    sql::FIND_USER_BY_NAME,
                    &[&identity_store_id, &n.to_lowercase()],
                )
                .await
            }
            PrincipalKey::Email(e) => {
                one_string(
                    &c,
                    sql::FIND_USER_BY_EMAIL,
                    &[&identity_store_id, &e.to_lowercase()],
                )
                .await
            }
            PrincipalKey::External { issuer, id } => {
                one_string(
                    &c,
                    sql::FIND_BY_EXTERNAL_ID,
                    &[&identity_store_id, &"user", issuer, id],
                )
                .await
            }
        }
    }

    async fn list_users(
        &self,
        identity_store_id: &str,
        user_name: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<User>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match user_name.map(str::to_lowercase) {
            None => {
                let st = c
                    .prepare_cached(&format!(
                        "SELECT {} FROM users WHERE identity_store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        sql::USER_COLUMNS
                    ))
                    .await
                    .map_err(map_err)?;
                c.query(&st, &[&identity_store_id, &after, &limit]).await
            }
            Some(n) => {
                let st = c
                    .prepare_cached(&format!(
                        "SELECT {} FROM users WHERE identity_store_id = $1 AND seq > $2 AND user_name_lower = $4 ORDER BY seq LIMIT $3",
                        sql::USER_COLUMNS
                    ))
                    .await
                    .map_err(map_err)?;
                c.query(&st, &[&identity_store_id, &after, &limit, &n]).await
            }
        }
        .map_err(map_err)?;
        rows.iter().map(user).collect()
    }

    async fn update_user(&self, u: &User) -> StoreResult<UpdateOutcome> {
        let (profile, external) = (to_json(&u.profile)?, to_json(&u.external_ids)?);
        let name = u.profile.user_name.to_lowercase();
        let email = u.profile.primary_email_lower();
        let c = self.client().await?;
        let updated = c
            .execute(
                sql::UPDATE_USER,
                &[
                    &u.identity_store_id,
                    &u.user_id,
                    &name,
                    &email,
                    &profile,
                    &external,
                    &u.enabled,
                    &u.email_verified,
                    &u.password_hash,
                    &u.password_reset_email_owed,
                    &u.updated_at,
                    &u.updated_by,
                ],
            )
            .await
            .map_err(map_err);
        match updated {
            Ok(0) => Ok(UpdateOutcome::NotFound),
            Ok(_) => Ok(UpdateOutcome::Updated),
            Err(e) if is_conflict(&e) => Ok(UpdateOutcome::NameTaken),
            Err(e) => Err(e),
        }
    }

    async fn delete_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if tx
            .execute(sql::DELETE_USER, &[&identity_store_id, &user_id])
            .await
            .map_err(map_err)?
            == 0
        {
            return Ok(false);
        }
        tx.execute(
            crate::assignment_sql::DEPROVISION_FOR_PRINCIPAL,
            &[&user_id],
        )
        .await
        .map_err(map_err)?;
        tx.execute(sql::DELETE_ASSIGNMENTS_OF, &[&user_id])
            .await
            .map_err(map_err)?;
        tx.execute(sql::DELETE_EXTERNAL_IDS, &[&identity_store_id, &user_id])
            .await
            .map_err(map_err)?;
        tx.execute(sql::RELEASE_USER_QUOTA, &[&identity_store_id])
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn create_group(&self, g: &Group, quota: i64) -> StoreResult<CreateOutcome> {
        let (profile, external) = (to_json(&g.profile)?, to_json(&g.external_ids)?);
        let name = g.profile.display_name.to_lowercase();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if exists(
            &tx,
            sql::GROUP_NAME_TAKEN,
            &[&g.identity_store_id, &name, &g.group_id],
        )
        .await?
        {
            return Ok(CreateOutcome::NameTaken);
        }
        if tx
            .execute(sql::TAKE_GROUP_QUOTA, &[&g.identity_store_id, &quota])
            .await
            .map_err(map_err)?
            == 0
        {
            return Ok(
                if exists(&tx, sql::STORE_EXISTS, &[&g.identity_store_id]).await? {
                    CreateOutcome::QuotaExceeded
                } else {
                    CreateOutcome::NoSuchStore
                },
            );
        }
        let inserted = tx
            .execute(
                sql::INSERT_GROUP,
                &[
                    &g.group_id,
                    &g.identity_store_id,
                    &name,
                    &profile,
                    &external,
                    &g.created_at,
                    &g.created_by,
                    &g.updated_at,
                    &g.updated_by,
                ],
            )
            .await
            .map_err(map_err);
        match inserted {
            Err(e) if is_conflict(&e) => return Ok(CreateOutcome::NameTaken),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        insert_external_ids(
            &tx,
            &g.identity_store_id,
            "group",
            &g.group_id,
            &g.external_ids,
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(CreateOutcome::Created)
    }

    async fn get_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
    ) -> StoreResult<Option<Group>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2",
                sql::GROUP_COLUMNS
            ))
            .await
            .map_err(map_err)?;
        c.query_opt(&st, &[&identity_store_id, &group_id])
            .await
            .map_err(map_err)?
            .map(|r| group(&r))
            .transpose()
    }

    async fn get_groups(
        &self,
        identity_store_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<Group>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND group_id = ANY($2)",
                    sql::GROUP_COLUMNS
                ),
                &[&identity_store_id, &group_ids],
            )
            .await
            .map_err(map_err)?;
        let mut found: Vec<Group> = rows.iter().map(group).collect::<StoreResult<_>>()?;
        found.sort_by_key(|g| group_ids.iter().position(|id| *id == g.group_id));
        Ok(found)
    }

    async fn find_group_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        match key {
            PrincipalKey::Name(n) => {
                one_string(
                    &c,
                    sql::FIND_GROUP_BY_NAME,
                    &[&identity_store_id, &n.to_lowercase()],
                )
                .await
            }
            PrincipalKey::Email(_) => Ok(None),
            PrincipalKey::External { issuer, id } => {
                one_string(
                    &c,
                    sql::FIND_BY_EXTERNAL_ID,
                    &[&identity_store_id, &"group", issuer, id],
                )
                .await
            }
        }
    }

    async fn list_groups(
        &self,
        identity_store_id: &str,
        display_name: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Group>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match display_name.map(str::to_lowercase) {
            None => {
                let st = c
                    .prepare_cached(&format!(
                        "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        sql::GROUP_COLUMNS
                    ))
                    .await
                    .map_err(map_err)?;
                c.query(&st, &[&identity_store_id, &after, &limit]).await
            }
            Some(p) => {
                let st = c
                    .prepare_cached(&format!(
                        "SELECT {} FROM directory_groups WHERE identity_store_id = $1 AND seq > $2
                         AND display_name_lower >= $4 AND display_name_lower < $5 ORDER BY seq LIMIT $3",
                        sql::GROUP_COLUMNS
                    ))
                    .await
                    .map_err(map_err)?;
                let upper = sql::prefix_upper_bound(&p);
                c.query(&st, &[&identity_store_id, &after, &limit, &p, &upper]).await
            }
        }
        .map_err(map_err)?;
        rows.iter().map(group).collect()
    }

    async fn update_group(&self, g: &Group) -> StoreResult<UpdateOutcome> {
        let (profile, external) = (to_json(&g.profile)?, to_json(&g.external_ids)?);
        let name = g.profile.display_name.to_lowercase();
        let c = self.client().await?;
        let updated = c
            .execute(
                sql::UPDATE_GROUP,
                &[
                    &g.identity_store_id,
                    &g.group_id,
                    &name,
                    &profile,
                    &external,
                    &g.updated_at,
                    &g.updated_by,
                ],
            )
            .await
            .map_err(map_err);
        match updated {
            Ok(0) => Ok(UpdateOutcome::NotFound),
            Ok(_) => Ok(UpdateOutcome::Updated),
            Err(e) if is_conflict(&e) => Ok(UpdateOutcome::NameTaken),
            Err(e) => Err(e),
        }
    }

    async fn delete_group(&self, identity_store_id: &str, group_id: &str) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if tx
            .execute(sql::DELETE_GROUP, &[&identity_store_id, &group_id])
            .await
            .map_err(map_err)?
            == 0
        {
            return Ok(false);
        }
        tx.execute(
            crate::assignment_sql::DEPROVISION_FOR_PRINCIPAL,
            &[&group_id],
        )
        .await
        .map_err(map_err)?;
        tx.execute(sql::DELETE_ASSIGNMENTS_OF, &[&group_id])
            .await
            .map_err(map_err)?;
        tx.execute(sql::DELETE_EXTERNAL_IDS, &[&identity_store_id, &group_id])
            .await
            .map_err(map_err)?;
        tx.execute(sql::RELEASE_GROUP_QUOTA, &[&identity_store_id])
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn create_membership(
        &self,
        m: &Membership,
        max_groups: i64,
    ) -> StoreResult<MembershipOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        // Locking the user's row serializes its membership changes, so the limit holds under
        // concurrency.
        if tx
            .query_opt(
                "SELECT 1 FROM users WHERE identity_store_id = $1 AND user_id = $2 FOR UPDATE",
                &[&m.identity_store_id, &m.user_id],
            )
            .await
            .map_err(map_err)?
            .is_none()
        {
            return Ok(MembershipOutcome::NoSuchUser);
        }
        if !exists(&tx, sql::GROUP_EXISTS, &[&m.identity_store_id, &m.group_id]).await? {
            return Ok(MembershipOutcome::NoSuchGroup);
        }
        if let Some(id) = one_string(
            &tx,
            sql::FIND_MEMBERSHIP,
            &[&m.identity_store_id, &m.group_id, &m.user_id],
        )
        .await?
        {
            return Ok(MembershipOutcome::AlreadyMember(id));
        }
        let count: i64 = tx
            .query_one(sql::COUNT_USER_GROUPS, &[&m.user_id])
            .await
            .map_err(map_err)?
            .try_get(0)?;
        if count >= max_groups {
            return Ok(MembershipOutcome::TooManyGroups);
        }
        tx.execute(
            sql::INSERT_MEMBERSHIP,
            &[
                &m.membership_id,
                &m.identity_store_id,
                &m.group_id,
                &m.user_id,
                &m.created_at,
            ],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(MembershipOutcome::Created)
    }

    async fn get_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<Option<Membership>> {
        let c = self.client().await?;
        Ok(c.query_opt(
            &format!(
                "SELECT {} FROM memberships WHERE identity_store_id = $1 AND membership_id = $2",
                sql::MEMBERSHIP_COLUMNS
            ),
            &[&identity_store_id, &membership_id],
        )
        .await
        .map_err(map_err)?
        .map(|r| membership(&r))
        .transpose()?)
    }

    async fn find_membership_id(
        &self,
        identity_store_id: &str,
        group_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        one_string(
            &c,
            sql::FIND_MEMBERSHIP,
            &[&identity_store_id, &group_id, &user_id],
        )
        .await
    }

    async fn delete_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(
            sql::DELETE_MEMBERSHIP,
            &[&identity_store_id, &membership_id],
        )
        .await
        .map_err(map_err)?
            > 0)
    }

    async fn list_memberships_of_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Membership>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM memberships WHERE group_id = $1 AND identity_store_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                sql::MEMBERSHIP_COLUMNS
            ))
            .await
            .map_err(map_err)?;
        Ok(c.query(
            &st,
            &[
                &group_id,
                &identity_store_id,
                &after_seq.unwrap_or(0),
                &limit,
            ],
        )
        .await
        .map_err(map_err)?
        .iter()
        .map(membership)
        .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn list_memberships_of_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Membership>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM memberships WHERE user_id = $1 AND identity_store_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                sql::MEMBERSHIP_COLUMNS
            ))
            .await
            .map_err(map_err)?;
        Ok(c.query(
            &st,
            &[
                &user_id,
                &identity_store_id,
                &after_seq.unwrap_or(0),
                &limit,
            ],
        )
        .await
        .map_err(map_err)?
        .iter()
        .map(membership)
        .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn groups_containing(
        &self,
        identity_store_id: &str,
        user_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT group_id FROM memberships WHERE identity_store_id = $1 AND user_id = $2 AND group_id = ANY($3)",
                &[&identity_store_id, &user_id, &group_ids],
            )
            .await
            .map_err(map_err)?;
        let found = rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<String>, _>>()?;
        Ok(group_ids
            .iter()
            .filter(|g| found.contains(g))
            .cloned()
            .collect())
    }
}
