//! The one error type of the store. It names the store operation that failed and, for a backend
//! failure, the statement and the database's own reason; what callers show for it is decided by
//! the API layer, never here.

use crate::db::cause_of;
use std::fmt;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug)]
pub enum StoreError {
    /// A uniqueness or reference rule of the schema refused a write that the operation's own
    /// checks could not foresee (a concurrent writer won). Retrying may succeed.
    Conflict {
        operation: &'static str,
        /// The rule, as the database names it (a constraint or the columns it covers).
        rule: String,
    },
    /// The database or the connection to it failed, or a stored value could not be read back.
    Backend {
        operation: &'static str,
        /// The statement that failed, when one did.
        statement: Option<&'static str>,
        source: BoxError,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The store operation that failed, e.g. `create_user`.
    pub fn operation(&self) -> &'static str {
        match self {
            StoreError::Conflict { operation, .. } | StoreError::Backend { operation, .. } => {
                operation
            }
        }
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Whether the same operation may succeed when tried again: the connection failed, the
    /// database was busy, locked, short of resources or restarting, a transaction lost a
    /// serialization race. Everything else — a value the database refuses, a broken rule of the
    /// schema (a [`StoreError::Conflict`] too), a stored value that cannot be read back — would
    /// fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Conflict { .. } => false,
            StoreError::Backend { source, .. } => {
                cause_of(source.as_ref()).is_some_and(|c| c.transient)
            }
        }
    }

    pub(crate) fn backend(operation: &'static str, source: impl Into<BoxError>) -> StoreError {
        StoreError::Backend {
            operation,
            statement: None,
            source: source.into(),
        }
    }
}

/// The first line of a statement, enough to find it in the code.
fn headline(statement: &str) -> &str {
    let line = statement.trim_start().lines().next().unwrap_or_default();
    match line.char_indices().nth(72) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Conflict { operation, rule } => {
                write!(f, "store operation {operation}: refused by {rule}")
            }
            StoreError::Backend {
                operation,
                statement,
                source,
            } => {
                write!(f, "store operation {operation} failed")?;
                if let Some(s) = statement {
                    write!(f, " at `{}`", headline(s))?;
                }
                if let Some(said) = cause_of(source.as_ref()).and_then(|c| c.said) {
                    return write!(f, ": {said}");
                }
                // The whole chain: a driver's own message is often only "db error", with the
                // reason one level down.
                write!(f, ": {source}")?;
                let mut cause = source.source();
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Backend { source, .. } => Some(source.as_ref()),
            StoreError::Conflict { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("db error")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("invalid byte sequence for encoding \"UTF8\": 0x00")
        }
    }
    impl std::error::Error for Inner {}
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_backend_failure_names_operation_statement_and_every_cause() {
        let e = StoreError::Backend {
            operation: "create_user",
            statement: Some("INSERT INTO users (user_id, identity_store_id)\n VALUES ($1, $2)"),
            source: Box::new(Outer(Inner)),
        };
        assert_eq!(
            e.to_string(),
            "store operation create_user failed at `INSERT INTO users (user_id, identity_store_id)`: \
             db error: invalid byte sequence for encoding \"UTF8\": 0x00"
        );
        assert_eq!(e.operation(), "create_user");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn long_statements_are_cut_on_a_character_boundary() {
        let s = "SELECT ".to_string() + &"é".repeat(100);
        assert_eq!(headline(&s).chars().count(), 72);
    }
}
