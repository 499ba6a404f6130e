//! UpdateUser / UpdateGroup: a list of `(attribute_path, attribute_value)` operations applied to
//! a JSON view of the resource. A value that is absent or null removes the attribute; an object- or
//! array-valued attribute takes its value as JSON text.

use crate::ApiError;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub attribute_path: String,
    #[serde(default)]
    pub attribute_value: Option<Value>,
}

/// How one attribute path may be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A string attribute.
    Text,
    /// An attribute whose value is JSON text (objects and arrays).
    Json,
    /// Exists but cannot be changed by the caller.
    ReadOnly,
}

/// Applies `ops` to `doc`; `kind_of` classifies a dotted path (None: no such attribute).
pub fn apply(
    doc: &mut Map<String, Value>,
    ops: &[Operation],
    kind_of: impl Fn(&str) -> Option<PathKind>,
) -> Result<(), ApiError> {
    if ops.is_empty() || ops.len() > 100 {
        return Err(ApiError::bad_request(
            "operations must hold between 1 and 100 items",
        ));
    }
    for (i, op) in ops.iter().enumerate() {
        let path = op.attribute_path.as_str();
        crate::validate::length("operations.attribute_path", path, 1, 255)?;
        let kind = kind_of(path).ok_or_else(|| {
            ApiError::bad_request(format!("attribute_path {path} is not an attribute"))
        })?;
        if kind == PathKind::ReadOnly {
            return Err(ApiError::bad_request(format!(
                "attribute_path {path} is read-only"
            )));
        }
        let value = match &op.attribute_value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if kind == PathKind::Json => {
                let inner = serde_json::from_str::<Value>(s).map_err(|e| {
                    ApiError::bad_request(format!(
                        "attribute_value of {path} must be JSON text: {e}"
                    ))
                })?;
                // The text inside the JSON text obeys the same rule as any other text.
                crate::text::check_json(
                    &format!("operations[{i}].attribute_value"),
                    &inner,
                    crate::text::Whitespace::Allowed,
                )?;
                Some(inner)
            }
            Some(v @ (Value::Object(_) | Value::Array(_))) if kind == PathKind::Json => {
                Some(v.clone())
            }
            Some(v @ Value::String(_)) => Some(v.clone()),
            Some(Value::Bool(b)) => Some(Value::String(b.to_string())),
            Some(Value::Number(n)) => Some(Value::String(n.to_string())),
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "attribute_value of {path} must be a string"
                )))
            }
        };
        set_path(doc, path, value);
    }
    Ok(())
}

fn set_path(doc: &mut Map<String, Value>, path: &str, value: Option<Value>) {
    let mut segments: Vec<&str> = path.split('.').collect();
    let last = segments.pop().unwrap_or(path);
    let mut cur = doc;
    for seg in segments {
        let entry = cur
            .entry(seg.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(m) => cur = m,
            _ => return,
        }
    }
    match value {
        Some(v) => {
            cur.insert(last.to_string(), v);
        }
        None => {
            cur.remove(last);
        }
    }
}

/// Classifies a user attribute path.
pub fn user_path(path: &str) -> Option<PathKind> {
    use PathKind::*;
    Some(match path {
        "user_name" | "display_name" | "locale" | "nickname" | "preferred_language"
        | "profile_url" | "timezone" | "title" | "user_type" => Text,
        "name.family_name"
        | "name.given_name"
        | "name.formatted"
        | "name.middle_name"
        | "name.honorific_prefix"
        | "name.honorific_suffix" => Text,
        "enterprise.cost_center"
        | "enterprise.department"
        | "enterprise.division"
        | "enterprise.employee_number"
        | "enterprise.organization"
        | "enterprise.manager.value" => Text,
        "name" | "emails" | "addresses" | "phone_numbers" | "enterprise" | "enterprise.manager" => {
            Json
        }
        "user_id" | "identity_store_id" | "external_ids" | "external_id" | "created_at"
        | "created_by" | "updated_at" | "updated_by" | "enabled" | "email_verified" => ReadOnly,
        _ => return None,
    })
}

/// Classifies a group attribute path.
pub fn group_path(path: &str) -> Option<PathKind> {
    use PathKind::*;
    Some(match path {
        "display_name" | "description" => Text,
        "group_id" | "identity_store_id" | "external_ids" | "external_id" | "created_at"
        | "created_by" | "updated_at" | "updated_by" => ReadOnly,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(path: &str, value: Option<Value>) -> Operation {
        Operation {
            attribute_path: path.into(),
            attribute_value: value,
        }
    }

    #[test]
    fn sets_nested_text_json_and_removes() {
        let mut doc = json!({"display_name": "A", "title": "T", "name": {"given_name": "G"}})
            .as_object()
            .cloned()
            .expect("object");
        apply(
            &mut doc,
            &[
                op("display_name", Some(json!("B"))),
                op("name.family_name", Some(json!("F"))),
                op(
                    "emails",
                    Some(json!(
                        "[{\"value\":\"a@b.co\",\"type\":\"w\",\"primary\":true}]"
                    )),
                ),
                op("title", None),
                op("enterprise.department", Some(json!("R&D"))),
            ],
            user_path,
        )
        .expect("apply");
        assert_eq!(doc["display_name"], "B");
        assert_eq!(doc["name"]["family_name"], "F");
        assert_eq!(doc["name"]["given_name"], "G");
        assert_eq!(doc["emails"][0]["value"], "a@b.co");
        assert!(!doc.contains_key("title"));
        assert_eq!(doc["enterprise"]["department"], "R&D");
    }

    #[test]
    fn refuses_unknown_read_only_and_bad_json() {
        let mut doc = Map::new();
        let e =
            apply(&mut doc, &[op("shoe_size", Some(json!("9")))], user_path).expect_err("unknown");
        assert!(e.message.contains("shoe_size"));
        let e = apply(&mut doc, &[op("user_id", Some(json!("x")))], user_path).expect_err("ro");
        assert!(e.message.contains("read-only"));
        let e = apply(
            &mut doc,
            &[op("emails", Some(json!("{not json")))],
            user_path,
        )
        .expect_err("json");
        assert!(e.message.contains("emails"));
        assert!(apply(&mut doc, &[], user_path).is_err());
        assert!(apply(&mut doc, &[op("description", Some(json!("d")))], group_path).is_ok());
        assert!(apply(&mut doc, &[op("group_id", Some(json!("d")))], group_path).is_err());
    }

    #[test]
    fn text_inside_json_text_obeys_the_control_character_rule() {
        let mut doc = Map::new();
        let value = Value::String(r#"[{"value": "a\u0000b"}]"#.into());
        let e = apply(&mut doc, &[op("emails", Some(value))], user_path).expect_err("NUL");
        assert!(
            e.message.contains("operations[0].attribute_value[0].value"),
            "{}",
            e.message
        );
        let fine = Value::String(r#"[{"value": "a\tb"}]"#.into());
        assert!(apply(&mut doc, &[op("emails", Some(fine))], user_path).is_ok());
    }
}
