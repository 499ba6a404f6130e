//! The SCIM filter parser never panics; what it accepts matches against a resource without
//! panicking, is classified for the store, and prints to text that parses back to the same tree
//! (unless printing took it past a bound: numbers print longer, and a value path's `.sub`
//! condition moves inside the brackets, in parentheses).
#![no_main]

use iic_domain::scim::{classify, matches, parse_filter, ResourceType};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_filter(text) else {
        return;
    };
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "x"}],
        "loginCount": 3,
        "meta": {"created": "2020-01-01T00:00:00Z", "lastModified": "2021-01-01T00:00:00+01:00"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "7",
            "manager": {"value": "m1"}
        }
    });
    let group = json!({"id": "g1", "displayName": "Ops", "members": [{"value": "u1"}]});
    for rt in [ResourceType::User, ResourceType::Group] {
        let _ = matches(&filter, &user, &rt);
        let _ = matches(&filter, &group, &rt);
        let _ = classify(&filter, rt);
    }
    let printed = filter.to_string();
    match parse_filter(&printed) {
        Ok(back) => assert_eq!(back, filter, "{text:?} printed as {printed:?}"),
        Err(e) => assert!(
            e.detail.starts_with("longer than") || e.detail.starts_with("nested deeper"),
            "{text:?} printed as {printed:?}: {e}"
        ),
    }
});
