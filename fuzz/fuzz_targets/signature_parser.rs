//! What the server parses from a request before it trusts it — the Authorization header, the
//! X-Sdk-Date header, the path and the query — never panics, and what it accepts is consistent:
//! parts of an accepted header come from the header, an accepted date prints back as sent, and
//! canonical forms are fixed points.
#![no_main]

use iic_domain::signing::{
    canonical_query, canonical_request, canonical_uri, format_sdk_date, parse_authorization,
    parse_sdk_date, query_pairs,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(auth) = parse_authorization(text) {
        for part in [auth.access, auth.signed_headers, auth.signature] {
            assert!(!part.is_empty());
            assert!(text.contains(part));
        }
        // Signed header names come from the client: building the canonical request from them
        // must only ever fail by naming a header the request lacks.
        let built = canonical_request("GET", "/", "", auth.signed_headers, |_| None, "");
        assert!(built.is_err());
        let built = canonical_request("GET", "/", "", auth.signed_headers, |_| Some(text), "");
        assert!(built.is_ok());
    }
    if let Some(secs) = parse_sdk_date(text) {
        assert_eq!(format_sdk_date(secs), text);
    }
    let uri = canonical_uri(text);
    assert!(uri.ends_with('/'));
    assert_eq!(canonical_uri(&uri), uri);
    let query = canonical_query(text);
    assert_eq!(canonical_query(&query), query);
    assert!(query_pairs(text).len() <= text.len());
});
