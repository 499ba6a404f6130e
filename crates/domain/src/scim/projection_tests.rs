use super::*;
use crate::scim::path::{CORE_GROUP, CORE_USER};
use crate::scim::ScimType;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;

const EXT: &str = ENTERPRISE_USER;

fn user() -> Value {
    json!({
        "schemas": [CORE_USER, EXT],
        "id": "u1",
        "externalId": "x1",
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z"},
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "b@work.example", "type": "work", "primary": true},
            {"type": "home"}
        ],
        EXT: {"department": "R&D", "employeeNumber": "7", "manager": {"value": "m1"}}
    })
}

fn list(text: &str) -> Vec<AttrPath> {
    parse_attribute_list("attributes", text).unwrap_or_else(|e| panic!("{e}"))
}

fn projected(attributes: &str, excluded: &str) -> Value {
    let mut u = user();
    project(
        &mut u,
        &list(attributes),
        &list(excluded),
        ResourceType::User,
    );
    u
}

#[test]
fn parsing_lists() {
    assert_eq!(
        list(&format!(" userName, name.givenName ,{EXT}:department")),
        vec![
            AttrPath::new("userName"),
            AttrPath::new("name").with_sub("givenName"),
            AttrPath::new("department").in_schema(EXT)
        ]
    );
    assert_eq!(list(""), vec![]);
    for (text, detail) in [
        (
            "userName,",
            "excludedAttributes: an attribute name is empty",
        ),
        (
            "a b",
            "excludedAttributes: ` ` is not allowed in attribute name `a b`",
        ),
        (
            "a.b.c",
            "excludedAttributes: `a.b.c` goes deeper than one sub-attribute",
        ),
    ] {
        let e = parse_attribute_list("excludedAttributes", text).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type, e.detail.as_str()),
            (400, Some(ScimType::InvalidValue), detail)
        );
    }
}

#[test]
fn attributes_keep_only_what_they_name() {
    assert_eq!(
        projected("USERNAME,name.givenName,department,emails.value", ""),
        json!({
            "schemas": [CORE_USER, EXT],
            "id": "u1",
            "userName": "bjensen",
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "b@work.example"}],
            EXT: {"department": "R&D"}
        })
    );
    assert_eq!(
        projected(&format!("meta,{EXT}:manager.value"), "userName"),
        json!({
            "schemas": [CORE_USER, EXT],
            "id": "u1",
            "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z"},
            EXT: {"manager": {"value": "m1"}}
        })
    );
    assert_eq!(projected(EXT, "")[EXT], user()[EXT]);
    assert_eq!(
        projected("id,nothing,urn:example:x:y", ""),
        json!({"schemas": [CORE_USER, EXT], "id": "u1"})
    );
}

#[test]
fn excluded_attributes_drop_what_they_name() {
    let mut expected = user();
    let o = expected.as_object_mut().unwrap();
    o.remove("meta");
    o.remove("name");
    o.insert(
        "emails".into(),
        json!([{"value": "b@work.example", "primary": true}]),
    );
    o.insert(
        EXT.into(),
        json!({"department": "R&D", "manager": {"value": "m1"}}),
    );
    assert_eq!(
        projected("", "meta,Name,emails.type,employeeNumber,id,schemas"),
        expected
    );
    let u = projected("", EXT);
    assert!(u.get(EXT).is_none());
    assert_eq!(u["schemas"], json!([CORE_USER, EXT]));
}

#[test]
fn members_of_groups() {
    let group = json!({
        "schemas": [CORE_GROUP],
        "id": "g1",
        "displayName": "Ops",
        "members": [{"value": "a", "display": "A"}]
    });
    let mut g = group.clone();
    project(&mut g, &[], &list("members"), ResourceType::Group);
    assert_eq!(
        g,
        json!({"schemas": [CORE_GROUP], "id": "g1", "displayName": "Ops"})
    );
    let mut g = group;
    project(&mut g, &list("members.value"), &[], ResourceType::Group);
    assert_eq!(
        g,
        json!({"schemas": [CORE_GROUP], "id": "g1", "members": [{"value": "a"}]})
    );
}

const NAMES: &[&str] = &[
    "externalId",
    "meta",
    "userName",
    "name",
    "name.givenName",
    "active",
    "emails",
    "emails.type",
    "department",
    "employeeNumber",
    "manager",
    "id",
    "schemas",
];

/// Top-level and extension members of `v`, as `name` or `ext:name`.
fn members(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in v.as_object().unwrap() {
        if k == EXT {
            out.extend(v.as_object().unwrap().keys().map(|k| format!("ext:{k}")));
        } else {
            out.push(k.clone());
        }
    }
    out
}

fn top(name: &str) -> String {
    let base = name.split('.').next().unwrap();
    match base {
        "department" | "employeeNumber" | "manager" => format!("ext:{base}"),
        other => other.to_string(),
    }
}

#[test]
fn projections_keep_exactly_what_is_asked() {
    let mut rng = rand::thread_rng();
    for _ in 0..2_000 {
        let n = rng.gen_range(0..5);
        let chosen: Vec<&str> = NAMES.choose_multiple(&mut rng, n).copied().collect();
        let text = chosen.join(",");
        let whole = |name: &str| {
            chosen
                .iter()
                .any(|c| top(c) == top(name) && !c.contains('.'))
        };
        // Attributes: what is left is always returned or named; what is named whole is there.
        let mut u = user();
        project(&mut u, &list(&text), &[], ResourceType::User);
        if chosen.is_empty() {
            assert_eq!(u, user(), "no attributes asked: all of them");
        }
        let left = members(&u);
        assert!(left.contains(&"id".into()) && left.contains(&"schemas".into()));
        for m in &left {
            assert!(
                chosen.is_empty()
                    || m == "id"
                    || m == "schemas"
                    || chosen.iter().any(|c| &top(c) == m),
                "{text}: {m}"
            );
        }
        for m in members(&user()) {
            if whole(&m.replace("ext:", "")) {
                assert!(left.contains(&m), "{text}: {m}");
            }
        }
        // Excluded: what is named whole is gone, and everything else is as it was.
        let mut u = user();
        project(&mut u, &[], &list(&text), ResourceType::User);
        let left = members(&u);
        for m in members(&user()) {
            let named = chosen.iter().any(|c| top(c) == m);
            let always = m == "id" || m == "schemas";
            assert_eq!(
                left.contains(&m),
                always || !whole(&m.replace("ext:", "")),
                "{text}: {m}"
            );
            if !named || always {
                let get = |v: &Value| match m.strip_prefix("ext:") {
                    Some(k) => v[EXT][k].clone(),
                    None => v[m.as_str()].clone(),
                };
                assert_eq!(get(&u), get(&user()), "{text}: {m}");
            }
        }
    }
}
