//! What a database (or the way to it) said about a failure: its own code and message, and
//! whether trying again may succeed. Decided from the driver's own codes, never from wording.

use std::error::Error;

/// A failure as the database reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// The database's own words for it, with its code: `SQLSTATE 22021: …`, `SQLite 2067
    /// (ConstraintViolation): …`; None when the failure came from elsewhere (the pool, the
    /// network) and its own chain of messages says it best.
    pub(crate) said: Option<String>,
    pub(crate) transient: bool,
}

/// The cause found in `source` or the errors beneath it; None when nothing in the chain comes
/// from a driver, the pool or the operating system (then the failure is the store's own, e.g.
/// a stored value it cannot read back, and permanent).
pub(crate) fn cause_of(source: &(dyn Error + 'static)) -> Option<Cause> {
    let mut next = Some(source);
    while let Some(e) = next {
        if let Some(e) = e.downcast_ref::<tokio_postgres::Error>() {
            return Some(postgres(e));
        }
        if let Some(e) = e.downcast_ref::<rusqlite::Error>() {
            return Some(sqlite(e));
        }
        if let Some(e) = e.downcast_ref::<deadpool_postgres::PoolError>() {
            if !matches!(e, deadpool_postgres::PoolError::Backend(_)) {
                // Timed out waiting for a connection, or the pool is closing.
                return Some(Cause {
                    said: None,
                    transient: true,
                });
            }
        }
        if e.downcast_ref::<std::io::Error>().is_some() {
            return Some(Cause {
                said: None,
                transient: true,
            });
        }
        next = e.source();
    }
    None
}

fn postgres(e: &tokio_postgres::Error) -> Cause {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let mut said = format!("SQLSTATE {code}: {}", db.message());
            if let Some(detail) = db.detail() {
                said.push_str(&format!(" ({detail})"));
            }
            Cause {
                said: Some(said),
                transient: sqlstate_is_transient(code),
            }
        }
        // No answer from the server: the connection closed or the network failed (an I/O
        // error beneath), or the driver refused a value before sending it (permanent).
        None => Cause {
            said: None,
            transient: e.is_closed() || io_beneath(e),
        },
    }
}

