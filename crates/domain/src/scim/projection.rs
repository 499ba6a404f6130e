//! The `attributes` and `excludedAttributes` query parameters (RFC 7644 §3.9): which attributes
//! of a resource a response carries. `id` and `schemas` are returned always; every other
//! attribute (`meta` included) is returned by default, so it goes when `attributes` does not name
//! it or `excludedAttributes` does. Names are matched without regard to case; an unqualified name
//! of the enterprise extension (`department`) is found in its object, and the extension URN alone
//! names the whole object.

use super::apply_value::is_empty;
use super::error::ScimError;
use super::path::{AttrPath, ENTERPRISE_USER};
use super::schema::{definition, ResourceType, Schema};
use serde_json::Value;

/// Parses a comma-separated list of attribute paths given as the query parameter `param`.
pub fn parse_attribute_list(param: &str, text: &str) -> Result<Vec<AttrPath>, ScimError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| {
            AttrPath::parse(item.trim())
                .map_err(|e| ScimError::invalid_value(format!("{param}: {e}")))
        })
        .collect()
}

/// Keeps only `attributes` (when non-empty; `excluded` is then not looked at) or drops
/// `excluded`, in `resource`.
pub fn project(
    resource: &mut Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
    rt: ResourceType,
) {
    let Some(root) = resource.as_object_mut() else {
        return;
    };
    let (selectors, keep) = if attributes.is_empty() {
        (excluded, false)
    } else {
        (attributes, true)
    };
    let selectors: Vec<Selector> = selectors.iter().filter_map(|p| selector(p, rt)).collect();
    root.retain(|key, value| {
        if ["id", "schemas"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
        {
            return true;
        }
        if !key.eq_ignore_ascii_case(ENTERPRISE_USER) {
            return decide(key, value, &selectors, false, keep);
        }
        if selectors.iter().any(|s| matches!(s, Selector::Extension)) {
            return keep;
        }
        if let Some(ext) = value.as_object_mut() {
            ext.retain(|k, v| decide(k, v, &selectors, true, keep));
        }
        !is_empty(value)
    });
}

/// What one path of the list selects.
enum Selector {
    /// The whole enterprise extension object.
    Extension,
    /// An attribute (of the extension object when `ext`), or one sub-attribute of it.
    Attr {
        ext: bool,
        name: String,
        sub: Option<String>,
    },
}

fn selector(path: &AttrPath, rt: ResourceType) -> Option<Selector> {
    if path.sub.is_none() {
        if let Some(schema) = &path.schema {
            if format!("{schema}:{}", path.name).eq_ignore_ascii_case(ENTERPRISE_USER) {
                return Some(Selector::Extension);
            }
        }
    }
    let attr = AttrPath {
        sub: None,
        ..path.clone()
    };
    let (ext, name) = match definition(&attr, Some(rt)) {
        Some(def) => (def.schema == Schema::EnterpriseUser, def.name.to_string()),
        None if path.in_core_schema() => (false, path.name.clone()),
        None if rt == ResourceType::User
            && path
                .schema
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(ENTERPRISE_USER)) =>
        {
            (true, path.name.clone())
        }
        None => return None,
    };
    Some(Selector::Attr {
        ext,
        name,
        sub: path.sub.clone(),
    })
}

/// Whether the member `key` of the resource (of its extension object when `ext`) stays: kept
/// (`keep`) or dropped as the selectors say, narrowed to or rid of the sub-attributes they name.
fn decide(key: &str, value: &mut Value, selectors: &[Selector], ext: bool, keep: bool) -> bool {
    let mut whole = false;
    let mut subs: Vec<&str> = Vec::new();
    for s in selectors {
        if let Selector::Attr { ext: e, name, sub } = s {
            if *e == ext && name.eq_ignore_ascii_case(key) {
                match sub {
                    Some(sub) => subs.push(sub),
                    None => whole = true,
                }
            }
        }
    }
    if whole {
        return keep;
    }
    if subs.is_empty() {
        return !keep;
    }
    narrow_subs(value, &subs, keep);
    !is_empty(value)
}

/// Keeps or drops the sub-attributes `subs` of a complex value, or of each value of a
/// multi-valued one.
fn narrow_subs(value: &mut Value, subs: &[&str], keep: bool) {
    let narrow_one = |v: &mut Value| {
        if let Some(obj) = v.as_object_mut() {
            obj.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k)) == keep);
        }
    };
    match value {
        Value::Array(items) => {
            items.iter_mut().for_each(narrow_one);
            items.retain(|v| !is_empty(v));
        }
        Value::Object(_) => narrow_one(value),
        // A simple value has no sub-attributes to keep.
        _ if keep => *value = Value::Null,
        _ => {}
    }
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
