//! The filter AST (RFC 7644 §3.4.2.2) and its canonical printing, which parses back to the same
//! tree.

use super::path::AttrPath;
use serde_json::Number;
use std::fmt;

/// A parsed filter. `And` and `Or` hold two or more operands, in the order written; a
/// parenthesised `and` inside an `and` stays a nested node (printing keeps the parentheses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attrPath pr`: the attribute has a value that is not null or empty.
    Present(AttrPath),
    /// `attrPath op value`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `not ( filter )`.
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    /// `attr[filter]`: some value of the multi-valued (or complex) attribute `path` matches
    /// `filter`, whose paths are sub-attribute names of `path`. `emails[type eq "work"].value co
    /// "x"` is read as `emails[type eq "work" and value co "x"]`, which says the same.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Whether the filter looks at the top-level attribute `name` (in any case and schema). The
    /// paths inside a value path's brackets are its sub-attributes, not top-level ones.
    pub fn reads_attribute(&self, name: &str) -> bool {
        match self {
            Filter::Present(path)
            | Filter::Compare { path, .. }
            | Filter::ValuePath { path, .. } => path.name.eq_ignore_ascii_case(name),
            Filter::Not(inner) => inner.reads_attribute(name),
            Filter::And(items) | Filter::Or(items) => items.iter().any(|f| f.reads_attribute(name)),
        }
    }
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator named `word`, ignoring case.
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `gt`, `ge`, `lt`, `le`.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// `co`, `sw`, `ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

/// A comparison value: a JSON scalar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => write!(f, "{}", serde_json::Value::from(s.as_str())),
        }
    }
}

impl fmt::Display for Filter {
    /// Lower-case keywords, single spaces, strings JSON-escaped, and parentheses around every
    /// `and`/`or` operand that is itself an `and` or an `or`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(items) => write_joined(f, items, " and "),
            Filter::Or(items) => write_joined(f, items, " or "),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, items: &[Filter], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        match item {
            Filter::And(_) | Filter::Or(_) => write!(f, "({item})")?,
            _ => write!(f, "{item}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(name: &str, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op,
            value,
        }
    }

    #[test]
    fn printing_is_canonical() {
        let f = Filter::Or(vec![
            Filter::And(vec![
                cmp("a", CompareOp::Eq, CompValue::String("x\"y\\\n".into())),
                Filter::Present(AttrPath::new("b").with_sub("c")),
            ]),
            Filter::Not(Box::new(Filter::Or(vec![
                cmp("n", CompareOp::Ge, CompValue::Number(Number::from(-3))),
                cmp("t", CompareOp::Ne, CompValue::Bool(true)),
            ]))),
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(cmp("type", CompareOp::Eq, CompValue::Null)),
            },
        ]);
        assert_eq!(
            f.to_string(),
            r#"(a eq "x\"y\\\n" and b.c pr) or not (n ge -3 or t ne true) or emails[type eq null]"#
        );
    }

    #[test]
    fn operators_by_keyword() {
        for op in CompareOp::ALL {
            assert_eq!(CompareOp::from_keyword(op.as_str()), Some(op));
            assert_eq!(
                CompareOp::from_keyword(&op.as_str().to_ascii_uppercase()),
                Some(op)
            );
        }
        assert_eq!(CompareOp::from_keyword("pr"), None);
        assert!(CompareOp::Le.is_ordering() && !CompareOp::Eq.is_ordering());
        assert!(CompareOp::Ew.is_substring() && !CompareOp::Ne.is_substring());
    }

    #[test]
    fn attributes_a_filter_reads() {
        let parse = |t: &str| crate::scim::parse_filter(t).expect(t);
        assert!(parse(r#"members[value eq "u"]"#).reads_attribute("members"));
        assert!(
            parse(r#"displayName eq "x" and not (MEMBERS.value pr)"#).reads_attribute("members")
        );
        assert!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:Group:members.value eq "u""#)
                .reads_attribute("members")
        );
        // A value that names it, or a sub-attribute of the same name, is not the attribute.
        assert!(!parse(r#"displayName eq "members""#).reads_attribute("members"));
        assert!(!parse(r#"emails[members eq "x"]"#).reads_attribute("members"));
    }
}
