//! The policy language of permission sets: identity policies (`Version` "5.0") and custom role
//! policies (`Version` "1.1"). Documents are parsed and validated here — statement by statement,
//! naming the path of anything wrong — and kept as typed values for the evaluation to come.

use serde_json::{Map, Value};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Identity policy language, `Version` "5.0".
    IdentityPolicy,
    /// Custom role (fine-grained policy) language, `Version` "1.1".
    Role,
}

impl PolicyKind {
    pub fn version(self) -> &'static str {
        match self {
            PolicyKind::IdentityPolicy => "5.0",
            PolicyKind::Role => "1.1",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` (likewise for resources): the list, and whether it is negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub negated: bool,
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    StringStartWith,
    StringEndWith,
    StringMatch,
    NumberEquals,
    NumberNotEquals,
    NumberLessThan,
    NumberLessThanEquals,
    NumberGreaterThan,
    NumberGreaterThanEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "StringStartWith" => StringStartWith,
            "StringEndWith" => StringEndWith,
            "StringMatch" => StringMatch,
            "NumberEquals" => NumberEquals,
            "NumberNotEquals" => NumberNotEquals,
            "NumberLessThan" => NumberLessThan,
            "NumberLessThanEquals" => NumberLessThanEquals,
            "NumberGreaterThan" => NumberGreaterThan,
            "NumberGreaterThanEquals" => NumberGreaterThanEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "Null" => Null,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub qualifier: Option<SetQualifier>,
    pub operator: Operator,
    pub if_exists: bool,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Matcher,
    pub resources: Option<Matcher>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub kind: PolicyKind,
    pub statements: Vec<Statement>,
}

/// What is wrong with a document, and where (a JSON path such as `Statement[1].Action[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError {
        path: path.to_string(),
        message: message.into(),
    })
}

pub const MAX_STATEMENTS: usize = 100;
pub const MAX_ITEMS: usize = 100;

/// Parses and validates a policy document of `kind`, at most `max_len` characters long.
pub fn parse(text: &str, kind: PolicyKind, max_len: usize) -> Result<PolicyDocument, PolicyError> {
    let n = text.chars().count();
    if n == 0 || n > max_len {
        return err(
            "",
            format!("the document must be 1 to {max_len} characters long"),
        );
    }
    let value: Value = serde_json::from_str(text).map_err(|e| PolicyError {
        path: String::new(),
        message: format!("not valid JSON ({e})"),
    })?;
    let Value::Object(top) = value else {
        return err("", "the document must be a JSON object");
    };
    only_keys(&top, "", &["Version", "Statement"])?;
    match top.get("Version") {
        Some(Value::String(v)) if v == kind.version() => {}
        Some(Value::String(v)) => {
            return err(
                "Version",
                format!("must be \"{}\", not \"{v}\"", kind.version()),
            )
        }
        Some(_) => return err("Version", "must be a string"),
        None => return err("Version", "is required"),
    }
    let statements = match top.get("Statement") {
        Some(Value::Array(items)) if items.is_empty() => {
            return err("Statement", "must hold at least one statement")
        }
        Some(Value::Array(items)) if items.len() > MAX_STATEMENTS => {
            return err(
                "Statement",
                format!("may hold at most {MAX_STATEMENTS} statements"),
            )
        }
        Some(Value::Array(items)) => items,
        Some(_) => return err("Statement", "must be an array of statements"),
        None => return err("Statement", "is required"),
    };
    let statements = statements
        .iter()
        .enumerate()
        .map(|(i, s)| statement(s, &format!("Statement[{i}]"), kind))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument { kind, statements })
}

