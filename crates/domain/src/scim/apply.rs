//! Applying a PATCH request (RFC 7644 §3.5.2) to a User or Group in its SCIM JSON form.
//!
//! - Names are found without regard to case; what is written takes the schema table's names.
//!   Attributes of the enterprise extension live in the object under its URN, whose URN
//!   `schemas` lists exactly when that object has members.
//! - `add` appends to a multi-valued attribute (a value that designates an existing one, by
//!   `value` and `type`, is merged into it), merges into a complex one and sets the others;
//!   `replace` sets, except that a complex single-valued attribute takes the sub-attributes given
//!   and keeps the others (RFC 7644 §3.5.2.3); `remove`, or `replace` with null, unassigns.
//! - With a value filter, the values the filter selects are changed; an `add` that selects none
//!   creates a value when the filter only says `sub eq value` (joined by `and`), as Entra ID
//!   expects of `emails[type eq "work"].value`; a `replace` that selects none is `noTarget`.
//! - `id`, `meta` and a user's `groups` are read-only (`mutability`); writing the value they
//!   already have is no change. `schemas` is the server's: a path-less value may list schemas of
//!   the resource type, which changes nothing.
//! - On error the resource is left as it was.

use super::apply_filter::Filtered;
use super::apply_value::{
    complex, get_ci, is_empty, key, many, one_primary, put, same_value, scalar, single, sub_def,
    take,
};
use super::error::ScimError;
use super::patch::{OpKind, PatchOperation, PatchRequest, Target};
use super::patch_path::PatchPath;
use super::path::{AttrPath, CORE_GROUP, CORE_USER, ENTERPRISE_USER};
use super::schema::{definition, AttrDef, Kind, ResourceType, Schema};
use serde_json::{Map, Value};

/// Applies `request` to `resource` (a User or Group rendered as SCIM JSON: schemas, id,
/// externalId, meta, core attributes, the enterprise extension object under its URN), one
/// operation after the other.
pub fn apply_patch(
    resource: &mut Value,
    request: &PatchRequest,
    rt: ResourceType,
) -> Result<(), ScimError> {
    let mut work = resource.clone();
    let Some(root) = work.as_object_mut() else {
        return Err(ScimError::invalid_value(
            "the resource is not a JSON object",
        ));
    };
    for (i, op) in request.operations.iter().enumerate() {
        apply_operation(root, op, rt).map_err(|e| ScimError {
            detail: format!("Operations[{i}]: {}", e.detail),
            ..e
        })?;
    }
    if rt == ResourceType::User {
        tidy_extension(root);
    }
    *resource = work;
    Ok(())
}

fn apply_operation(
    root: &mut Map<String, Value>,
    op: &PatchOperation,
    rt: ResourceType,
) -> Result<(), ScimError> {
    match &op.target {
        Target::Attributes(pairs) => pairs
            .iter()
            .try_for_each(|(path, value)| write_attr(root, op.op, path, Some(value), rt, true)),
        Target::Path { path, value } => match path {
            PatchPath::Attr(attr) => write_attr(root, op.op, attr, value.as_ref(), rt, false),
            PatchPath::Filtered { attr, filter, sub } => {
                Filtered::new(attr, filter, sub, rt)?.apply(root, op.op, value.as_ref(), rt)
            }
            PatchPath::Extension(urn) => write_extension(root, op.op, urn, value.as_ref(), rt),
        },
    }
}

/// The attribute (and sub-attribute) a path names, in the schemas of `rt`.
pub(super) fn resolve(
    path: &AttrPath,
    rt: ResourceType,
) -> Result<(&'static AttrDef, Option<&'static AttrDef>), ScimError> {
    let unknown = || {
        let what = match rt {
            ResourceType::User => "a User",
            ResourceType::Group => "a Group",
        };
        ScimError::invalid_path(format!("`{path}` is not an attribute of {what}"))
    };
    let attr = AttrPath {
        sub: None,
        ..path.clone()
    };
    let def = definition(&attr, Some(rt)).ok_or_else(unknown)?;
    let sub = match &path.sub {
        Some(s) => Some(sub_def(def, s).ok_or_else(unknown)?),
        None => None,
    };
    Ok((def, sub))
}

pub(super) fn read_only(def: &AttrDef) -> bool {
    matches!(
        (def.schema, def.name),
        (Schema::Common, "id" | "meta") | (Schema::User, "groups")
    )
}

