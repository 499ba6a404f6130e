use super::*;
use crate::scim::patch::parse_patch;
use crate::scim::ScimType;
use rand::Rng;
use serde_json::json;
use std::collections::HashSet;

fn request(ops: Value) -> PatchRequest {
    parse_patch(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn plan(ops: Value) -> GroupPatch {
    plan_group_patch("g1", &request(ops)).unwrap_or_else(|e| panic!("{e}"))
}

fn members(ops: Value) -> MemberChange {
    plan(ops).members
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn delta(add: &[&str], remove: &[&str]) -> MemberChange {
    MemberChange::Delta {
        add: ids(add),
        remove: ids(remove),
    }
}

fn failure(ops: Value) -> (ScimType, String) {
    let e = plan_group_patch("g1", &request(ops)).unwrap_err();
    assert_eq!(e.status, 400);
    (e.scim_type.unwrap(), e.detail)
}

#[test]
fn entra_id_membership() {
    assert_eq!(
        members(json!([
            {"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}, {"value": "a"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "c"}]}
        ])),
        delta(&["a", "b"], &["c"])
    );
    assert_eq!(
        members(json!([
            {"op": "Add", "path": "members", "value": [{"value": "a"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "a"}]},
            {"op": "Remove", "path": "members", "value": {"value": "b"}},
            {"op": "Add", "path": "members", "value": [{"VALUE": "b"}]}
        ])),
        delta(&["b"], &["a"])
    );
    assert_eq!(
        members(json!([{"op": "Add", "path": "members", "value": []}])),
        MemberChange::Keep
    );
}

#[test]
fn okta_membership_and_rename() {
    let p = plan(json!([
        {"op": "replace", "value": {"id": "g1", "displayName": "Ops"}},
        {"op": "remove", "path": "members[value eq \"a\"]"},
        {"op": "remove", "path": "members[value eq \"b\" or value eq \"c\"]"},
        {"op": "add", "path": "members", "value": [{"value": "d", "display": "D"}]}
    ]));
    assert_eq!(
        p,
        GroupPatch {
            display_name: Some("Ops".into()),
            external_id: None,
            members: delta(&["d"], &["a", "b", "c"]),
        }
    );
}

#[test]
fn replacing_and_removing_all_members() {
    assert_eq!(
        members(json!([
            {"op": "add", "path": "members", "value": [{"value": "x"}]},
            {"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "add", "path": "members", "value": [{"value": "c"}, {"value": "a"}]},
            {"op": "remove", "path": "members[value eq \"b\"]"}
        ])),
        MemberChange::Replace(ids(&["a", "c"]))
    );
    assert_eq!(
        members(json!([{"op": "remove", "path": "members"}])),
        MemberChange::Replace(vec![])
    );
    assert_eq!(
        members(json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "n"}]}
        ])),
        MemberChange::Replace(ids(&["n"]))
    );
    assert_eq!(
        members(json!([{"op": "replace", "path": "members", "value": null}])),
        MemberChange::Replace(vec![])
    );
    assert_eq!(
        members(json!([{"op": "replace", "value": {"members": [{"value": "z"}]}}])),
        MemberChange::Replace(ids(&["z"]))
    );
}

#[test]
fn display_name_and_external_id() {
    let p = plan(json!([
        {"op": "add", "path": "displayName", "value": "A"},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "value": "B"},
        {"op": "replace", "path": "externalId", "value": "e"}
    ]));
    assert_eq!(
        (p.display_name, p.external_id, p.members),
        (Some("B".into()), Some(Some("e".into())), MemberChange::Keep)
    );
    assert_eq!(
        plan(json!([{"op": "remove", "path": "externalId"}])).external_id,
        Some(None)
    );
    assert_eq!(
        plan(json!([{"op": "replace", "value": {"externalId": null}}])).external_id,
        Some(None)
    );
}

