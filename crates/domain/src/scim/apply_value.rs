//! Values a PATCH writes, checked against the schema table and given its canonical names, and the
//! helpers that read and write the members of a resource without regard to the case of names.

use super::error::ScimError;
use super::schema::{AttrDef, Kind, ATTRIBUTES};
use serde_json::{Map, Value};

/// The name an attribute or sub-attribute has in a resource.
pub(super) fn key(def: &AttrDef) -> &'static str {
    def.sub.unwrap_or(def.name)
}

/// `name` or `name.sub`, for messages.
pub(super) fn shown(def: &AttrDef) -> String {
    match def.sub {
        Some(sub) => format!("{}.{sub}", def.name),
        None => def.name.to_string(),
    }
}

/// The sub-attribute `name` of the complex attribute `attr`, ignoring case.
pub(super) fn sub_def(attr: &AttrDef, name: &str) -> Option<&'static AttrDef> {
    ATTRIBUTES.iter().find(|d| {
        d.schema == attr.schema
            && d.name == attr.name
            && d.sub.is_some_and(|s| s.eq_ignore_ascii_case(name))
    })
}

/// The member `name` of `map`: by exact name, else ignoring case.
pub(super) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Takes the member `name` out of `map`, whatever the case of its key.
pub(super) fn take(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    if let Some(v) = map.remove(name) {
        return Some(v);
    }
    let found = map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()?;
    map.remove(&found)
}

/// Puts `value` back under the canonical `name`, unless there is nothing to keep.
pub(super) fn put(map: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(v) if !is_empty(&v) => {
            map.insert(name.to_string(), v);
        }
        _ => {}
    }
}

/// null, `[]` and `{}`: an attribute with such a value is unassigned.
pub(super) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A value of a non-complex attribute or sub-attribute: strings for the string kinds, booleans
/// for `Boolean`.
pub(super) fn scalar(def: &AttrDef, v: Value) -> Result<Value, ScimError> {
    let (fits, wanted) = match def.kind {
        Kind::Boolean => (v.is_boolean(), "a boolean"),
        Kind::Complex => (false, "an object"),
        _ => (v.is_string(), "a string"),
    };
    if fits {
        Ok(v)
    } else {
        Err(ScimError::invalid_value(format!(
            "`{}` takes {wanted}, not {v}",
            shown(def)
        )))
    }
}

/// One value of the complex attribute `def`: its sub-attributes under their canonical names,
/// nulls left out.
pub(super) fn complex(def: &AttrDef, v: Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(map) = v else {
        return Err(ScimError::invalid_value(format!(
            "a value of `{}` is an object of its sub-attributes, not {v}",
            def.name
        )));
    };
    let mut out = Map::new();
    for (k, v) in map {
        let Some(sub) = sub_def(def, &k) else {
            return Err(ScimError::invalid_path(format!(
                "`{}.{k}` is not an attribute",
                def.name
            )));
        };
        if !v.is_null() {
            out.insert(key(sub).to_string(), scalar(sub, v)?);
        }
    }
    Ok(out)
}

