//! Evaluating a filter against a resource in its SCIM JSON form: the fallback for filters no
//! index answers.
//!
//! - Attribute names are found without regard to case. An unqualified name missing from the
//!   core attributes is looked for in the extension objects (`"urn:…": {…}`) too.
//! - A multi-valued attribute matches when any of its values does; a complex value compared
//!   without a sub-attribute compares its `value` sub-attribute (`emails co "x"`).
//! - Strings compare by the attribute's case rule ([`AttrRules`]); `gt`/`ge`/`lt`/`le` compare
//!   strings lexicographically (by code point, after folding case where the attribute is not
//!   case-exact), and dateTimes chronologically when both sides are RFC 3339 timestamps (as
//!   text, exactly, when one is not).
//! - Numbers compare numerically; booleans only with `eq`/`ne` (`"true"`/`"false"` strings are
//!   taken for the booleans, as some clients send them).
//! - `pr` holds when some value is neither null, `""`, `[]` nor `{}`. `eq null` holds when none
//!   is, `ne null` when `pr` would.
//! - `ne` holds when the attribute has no value, and otherwise when some value is not equal.
//!   Values of another JSON type than the comparison value are not equal to it.

use super::filter::{CompValue, CompareOp, Filter};
use super::path::AttrPath;
use super::schema::AttrRules;
use serde_json::{Number, Value};
use std::cmp::Ordering;

/// Whether `resource` (a User or Group as SCIM JSON) matches `filter`.
pub fn matches(filter: &Filter, resource: &Value, rules: &dyn AttrRules) -> bool {
    eval(filter, resource, None, rules)
}

/// Whether `element`, one value of the multi-valued attribute `attr`, matches `filter`, whose
/// paths are sub-attribute names of `attr` (the filter of `emails[type eq "work"]`).
pub fn matches_element(
    filter: &Filter,
    element: &Value,
    attr: &AttrPath,
    rules: &dyn AttrRules,
) -> bool {
    element.is_object() && eval(filter, element, Some(attr), rules)
}

/// `parent` is the attribute of the value path `ctx` is one value of; `None` at the resource.
fn eval(filter: &Filter, ctx: &Value, parent: Option<&AttrPath>, rules: &dyn AttrRules) -> bool {
    match filter {
        Filter::Present(path) => values(ctx, path, parent.is_none())
            .iter()
            .any(|v| !is_empty(v)),
        Filter::Compare { path, op, value } => compare_attr(ctx, path, *op, value, parent, rules),
        Filter::Not(inner) => !eval(inner, ctx, parent, rules),
        Filter::And(items) => items.iter().all(|f| eval(f, ctx, parent, rules)),
        Filter::Or(items) => items.iter().any(|f| eval(f, ctx, parent, rules)),
        Filter::ValuePath { path, filter } => {
            let own = absolute(path, parent);
            values(ctx, path, parent.is_none())
                .into_iter()
                .any(|v| v.is_object() && eval(filter, v, Some(&own), rules))
        }
    }
}

fn compare_attr(
    ctx: &Value,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
    parent: Option<&AttrPath>,
    rules: &dyn AttrRules,
) -> bool {
    let found = values(ctx, path, parent.is_none());
    if *value == CompValue::Null {
        let present = found.iter().any(|v| !is_empty(v));
        return match op {
            CompareOp::Eq => !present,
            CompareOp::Ne => present,
            _ => false,
        };
    }
    let mut target = absolute(path, parent);
    // A complex value compared as a whole compares its `value`.
    let complex = path.sub.is_none() && found.iter().any(|v| v.is_object());
    if complex {
        target.sub = Some("value".to_string());
    }
    let mut candidates = Vec::with_capacity(found.len());
    for v in found {
        match v {
            Value::Object(_) => {
                if let Some(inner) = get(v, "value") {
                    push_flat(inner, &mut candidates);
                }
            }
            other => candidates.push(other),
        }
    }
    if candidates.is_empty() {
        return op == CompareOp::Ne;
    }
    let date_time = rules.date_time(&target);
    // Timestamps are read as written; as text they compare exactly.
    let exact = date_time || rules.case_exact(&target);
    let folded;
    let value = match value {
        CompValue::String(s) if !exact => {
            folded = CompValue::String(s.to_lowercase());
            &folded
        }
        other => other,
    };
    candidates
        .into_iter()
        .any(|v| compare(v, op, value, exact, date_time))
}

