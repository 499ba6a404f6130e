//! Values in and out of statements, one set of types for both drivers.

use crate::error::BoxError;
use rusqlite::types::{FromSql as SqliteFromSql, ToSqlOutput};
use rusqlite::ToSql as SqliteToSql;
use tokio_postgres::types::{IsNull, ToSql as PgToSql, Type};

/// A statement parameter: any value both drivers can bind (text, integers, booleans, bytes and
/// their `Option`s). PostgreSQL is strict about widths: `i64` binds `BIGINT`, `i32` `INTEGER`.
pub(crate) trait Param: Sync {
    fn sqlite(&self) -> &dyn SqliteToSql;
    fn postgres(&self) -> &(dyn PgToSql + Sync);
}

impl<T: SqliteToSql + PgToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn SqliteToSql {
        self
    }
    fn postgres(&self) -> &(dyn PgToSql + Sync) {
        self
    }
}

/// A list of strings bound as one parameter: a `text[]` on PostgreSQL (for `= ANY($n)`), a JSON
/// array on SQLite (for `IN (SELECT value FROM json_each(?n))`).
#[derive(Debug)]
pub(crate) struct TextList<'a>(pub &'a [String]);

impl SqliteToSql for TextList<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        serde_json::to_string(self.0)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
}

impl PgToSql for TextList<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&[String] as PgToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A column type both drivers can read.
pub(crate) trait Column: SqliteFromSql + for<'a> tokio_postgres::types::FromSql<'a> {}

impl<T: SqliteFromSql + for<'a> tokio_postgres::types::FromSql<'a>> Column for T {}

/// One row of a result, from either driver.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    pub(crate) fn get<T: Column>(&self, idx: usize) -> Result<T, BoxError> {
        match self {
            Row::Sqlite(r) => r.get(idx).map_err(Into::into),
            Row::Postgres(r) => r.try_get(idx).map_err(Into::into),
        }
    }

    /// A column holding JSON text.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, idx: usize) -> Result<T, BoxError> {
        let text: String = self.get(idx)?;
        serde_json::from_str(&text).map_err(|e| format!("column {idx}: stored JSON: {e}").into())
    }

    /// A column holding one of the names of `T` (an account status, a request kind…).
    pub(crate) fn named<T: iic_domain::names::Named>(&self, idx: usize) -> Result<T, BoxError> {
        let text: String = self.get(idx)?;
        T::from_name(&text)
            .ok_or_else(|| format!("column {idx}: {text:?} is not a known {}", T::WHAT).into())
    }

    /// A nullable column holding one of the names of `T`.
    pub(crate) fn named_opt<T: iic_domain::names::Named>(
        &self,
        idx: usize,
    ) -> Result<Option<T>, BoxError> {
        let text: Option<String> = self.get(idx)?;
        text.map(|t| {
            T::from_name(&t)
                .ok_or_else(|| format!("column {idx}: {t:?} is not a known {}", T::WHAT).into())
        })
        .transpose()
    }
}

/// A record read from a row; the mapping of each record type is written once.
pub(crate) trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> Result<Self, BoxError>;
}

impl FromRow for String {
    fn from_row(row: &Row<'_>) -> Result<Self, BoxError> {
        row.get(0)
    }
}

impl FromRow for Option<String> {
    fn from_row(row: &Row<'_>) -> Result<Self, BoxError> {
        row.get(0)
    }
}

impl FromRow for i64 {
    fn from_row(row: &Row<'_>) -> Result<Self, BoxError> {
        row.get(0)
    }
}

impl FromRow for bool {
    fn from_row(row: &Row<'_>) -> Result<Self, BoxError> {
        row.get(0)
    }
}

/// JSON text of a value the store keeps as JSON (read back with [`Row::json`]).
pub(crate) fn to_json<T: serde::Serialize>(
    operation: &'static str,
    v: &T,
) -> crate::StoreResult<String> {
    serde_json::to_string(v).map_err(|e| crate::StoreError::backend(operation, e))
}