fn only_keys(obj: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), PolicyError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            return err(
                &at,
                format!(
                    "is not a policy element (allowed here: {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    Ok(())
}

fn statement(v: &Value, path: &str, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let Value::Object(obj) = v else {
        return err(path, "a statement must be a JSON object");
    };
    only_keys(
        obj,
        path,
        &[
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ],
    )?;
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s))
            if !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Some(s.clone())
        }
        Some(_) => {
            return err(
                &format!("{path}.Sid"),
                "must be 1 to 128 letters and digits",
            )
        }
    };
    let effect = match obj.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(_) => return err(&format!("{path}.Effect"), "must be \"Allow\" or \"Deny\""),
        None => return err(&format!("{path}.Effect"), "is required"),
    };
    let actions = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(a), None) => Matcher {
            negated: false,
            patterns: list(a, &format!("{path}.Action"), action)?,
        },
        (None, Some(a)) => Matcher {
            negated: true,
            patterns: list(a, &format!("{path}.NotAction"), action)?,
        },
        (Some(_), Some(_)) => return err(path, "a statement holds Action or NotAction, not both"),
        (None, None) => return err(&format!("{path}.Action"), "is required (or NotAction)"),
    };
    let resources = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(r), None) => Some(Matcher {
            negated: false,
            patterns: list(r, &format!("{path}.Resource"), resource)?,
        }),
        (None, Some(r)) => Some(Matcher {
            negated: true,
            patterns: list(r, &format!("{path}.NotResource"), resource)?,
        }),
        (Some(_), Some(_)) => {
            return err(path, "a statement holds Resource or NotResource, not both")
        }
        (None, None) => None,
    };
    if kind == PolicyKind::Role && resources.as_ref().is_some_and(|r| r.negated) {
        return err(
            &format!("{path}.NotResource"),
            "is not part of the 1.1 policy language",
        );
    }
    let conditions = match obj.get("Condition") {
        None => vec![],
        Some(c) => conditions(c, &format!("{path}.Condition"))?,
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        conditions,
    })
}

/// A string or a non-empty array of strings, each checked by `item`.
fn list(
    v: &Value,
    path: &str,
    item: fn(&str, &str) -> Result<(), PolicyError>,
) -> Result<Vec<String>, PolicyError> {
    let items: Vec<&Value> = match v {
        Value::String(_) => vec![v],
        Value::Array(a) if a.is_empty() => return err(path, "must not be empty"),
        Value::Array(a) if a.len() > MAX_ITEMS => {
            return err(path, format!("may hold at most {MAX_ITEMS} items"))
        }
        Value::Array(a) => a.iter().collect(),
        _ => return err(path, "must be a string or an array of strings"),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let at = format!("{path}[{i}]");
            match x {
                Value::String(s) => item(&at, s).map(|_| s.clone()),
                _ => err(&at, "must be a string"),
            }
        })
        .collect()
}

fn pattern_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '_' | '-' | '.'))
}

/// `*`, or `service:resource:action` where each part may use `*` and `?` wildcards.
fn action(path: &str, a: &str) -> Result<(), PolicyError> {
    if a == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = a.split(':').collect();
    if parts.len() != 3 || !parts.iter().all(|p| pattern_segment(p)) {
        return err(
            path,
            format!("\"{a}\" is not an action of the form service:resource:action"),
        );
    }
    if !parts[0]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?' || c == '-' || c == '_')
    {
        return err(path, format!("\"{a}\" has an invalid service name"));
    }
    Ok(())
}

/// `*`, or a resource name such as `obs:*:*:bucket:my-bucket`: colon-separated, no spaces or
/// control characters, at most 1,500 characters.
fn resource(path: &str, r: &str) -> Result<(), PolicyError> {
    if r.is_empty() || r.len() > 1500 {
        return err(path, "must be 1 to 1500 characters long");
    }
    if r == "*" {
        return Ok(());
    }
    if r.chars().any(|c| c.is_control() || c.is_whitespace()) || !r.contains(':') {
        return err(
            path,
            format!("\"{r}\" is not a resource name (service:region:account:type:id or *)"),
        );
    }
    Ok(())
}

