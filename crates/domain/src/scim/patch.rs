//! The PATCH request (RFC 7644 §3.5.2): the `PatchOp` message, its operations, their paths and
//! values, read with the tolerance real directories need:
//! - `op` in any case (`Add`, `Replace`, `Remove` as Entra ID sends them);
//! - booleans sent as strings (`"active": "False"`), wherever a boolean attribute is written;
//! - `add`/`replace` without `path`, whose object value names attributes plainly, dotted
//!   (`"name.givenName"`), schema-qualified (`"urn:…:User:employeeNumber"`) or grouped under an
//!   extension URN (`"urn:…:enterprise:2.0:User": {…}`): it becomes one (path, value) pair per
//!   attribute (the members of an extension object each becoming one);
//! - the enterprise `manager` given as its id (`"value": "26118915-…"`) rather than as
//!   `{"value": …}`;
//! - `remove` with a `value` (Entra ID removes members so): the value is kept for the caller;
//! - an empty or null `path` is no path.

use super::error::ScimError;
use super::patch_path::{parse_patch_path, PatchPath};
use super::path::{AttrPath, ENTERPRISE_USER};
use super::schema::{is_boolean, is_enterprise};
use serde_json::{Map, Value};

/// The message schema of a PATCH request.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The operation of one PATCH step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// A parsed PATCH request: its operations, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: OpKind,
    pub target: Target,
}

/// Where an operation writes, and what.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The operation has a `path`. `value` is present for `add` (never null) and `replace`
    /// (null clears), and for `remove` only when the client sent one.
    Path {
        path: PatchPath,
        value: Option<Value>,
    },
    /// `add` or `replace` without a path: each attribute of the value, one pair per attribute.
    Attributes(Vec<(AttrPath, Value)>),
}

/// Parses a PATCH body given as bytes; what is not JSON is `invalidSyntax`.
pub fn parse_patch_json(body: &[u8]) -> Result<PatchRequest, ScimError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    parse_patch(&value)
}

/// Parses a PATCH body.
pub fn parse_patch(body: &Value) -> Result<PatchRequest, ScimError> {
    let Some(body) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body is not a JSON object"));
    };
    let lists_patch_op = match member(body, "schemas") {
        Some(Value::Array(items)) => items
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP))),
        Some(Value::String(s)) => s.eq_ignore_ascii_case(PATCH_OP),
        _ => false,
    };
    if !lists_patch_op {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {PATCH_OP}"
        )));
    }
    let ops = match member(body, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => {
            return Err(ScimError::invalid_syntax(
                "Operations must be an array of one or more operations",
            ))
        }
    };
    let operations = ops
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(i, op))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PatchRequest { operations })
}

fn parse_operation(i: usize, op: &Value) -> Result<PatchOperation, ScimError> {
    let at = format!("Operations[{i}]");
    let Some(op) = op.as_object() else {
        return Err(ScimError::invalid_syntax(format!("{at} is not an object")));
    };
    let kind = match member(op, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "{at}.op must be add, replace or remove"
            )))
        }
    };
    let path = match member(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(
            parse_patch_path(s)
                .map_err(|e| ScimError::invalid_path(format!("{at}.{}", e.detail)))?,
        ),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "{at}.path must be a string"
            )))
        }
    };
    let value = member(op, "value").cloned();
    let target = match (kind, path, value) {
        (OpKind::Remove, None, _) => {
            return Err(ScimError::no_target(format!("{at}: remove needs a path")))
        }
        (OpKind::Add, _, None | Some(Value::Null)) | (OpKind::Replace, _, None) => {
            return Err(ScimError::invalid_value(format!(
                "{at}: {} needs a value",
                if kind == OpKind::Add {
                    "add"
                } else {
                    "replace"
                }
            )))
        }
        (_, Some(path), value) => {
            let value = value.map(|v| normalize_at(&path, v));
            Target::Path { path, value }
        }
        (_, None, Some(Value::Object(map))) => Target::Attributes(attributes(&at, map)?),
        (_, None, Some(_)) => {
            return Err(ScimError::invalid_value(format!(
                "{at}: without a path, the value must be an object of attributes"
            )))
        }
    };
    Ok(PatchOperation { op: kind, target })
}

