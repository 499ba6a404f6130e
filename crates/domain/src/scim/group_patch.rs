//! A PATCH of a group turned into a plan of changes, without the group's members at hand: the new
//! display name and external id, and the members to add and remove (or the whole new list).
//!
//! What the directories send: members added and removed by value (`{"value": id}`, Entra ID
//! removes so), removed by filter (`members[value eq "id"]`, `or`-joined for several, as Okta
//! does), all removed (`remove members`), replaced; `displayName` added or replaced, also in a
//! path-less value that repeats the group's `id` (Okta); `externalId` replaced or removed.
//! Operations apply in order; an id added and later removed in the same request is removed.

use super::apply_value::get_ci;
use super::error::ScimError;
use super::filter::{CompValue, CompareOp, Filter};
use super::patch::{OpKind, PatchOperation, PatchRequest, Target};
use super::patch_path::PatchPath;
use super::path::{AttrPath, CORE_GROUP};
use serde_json::Value;
use std::collections::HashSet;

/// What a PATCH of a group changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    /// `Some(None)` removes the external id.
    pub external_id: Option<Option<String>>,
    pub members: MemberChange,
}

/// How the members change. Ids are user ids, each at most once, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Keep,
    /// The members become exactly these.
    Replace(Vec<String>),
    /// These are added, then these removed (the two lists share no id).
    Delta {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

/// Plans the PATCH `request` of the group `group_id`.
pub fn plan_group_patch(group_id: &str, request: &PatchRequest) -> Result<GroupPatch, ScimError> {
    let mut plan = Plan {
        group_id,
        display_name: None,
        external_id: None,
        members: Members::Keep,
    };
    for (i, op) in request.operations.iter().enumerate() {
        plan.operation(op).map_err(|e| ScimError {
            detail: format!("Operations[{i}]: {}", e.detail),
            ..e
        })?;
    }
    Ok(GroupPatch {
        display_name: plan.display_name,
        external_id: plan.external_id,
        members: plan.members.finish(),
    })
}

/// Ids in the order inserted; removal is O(1), the order is settled at the end.
#[derive(Default)]
struct Ids {
    order: Vec<String>,
    live: HashSet<String>,
}

impl Ids {
    fn insert(&mut self, id: &str) {
        if !self.live.contains(id) {
            self.live.insert(id.to_string());
            self.order.push(id.to_string());
        }
    }

    fn remove(&mut self, id: &str) {
        self.live.remove(id);
    }

    /// An id removed and inserted again stands where it was inserted last.
    fn finish(mut self) -> Vec<String> {
        let mut out: Vec<String> = self
            .order
            .into_iter()
            .rev()
            .filter(|id| self.live.remove(id))
            .collect();
        out.reverse();
        out
    }
}

enum Members {
    Keep,
    Replace(Ids),
    Delta { add: Ids, remove: Ids },
}

impl Members {
    fn add(&mut self, id: &str) {
        match self {
            Members::Replace(ids) => ids.insert(id),
            Members::Delta { add, remove } => {
                remove.remove(id);
                add.insert(id);
            }
            Members::Keep => {
                *self = Members::Delta {
                    add: Ids::default(),
                    remove: Ids::default(),
                };
                self.add(id);
            }
        }
    }

    fn remove(&mut self, id: &str) {
        match self {
            Members::Replace(ids) => ids.remove(id),
            Members::Delta { add, remove } => {
                add.remove(id);
                remove.insert(id);
            }
            Members::Keep => {
                *self = Members::Delta {
                    add: Ids::default(),
                    remove: Ids::default(),
                };
                self.remove(id);
            }
        }
    }

    fn finish(self) -> MemberChange {
        match self {
            Members::Keep => MemberChange::Keep,
            Members::Replace(ids) => MemberChange::Replace(ids.finish()),
            Members::Delta { add, remove } => {
                let (add, remove) = (add.finish(), remove.finish());
                if add.is_empty() && remove.is_empty() {
                    MemberChange::Keep
                } else {
                    MemberChange::Delta { add, remove }
                }
            }
        }
    }
}

struct Plan<'g> {
    group_id: &'g str,
    display_name: Option<String>,
    external_id: Option<Option<String>>,
    members: Members,
}

/// The attributes of a group a PATCH names.
enum Attr {
    Members,
    DisplayName,
    ExternalId,
    Id,
    ReadOnly,
    Schemas,
}

fn attribute(path: &AttrPath) -> Result<Attr, ScimError> {
    let in_group = path
        .schema
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case(CORE_GROUP));
    let named = |name: &str| in_group && path.name.eq_ignore_ascii_case(name);
    let attr = if named("members") {
        Attr::Members
    } else if named("displayName") {
        Attr::DisplayName
    } else if named("externalId") {
        Attr::ExternalId
    } else if named("id") {
        Attr::Id
    } else if named("meta") {
        Attr::ReadOnly
    } else if named("schemas") {
        Attr::Schemas
    } else {
        return Err(ScimError::invalid_path(format!(
            "`{path}` is not an attribute of a Group"
        )));
    };
    match (&attr, &path.sub) {
        (Attr::ReadOnly, _) | (_, None) => Ok(attr),
        (Attr::Members, Some(_)) => Err(ScimError::invalid_path(format!(
            "`{path}`: members are changed through `members` or `members[value eq \"…\"]`"
        ))),
        (_, Some(_)) => Err(ScimError::invalid_path(format!(
            "`{path}` is not an attribute of a Group"
        ))),
    }
}

