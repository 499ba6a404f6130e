//! What users and groups share: a name unique in their store (case-insensitively), a quota
//! counted on the store's row, external ids, and what deleting one takes with it.

use crate::db::{Db, Param, Sql};
use crate::{CreateOutcome, PrincipalKey, StoreResult, UpdateOutcome};
use iic_domain::directory::ExternalId;

/// The statements of one kind of principal.
pub(super) struct Principals {
    /// The `kind` of its external ids.
    pub kind: &'static str,
    pub name_taken: Sql,
    pub take_quota: Sql,
    pub release_quota: Sql,
    pub delete: Sql,
    pub find_by_name: Sql,
}

static STORE_EXISTS: Sql = Sql::new("SELECT 1 FROM identity_stores WHERE identity_store_id = $1");
static INSERT_EXTERNAL_ID: Sql = Sql::new(
    "INSERT INTO external_ids (identity_store_id, kind, issuer, external_id, principal_id) VALUES ($1, $2, $3, $4, $5)",
);
static DELETE_EXTERNAL_IDS: Sql =
    Sql::new("DELETE FROM external_ids WHERE identity_store_id = $1 AND principal_id = $2");
static FIND_BY_EXTERNAL_ID: Sql = Sql::new(
    "SELECT principal_id FROM external_ids WHERE identity_store_id = $1 AND kind = $2 AND issuer = $3 AND external_id = $4",
);
/// Deleting a principal removes its account assignments, and the agencies only it held.
static DEPROVISION_FOR_PRINCIPAL: Sql = Sql::new(
    "DELETE FROM provisioned_sets WHERE
     EXISTS (SELECT 1 FROM account_assignments a WHERE a.principal_id = $1
             AND a.permission_set_id = provisioned_sets.permission_set_id AND a.account_id = provisioned_sets.account_id)
     AND NOT EXISTS (SELECT 1 FROM account_assignments b WHERE b.principal_id <> $1
             AND b.permission_set_id = provisioned_sets.permission_set_id AND b.account_id = provisioned_sets.account_id)",
);
static DELETE_ASSIGNMENTS_OF: Sql =
    Sql::new("DELETE FROM account_assignments WHERE principal_id = $1");

pub(crate) async fn deprovision_for_principal(
    db: &mut Db<'_>,
    principal_id: &str,
) -> StoreResult<()> {
    db.execute(&DEPROVISION_FOR_PRINCIPAL, &[&principal_id])
        .await?;
    Ok(())
}

/// A new principal's row, inserted by [`create`].
pub(super) struct NewRow<'a> {
    pub store_id: &'a str,
    pub id: &'a str,
    pub name_lower: &'a str,
    pub insert: &'a Sql,
    pub params: &'a [&'a dyn Param],
    pub external_ids: &'a [ExternalId],
}

/// Inserts the principal unless its name is taken or the store holds `quota` of its kind.
pub(super) async fn create(
    db: &mut Db<'_>,
    t: &Principals,
    row: NewRow<'_>,
    quota: i64,
) -> StoreResult<CreateOutcome> {
    if db
        .exists(&t.name_taken, &[&row.store_id, &row.name_lower, &row.id])
        .await?
    {
        return Ok(CreateOutcome::NameTaken);
    }
    if db.execute(&t.take_quota, &[&row.store_id, &quota]).await? == 0 {
        return Ok(if db.exists(&STORE_EXISTS, &[&row.store_id]).await? {
            CreateOutcome::QuotaExceeded
        } else {
            CreateOutcome::NoSuchStore
        });
    }
    match db.execute(row.insert, row.params).await {
        Ok(_) => {}
        // A concurrent creation took the name between the check and the insert.
        Err(e) if e.is_conflict() => {
            db.discard();
            return Ok(CreateOutcome::NameTaken);
        }
        Err(e) => return Err(e),
    }
    for e in row.external_ids {
        db.execute(
            &INSERT_EXTERNAL_ID,
            &[&row.store_id, &t.kind, &e.issuer, &e.id, &row.id],
        )
        .await?;
    }
    Ok(CreateOutcome::Created)
}

/// Replaces the principal's row: `update` changes no row when the principal does not exist,
/// and the unique index on its store and lower-cased name refuses a taken name.
pub(super) async fn update(
    db: &mut Db<'_>,
    update: &Sql,
    params: &[&dyn Param],
) -> StoreResult<UpdateOutcome> {
    match db.execute(update, params).await {
        Ok(0) => Ok(UpdateOutcome::NotFound),
        Ok(_) => Ok(UpdateOutcome::Updated),
        Err(e) if e.is_conflict() => Ok(UpdateOutcome::NameTaken),
        Err(e) => Err(e),
    }
}

/// Deletes the principal with its memberships (by cascade), external ids and assignments, and
/// gives its quota back.
/// Makes the external-id index say exactly `ids` for the principal (after an update, which may
/// have changed them). An id another principal holds fails the write as a conflict.
pub(super) async fn replace_external_ids(
    db: &mut Db<'_>,
    kind: &str,
    store_id: &str,
    id: &str,
    ids: &[ExternalId],
) -> StoreResult<()> {
    db.execute(&DELETE_EXTERNAL_IDS, &[&store_id, &id]).await?;
    for e in ids {
        db.execute(
            &INSERT_EXTERNAL_ID,
            &[&store_id, &kind, &e.issuer, &e.id, &id],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn delete(
    db: &mut Db<'_>,
    t: &Principals,
    store_id: &str,
    id: &str,
) -> StoreResult<bool> {
    if db.execute(&t.delete, &[&store_id, &id]).await? == 0 {
        return Ok(false);
    }
    deprovision_for_principal(db, id).await?;
    db.execute(&DELETE_ASSIGNMENTS_OF, &[&id]).await?;
    db.execute(&DELETE_EXTERNAL_IDS, &[&store_id, &id]).await?;
    db.execute(&t.release_quota, &[&store_id]).await?;
    Ok(true)
}

/// The id of the principal with this name or external id; `by_email` serves the other keys.
pub(super) async fn find(
    db: &mut Db<'_>,
    t: &Principals,
    store_id: &str,
    key: &PrincipalKey,
    by_email: Option<&Sql>,
) -> StoreResult<Option<String>> {
    match key {
        PrincipalKey::Name(n) => {
            db.query_opt(&t.find_by_name, &[&store_id, &n.to_lowercase()])
                .await
        }
        PrincipalKey::Email(e) => match by_email {
            Some(sql) => db.query_opt(sql, &[&store_id, &e.to_lowercase()]).await,
            None => Ok(None),
        },
        PrincipalKey::External { issuer, id } => {
            db.query_opt(&FIND_BY_EXTERNAL_ID, &[&store_id, &t.kind, issuer, id])
                .await
        }
    }
}

/// `found` in the order of `ids` (a batch read returns rows in any order).
pub(super) fn in_order_of<T>(ids: &[String], mut found: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
    found.sort_by_key(|row| ids.iter().position(|i| i == id(row)));
    found
}