/// The object the attribute `def` lives in: the resource, or its extension object (made when
/// `create`).
pub(super) fn container<'m>(
    root: &'m mut Map<String, Value>,
    def: &AttrDef,
    create: bool,
) -> Option<&'m mut Map<String, Value>> {
    if def.schema != Schema::EnterpriseUser {
        return Some(root);
    }
    let ext = match take(root, ENTERPRISE_USER) {
        Some(Value::Object(m)) => m,
        _ if create => Map::new(),
        _ => return None,
    };
    let slot = root
        .entry(ENTERPRISE_USER.to_string())
        .or_insert(Value::Object(ext));
    slot.as_object_mut()
}

fn current<'m>(
    root: &'m Map<String, Value>,
    def: &AttrDef,
    sub: Option<&AttrDef>,
) -> Option<&'m Value> {
    let map = match def.schema {
        Schema::EnterpriseUser => get_ci(root, ENTERPRISE_USER)?.as_object()?,
        _ => root,
    };
    let value = get_ci(map, def.name)?;
    match sub {
        Some(s) => get_ci(value.as_object()?, key(s)),
        None => Some(value),
    }
}

fn write_attr(
    root: &mut Map<String, Value>,
    op: OpKind,
    path: &AttrPath,
    value: Option<&Value>,
    rt: ResourceType,
    pathless: bool,
) -> Result<(), ScimError> {
    if path.in_core_schema() && path.sub.is_none() && path.name.eq_ignore_ascii_case("schemas") {
        if pathless && op != OpKind::Remove && value.is_some_and(|v| lists_own_schemas(v, rt)) {
            return Ok(());
        }
        return Err(ScimError::mutability("`schemas` cannot be changed"));
    }
    let (def, sub) = resolve(path, rt)?;
    if read_only(def) {
        if op != OpKind::Remove && value.is_some() && value == current(root, def, sub) {
            return Ok(());
        }
        return Err(ScimError::mutability(format!("`{path}` is read-only")));
    }
    match (op, value) {
        (OpKind::Add, None | Some(Value::Null)) => Ok(()),
        (OpKind::Remove, given) => {
            let given = given.filter(|v| !v.is_null());
            match container(root, def, false) {
                Some(map) => remove(map, def, sub, given),
                None => Ok(()),
            }
        }
        (OpKind::Replace, None | Some(Value::Null)) => match container(root, def, false) {
            Some(map) => remove(map, def, sub, None),
            None => Ok(()),
        },
        (_, Some(v)) => match container(root, def, true) {
            Some(map) => set(map, op, def, sub, v.clone()),
            None => Ok(()),
        },
    }
}

fn lists_own_schemas(value: &Value, rt: ResourceType) -> bool {
    let own: &[&str] = match rt {
        ResourceType::User => &[CORE_USER, ENTERPRISE_USER],
        ResourceType::Group => &[CORE_GROUP],
    };
    value.as_array().is_some_and(|items| {
        items.iter().all(|s| {
            s.as_str()
                .is_some_and(|s| own.iter().any(|o| o.eq_ignore_ascii_case(s)))
        })
    })
}

/// `add` or `replace` of `value` at `def` (or its sub-attribute `sub`).
fn set(
    map: &mut Map<String, Value>,
    op: OpKind,
    def: &AttrDef,
    sub: Option<&AttrDef>,
    value: Value,
) -> Result<(), ScimError> {
    let old = take(map, def.name);
    let new = match (sub, def.multi) {
        (None, true) => {
            let given = many(def, value)?;
            let mut items = match op {
                OpKind::Add => as_items(old),
                _ => Vec::new(),
            };
            let touched = add_values(def, &mut items, given);
            one_primary(def, &mut items, &touched);
            Value::Array(items)
        }
        (None, false) if def.kind == Kind::Complex => {
            let mut obj = as_object(old);
            obj.extend(complex(def, value)?);
            Value::Object(obj)
        }
        (None, false) => single(def, value)?,
        (Some(s), true) => {
            let value = scalar(s, value)?;
            let mut items = as_items(old);
            if items.is_empty() {
                items.push(Value::Object(Map::new()));
            }
            for item in items.iter_mut() {
                set_sub(item, s, value.clone());
            }
            let touched: Vec<usize> = (0..items.len()).collect();
            one_primary(def, &mut items, &touched);
            Value::Array(items)
        }
        (Some(s), false) => {
            let mut obj = as_object(old);
            take(&mut obj, key(s));
            obj.insert(key(s).to_string(), scalar(s, value)?);
            Value::Object(obj)
        }
    };
    put(map, def.name, Some(new));
    Ok(())
}

