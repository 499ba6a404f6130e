//! PATCH paths and PATCH bodies never panic. The first byte chooses what the rest is:
//! 0. a path, as text;
//! 1. a whole body, as JSON;
//! 2. one operation, as lines: `op`, `path` (empty for none) and the value as JSON (unparsable
//!    JSON for none), wrapped in a valid envelope, so that the operation's own rules are reached.
//!
//! A path that parses prints to text that parses back to the same path (unless printing took it
//! past a bound).
#![no_main]

use iic_domain::scim::{parse_patch, parse_patch_json, parse_patch_path, PatchPath, Target};
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

fn check(body: &Value) {
    if let Ok(request) = parse_patch(body) {
        assert!(!request.operations.is_empty());
        for op in &request.operations {
            if let Target::Path { path, .. } = &op.target {
                round_trip(path);
            }
        }
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
