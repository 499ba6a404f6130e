use super::*;
use crate::scim::patch::parse_patch;
use crate::scim::ScimType;
use serde_json::json;

const EXT: &str = ENTERPRISE_USER;

fn user() -> Value {
    json!({
        "schemas": [CORE_USER],
        "id": "u1",
        "externalId": "ext-1",
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z"},
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "active": true,
        "emails": [
            {"value": "b@work.example", "type": "work", "primary": true},
            {"value": "b@home.example", "type": "home"}
        ]
    })
}

fn request(ops: Value) -> PatchRequest {
    parse_patch(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn patched(mut resource: Value, rt: ResourceType, ops: Value) -> Value {
    apply_patch(&mut resource, &request(ops), rt).unwrap_or_else(|e| panic!("{e}"));
    resource
}

fn user_after(ops: Value) -> Value {
    patched(user(), ResourceType::User, ops)
}

fn failure(resource: Value, rt: ResourceType, ops: Value) -> (ScimType, String) {
    let mut after = resource.clone();
    let e = apply_patch(&mut after, &request(ops), rt).unwrap_err();
    assert_eq!(after, resource, "a failed PATCH changes nothing");
    assert_eq!(e.status, 400);
    (e.scim_type.unwrap(), e.detail)
}

#[test]
fn entra_id_user_updates() {
    let u = user_after(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "path": "name.givenName", "value": "Babs"},
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@work.example"},
        {"op": "Add", "path": format!("{EXT}:manager"), "value": "m-1"},
        {"op": "Add", "path": format!("{EXT}:employeeNumber"), "value": "701984"}
    ]));
    assert_eq!(u["active"], json!(false));
    assert_eq!(
        u["name"],
        json!({"givenName": "Babs", "familyName": "Jensen"})
    );
    assert_eq!(
        u["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555"}])
    );
    assert_eq!(
        u["emails"][0],
        json!({"value": "new@work.example", "type": "work", "primary": true})
    );
    assert_eq!(
        u[EXT],
        json!({"manager": {"value": "m-1"}, "employeeNumber": "701984"})
    );
    assert_eq!(u["schemas"], json!([CORE_USER, EXT]));
    // Removing the last attribute of the extension removes it, and its schema.
    let u = patched(
        u,
        ResourceType::User,
        json!([
            {"op": "Remove", "path": format!("{EXT}:manager")},
            {"op": "Replace", "path": "employeeNumber", "value": null}
        ]),
    );
    assert!(u.get(EXT).is_none());
    assert_eq!(u["schemas"], json!([CORE_USER]));
    // The extension sent as a resource of its own, listing its schema.
    let u = user_after(json!([
        {"op": "replace", "path": EXT, "value": {"schemas": [EXT], "division": "V"}}
    ]));
    assert_eq!(u[EXT], json!({"division": "V"}));
    let (kind, _) = failure(
        user(),
        ResourceType::User,
        json!([{"op": "add", "path": EXT, "value": {"schemas": ["urn:x"], "division": "V"}}]),
    );
    assert_eq!(kind, ScimType::InvalidPath);
}

#[test]
fn okta_pathless_replace() {
    let u = user_after(json!([
        {"op": "replace", "value": {"id": "u1", "active": false, "name.familyName": "J",
            EXT: {"department": "R&D"}}}
    ]));
    assert_eq!(u["active"], json!(false));
    assert_eq!(
        u["name"],
        json!({"givenName": "Barbara", "familyName": "J"})
    );
    assert_eq!(u[EXT], json!({"department": "R&D"}));
    let (t, d) = failure(
        user(),
        ResourceType::User,
        json!([{"op": "replace", "value": {"id": "other"}}]),
    );
    assert_eq!(
        (t, d.as_str()),
        (ScimType::Mutability, "Operations[0]: `id` is read-only")
    );
    // A path-less value may list the resource's own schemas.
    let u =
        user_after(json!([{"op": "replace", "value": {"schemas": [CORE_USER], "title": "Dr"}}]));
    assert_eq!(u["title"], json!("Dr"));
}

