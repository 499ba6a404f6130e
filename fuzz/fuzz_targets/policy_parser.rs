//! The policy parser never panics, and what it accepts it accepts for both kinds consistently
//! with the declared version.
#![no_main]

use iic_domain::policy::{parse, PolicyKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for kind in [PolicyKind::IdentityPolicy, PolicyKind::Role] {
            if let Ok(doc) = parse(text, kind, 131_072) {
                assert_eq!(doc.kind, kind);
                assert!(!doc.statements.is_empty());
            }
        }
    }
});