/// The values given for the multi-valued `def`: an array of values, or one value. Empty values
/// are no values.
pub(super) fn many(def: &AttrDef, v: Value) -> Result<Vec<Map<String, Value>>, ScimError> {
    let items = match v {
        Value::Array(items) => items,
        Value::Object(_) => vec![v],
        other => {
            return Err(ScimError::invalid_value(format!(
                "`{}` takes an array of values, not {other}",
                def.name
            )))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items.into_iter().filter(|v| !v.is_null()) {
        let value = complex(def, item)?;
        if !value.is_empty() {
            out.push(value);
        }
    }
    Ok(out)
}

/// The value given for the single-valued `def`.
pub(super) fn single(def: &AttrDef, v: Value) -> Result<Value, ScimError> {
    if v.is_array() {
        return Err(ScimError::invalid_value(format!(
            "`{}` is single-valued; an array was given",
            shown(def)
        )));
    }
    match def.kind {
        Kind::Complex => complex(def, v).map(Value::Object),
        _ => scalar(def, v),
    }
}

/// Two values of a sub-attribute, compared by its case rule.
fn same_scalar(sub: Option<&AttrDef>, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !sub.is_some_and(|d| d.case_exact) => {
            x == y || x.to_lowercase() == y.to_lowercase()
        }
        _ => a == b,
    }
}

/// Whether `given` designates `existing`, both values of the multi-valued `def`: the same
/// `value` (and the same `type` when both have one); for attributes without `value`, the same
/// sub-attributes other than `primary`.
pub(super) fn same_value(def: &AttrDef, given: &Map<String, Value>, existing: &Value) -> bool {
    let Some(existing) = existing.as_object() else {
        return false;
    };
    let same = |name: &str| match (get_ci(given, name), get_ci(existing, name)) {
        (Some(a), Some(b)) => same_scalar(sub_def(def, name), a, b),
        (None, None) => true,
        _ => false,
    };
    if get_ci(given, "value").is_some() {
        let types = match (get_ci(given, "type"), get_ci(existing, "type")) {
            (Some(a), Some(b)) => same_scalar(sub_def(def, "type"), a, b),
            _ => true,
        };
        return same("value") && types;
    }
    let mut names: Vec<&String> = given.keys().chain(existing.keys()).collect();
    names.retain(|n| !n.eq_ignore_ascii_case("primary"));
    !given.is_empty() && names.into_iter().all(|n| same(n))
}

/// Makes `primary` true on at most one value: the last of `touched` that has it keeps it.
pub(super) fn one_primary(def: &AttrDef, items: &mut [Value], touched: &[usize]) {
    if sub_def(def, "primary").is_none() {
        return;
    }
    let is_primary = |v: &Value| {
        v.as_object()
            .and_then(|o| get_ci(o, "primary"))
            .is_some_and(|p| p == &Value::Bool(true))
    };
    let Some(keep) = touched
        .iter()
        .rev()
        .copied()
        .find(|i| items.get(*i).is_some_and(is_primary))
    else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep && is_primary(item) {
            if let Some(o) = item.as_object_mut() {
                take(o, "primary");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::path::AttrPath;
    use crate::scim::schema::{definition, ResourceType};
    use serde_json::json;

    fn def(text: &str) -> &'static AttrDef {
        definition(&AttrPath::parse(text).unwrap(), Some(ResourceType::User)).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn values_take_canonical_names_and_types() {
        assert_eq!(
            complex(def("name"), json!({"GIVENNAME": "B", "familyname": null})).unwrap(),
            obj(json!({"givenName": "B"}))
        );
        assert_eq!(
            many(def("emails"), json!({"Value": "a@b", "PRIMARY": true})).unwrap(),
            vec![obj(json!({"value": "a@b", "primary": true}))]
        );
        let e = complex(def("name"), json!({"nick": "x"})).unwrap_err();
        assert_eq!(e.detail, "`name.nick` is not an attribute");
        let e = single(def("title"), json!(["a"])).unwrap_err();
        assert_eq!(e.detail, "`title` is single-valued; an array was given");
        let e = single(def("active"), json!("yes")).unwrap_err();
        assert_eq!(e.detail, "`active` takes a boolean, not \"yes\"");
        let e = many(def("emails"), json!("a@b")).unwrap_err();
        assert_eq!(e.detail, "`emails` takes an array of values, not \"a@b\"");
        assert!(single(def("emails.primary"), json!(1)).is_err());
    }

    #[test]
    fn values_designate_by_value_and_type() {
        let emails = def("emails");
        let work = json!({"value": "A@b", "type": "work", "primary": true});
        assert!(same_value(emails, &obj(json!({"value": "a@B"})), &work));
        assert!(same_value(
            emails,
            &obj(json!({"value": "a@b", "type": "WORK"})),
            &work
        ));
        assert!(!same_value(
            emails,
            &obj(json!({"value": "a@b", "type": "home"})),
            &work
        ));
        let addresses = def("addresses");
        let home = json!({"locality": "X", "primary": true});
        assert!(same_value(addresses, &obj(json!({"locality": "x"})), &home));
        assert!(!same_value(
            addresses,
            &obj(json!({"locality": "x", "region": "R"})),
            &home
        ));
        assert!(!same_value(addresses, &Map::new(), &json!({})));
    }

    #[test]
    fn only_the_last_touched_primary_stays() {
        let mut items = vec![
            json!({"value": "a", "primary": true}),
            json!({"value": "b", "primary": true}),
            json!({"value": "c", "primary": true}),
        ];
        one_primary(def("emails"), &mut items, &[1]);
        assert_eq!(
            items,
            vec![
                json!({"value": "a"}),
                json!({"value": "b", "primary": true}),
                json!({"value": "c"})
            ]
        );
        let mut untouched = vec![json!({"value": "a", "primary": true})];
        one_primary(def("emails"), &mut untouched, &[]);
        assert_eq!(untouched, vec![json!({"value": "a", "primary": true})]);
    }
}