fn conditions(v: &Value, path: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = v else {
        return err(path, "must be an object of operators");
    };
    if ops.is_empty() {
        return err(path, "must not be empty");
    }
    let mut out = Vec::new();
    for (name, keys) in ops {
        let at = format!("{path}.{name}");
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let operator = Operator::parse(base).ok_or_else(|| PolicyError {
            path: at.clone(),
            message: format!("\"{name}\" is not a condition operator"),
        })?;
        if if_exists && operator == Operator::Null {
            return err(&at, "Null cannot be combined with IfExists");
        }
        let Value::Object(keys) = keys else {
            return err(&at, "must map condition keys to values");
        };
        if keys.is_empty() {
            return err(&at, "must hold at least one condition key");
        }
        for (key, values) in keys {
            let kat = format!("{at}.{key}");
            condition_key(&kat, key)?;
            let values = condition_values(values, &kat, operator)?;
            out.push(Condition {
                qualifier,
                operator,
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

/// Condition keys are `prefix:name` (e.g. `g:UserName`, `obs:prefix`), optionally with a `/tag`.
fn condition_key(path: &str, key: &str) -> Result<(), PolicyError> {
    let ok = key.len() <= 256
        && key.split_once(':').is_some_and(|(svc, name)| {
            !svc.is_empty()
                && !name.is_empty()
                && svc
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !name.chars().any(|c| c.is_control() || c.is_whitespace())
        });
    if ok {
        Ok(())
    } else {
        err(
            path,
            format!("\"{key}\" is not a condition key of the form service:name"),
        )
    }
}

fn condition_values(v: &Value, path: &str, op: Operator) -> Result<Vec<String>, PolicyError> {
    let items: Vec<&Value> = match v {
        Value::Array(a) if a.is_empty() => return err(path, "must hold at least one value"),
        Value::Array(a) if a.len() > MAX_ITEMS => {
            return err(path, format!("may hold at most {MAX_ITEMS} values"))
        }
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let at = format!("{path}[{i}]");
            let s = match x {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return err(&at, "must be a string, number or boolean"),
            };
            check_value(&at, &s, op)?;
            Ok(s)
        })
        .collect()
}

fn check_value(path: &str, v: &str, op: Operator) -> Result<(), PolicyError> {
    use Operator::*;
    match op {
        NumberEquals
        | NumberNotEquals
        | NumberLessThan
        | NumberLessThanEquals
        | NumberGreaterThan
        | NumberGreaterThanEquals => {
            if v.parse::<f64>().map_or(true, |n| !n.is_finite()) {
                return err(path, format!("\"{v}\" is not a number"));
            }
        }
        DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => {
            let iso =
                time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                    .is_ok();
            let epoch = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            if !iso && !epoch {
                return err(
                    path,
                    format!("\"{v}\" is not a date (ISO 8601 / RFC 3339, or epoch seconds)"),
                );
            }
        }
        Bool | Null => {
            if v != "true" && v != "false" {
                return err(path, format!("\"{v}\" is not true or false"));
            }
        }
        IpAddress | NotIpAddress => {
            let (addr, prefix) = v.split_once('/').map_or((v, None), |(a, p)| (a, Some(p)));
            let parsed: Option<std::net::IpAddr> = addr.parse().ok();
            let prefix_ok = match (parsed, prefix) {
                (Some(_), None) => true,
                (Some(std::net::IpAddr::V4(_)), Some(p)) => p.parse::<u8>().is_ok_and(|n| n <= 32),
                (Some(std::net::IpAddr::V6(_)), Some(p)) => p.parse::<u8>().is_ok_and(|n| n <= 128),
                (None, _) => false,
            };
            if !prefix_ok {
                return err(path, format!("\"{v}\" is not an IP address or CIDR block"));
            }
        }
        _ => {
            if v.len() > 1024 {
                return err(path, "must be at most 1024 characters long");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, kind: PolicyKind) -> PolicyDocument {
        parse(text, kind, 131_072).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn bad(text: &str, kind: PolicyKind) -> PolicyError {
        parse(text, kind, 131_072).expect_err(text)
    }

    #[test]
    fn identity_policy_5_0_with_conditions() {
        let d = ok(
            r#"{"Version":"5.0","Statement":[
                {"Sid":"ReadObs","Effect":"Allow","Action":["obs:object:GetObject","obs:bucket:List*"],
                 "Resource":["obs:*:*:bucket:logs","obs:*:*:object:logs/*"],
                 "Condition":{"StringEquals":{"g:UserName":["alice","bob"]},
                              "ForAnyValue:StringLikeIfExists":{"obs:prefix":"logs/*"},
                              "NumberLessThan":{"g:Age":3},
                              "DateGreaterThan":{"g:CurrentTime":"2026-01-01T00:00:00Z"},
                              "Bool":{"g:MFAPresent":true},
                              "IpAddress":{"g:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
                {"Effect":"Deny","NotAction":"iam:*:*","NotResource":"*"}]}"#,
            PolicyKind::IdentityPolicy,
        );
        assert_eq!(d.statements.len(), 2);
        let s = &d.statements[0];
        assert_eq!(s.sid.as_deref(), Some("ReadObs"));
        assert_eq!(s.effect, Effect::Allow);
        assert_eq!(s.conditions.len(), 6);
        let like = s
            .conditions
            .iter()
            .find(|c| c.key == "obs:prefix")
            .expect("like");
        assert_eq!(like.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(like.if_exists);
        assert_eq!(like.operator, Operator::StringLike);
        assert!(d.statements[1].actions.negated);
        assert!(d.statements[1]
            .resources
            .as_ref()
            .is_some_and(|r| r.negated));
    }

    #[test]
    fn role_policy_1_1() {
        let d = ok(
            r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["ecs:*:get*","ecs:*:list*"]}]}"#,
            PolicyKind::Role,
        );
        assert_eq!(
            d.statements[0].actions.patterns,
            vec!["ecs:*:get*", "ecs:*:list*"]
        );
        assert!(d.statements[0].resources.is_none());
    }

    #[test]
    fn each_malformed_case_names_where() {
        let cases: &[(&str, PolicyKind, &str, &str)] = &[
            ("", PolicyKind::Role, "", "1 to"),
            ("{", PolicyKind::Role, "", "not valid JSON"),
            ("[]", PolicyKind::Role, "", "JSON object"),
            (
                r#"{"Statement":[]}"#,
                PolicyKind::Role,
                "Version",
                "required",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
                PolicyKind::Role,
                "Version",
                "\"1.1\"",
            ),
            (
                r#"{"Version":"1.1","Statement":[]}"#,
                PolicyKind::Role,
                "Statement",
                "at least one",
            ),
            (
                r#"{"Version":"1.1","Statement":{}}"#,
                PolicyKind::Role,
                "Statement",
                "array",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":"*"}],"Extra":1}"#,
                PolicyKind::Role,
                "Extra",
                "not a policy element",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Maybe","Action":"*"}]}"#,
                PolicyKind::Role,
                "Statement[0].Effect",
                "Allow",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow"}]}"#,
                PolicyKind::Role,
                "Statement[0].Action",
                "required",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":"*","NotAction":"*"}]}"#,
                PolicyKind::Role,
                "Statement[0]",
                "not both",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["ecs:server"]}]}"#,
                PolicyKind::Role,
                "Statement[0].Action[0]",
                "service:resource:action",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[]}]}"#,
                PolicyKind::Role,
                "Statement[0].Action",
                "empty",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[3]}]}"#,
                PolicyKind::Role,
                "Statement[0].Action[0]",
                "string",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Resource":["has space"]}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Resource[0]",
                "resource name",
            ),
            (
                r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":"*","NotResource":"*"}]}"#,
                PolicyKind::Role,
                "Statement[0].NotResource",
                "1.1",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringSounds":{"g:A":"x"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.StringSounds",
                "not a condition operator",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"NumberEquals":{"g:A":"ten"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.NumberEquals.g:A[0]",
                "not a number",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"DateLessThan":{"g:T":"yesterday"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.DateLessThan.g:T[0]",
                "not a date",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"Bool":{"g:MFA":"yes"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.Bool.g:MFA[0]",
                "true or false",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"IpAddress":{"g:SourceIp":"10.0.0.0/33"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.IpAddress.g:SourceIp[0]",
                "IP address",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"nocolon":"x"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.StringEquals.nocolon",
                "condition key",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"g:A":[]}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.StringEquals.g:A",
                "at least one value",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{"NullIfExists":{"g:A":"true"}}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition.NullIfExists",
                "IfExists",
            ),
            (
                r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":"*","Condition":{}}]}"#,
                PolicyKind::IdentityPolicy,
                "Statement[0].Condition",
                "empty",
            ),
        ];
        for (text, kind, path, fragment) in cases {
            let e = bad(text, *kind);
            assert_eq!(e.path, *path, "{text}: {e}");
            assert!(e.message.contains(fragment), "{text}: {e}");
        }
    }

    #[test]
    fn size_limit_is_enforced() {
        let long = format!(
            r#"{{"Version":"1.1","Statement":[{{"Effect":"Allow","Action":"*","Sid":"{}"}}]}}"#,
            "a".repeat(200)
        );
        assert!(parse(&long, PolicyKind::Role, 100)
            .expect_err("too long")
            .message
            .contains("1 to 100"));
    }

    /// Robustness: random byte-level mutations of a valid document never panic; they parse or
    /// are refused with a located error. (The coverage-guided fuzz target is in fuzz/.)
    #[test]
    fn mutated_documents_never_panic() {
        use rand::{Rng, SeedableRng};
        let seed_doc = r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["obs:*:get*"],"Resource":"obs:*:*:bucket:x","Condition":{"ForAllValues:StringLike":{"g:TagKeys":["a*"]},"NumberLessThanIfExists":{"g:N":1}}}]}"#;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let alphabet = br#"{}[]":,.*?/\ 0123456789abcdefgAEINSTV-_"#;
        for _ in 0..20_000 {
            let mut bytes = seed_doc.as_bytes().to_vec();
            for _ in 0..rng.gen_range(1..6) {
                let i = rng.gen_range(0..bytes.len());
                match rng.gen_range(0..3) {
                    0 => bytes[i] = alphabet[rng.gen_range(0..alphabet.len())],
                    1 => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, alphabet[rng.gen_range(0..alphabet.len())]),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = parse(text, PolicyKind::IdentityPolicy, 10_240);
            }
        }
    }
}