#[test]
fn names_match_without_case_and_are_written_canonically() {
    let mut resource = user();
    resource["DisplayName"] = resource["displayName"].take();
    resource.as_object_mut().unwrap().remove("displayName");
    let u = patched(
        resource,
        ResourceType::User,
        json!([
            {"op": "replace", "path": "DISPLAYNAME", "value": "B"},
            {"op": "add", "path": "NAME.MIDDLENAME", "value": "M"},
            {"op": "add", "path": "Emails", "value": [{"VALUE": "c@x", "Type": "other"}]}
        ]),
    );
    assert_eq!(u["displayName"], json!("B"));
    assert!(u.get("DisplayName").is_none());
    assert_eq!(u["name"]["middleName"], json!("M"));
    assert_eq!(u["emails"][2], json!({"value": "c@x", "type": "other"}));
}

#[test]
fn add_to_a_multi_valued_attribute() {
    let u = user_after(json!([
        {"op": "add", "path": "emails", "value": [
            {"value": "B@WORK.example", "type": "work"},
            {"value": "b@home.example", "type": "home", "primary": true},
            {"value": "b@other.example"}
        ]}
    ]));
    assert_eq!(
        u["emails"],
        json!([
            {"value": "B@WORK.example", "type": "work"},
            {"value": "b@home.example", "type": "home", "primary": true},
            {"value": "b@other.example"}
        ]),
        "a value designating an existing one is merged into it, and the new primary takes \
         primary from the others"
    );
}

#[test]
fn replace_of_a_multi_valued_attribute_and_filters() {
    let u = user_after(json!([
        {"op": "replace", "path": "emails", "value": [{"value": "only@x", "primary": true}]}
    ]));
    assert_eq!(u["emails"], json!([{"value": "only@x", "primary": true}]));
    let u = user_after(json!([
        {"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x", "type": "home", "primary": true}}
    ]));
    assert_eq!(
        u["emails"],
        json!([
            {"value": "b@work.example", "type": "work"},
            {"value": "h@x", "type": "home", "primary": true}
        ])
    );
    let u = user_after(json!([
        {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}
    ]));
    assert_eq!(u["emails"][0].get("primary"), None);
    assert_eq!(u["emails"][1]["primary"], json!(true));
    let (t, d) = failure(
        user(),
        ResourceType::User,
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
    );
    assert_eq!(
        (t, d.as_str()),
        (
            ScimType::NoTarget,
            "Operations[0]: `emails[type eq \"other\"]` selects no value"
        )
    );
    // An add whose filter is more than equalities, selecting nothing, has no target either.
    let (t, _) = failure(
        user(),
        ResourceType::User,
        json!([{"op": "add", "path": "emails[type co \"oth\"].value", "value": "x"}]),
    );
    assert_eq!(t, ScimType::NoTarget);
}

#[test]
fn removals() {
    let u = user_after(json!([
        {"op": "remove", "path": "emails[type eq \"work\"]"},
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "displayName"},
        {"op": "remove", "path": "nickName"},
        {"op": "remove", "path": "emails[value eq \"nobody\"]"}
    ]));
    assert_eq!(
        u["emails"],
        json!([{"value": "b@home.example", "type": "home"}])
    );
    assert_eq!(u["name"], json!({"familyName": "Jensen"}));
    assert!(u.get("displayName").is_none());
    let u = user_after(json!([
        {"op": "remove", "path": "emails.type"},
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "name.familyName"}
    ]));
    assert_eq!(
        u["emails"],
        json!([{"value": "b@work.example", "primary": true}, {"value": "b@home.example"}])
    );
    assert!(
        u.get("name").is_none(),
        "an emptied complex attribute is unassigned"
    );
    let u = user_after(json!([{"op": "remove", "path": "emails"}]));
    assert!(u.get("emails").is_none());
}