/// The attributes of a path-less operation's value.
fn attributes(at: &str, map: Map<String, Value>) -> Result<Vec<(AttrPath, Value)>, ScimError> {
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        if key.eq_ignore_ascii_case(ENTERPRISE_USER) {
            let Value::Object(members) = value else {
                return Err(ScimError::invalid_value(format!(
                    "{at}.value.{key} must be an object"
                )));
            };
            for (name, value) in members {
                let path = parse_key(at, &name)?;
                if path.schema.is_some() {
                    return Err(ScimError::invalid_path(format!(
                        "{at}.value.{key}: `{name}` is not an attribute of the extension"
                    )));
                }
                let path = path.in_schema(ENTERPRISE_USER);
                let value = normalize(&path, value);
                out.push((path, value));
            }
        } else {
            let path = parse_key(at, &key)?;
            let value = normalize(&path, value);
            out.push((path, value));
        }
    }
    Ok(out)
}

fn parse_key(at: &str, key: &str) -> Result<AttrPath, ScimError> {
    AttrPath::parse(key).map_err(|e| ScimError::invalid_path(format!("{at}.value: {e}")))
}

/// `value` as written at `path`, normalized.
fn normalize_at(path: &PatchPath, value: Value) -> Value {
    match path.value_path() {
        Some(p) => normalize(&p, value),
        None => match value {
            // A whole extension: its members are attributes of that schema.
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = match AttrPath::parse(&k) {
                            Ok(p) if p.schema.is_none() => {
                                normalize(&p.in_schema(ENTERPRISE_USER), v)
                            }
                            _ => v,
                        };
                        (k, v)
                    })
                    .collect(),
            ),
            other => other,
        },
    }
}

/// Booleans sent as strings become booleans; the enterprise manager sent as an id becomes
/// `{"value": id}`; objects and arrays are normalized member by member.
fn normalize(path: &AttrPath, value: Value) -> Value {
    match value {
        Value::String(s) if is_boolean(path) => {
            if s.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if s.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                Value::String(s)
            }
        }
        Value::String(s) if is_enterprise(path) && path.is("manager", None) => {
            let mut map = Map::new();
            map.insert("value".to_string(), Value::String(s));
            Value::Object(map)
        }
        Value::Object(map) if path.sub.is_none() => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if super::path::is_attr_name(&k) {
                        normalize(&path.clone().with_sub(k.clone()), v)
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) if path.sub.is_none() => Value::Array(
            items
                .into_iter()
                .map(|v| match v {
                    Value::Array(_) => v,
                    other => normalize(path, other),
                })
                .collect(),
        ),
        other => other,
    }
}

