//! PATCH paths and PATCH bodies never panic. The first byte chooses what the rest is:
//! 0. a path, as text;
//! 1. a whole body, as JSON;
//! 2. one operation, as lines: `op`, `path` (empty for none) and the value as JSON (unparsable
//!    JSON for none), wrapped in a valid envelope, so that the operation's own rules are reached.
//!
//! A path that parses prints to text that parses back to the same path (unless printing took it
//! past a bound). A body that parses is applied to a user and to a group, and planned as a group
//! change: none of these panics, and a PATCH that fails leaves the resource as it was. A path
//! text is also read as an `attributes` list and projects a user.
#![no_main]

use iic_domain::scim::{
    apply_patch, parse_attribute_list, parse_patch, parse_patch_json, parse_patch_path,
    plan_group_patch, project, PatchPath, PatchRequest, ResourceType, Target,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

fn round_trip(path: &PatchPath) {
    let printed = path.to_string();
    match parse_patch_path(&printed) {
        Ok(back) => assert_eq!(&back, path, "printed as {printed:?}"),
        Err(e) => assert!(
            e.detail.starts_with("path: longer than")
                || e.detail.starts_with("path: nested deeper"),
            "printed as {printed:?}: {e}"
        ),
    }
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1",
        "userName": "b",
        "name": {"givenName": "B"},
        "emails": [{"value": "b@x", "type": "work", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D"}
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "G",
        "members": [{"value": "u1"}]
    })
}

fn apply(request: &PatchRequest) {
    for (before, rt) in [(user(), ResourceType::User), (group(), ResourceType::Group)] {
        let mut after = before.clone();
        if apply_patch(&mut after, request, rt).is_err() {
            assert_eq!(after, before);
        }
    }
    let _ = plan_group_patch("g1", request);
}

fn check(body: &Value) {
    if let Ok(request) = parse_patch(body) {
        assert!(!request.operations.is_empty());
        for op in &request.operations {
            if let Target::Path { path, .. } = &op.target {
                round_trip(path);
            }
        }
        apply(&request);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                if let Ok(path) = parse_patch_path(text) {
                    round_trip(&path);
                }
                if let Ok(list) = parse_attribute_list("attributes", text) {
                    let mut u = user();
                    project(&mut u, &list, &[], ResourceType::User);
                    assert!(u.get("id").is_some());
                    let mut u = user();
                    project(&mut u, &[], &list, ResourceType::User);
                    assert!(u.get("schemas").is_some());
                }
            }
        }
        1 => {
            if let Ok(body) = serde_json::from_slice::<Value>(rest) {
                check(&body);
            }
            let _ = parse_patch_json(rest);
        }
        _ => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            let mut lines = text.splitn(3, '\n');
            let (op, path, value) = (lines.next(), lines.next(), lines.next());
            let mut operation = Map::new();
            operation.insert("op".into(), Value::from(op.unwrap_or("")));
            if let Some(path) = path.filter(|p| !p.is_empty()) {
                operation.insert("path".into(), Value::from(path));
            }
            if let Some(Ok(value)) = value.map(serde_json::from_str::<Value>) {
                operation.insert("value".into(), value);
            }
            check(&json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [operation],
            }));
        }
    }
});