#[test]
fn group_members_by_value() {
    let group = json!({
        "schemas": [CORE_GROUP],
        "id": "g1",
        "displayName": "Ops",
        "members": [{"value": "a"}, {"value": "b", "display": "B"}, {"value": "c"}]
    });
    let g = patched(
        group.clone(),
        ResourceType::Group,
        json!([
            {"op": "Remove", "path": "members", "value": [{"value": "b"}, {"value": "zz"}]},
            {"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "d"}]},
            {"op": "remove", "path": "members[value eq \"c\"]"}
        ]),
    );
    assert_eq!(g["members"], json!([{"value": "a"}, {"value": "d"}]));
    assert_eq!(g["schemas"], json!([CORE_GROUP]));
    let (t, _) = failure(
        group,
        ResourceType::Group,
        json!([{"op": "add", "path": "userName", "value": "x"}]),
    );
    assert_eq!(t, ScimType::InvalidPath);
}

#[test]
fn refusals() {
    use ScimType::*;
    let cases = [
        (json!({"op": "add", "path": "nope", "value": "x"}), InvalidPath, "`nope` is not an attribute of a User"),
        (json!({"op": "add", "path": "name.nope", "value": "x"}), InvalidPath, "`name.nope` is not an attribute of a User"),
        (json!({"op": "add", "path": "urn:example:x:title", "value": "x"}), InvalidPath, "`urn:example:x:title` is not an attribute of a User"),
        (json!({"op": "replace", "path": "meta.created", "value": "x"}), Mutability, "`meta.created` is read-only"),
        (json!({"op": "remove", "path": "id"}), Mutability, "`id` is read-only"),
        (json!({"op": "replace", "path": "schemas", "value": [CORE_USER]}), Mutability, "`schemas` cannot be changed"),
        (json!({"op": "add", "path": "groups", "value": [{"value": "g"}]}), Mutability, "`groups` is read-only"),
        (json!({"op": "replace", "path": "title", "value": ["a", "b"]}), InvalidValue, "`title` is single-valued; an array was given"),
        (json!({"op": "replace", "path": "active", "value": 1}), InvalidValue, "`active` takes a boolean, not 1"),
        (json!({"op": "replace", "path": "name", "value": "x"}), InvalidValue, "a value of `name` is an object of its sub-attributes, not \"x\""),
        (json!({"op": "add", "path": "emails", "value": [{"value": "x", "kind": "y"}]}), InvalidPath, "`emails.kind` is not an attribute"),
        (json!({"op": "add", "path": "title[value eq \"x\"]", "value": "x"}), InvalidPath, "`title` is single-valued; a filter selects values of a multi-valued attribute"),
        (json!({"op": "remove", "path": "emails[kind eq \"x\"]"}), InvalidFilter, "`kind` is not a sub-attribute of `emails`"),
        (json!({"op": "add", "path": "emails[type eq \"work\"].kind", "value": "x"}), InvalidPath, "`emails.kind` is not an attribute"),
        (json!({"op": "add", "path": EXT, "value": {"nope": 1}}), InvalidPath, "`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope` is not an attribute of a User"),
        (json!({"op": "add", "path": EXT, "value": 3}), InvalidValue, "the value of `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` is an object of its attributes"),
    ];
    for (op, t, detail) in cases {
        let (got_t, got) = failure(
            user(),
            ResourceType::User,
            json!([{"op": "add", "path": "title", "value": "ok"}, op]),
        );
        assert_eq!(
            (got_t, got.as_str()),
            (t, format!("Operations[1]: {detail}").as_str())
        );
    }
    let group = json!({"schemas": [CORE_GROUP], "id": "g", "displayName": "G"});
    let (t, _) = failure(
        group,
        ResourceType::Group,
        json!([{"op": "remove", "path": EXT}]),
    );
    assert_eq!(t, InvalidPath);
}

#[test]
fn the_extension_by_its_urn() {
    let u = user_after(json!([
        {"op": "add", "path": EXT, "value": {"department": "D", "manager": "m"}}
    ]));
    assert_eq!(
        u[EXT],
        json!({"department": "D", "manager": {"value": "m"}})
    );
    assert_eq!(u["schemas"], json!([CORE_USER, EXT]));
    let u = patched(
        u,
        ResourceType::User,
        json!([{"op": "remove", "path": EXT}]),
    );
    assert!(u.get(EXT).is_none());
    assert_eq!(u["schemas"], json!([CORE_USER]));
}

#[test]
fn replacing_a_read_only_attribute_with_its_value_is_no_change() {
    let u = user_after(json!([
        {"op": "replace", "path": "id", "value": "u1"},
        {"op": "replace", "path": "meta.resourceType", "value": "User"}
    ]));
    assert_eq!(u, user());
}

const PATHS: &[&str] = &[
    "emails",
    "EMAILS",
    "emails[type eq \"work\"]",
    "emails[type eq \"home\"].value",
    "emails[value co \"x\"].primary",
    "emails[type eq \"other\" and primary eq true]",
    "emails.primary",
    "name",
    "name.givenName",
    "title",
    "active",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "phoneNumbers[type eq \"mobile\"].value",
];

fn random_value(rng: &mut impl rand::Rng) -> Value {
    let text = |rng: &mut dyn rand::RngCore| {
        ["x@a", "X@A", "y@b", "work", "home", "other"][rand::Rng::gen_range(rng, 0..6)].to_string()
    };
    let email = |rng: &mut dyn rand::RngCore| {
        let mut e = Map::new();
        if rand::Rng::gen_bool(rng, 0.8) {
            e.insert("value".into(), Value::String(text(rng)));
        }
        if rand::Rng::gen_bool(rng, 0.6) {
            e.insert("type".into(), Value::String(text(rng)));
        }
        if rand::Rng::gen_bool(rng, 0.4) {
            e.insert("primary".into(), Value::Bool(rand::Rng::gen_bool(rng, 0.7)));
        }
        Value::Object(e)
    };
    match rng.gen_range(0..8) {
        0 => Value::String(text(rng)),
        1 => Value::Bool(rng.gen_bool(0.5)),
        2 => Value::String("True".into()),
        3 => email(rng),
        4 => Value::Array((0..rng.gen_range(0..4)).map(|_| email(rng)).collect()),
        5 => json!({"givenName": text(rng), "department": "D"}),
        6 => json!({"title": text(rng), "emails": [email(rng)], "name.familyName": "F"}),
        _ => Value::Null,
    }
}

fn random_request(rng: &mut impl rand::Rng) -> Option<PatchRequest> {
    let ops: Vec<Value> = (0..rng.gen_range(1..5))
        .map(|_| {
            let op = ["add", "Replace", "remove"][rng.gen_range(0..3)];
            let mut o = json!({"op": op, "value": random_value(rng)});
            if rng.gen_bool(0.85) {
                o["path"] = json!(PATHS[rng.gen_range(0..PATHS.len())]);
            }
            o
        })
        .collect();
    parse_patch(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    }))
    .ok()
}