#[test]
fn refusals() {
    use ScimType::*;
    let cases = [
        (json!({"op": "remove", "path": "members[display eq \"x\"]"}), InvalidFilter, "`members[display eq \"x\"]`: members are selected by `value eq \"id\"`, several joined by `or`"),
        (json!({"op": "remove", "path": "members[value eq \"a\" and value eq \"b\"]"}), InvalidFilter, "`members[value eq \"a\" and value eq \"b\"]`: members are selected by `value eq \"id\"`, several joined by `or`"),
        (json!({"op": "remove", "path": "members[value co \"a\"]"}), InvalidFilter, "`members[value co \"a\"]`: members are selected by `value eq \"id\"`, several joined by `or`"),
        (json!({"op": "add", "path": "members[value eq \"a\"]", "value": {"value": "a"}}), InvalidPath, "a filter on `members` only removes them; add or replace `members` with a value"),
        (json!({"op": "remove", "path": "members[value eq \"a\"].display"}), InvalidPath, "a filter on `members` only removes them; add or replace `members` with a value"),
        (json!({"op": "remove", "path": "members.value"}), InvalidPath, "`members.value`: members are changed through `members` or `members[value eq \"…\"]`"),
        (json!({"op": "add", "path": "userName", "value": "x"}), InvalidPath, "`userName` is not an attribute of a Group"),
        (json!({"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "x"}), InvalidPath, "`urn:ietf:params:scim:schemas:core:2.0:User:displayName` is not an attribute of a Group"),
        (json!({"op": "add", "path": "displayName.x", "value": "x"}), InvalidPath, "`displayName.x` is not an attribute of a Group"),
        (json!({"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}), InvalidPath, "`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` is not a schema of a Group"),
        (json!({"op": "replace", "path": "displayName[value eq \"x\"]", "value": "x"}), InvalidPath, "`displayName` is single-valued; a filter selects values of `members`"),
        (json!({"op": "add", "path": "members", "value": [{"value": "a"}, {"display": "b"}]}), InvalidValue, "a value of `members` is an object whose `value` is the id of a user, not {\"display\":\"b\"}"),
        (json!({"op": "add", "path": "members", "value": ["a"]}), InvalidValue, "a value of `members` is an object whose `value` is the id of a user, not \"a\""),
        (json!({"op": "add", "path": "members", "value": [{"value": ""}]}), InvalidValue, "a value of `members` is an object whose `value` is the id of a user, not {\"value\":\"\"}"),
        (json!({"op": "remove", "path": "displayName"}), InvalidValue, "`displayName` is required: it can be replaced, not removed"),
        (json!({"op": "replace", "path": "displayName", "value": null}), InvalidValue, "`displayName` is required: it can be replaced, not removed"),
        (json!({"op": "replace", "path": "displayName", "value": 7}), InvalidValue, "`displayName` takes a string, not 7"),
        (json!({"op": "replace", "path": "externalId", "value": {}}), InvalidValue, "`externalId` takes a string, not {}"),
        (json!({"op": "replace", "value": {"id": "g2"}}), Mutability, "`id` is read-only"),
        (json!({"op": "remove", "path": "id"}), Mutability, "`id` is read-only"),
        (json!({"op": "replace", "path": "meta.lastModified", "value": "x"}), Mutability, "`meta.lastModified` is read-only"),
        (json!({"op": "replace", "path": "schemas", "value": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}), Mutability, "`schemas` cannot be changed"),
        (json!({"op": "replace", "value": {"schemas": ["urn:x"]}}), Mutability, "`schemas` cannot be changed"),
    ];
    for (op, t, detail) in cases {
        let (got_t, got) =
            failure(json!([{"op": "add", "path": "displayName", "value": "ok"}, op]));
        assert_eq!(
            (got_t, got.as_str()),
            (t, format!("Operations[1]: {detail}").as_str())
        );
    }
    // The group's own schema in a path-less value changes nothing.
    assert_eq!(
        plan(json!([{"op": "replace", "value": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"}}]))
            .display_name,
        Some("G".into())
    );
}

#[test]
fn five_thousand_members_in_one_request() {
    let list: Vec<Value> = (0..5_000)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let filter = (0..100)
        .map(|i| format!("value eq \"u{}\"", i * 2))
        .collect::<Vec<_>>()
        .join(" or ");
    let started = std::time::Instant::now();
    let change = members(json!([
        {"op": "add", "path": "members", "value": list},
        {"op": "remove", "path": "members", "value": list[..1_000]},
        {"op": "replace", "path": "members", "value": list},
        {"op": "remove", "path": format!("members[{filter}]")},
        {"op": "add", "path": "members", "value": list}
    ]));
    let MemberChange::Replace(after) = change else {
        panic!("{change:?}")
    };
    assert_eq!(after.len(), 5_000);
    assert_eq!(after.iter().collect::<HashSet<_>>().len(), 5_000);
    assert_eq!(after[0], "u1");
    assert_eq!(after[4_999], "u198", "removed, then added again at the end");
    assert!(started.elapsed().as_secs() < 10);
}

/// The members a plan leaves, given those before.
fn planned(before: &[String], change: &MemberChange) -> Vec<String> {
    match change {
        MemberChange::Keep => before.to_vec(),
        MemberChange::Replace(list) => list.clone(),
        MemberChange::Delta { add, remove } => {
            let mut out = before.to_vec();
            out.extend(add.iter().filter(|a| !before.contains(a)).cloned());
            out.retain(|m| !remove.contains(m));
            out
        }
    }
}

#[test]
fn plans_agree_with_applying_operations_one_by_one() {
    let mut rng = rand::thread_rng();
    let pool: Vec<String> = (0..8).map(|i| format!("u{i}")).collect();
    for _ in 0..3_000 {
        let some = |rng: &mut rand::rngs::ThreadRng| -> Vec<String> {
            (0..rng.gen_range(0..4))
                .map(|_| pool[rng.gen_range(0..pool.len())].clone())
                .collect()
        };
        let before: Vec<String> = {
            let mut b = some(&mut rng);
            b.dedup();
            let mut seen = HashSet::new();
            b.retain(|m| seen.insert(m.clone()));
            b
        };
        let mut expected = before.clone();
        let mut ops = Vec::new();
        for _ in 0..rng.gen_range(1..6) {
            let chosen = some(&mut rng);
            let values: Vec<Value> = chosen.iter().map(|id| json!({"value": id})).collect();
            match rng.gen_range(0..5) {
                0 => {
                    for id in &chosen {
                        if !expected.contains(id) {
                            expected.push(id.clone());
                        }
                    }
                    ops.push(json!({"op": "add", "path": "members", "value": values}));
                }
                1 => {
                    expected.retain(|m| !chosen.contains(m));
                    ops.push(json!({"op": "remove", "path": "members", "value": values}));
                }
                2 if !chosen.is_empty() => {
                    expected.retain(|m| !chosen.contains(m));
                    let filter = chosen
                        .iter()
                        .map(|id| format!("value eq \"{id}\""))
                        .collect::<Vec<_>>()
                        .join(" or ");
                    ops.push(json!({"op": "remove", "path": format!("members[{filter}]")}));
                }
                3 => {
                    expected.clear();
                    for id in &chosen {
                        if !expected.contains(id) {
                            expected.push(id.clone());
                        }
                    }
                    ops.push(json!({"op": "replace", "path": "members", "value": values}));
                }
                _ => {
                    expected.clear();
                    ops.push(json!({"op": "remove", "path": "members"}));
                }
            }
        }
        let change = members(Value::Array(ops.clone()));
        let got = planned(&before, &change);
        let as_set = |v: &[String]| v.iter().cloned().collect::<HashSet<_>>();
        assert_eq!(
            as_set(&got),
            as_set(&expected),
            "{ops:?} from {before:?}: {change:?}"
        );
        if let MemberChange::Replace(_) = change {
            assert_eq!(got, expected, "{ops:?}");
        }
        assert_eq!(got.len(), as_set(&got).len(), "{change:?}");
        if let MemberChange::Delta { add, remove } = &change {
            assert!(as_set(add).is_disjoint(&as_set(remove)), "{change:?}");
            assert_eq!(
                add.len() + remove.len(),
                as_set(add).len() + as_set(remove).len()
            );
        }
    }
}