/// One value against the comparison value (already case-folded when `!exact`).
fn compare(v: &Value, op: CompareOp, want: &CompValue, exact: bool, date_time: bool) -> bool {
    if op == CompareOp::Ne {
        return !compare(v, CompareOp::Eq, want, exact, date_time);
    }
    match (v, want) {
        (Value::String(have), CompValue::String(want)) => {
            if date_time && !op.is_substring() {
                if let (Some(a), Some(b)) = (date(have), date(want)) {
                    return ordered(op, a.cmp(&b));
                }
            }
            if exact {
                compare_str(op, have, want)
            } else {
                compare_str(op, &have.to_lowercase(), want)
            }
        }
        (Value::Number(have), CompValue::Number(want)) => {
            !op.is_substring() && number_order(have, want).is_some_and(|o| ordered(op, o))
        }
        (Value::Bool(have), CompValue::Bool(want)) => op == CompareOp::Eq && have == want,
        (Value::Bool(have), CompValue::String(want)) => {
            op == CompareOp::Eq && bool_text(want) == Some(*have)
        }
        _ => false,
    }
}

fn compare_str(op: CompareOp, have: &str, want: &str) -> bool {
    match op {
        CompareOp::Co => have.contains(want),
        CompareOp::Sw => have.starts_with(want),
        CompareOp::Ew => have.ends_with(want),
        _ => ordered(op, have.cmp(want)),
    }
}

fn ordered(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn number_order(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// `"true"`/`"false"` in any case, already folded or not.
fn bool_text(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn date(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `path` as seen from the resource: inside `emails[…]`, `type` is `emails.type`.
fn absolute(path: &AttrPath, parent: Option<&AttrPath>) -> AttrPath {
    match parent {
        None => path.clone(),
        Some(p) => AttrPath {
            schema: p.schema.clone(),
            name: p.name.clone(),
            sub: Some(path.name.clone()),
        },
    }
}

/// The member `key` of an object, by exact name first, then ignoring case.
fn get<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The attribute `path.name` of `ctx`: in the named extension object, or among the core
/// attributes and then (unqualified names at the resource only) the extension objects.
fn attribute<'v>(ctx: &'v Value, path: &AttrPath, at_resource: bool) -> Option<&'v Value> {
    if !at_resource {
        return get(ctx, &path.name);
    }
    match &path.schema {
        Some(schema) if !path.in_core_schema() => get(get(ctx, schema)?, &path.name),
        Some(_) => get(ctx, &path.name),
        None => get(ctx, &path.name).or_else(|| {
            ctx.as_object()?
                .iter()
                .filter(|(k, v)| {
                    v.is_object() && k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
                })
                .find_map(|(_, ext)| get(ext, &path.name))
        }),
    }
}

/// Every non-null value `path` selects in `ctx`, arrays flattened.
fn values<'v>(ctx: &'v Value, path: &AttrPath, at_resource: bool) -> Vec<&'v Value> {
    let mut out = Vec::new();
    let Some(found) = attribute(ctx, path, at_resource) else {
        return out;
    };
    match &path.sub {
        None => push_flat(found, &mut out),
        Some(sub) => {
            let mut items = Vec::new();
            push_flat(found, &mut items);
            for item in items {
                if let Some(v) = get(item, sub) {
                    push_flat(v, &mut out);
                }
            }
        }
    }
    out
}