/// Every name in `v` is the schema table's own.
fn canonical(v: &Value) -> bool {
    use crate::scim::schema::ATTRIBUTES;
    let names_ok = |map: &Map<String, Value>| {
        map.iter().all(|(k, v)| {
            let Some(def) = ATTRIBUTES.iter().find(|d| d.sub.is_none() && d.name == k) else {
                return k == "schemas";
            };
            let subs_ok = |item: &Value| {
                item.as_object().is_none_or(|o| {
                    o.keys().all(|s| {
                        ATTRIBUTES
                            .iter()
                            .any(|d| d.name == def.name && d.sub == Some(s.as_str()))
                    })
                })
            };
            match v {
                Value::Array(items) => items.iter().all(subs_ok),
                other => subs_ok(other),
            }
        })
    };
    let Some(root) = v.as_object() else {
        return false;
    };
    let mut core = root.clone();
    let ext = core.remove(EXT);
    names_ok(&core) && ext.is_none_or(|e| e.as_object().is_some_and(names_ok))
}

#[test]
fn random_patches_keep_the_resource_well_formed() {
    let mut rng = rand::thread_rng();
    let (mut applied, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let Some(req) = random_request(&mut rng) else {
            continue;
        };
        let mut u = user();
        if apply_patch(&mut u, &req, ResourceType::User).is_err() {
            assert_eq!(u, user(), "{req:?}");
            refused += 1;
            continue;
        }
        applied += 1;
        assert!(canonical(&u), "{req:?}: {u}");
        let primaries = u["emails"].as_array().map_or(0, |e| {
            e.iter().filter(|e| e["primary"] == json!(true)).count()
        });
        assert!(primaries <= 1, "{req:?}: {u}");
        for (_, v) in u.as_object().unwrap() {
            assert!(!is_empty(v), "{req:?}: {u}");
        }
        let lists_ext = u["schemas"].as_array().unwrap().contains(&json!(EXT));
        assert_eq!(lists_ext, u.get(EXT).is_some(), "{req:?}: {u}");
        // Adding the same values again changes nothing.
        if let [PatchOperation {
            op: OpKind::Add,
            target:
                Target::Path {
                    path: PatchPath::Attr(_),
                    ..
                },
        }] = req.operations.as_slice()
        {
            let mut again = u.clone();
            apply_patch(&mut again, &req, ResourceType::User).unwrap();
            assert_eq!(again, u, "{req:?}");
        }
    }
    assert!(applied > 2_000 && refused > 2_000, "{applied} {refused}");
}
