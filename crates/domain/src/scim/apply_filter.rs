//! PATCH operations whose path has a value filter: `emails[type eq "work"]`,
//! `emails[type eq "work"].value`.

use super::apply::{as_items, container, merge, read_only, resolve, set_sub, strip};
use super::apply_value::{complex, is_empty, key, one_primary, put, scalar, shown, sub_def, take};
use super::error::ScimError;
use super::filter::{CompValue, CompareOp, Filter};
use super::matching::matches_element;
use super::patch::OpKind;
use super::path::AttrPath;
use super::schema::{AttrDef, ResourceType};
use serde_json::{Map, Value};

/// A path with a value filter: `emails[type eq "work"]`, `emails[type eq "work"].value`.
pub(super) struct Filtered<'p> {
    def: &'static AttrDef,
    sub: Option<&'static AttrDef>,
    filter: &'p Filter,
    attr: AttrPath,
}

impl<'p> Filtered<'p> {
    pub(super) fn new(
        attr: &AttrPath,
        filter: &'p Filter,
        sub: &Option<String>,
        rt: ResourceType,
    ) -> Result<Self, ScimError> {
        let (def, _) = resolve(attr, rt)?;
        if read_only(def) {
            return Err(ScimError::mutability(format!("`{attr}` is read-only")));
        }
        if !def.multi {
            return Err(ScimError::invalid_path(format!(
                "`{attr}` is single-valued; a filter selects values of a multi-valued attribute"
            )));
        }
        check_filter(def, filter)?;
        let sub = match sub {
            Some(s) => Some(sub_def(def, s).ok_or_else(|| {
                ScimError::invalid_path(format!("`{attr}.{s}` is not an attribute"))
            })?),
            None => None,
        };
        Ok(Filtered {
            def,
            sub,
            filter,
            attr: AttrPath::new(def.name),
        })
    }

    pub(super) fn apply(
        &self,
        root: &mut Map<String, Value>,
        op: OpKind,
        value: Option<&Value>,
        rt: ResourceType,
    ) -> Result<(), ScimError> {
        let value = value.filter(|v| !v.is_null());
        let create = op != OpKind::Remove && value.is_some();
        let Some(map) = container(root, self.def, create) else {
            return Ok(());
        };
        let mut items = as_items(take(map, self.def.name));
        let hits: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, v)| matches_element(self.filter, v, &self.attr, &rt))
            .map(|(i, _)| i)
            .collect();
        let mut touched = hits.clone();
        match (op, value) {
            (OpKind::Remove, _) | (OpKind::Replace, None) => self.remove(&mut items, &hits),
            (_, None) => {}
            (_, Some(value)) if hits.is_empty() => {
                let created = match op {
                    OpKind::Add => self.created(value.clone())?,
                    _ => None,
                };
                let Some(created) = created else {
                    return Err(ScimError::no_target(format!(
                        "`{}[{}]` selects no value",
                        self.def.name, self.filter
                    )));
                };
                touched = vec![items.len()];
                items.push(Value::Object(created));
            }
            (_, Some(value)) => self.write(&mut items, &hits, op, value)?,
        }
        one_primary(self.def, &mut items, &touched);
        items.retain(|v| !is_empty(v));
        put(map, self.def.name, Some(Value::Array(items)));
        Ok(())
    }

    fn remove(&self, items: &mut Vec<Value>, hits: &[usize]) {
        match self.sub {
            None => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    hits.binary_search(&(i - 1)).is_err()
                });
            }
            Some(s) => {
                for i in hits {
                    if let Some(item) = items.get_mut(*i) {
                        strip(item, s);
                    }
                }
                items.retain(|v| !is_empty(v));
            }
        }
    }

    fn write(
        &self,
        items: &mut [Value],
        hits: &[usize],
        op: OpKind,
        value: &Value,
    ) -> Result<(), ScimError> {
        let new = match self.sub {
            Some(s) => scalar(s, value.clone())?,
            None => Value::Object(complex(self.def, value.clone())?),
        };
        for i in hits {
            let Some(item) = items.get_mut(*i) else {
                continue;
            };
            match (self.sub, op, &new) {
                (Some(s), _, _) => set_sub(item, s, new.clone()),
                (None, OpKind::Add, Value::Object(from)) => {
                    if let Some(obj) = item.as_object_mut() {
                        merge(obj, from.clone());
                    }
                }
                (None, _, _) => *item = new.clone(),
            }
        }
        Ok(())
    }

    /// The value an `add` creates when its filter selects none: the filter's `sub eq value`
    /// terms with the value given. `None` when the filter says more than that.
    fn created(&self, value: Value) -> Result<Option<Map<String, Value>>, ScimError> {
        let mut seed = Map::new();
        if !eq_terms(self.def, self.filter, &mut seed) {
            return Ok(None);
        }
        match self.sub {
            Some(s) => {
                seed.insert(key(s).to_string(), scalar(s, value)?);
            }
            None => merge(&mut seed, complex(self.def, value)?),
        }
        Ok(Some(seed))
    }
}

/// Collects the `sub eq value` terms of `filter` into `seed`; false if it has other terms.
fn eq_terms(def: &AttrDef, filter: &Filter, seed: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::And(items) => items.iter().all(|f| eq_terms(def, f, seed)),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let value = match value {
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                _ => return false,
            };
            match sub_def(def, &path.name).map(|s| (s, scalar(s, value))) {
                Some((s, Ok(v))) => {
                    seed.insert(key(s).to_string(), v);
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The paths of a value filter must be sub-attributes of the attribute it filters.
fn check_filter(def: &AttrDef, filter: &Filter) -> Result<(), ScimError> {
    match filter {
        Filter::Present(path) | Filter::Compare { path, .. } => {
            if path.schema.is_none() && path.sub.is_none() && sub_def(def, &path.name).is_some() {
                Ok(())
            } else {
                Err(ScimError::invalid_filter(format!(
                    "`{path}` is not a sub-attribute of `{}`",
                    shown(def)
                )))
            }
        }
        Filter::Not(inner) => check_filter(def, inner),
        Filter::And(items) | Filter::Or(items) => {
            items.iter().try_for_each(|f| check_filter(def, f))
        }
        Filter::ValuePath { path, .. } => Err(ScimError::invalid_filter(format!(
            "`{path}[…]` cannot be nested in a value filter"
        ))),
    }
}
