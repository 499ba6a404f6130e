//! PATCH paths and PATCH bodies never panic. The first byte chooses: a path as text, or a body
//! as JSON. A path that parses prints to text that parses back to the same path (unless printing
//! took it past a bound).
#![no_main]

use iic_domain::scim::{parse_patch_json, parse_patch_path, PatchPath, Target};
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            if let Ok(path) = parse_patch_path(text) {
                round_trip(&path);
            }
        }
    } else if let Ok(request) = parse_patch_json(rest) {
        assert!(!request.operations.is_empty());
        for op in &request.operations {
            if let Target::Path { path, .. } = &op.target {
                round_trip(path);
            }
        }
    }
});
