//! Statements, written once in PostgreSQL's form; the SQLite form is derived from it once, on
//! first use.

use super::Dialect;
use std::sync::OnceLock;

/// One SQL statement, in PostgreSQL's form. SQLite's is derived by three rules, the only ways in
/// which the two forms of any statement differ:
/// - parameters: SQLite numbers `$n` by first appearance rather than by `n`; `?n` is numbered by
///   `n`.
/// - list membership: `= ANY($n)` (a `text[]` on PostgreSQL) becomes
///   `IN (SELECT value FROM json_each(?n))` (the list is bound as a JSON array, see `TextList`).
/// - row locks: `FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY SHARE` (with `OF`
///   tables, `SKIP LOCKED`, `NOWAIT`) are dropped: a SQLite write transaction holds the whole database.
pub(crate) struct Sql {
    postgres: &'static str,
    sqlite: OnceLock<String>,
}

impl Sql {
    pub(crate) const fn new(text: &'static str) -> Sql {
        Sql {
            postgres: text,
            sqlite: OnceLock::new(),
        }
    }

    pub(crate) fn text(&self, dialect: Dialect) -> &str {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Sqlite => self.sqlite.get_or_init(|| sqlite_form(self.postgres)),
        }
    }

    /// The PostgreSQL text, which names the statement in errors and traces.
    pub(crate) fn name(&self) -> &'static str {
        self.postgres
    }
}

/// `text` without its row-locking clauses: ` FOR [NO KEY] UPDATE` or ` FOR [KEY] SHARE`, then optionally
/// ` OF` and table names, then optionally ` SKIP LOCKED` or ` NOWAIT`.
fn without_row_locks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = [
            " FOR UPDATE",
            " FOR NO KEY UPDATE",
            " FOR SHARE",
            " FOR KEY SHARE",
        ]
        .iter()
        .filter_map(|clause| rest.find(clause).map(|at| (at, clause.len())))
        .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        rest = skip_lock_tail(&rest[at + len..]);
    }
}

fn skip_lock_tail(mut rest: &str) -> &str {
    if let Some(tables) = rest.strip_prefix(" OF ") {
        rest = tables;
        loop {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            rest = &rest[end..];
            match rest.strip_prefix(", ") {
                Some(more) => rest = more,
                None => break,
            }
        }
    }
    [" SKIP LOCKED", " NOWAIT"]
        .iter()
        .find_map(|tail| rest.strip_prefix(tail))
        .unwrap_or(rest)
}

fn sqlite_form(postgres: &str) -> String {
    numbered(&lists_as_json(&without_row_locks(postgres)))
}

/// `= ANY($n)` becomes `IN (SELECT value FROM json_each($n))`.
fn lists_as_json(text: &str) -> String {
    const ANY: &str = "= ANY(";
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(at) = rest.find("= ANY($") {
        out.push_str(&rest[..at]);
        let after = &rest[at + ANY.len()..];
        let digits = after[1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len() - 1);
        let (param, tail) = after.split_at(1 + digits);
        match tail.strip_prefix(')') {
            Some(tail) => {
                out.push_str("IN (SELECT value FROM json_each(");
                out.push_str(param);
                out.push_str("))");
                rest = tail;
            }
            None => {
                out.push_str(ANY);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `$n` becomes `?n` (outside quoted text, where statements never use `$`).
fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_numbers_parameters_by_their_digits_and_drops_row_locks() {
        let s =
            Sql::new("SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '$x' FOR UPDATE SKIP LOCKED");
        assert_eq!(
            s.text(Dialect::Sqlite),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '$x'"
        );
        assert_eq!(
            Sql::new("SELECT 1 FROM t WHERE id IN (SELECT id FROM t FOR SHARE)")
                .text(Dialect::Sqlite),
            "SELECT 1 FROM t WHERE id IN (SELECT id FROM t)"
        );
        assert!(s
            .text(Dialect::Postgres)
            .ends_with("FOR UPDATE SKIP LOCKED"));
    }

    #[test]
    fn every_form_of_row_lock_is_dropped() {
        for (pg, sqlite) in [
            (
                "SELECT 1 FROM a JOIN b ON x FOR SHARE OF a",
                "SELECT 1 FROM a JOIN b ON x",
            ),
            (
                "SELECT 1 FROM a, b FOR UPDATE OF a, b NOWAIT",
                "SELECT 1 FROM a, b",
            ),
            (
                "x IN (SELECT id FROM t FOR UPDATE OF t SKIP LOCKED) AND y",
                "x IN (SELECT id FROM t) AND y",
            ),
            (
                "SELECT 1 FROM t FOR SHARE OF t\n UNION SELECT 2",
                "SELECT 1 FROM t\n UNION SELECT 2",
            ),
            ("SELECT 1 FROM t FOR UPDATE NOWAIT", "SELECT 1 FROM t"),
            ("SELECT 1 FROM t FOR NO KEY UPDATE", "SELECT 1 FROM t"),
            (
                "SELECT 1 FROM t FOR KEY SHARE OF t SKIP LOCKED",
                "SELECT 1 FROM t",
            ),
        ] {
            assert_eq!(without_row_locks(pg), sqlite, "{pg}");
        }
    }

    #[test]
    fn list_membership_reads_a_json_array_on_sqlite() {
        let s =
            Sql::new("SELECT 1 FROM t WHERE x = ANY($1) AND y = $2 AND z = ANY($13) FOR UPDATE");
        assert_eq!(s.text(Dialect::Postgres), s.postgres);
        assert_eq!(
            s.text(Dialect::Sqlite),
            "SELECT 1 FROM t WHERE x IN (SELECT value FROM json_each(?1)) AND y = ?2 \
             AND z IN (SELECT value FROM json_each(?13))"
        );
    }
}