fn io_beneath(e: &(dyn Error + 'static)) -> bool {
    let mut next = e.source();
    while let Some(e) = next {
        if e.is::<std::io::Error>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// Connection failures (class 08), serialization failures and deadlocks, insufficient
/// resources (class 53), a lock not available, and a server shutting down or starting up
/// pass; everything else (data exceptions, integrity rules, syntax, internal errors) would
/// fail again the same way.
fn sqlstate_is_transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03"
        )
}

fn sqlite(e: &rusqlite::Error) -> Cause {
    let failure = match e {
        rusqlite::Error::SqliteFailure(f, message) => {
            Some((f, message.clone().unwrap_or_else(|| f.to_string())))
        }
        // A statement SQLite could not compile, with the token it stopped at.
        rusqlite::Error::SqlInputError { error, msg, .. } => Some((error, msg.clone())),
        _ => None,
    };
    match failure {
        Some((f, text)) => Cause {
            said: Some(format!("SQLite {} ({:?}): {text}", f.extended_code, f.code)),
            transient: matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
        },
        // Everything else rusqlite reports is about values and statements, never the database.
        _ => Cause {
            said: None,
            transient: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, TransactionBehavior};

    fn sqlite_cause(e: rusqlite::Error) -> Cause {
        let boxed: Box<dyn Error + Send + Sync> = Box::new(e);
        cause_of(boxed.as_ref()).expect("a cause")
    }

    #[test]
    fn a_busy_sqlite_database_is_transient() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("busy.db");
        let mut holder = Connection::open(&path).expect("open");
        let other = Connection::open(&path).expect("open");
        other
            .busy_timeout(std::time::Duration::ZERO)
            .expect("timeout");
        let _held = holder
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .expect("lock");
        let e = other
            .execute_batch("BEGIN IMMEDIATE")
            .expect_err("the database is locked by the other connection");
        let cause = sqlite_cause(e);
        assert!(cause.transient, "{cause:?}");
        let said = cause.said.expect("the database's words");
        assert!(said.starts_with("SQLite 5 (DatabaseBusy): "), "{said}");
    }

    #[test]
    fn a_sqlite_constraint_or_syntax_error_is_permanent() {
        let c = Connection::open_in_memory().expect("open");
        c.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a')")
            .expect("setup");
        let cause = sqlite_cause(
            c.execute("INSERT INTO t VALUES ('a')", [])
                .expect_err("duplicate"),
        );
        assert!(!cause.transient);
        assert_eq!(
            cause.said.as_deref(),
            Some("SQLite 1555 (ConstraintViolation): UNIQUE constraint failed: t.id")
        );
        let cause = sqlite_cause(c.execute("SELEC 1", []).expect_err("syntax"));
        assert!(!cause.transient);
        let said = cause.said.expect("the database's words");
        assert!(said.contains("syntax error"), "{said}");
    }

    #[test]
    fn waiting_too_long_for_a_pooled_connection_is_transient() {
        let e = deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait);
        let boxed: Box<dyn Error + Send + Sync> = Box::new(e);
        assert_eq!(
            cause_of(boxed.as_ref()),
            Some(Cause {
                said: None,
                transient: true
            })
        );
    }

    #[test]
    fn io_errors_are_transient_and_the_stores_own_failures_have_no_cause() {
        let io: Box<dyn Error + Send + Sync> = Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        ));
        assert!(cause_of(io.as_ref()).is_some_and(|c| c.transient));
        let own: Box<dyn Error + Send + Sync> = "the statement returned no row".into();
        assert_eq!(cause_of(own.as_ref()), None);
    }

    #[test]
    fn sqlstate_classes() {
        for transient in [
            "08006", "08001", "40001", "40P01", "53100", "53300", "55P03", "57P01", "57P02",
            "57P03",
        ] {
            assert!(sqlstate_is_transient(transient), "{transient}");
        }
        for permanent in [
            "22021", "22001", "23505", "23503", "42601", "42501", "XX000", "40002", "57014",
            "55000", "P0001",
        ] {
            assert!(!sqlstate_is_transient(permanent), "{permanent}");
        }
    }

    /// Real errors from a live PostgreSQL: each code raised by the server itself.
    #[tokio::test]
    async fn postgres_errors_are_classified_by_their_sqlstate() {
        let Ok(url) = std::env::var("IIC_TEST_POSTGRES_URL") else {
            eprintln!("SKIPPED: PostgreSQL error classification (IIC_TEST_POSTGRES_URL not set)");
            return;
        };
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        for (code, transient) in [
            ("40001", true),
            ("40P01", true),
            ("55P03", true),
            ("53300", true),
            ("22021", false),
            ("23505", false),
            ("42601", false),
            ("XX000", false),
        ] {
            let e = client
                .batch_execute(&format!(
                    "DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{code}'; END $$"
                ))
                .await
                .expect_err("raised");
            let boxed: Box<dyn Error + Send + Sync> = Box::new(e);
            let cause = cause_of(boxed.as_ref()).expect("a cause");
            assert_eq!(cause.transient, transient, "{code}");
            assert_eq!(
                cause.said.as_deref(),
                Some(format!("SQLSTATE {code}: raised").as_str())
            );
        }
        let e = client
            .query("SELECT $1::text", &[&"a\0b"])
            .await
            .expect_err("NUL refused");
        let boxed: Box<dyn Error + Send + Sync> = Box::new(e);
        let cause = cause_of(boxed.as_ref()).expect("a cause");
        assert!(!cause.transient);
        assert_eq!(
            cause.said.as_deref(),
            Some("SQLSTATE 22021: invalid byte sequence for encoding \"UTF8\": 0x00")
        );
        // The server ending the session (an administrator, a restart) is a passing failure.
        let e = client
            .batch_execute("SELECT pg_terminate_backend(pg_backend_pid())")
            .await
            .expect_err("terminated");
        let boxed: Box<dyn Error + Send + Sync> = Box::new(e);
        assert!(cause_of(boxed.as_ref()).is_some_and(|c| c.transient));
    }
}