/// The member `key` of an object, by exact name first, then ignoring case.
fn member<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{CompValue, CompareOp, Filter};
    use crate::scim::ScimType;
    use serde_json::json;

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    fn one(op: Value) -> PatchOperation {
        let mut req = parse_patch(&body(json!([op]))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.operations.len(), 1);
        req.operations.remove(0)
    }

    fn err(b: &Value) -> (ScimType, String) {
        let e = parse_patch(b).unwrap_err();
        assert_eq!(e.status, 400);
        (e.scim_type.unwrap(), e.detail)
    }

    fn path(text: &str) -> PatchPath {
        parse_patch_path(text).unwrap()
    }

    fn attr(text: &str) -> AttrPath {
        AttrPath::parse(text).unwrap()
    }

    #[test]
    fn entra_id_shapes() {
        // Deactivation, with the boolean as a capitalised string.
        assert_eq!(
            one(json!({"op": "Replace", "path": "active", "value": "False"})),
            PatchOperation {
                op: OpKind::Replace,
                target: Target::Path {
                    path: path("active"),
                    value: Some(json!(false))
                }
            }
        );
        assert_eq!(
            one(
                json!({"op": "Add", "path": "emails[type eq \"work\"].value", "value": "b@example.com"})
            ),
            PatchOperation {
                op: OpKind::Add,
                target: Target::Path {
                    path: path(r#"emails[type eq "work"].value"#),
                    value: Some(json!("b@example.com"))
                }
            }
        );
        assert_eq!(
            one(json!({
                "op": "Replace",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                "value": "26118915-6090-4610-87e4-49d8ca9f808d"
            })),
            PatchOperation {
                op: OpKind::Replace,
                target: Target::Path {
                    path: path(
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
                    ),
                    value: Some(json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"}))
                }
            }
        );
        // Membership: add and remove name the members in the value.
        let members = json!([{"value": "u1"}, {"value": "u2"}]);
        for (name, kind) in [("Add", OpKind::Add), ("Remove", OpKind::Remove)] {
            assert_eq!(
                one(json!({"op": name, "path": "members", "value": members})),
                PatchOperation {
                    op: kind,
                    target: Target::Path {
                        path: path("members"),
                        value: Some(members.clone())
                    }
                }
            );
        }
    }

    #[test]
    fn okta_shapes() {
        assert_eq!(
            one(json!({"op": "replace", "value": {"active": false}})),
            PatchOperation {
                op: OpKind::Replace,
                target: Target::Attributes(vec![(attr("active"), json!(false))])
            }
        );
        assert_eq!(
            one(json!({"op": "remove", "path": "members[value eq \"00u1\"]"})),
            PatchOperation {
                op: OpKind::Remove,
                target: Target::Path {
                    path: PatchPath::Filtered {
                        attr: attr("members"),
                        filter: Box::new(Filter::Compare {
                            path: attr("value"),
                            op: CompareOp::Eq,
                            value: CompValue::String("00u1".into())
                        }),
                        sub: None
                    },
                    value: None
                }
            }
        );
        assert_eq!(
            one(json!({"op": "replace", "value": {"id": "g1", "displayName": "Ops"}})),
            PatchOperation {
                op: OpKind::Replace,
                target: Target::Attributes(vec![
                    (attr("displayName"), json!("Ops")),
                    (attr("id"), json!("g1")),
                ])
            }
        );
    }

    #[test]
    fn pathless_values_with_dotted_and_qualified_names() {
        let op = one(json!({"op": "replace", "value": {
            "name.givenName": "Barbara",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "R&D",
                "manager": "m1"
            },
            "active": "TRUE",
            "emails": [{"value": "a@b", "primary": "true"}, "x", [1]],
            "name": {"familyName": "J", "x": "false"}
        }}));
        let ext = ENTERPRISE_USER;
        assert_eq!(
            op.target,
            Target::Attributes(vec![
                (attr("active"), json!(true)),
                (
                    attr("emails"),
                    json!([{"value": "a@b", "primary": true}, "x", [1]])
                ),
                (attr("name"), json!({"familyName": "J", "x": "false"})),
                (attr("name.givenName"), json!("Barbara")),
                (attr("department").in_schema(ext), json!("R&D")),
                (attr("manager").in_schema(ext), json!({"value": "m1"})),
                (attr(&format!("{ext}:employeeNumber")), json!("7")),
            ])
        );
    }

    #[test]
    fn values_at_paths_are_normalized() {
        let cases = [
            (
                "emails[type eq \"work\"].primary",
                json!("False"),
                json!(false),
            ),
            (
                "emails[type eq \"work\"]",
                json!({"primary": "True"}),
                json!({"primary": true}),
            ),
            (
                "emails",
                json!([{"primary": "true", "value": "x"}]),
                json!([{"primary": true, "value": "x"}]),
            ),
            ("active", json!("yes"), json!("yes")),
            ("title", json!("true"), json!("true")),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!({"manager": "m", "employeeNumber": "1", "$x": 1}),
                json!({"manager": {"value": "m"}, "employeeNumber": "1", "$x": 1}),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!("s"),
                json!("s"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                json!("m"),
                json!("m"),
            ),
            (
                "name",
                json!({"givenName": "g", "-x": "true"}),
                json!({"givenName": "g", "-x": "true"}),
            ),
        ];
        for (p, sent, want) in cases {
            let op = one(json!({"op": "add", "path": p, "value": sent}));
            assert_eq!(
                op.target,
                Target::Path {
                    path: path(p),
                    value: Some(want)
                },
                "{p}"
            );
        }
    }

    #[test]
    fn tolerated_envelopes() {
        // Keys in any case, schemas as a lone string, an empty path meaning none.
        let b = json!({
            "SCHEMAS": "URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP",
            "operations": [{"OP": "REPLACE", "Path": "", "Value": {"title": "x"}},
                           {"op": "replace", "path": null, "value": {}},
                           {"op": "replace", "path": "title", "value": null}]
        });
        let req = parse_patch(&b).unwrap();
        assert_eq!(
            req.operations,
            vec![
                PatchOperation {
                    op: OpKind::Replace,
                    target: Target::Attributes(vec![(attr("title"), json!("x"))])
                },
                PatchOperation {
                    op: OpKind::Replace,
                    target: Target::Attributes(vec![])
                },
                PatchOperation {
                    op: OpKind::Replace,
                    target: Target::Path {
                        path: path("title"),
                        value: Some(Value::Null)
                    }
                },
            ]
        );
        let req = parse_patch_json(
            br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"title"}]}"#,
        )
        .unwrap();
        assert_eq!(req.operations[0].op, OpKind::Remove);
    }

    #[test]
    fn refusals() {
        use ScimType::*;
        let cases: Vec<(Value, ScimType, &str)> = vec![
            (json!([]), InvalidSyntax, "the body is not a JSON object"),
            (json!({"Operations": []}), InvalidSyntax, "schemas must list urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            (json!({"schemas": ["urn:x"], "Operations": []}), InvalidSyntax, "schemas must list"),
            (json!({"schemas": [PATCH_OP]}), InvalidSyntax, "Operations must be an array of one or more operations"),
            (body(json!([])), InvalidSyntax, "Operations must be an array"),
            (body(json!({"op": "add"})), InvalidSyntax, "Operations must be an array"),
            (body(json!(["add"])), InvalidSyntax, "Operations[0] is not an object"),
            (body(json!([{"op": "move", "path": "a"}])), InvalidSyntax, "Operations[0].op must be add, replace or remove"),
            (body(json!([{"path": "a"}])), InvalidSyntax, "Operations[0].op must be"),
            (body(json!([{"op": 1}])), InvalidSyntax, "Operations[0].op must be"),
            (body(json!([{"op": "remove"}])), NoTarget, "Operations[0]: remove needs a path"),
            (body(json!([{"op": "remove", "path": " ", "value": 1}])), NoTarget, "remove needs a path"),
            (body(json!([{"op": "add", "path": "a"}])), InvalidValue, "Operations[0]: add needs a value"),
            (body(json!([{"op": "add", "path": "a", "value": null}])), InvalidValue, "add needs a value"),
            (body(json!([{"op": "replace", "path": "a"}])), InvalidValue, "replace needs a value"),
            (body(json!([{"op": "add"}])), InvalidValue, "add needs a value"),
            (body(json!([{"op": "add", "value": "x"}])), InvalidValue, "without a path, the value must be an object"),
            (body(json!([{"op": "replace", "value": [1]}])), InvalidValue, "without a path"),
            (body(json!([{"op": "add", "path": 3, "value": 1}])), InvalidPath, "Operations[0].path must be a string"),
            (
                body(json!([{"op": "add", "path": "a", "value": 1}, {"op": "add", "path": "a..b", "value": 1}])),
                InvalidPath,
                "Operations[1].path: `a..b` goes deeper than one sub-attribute at character 1",
            ),
            (body(json!([{"op": "add", "path": "emails[type eq]", "value": 1}])), InvalidPath, "Operations[0].path: expected a string"),
            (body(json!([{"op": "add", "value": {"a b": 1}}])), InvalidPath, "Operations[0].value: ` ` is not allowed in attribute name `a b`"),
            (
                body(json!([{"op": "add", "value": {ENTERPRISE_USER: "x"}}])),
                InvalidValue,
                "Operations[0].value.urn:ietf:params:scim:schemas:extension:enterprise:2.0:User must be an object",
            ),
            (
                body(json!([{"op": "add", "value": {ENTERPRISE_USER: {"urn:x:y": 1}}}])),
                InvalidPath,
                "is not an attribute of the extension",
            ),
            (body(json!([{"op": "add", "value": {ENTERPRISE_USER: {"9": 1}}}])), InvalidPath, "does not start with a letter"),
        ];
        for (b, t, detail) in cases {
            let (got_t, got) = err(&b);
            assert_eq!(got_t, t, "{b}: {got}");
            assert!(
                got.starts_with(detail) || got.contains(detail),
                "{b}: {got}"
            );
        }
        let (t, d) = match parse_patch_json(b"{\"schemas\":") {
            Err(e) => (e.scim_type, e.detail),
            Ok(_) => panic!("parsed"),
        };
        assert_eq!(t, Some(ScimType::InvalidSyntax));
        assert!(d.starts_with("the body is not valid JSON"));
    }
}