impl Plan<'_> {
    fn operation(&mut self, op: &PatchOperation) -> Result<(), ScimError> {
        match &op.target {
            Target::Attributes(pairs) => pairs
                .iter()
                .try_for_each(|(path, value)| self.attribute(op.op, path, Some(value), true)),
            Target::Path {
                path: PatchPath::Attr(path),
                value,
            } => self.attribute(op.op, path, value.as_ref(), false),
            Target::Path {
                path: PatchPath::Filtered { attr, filter, sub },
                ..
            } => {
                let Attr::Members = attribute(attr)? else {
                    return Err(ScimError::invalid_path(format!(
                        "`{attr}` is single-valued; a filter selects values of `members`"
                    )));
                };
                if op.op != OpKind::Remove || sub.is_some() {
                    return Err(ScimError::invalid_path(
                        "a filter on `members` only removes them; add or replace `members` \
                         with a value",
                    ));
                }
                let mut ids = Vec::new();
                if !filter_ids(filter, &mut ids) {
                    return Err(ScimError::invalid_filter(format!(
                        "`members[{filter}]`: members are selected by `value eq \"id\"`, \
                         several joined by `or`"
                    )));
                }
                ids.into_iter().for_each(|id| self.members.remove(id));
                Ok(())
            }
            Target::Path {
                path: PatchPath::Extension(urn),
                ..
            } => Err(ScimError::invalid_path(format!(
                "`{urn}` is not a schema of a Group"
            ))),
        }
    }

    fn attribute(
        &mut self,
        op: OpKind,
        path: &AttrPath,
        value: Option<&Value>,
        pathless: bool,
    ) -> Result<(), ScimError> {
        let value = value.filter(|v| !v.is_null());
        match (attribute(path)?, op, value) {
            (Attr::Members, OpKind::Add, Some(v)) => {
                member_ids(v)?
                    .into_iter()
                    .for_each(|id| self.members.add(id));
            }
            (Attr::Members, OpKind::Add, None) => {}
            (Attr::Members, OpKind::Replace, v) => {
                let mut ids = Ids::default();
                for id in v.map(member_ids).transpose()?.unwrap_or_default() {
                    ids.insert(id);
                }
                self.members = Members::Replace(ids);
            }
            (Attr::Members, OpKind::Remove, Some(v)) => {
                member_ids(v)?
                    .into_iter()
                    .for_each(|id| self.members.remove(id));
            }
            (Attr::Members, OpKind::Remove, None) => {
                self.members = Members::Replace(Ids::default());
            }
            (Attr::DisplayName, OpKind::Remove, _) | (Attr::DisplayName, _, None) => {
                return Err(ScimError::invalid_value(
                    "`displayName` is required: it can be replaced, not removed",
                ))
            }
            (Attr::DisplayName, _, Some(v)) => {
                self.display_name = Some(text(path, v)?.to_string());
            }
            (Attr::ExternalId, OpKind::Remove, _) | (Attr::ExternalId, _, None) => {
                self.external_id = Some(None);
            }
            (Attr::ExternalId, _, Some(v)) => {
                self.external_id = Some(Some(text(path, v)?.to_string()));
            }
            (Attr::Id, OpKind::Add | OpKind::Replace, Some(Value::String(id)))
                if id == self.group_id => {}
            (Attr::Schemas, OpKind::Add | OpKind::Replace, Some(v))
                if pathless && lists_group_schema(v) => {}
            (Attr::Schemas, _, _) => {
                return Err(ScimError::mutability("`schemas` cannot be changed"))
            }
            (Attr::Id | Attr::ReadOnly, _, _) => {
                return Err(ScimError::mutability(format!("`{path}` is read-only")))
            }
        }
        Ok(())
    }
}

fn text<'v>(path: &AttrPath, v: &'v Value) -> Result<&'v str, ScimError> {
    v.as_str()
        .ok_or_else(|| ScimError::invalid_value(format!("`{path}` takes a string, not {v}")))
}

fn lists_group_schema(v: &Value) -> bool {
    v.as_array().is_some_and(|items| {
        items.iter().all(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(CORE_GROUP))
        })
    })
}

/// The ids of a `members` value: `[{"value": id}, …]` or one `{"value": id}`.
fn member_ids(value: &Value) -> Result<Vec<&str>, ScimError> {
    let bad = |item: &Value| {
        ScimError::invalid_value(format!(
            "a value of `members` is an object whose `value` is the id of a user, not {item}"
        ))
    };
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| one(item).ok_or_else(|| bad(item)))
            .collect(),
        other => one(other).map(|id| vec![id]).ok_or_else(|| bad(other)),
    }
}

fn one(item: &Value) -> Option<&str> {
    get_ci(item.as_object()?, "value")?
        .as_str()
        .filter(|id| !id.is_empty())
}

/// Collects the ids of `value eq "id"` terms joined by `or`; false if the filter says more.
fn filter_ids<'f>(filter: &'f Filter, out: &mut Vec<&'f str>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.schema.is_none()
            && path.sub.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            out.push(id);
            true
        }
        Filter::Or(items) => items.iter().all(|f| filter_ids(f, out)),
        _ => false,
    }
}

#[cfg(test)]
#[path = "group_patch_tests.rs"]
mod tests;