fn push_flat<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null())),
        Value::Null => {}
        other => out.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter_parse::parse_filter;
    use crate::scim::schema::ResourceType;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "BJensen-Ext",
            "userName": "bjensen@example.com",
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "displayName": "Babs Jensen",
            "title": "",
            "nickName": null,
            "userType": "Employee",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "phoneNumbers": [],
            "x": {"y": null},
            "loginCount": 42,
            "ratio": 0.5,
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34Z",
                "version": "W/\"3694e05e9dff591\""
            },
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            }
        })
    }

    fn m(text: &str) -> bool {
        let f = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        matches(&f, &user(), &ResourceType::User)
    }

    fn yes(texts: &[&str]) {
        for t in texts {
            assert!(m(t), "should match: {t}");
        }
    }

    fn no(texts: &[&str]) {
        for t in texts {
            assert!(!m(t), "should not match: {t}");
        }
    }

    #[test]
    fn case_rules_per_attribute() {
        yes(&[
            r#"userName eq "BJENSEN@example.com""#,
            r#"USERNAME eq "bjensen@example.com""#,
            r#"externalId eq "BJensen-Ext""#,
            r#"id eq "2819c223-7f76-453a-919d-413861904646""#,
            r#"emails.value eq "BABS@JENSEN.ORG""#,
            r#"emails co "JENSEN.org""#,
            r#"name.familyName co "o'malley""#,
            r#"meta.resourceType eq "User""#,
        ]);
        no(&[
            r#"externalId eq "bjensen-ext""#,
            r#"id eq "2819C223-7F76-453A-919D-413861904646""#,
            r#"meta.resourceType eq "user""#,
        ]);
        let f = parse_filter(r#"userName eq "BJENSEN@example.com""#).unwrap();
        let exact_everywhere = |_: &AttrPath| true;
        assert!(!matches(&f, &user(), &exact_everywhere));
    }

    #[test]
    fn string_operators() {
        yes(&[
            r#"userName sw "bjen""#,
            r#"userName ew ".COM""#,
            r#"userName co "@""#,
            r#"userName ne "other""#,
            r#"displayName gt "Babs""#,
            r#"displayName ge "babs jensen""#,
            r#"displayName lt "Bz""#,
            r#"displayName le "BABS JENSEN""#,
            r#"userName sw """#,
        ]);
        no(&[
            r#"userName sw "jensen""#,
            r#"userName ew "bjensen""#,
            r#"userName co "nope""#,
            r#"userName ne "BJensen@Example.com""#,
            r#"displayName gt "c""#,
            r#"displayName lt "Babs Jensen""#,
        ]);
    }

    #[test]
    fn date_times_compare_chronologically() {
        yes(&[
            r#"meta.lastModified gt "2011-05-13T04:42:33Z""#,
            r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34.000Z""#,
            r#"meta.lastModified lt "2011-05-13T05:00:00+00:10""#,
            // Later in time though earlier as text.
            r#"meta.lastModified gt "2011-05-13T06:00:00+02:00""#,
            r#"meta.created lt "2011-05-13T04:42:34Z""#,
            // A value that is not a timestamp compares as text.
            r#"meta.created sw "2010-01""#,
            r#"meta.created gt "1""#,
        ]);
        no(&[
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:52:34+00:10""#,
        ]);
    }

    #[test]
    fn numbers_booleans_and_null() {
        yes(&[
            "loginCount eq 42",
            "loginCount eq 42.0",
            "loginCount gt 41.5",
            "loginCount le 42",
            "ratio lt 1",
            "ratio ne 0.25",
            "active eq true",
            "active ne false",
            r#"active eq "True""#,
            "nickName eq null",
            "nickName ne null or title eq null",
            "userName ne null",
            "emails[primary eq true]",
            "missing eq null",
        ]);
        no(&[
            "loginCount gt 42",
            "loginCount eq 41",
            "active eq false",
            r#"active eq "yes""#,
            "userName eq null",
            r#"loginCount eq "42""#,
            "userName eq 42",
            "emails[type eq true]",
        ]);
    }

    #[test]
    fn presence() {
        yes(&[
            "userName pr",
            "name pr",
            "name.givenName pr",
            "emails pr",
            "emails.primary pr",
            "active pr",
            "meta.created pr",
        ]);
        no(&[
            "title pr",
            "nickName pr",
            "phoneNumbers pr",
            "x pr",
            "x.y pr",
            "missing pr",
            "name.middleName pr",
        ]);
    }

    #[test]
    fn absent_attributes() {
        yes(&[r#"missing ne "x""#, r#"name.middleName ne "x""#]);
        no(&[
            r#"missing eq "x""#,
            r#"missing co "x""#,
            "missing gt 1",
            r#"missing[type eq "x"]"#,
        ]);
    }

    #[test]
    fn multi_valued_any_value() {
        yes(&[
            r#"emails.type eq "home""#,
            r#"emails.type eq "work""#,
            r#"emails.type ne "work""#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work"].value sw "bjensen""#,
            r#"emails[not (type eq "work")]"#,
            r#"emails[type eq "home" or primary eq true]"#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        ]);
        no(&[
            r#"emails[type eq "work" and value co "jensen.org"]"#,
            r#"emails[type eq "home"].value sw "bjensen""#,
            r#"emails[type eq "other"]"#,
            r#"emails.type eq "other""#,
            r#"name[familyName eq "x"]"#,
        ]);
        yes(&[r#"name[familyName eq "o'malley"]"#]);
    }

    #[test]
    fn logic() {
        yes(&[
            r#"userName pr and active eq true"#,
            r#"title pr or userType eq "Employee""#,
            r#"not (title pr)"#,
            r#"userType eq "Intern" or userType eq "Employee" and active eq true"#,
            r#"userType ne "Employee" and title pr or active eq true"#,
        ]);
        no(&[
            r#"userName pr and active eq false"#,
            r#"(userType eq "Intern" or userType eq "Employee") and active eq false"#,
            r#"not (userName pr)"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        ]);
    }

    #[test]
    fn schemas_and_extensions() {
        yes(&[
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
            r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:MANAGER.VALUE sw "2611""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            // Unqualified names fall back to the extensions.
            r#"employeeNumber eq "701984""#,
            r#"manager.value pr"#,
        ]);
        no(&[
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:employeeNumber pr"#,
            r#"urn:example:other:employeeNumber pr"#,
        ]);
    }

    #[test]
    fn odd_resources_do_not_panic() {
        let f = parse_filter(r#"a.b eq "x" or a[b pr] or a pr or a gt 1"#).unwrap();
        for r in [
            json!(null),
            json!([]),
            json!("text"),
            json!({"a": [1, [2], {"b": [null, {"c": 1}]}, null]}),
            json!({"a": {"b": {"value": "X"}}}),
            json!({"A": [[{"B": "x"}]]}),
        ] {
            matches(&f, &r, &ResourceType::User);
        }
        assert!(matches(
            &f,
            &json!({"a": {"b": {"value": "X"}}}),
            &ResourceType::User
        ));
    }
}