/// Appends `given` to `items`, merging each value into an existing one it designates. The
/// indices of the values written.
fn add_values(def: &AttrDef, items: &mut Vec<Value>, given: Vec<Map<String, Value>>) -> Vec<usize> {
    let mut touched = Vec::with_capacity(given.len());
    for value in given {
        match items.iter().position(|v| same_value(def, &value, v)) {
            Some(i) => {
                if let Some(existing) = items.get_mut(i).and_then(Value::as_object_mut) {
                    merge(existing, value);
                }
                touched.push(i);
            }
            None => {
                touched.push(items.len());
                items.push(Value::Object(value));
            }
        }
    }
    touched
}

pub(super) fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        take(into, &k);
        into.insert(k, v);
    }
}

pub(super) fn set_sub(item: &mut Value, sub: &AttrDef, value: Value) {
    if !item.is_object() {
        *item = Value::Object(Map::new());
    }
    if let Some(obj) = item.as_object_mut() {
        take(obj, key(sub));
        obj.insert(key(sub).to_string(), value);
    }
}

pub(super) fn as_items(v: Option<Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

fn as_object(v: Option<Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// `remove` at `def` (or its sub-attribute): the whole attribute, the sub-attribute of it or of
/// each of its values, or with `given`, the values of a multi-valued attribute it designates.
fn remove(
    map: &mut Map<String, Value>,
    def: &AttrDef,
    sub: Option<&AttrDef>,
    given: Option<&Value>,
) -> Result<(), ScimError> {
    let Some(old) = take(map, def.name) else {
        return Ok(());
    };
    let new = match (sub, given) {
        (None, Some(given)) if def.multi => {
            let given = many(def, given.clone())?;
            let mut items = as_items(Some(old));
            items.retain(|v| !given.iter().any(|g| same_value(def, g, v)));
            Some(Value::Array(items))
        }
        (None, _) => None,
        (Some(s), _) => Some(match old {
            Value::Array(mut items) => {
                for item in items.iter_mut() {
                    strip(item, s);
                }
                items.retain(|v| !is_empty(v));
                Value::Array(items)
            }
            mut other => {
                strip(&mut other, s);
                other
            }
        }),
    };
    put(map, def.name, new);
    Ok(())
}

pub(super) fn strip(item: &mut Value, sub: &AttrDef) {
    if let Some(obj) = item.as_object_mut() {
        take(obj, key(sub));
    }
}

/// `path` = the extension URN: its attributes, each written as if named alone.
fn write_extension(
    root: &mut Map<String, Value>,
    op: OpKind,
    urn: &str,
    value: Option<&Value>,
    rt: ResourceType,
) -> Result<(), ScimError> {
    if rt != ResourceType::User {
        return Err(ScimError::invalid_path(format!(
            "`{urn}` is not a schema of a Group"
        )));
    }
    match (op, value) {
        (OpKind::Remove, _) | (OpKind::Replace, None | Some(Value::Null)) => {
            take(root, ENTERPRISE_USER);
            Ok(())
        }
        (_, Some(Value::Object(members))) => members.iter().try_for_each(|(name, v)| {
            // Clients serialising the extension as a resource of its own list its schema.
            if name.eq_ignore_ascii_case("schemas") && names_only(v, urn) {
                return Ok(());
            }
            let path = AttrPath::parse(name)
                .ok()
                .filter(|p| p.schema.is_none())
                .ok_or_else(|| {
                    ScimError::invalid_path(format!("`{name}` is not an attribute of `{urn}`"))
                })?;
            write_attr(root, op, &path.in_schema(urn), Some(v), rt, false)
        }),
        _ => Err(ScimError::invalid_value(format!(
            "the value of `{urn}` is an object of its attributes"
        ))),
    }
}

/// Whether `schemas` (an array of URNs or one URN) names `urn` and nothing else.
fn names_only(schemas: &Value, urn: &str) -> bool {
    let is_urn = |s: &Value| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn));
    match schemas {
        Value::Array(items) => !items.is_empty() && items.iter().all(is_urn),
        other => is_urn(other),
    }
}

/// The extension object is kept only with members, and `schemas` lists its URN exactly then.
fn tidy_extension(root: &mut Map<String, Value>) {
    let ext = take(root, ENTERPRISE_USER).filter(|v| v.is_object() && !is_empty(v));
    let present = ext.is_some();
    put(root, ENTERPRISE_USER, ext);
    if let Some(Value::Array(schemas)) = root.get_mut("schemas") {
        let is_ext = |s: &Value| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(ENTERPRISE_USER))
        };
        let listed = schemas.iter().any(is_ext);
        if present && !listed {
            schemas.push(Value::from(ENTERPRISE_USER));
        } else if !present && listed {
            schemas.retain(|s| !is_ext(s));
        }
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
