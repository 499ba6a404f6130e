//! SDK-HMAC-SHA256 request signing, as the official SDKs do it. Pure functions used by the server
//! to verify and by the benchmark and tests to sign.

use crate::crypto::{hmac_sha256, sha256_hex};
use time::{Date, Month, PrimitiveDateTime, Time};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The three parts of an `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    pub access: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

/// Why an Authorization header could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizationParseError {
    UnsupportedAlgorithm,
    Missing(&'static str),
}

pub fn parse_authorization(
    value: &str,
) -> Result<AuthorizationHeader<'_>, AuthorizationParseError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(AuthorizationParseError::UnsupportedAlgorithm)?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for item in rest.split(',') {
        let item = item.trim();
        if let Some((k, v)) = item.split_once('=') {
            match k {
                "Access" => access = Some(v),
                "SignedHeaders" => signed = Some(v),
                "Signature" => signature = Some(v),
                _ => {}
            }
        }
    }
    Ok(AuthorizationHeader {
        access: access
            .filter(|v| !v.is_empty())
            .ok_or(AuthorizationParseError::Missing("Access"))?,
        signed_headers: signed
            .filter(|v| !v.is_empty())
            .ok_or(AuthorizationParseError::Missing("SignedHeaders"))?,
        signature: signature
            .filter(|v| !v.is_empty())
            .ok_or(AuthorizationParseError::Missing("Signature"))?,
    })
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~`, with upper-case hex digits.
pub fn encode_component(out: &mut String, raw: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in raw {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Decodes `%XX` escapes; a malformed escape is kept literally.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hi = (bytes[i + 1] as char).to_digit(16);
            let lo = (bytes[i + 2] as char).to_digit(16);
            if let (Some(h), Some(l)) = (hi, lo) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The canonical URI: decoded, each segment re-encoded, always ending in `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode(path);
    let mut out = String::with_capacity(decoded.len() + 8);
    for (i, seg) in decoded.split(|&b| b == b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode_component(&mut out, seg);
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Decoded `(name, value)` pairs of a raw query string.
pub fn query_pairs(raw: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw.split('&')
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(item), Vec::new()),
        })
        .collect()
}

/// The canonical query string: decoded pairs sorted by (name, value), re-encoded.
pub fn canonical_query(raw: &str) -> String {
    let mut pairs = query_pairs(raw);
    pairs.sort();
    let mut out = String::with_capacity(raw.len() + 8);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(&mut out, k);
        out.push('=');
        encode_component(&mut out, v);
    }
    out
}

/// Builds the canonical request. `header_value` returns the received value of a signed header
/// (lower-case name), or None when the request lacks it.
pub fn canonical_request<'h>(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    signed_headers: &str,
    mut header_value: impl FnMut(&str) -> Option<&'h str>,
    payload_hash: &str,
) -> Result<String, String> {
    let mut out = String::with_capacity(512);
    out.push_str(method);
    out.push('\n');
    out.push_str(canonical_uri);
    out.push('\n');
    out.push_str(canonical_query);
    out.push('\n');
    for name in signed_headers.split(';') {
        let value = header_value(name).ok_or_else(|| name.to_string())?;
        out.push_str(name);
        out.push(':');
        out.push_str(value.trim());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// A secret key made ready for signing: the HMAC key schedule is computed once per key, not per
/// request.
#[derive(Clone)]
pub struct SigningKey(hmac::Hmac<sha2::Sha256>);

impl SigningKey {
    pub fn new(secret_key: &[u8]) -> SigningKey {
        use hmac::Mac;
        // HMAC accepts keys of any length, so construction cannot fail.
        #[allow(clippy::unreachable)]
        match <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret_key) {
            Ok(mac) => SigningKey(mac),
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// Lower-case hex HMAC-SHA256 of the string to sign.
    pub fn sign(&self, string_to_sign: &str) -> String {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(string_to_sign.as_bytes());
        crate::crypto::to_hex(&mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// Lower-case hex HMAC-SHA256 of the string to sign, keyed with the secret key.
pub fn signature(secret_key: &[u8], string_to_sign: &str) -> String {
    crate::crypto::to_hex(&hmac_sha256(secret_key, string_to_sign.as_bytes()))
}

pub fn payload_hash(body: &[u8]) -> String {
    if body.is_empty() {
        EMPTY_BODY_SHA256.to_string()
    } else {
        sha256_hex(body)
    }
}

/// Parses `YYYYMMDDTHHMMSSZ` into Unix seconds.
pub fn parse_sdk_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let date = Date::from_calendar_date(
        num(0..4)? as i32,
        Month::try_from(num(4..6)? as u8).ok()?,
        num(6..8)? as u8,
    )
    .ok()?;
    let t = Time::from_hms(num(9..11)? as u8, num(11..13)? as u8, num(13..15)? as u8).ok()?;
    Some(
        PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

pub fn format_sdk_date(unix_secs: i64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// The payload hash a client signs: an `X-Sdk-Content-Sha256` value verbatim for a non-empty
/// body, else the body's SHA-256.
fn client_payload_hash(headers: &[(&str, &str)], body: &[u8]) -> String {
    match headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-sdk-content-sha256"))
    {
        Some((_, v)) if !body.is_empty() => v.to_string(),
        _ => payload_hash(body),
    }
}

/// Client side: signs a request the way the SDK does and returns the Authorization value.
/// `headers` are (name, value) pairs that will be sent, `Host` and `X-Sdk-Date` included;
/// `raw_query` is the query as sent (the SDK sends it already canonical).
pub fn authorization_for(
    access_key: &str,
    secret_key: &str,
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| !n.contains('_'))
        .collect();
    names.sort();
    names.dedup();
    let signed = names.join(";");
    let date = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-sdk-date"))
        .map(|(_, v)| *v)
        .unwrap_or("");
    let creq = canonical_request(
        method,
        &canonical_uri(path),
        &canonical_query(raw_query),
        &signed,
        |name| {
            headers
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        },
        &client_payload_hash(headers, body),
    )
    .unwrap_or_default();
    let sig = signature(secret_key.as_bytes(), &string_to_sign(date, &creq));
    format!("{ALGORITHM} Access={access_key}, SignedHeaders={signed}, Signature={sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "HWTESTAK00000EXAMPLE";
    const SK: &str = "HWtestSecretKey0000000000000000000EXAMPLE";
    const DATE: &str = "20240101T000000Z";
    const UA: &str = "huaweicloud-usdk-python/3.0";

    #[test]
    fn vector_1_post_with_body_and_security_token() {
        let body = br#"{"description": "read only access", "name": "ReadOnly", "session_duration": "PT8H"}"#;
        assert_eq!(body.len(), 83);
        assert_eq!(
            payload_hash(body),
            "84c8f0d50903498f77572d8f46767581813d2246d764f964f2b8a10cd58408c6"
        );
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", UA),
            ("X-Domain-Id", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
            ("X-Security-Token", "SESSIONTOKENEXAMPLE"),
            ("X-Sdk-Date", DATE),
            ("Host", "identitycenter.example.test"),
        ];
        let creq = canonical_request(
            "POST",
            &canonical_uri("/v1/instances/ins-0123456789abcdef/permission-sets"),
            &canonical_query(""),
            "content-type;host;user-agent;x-domain-id;x-sdk-date;x-security-token",
            |n| {
                headers
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(n))
                    .map(|(_, v)| *v)
            },
            &payload_hash(body),
        )
        .expect("all headers present");
        assert_eq!(creq, "POST\n/v1/instances/ins-0123456789abcdef/permission-sets/\n\ncontent-type:application/json\nhost:identitycenter.example.test\nuser-agent:huaweicloud-usdk-python/3.0\nx-domain-id:0a1b2c3d4e5f60718293a4b5c6d7e8f9\nx-sdk-date:20240101T000000Z\nx-security-token:SESSIONTOKENEXAMPLE\n\ncontent-type;host;user-agent;x-domain-id;x-sdk-date;x-security-token\n84c8f0d50903498f77572d8f46767581813d2246d764f964f2b8a10cd58408c6");
        let sts = string_to_sign(DATE, &creq);
        assert_eq!(
            sts,
            "SDK-HMAC-SHA256\n20240101T000000Z\n365425b3acb258e35d1a16314a39aef29ee59174b57b8f0f447b225bb24b6db3"
        );
        assert_eq!(
            signature(SK.as_bytes(), &sts),
            "3800d3193a295b0e96ff9bbcf66a8548b7f8bb313324c0a6f255c1619f3088e0"
        );
        let auth = authorization_for(
            AK,
            SK,
            "POST",
            "/v1/instances/ins-0123456789abcdef/permission-sets",
            "",
            &headers,
            body,
        );
        assert_eq!(auth, "SDK-HMAC-SHA256 Access=HWTESTAK00000EXAMPLE, SignedHeaders=content-type;host;user-agent;x-domain-id;x-sdk-date;x-security-token, Signature=3800d3193a295b0e96ff9bbcf66a8548b7f8bb313324c0a6f255c1619f3088e0");
    }

    #[test]
    fn vector_2_get_with_encoded_query() {
        let raw_query = "limit=10&user_name=Zo%C3%AB%20Doe%2B1%40example.com";
        assert_eq!(canonical_query(raw_query), raw_query);
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", UA),
            ("X-Project-Id", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
            ("X-Sdk-Date", DATE),
            ("Host", "identitystore.example.test"),
        ];
        let auth = authorization_for(
            AK,
            SK,
            "GET",
            "/v1/identity-stores/d-0123456789/users",
            raw_query,
            &headers,
            b"",
        );
        assert!(auth.ends_with(
            "Signature=b99977b96fca3398ee39d33ac8e4bdca7a9936ccd586d2e8f9d557ac2726e770"
        ));
        assert!(
            auth.contains("SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date,")
        );
    }

    #[test]
    fn vector_3_repeated_query_key_sorted_by_value() {
        assert_eq!(
            canonical_query("states=succeeded&limit=5&states=failed"),
            "limit=5&states=failed&states=succeeded"
        );
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", UA),
            ("X-Domain-Id", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
            ("X-Sdk-Date", DATE),
            ("Host", "organizations.example.test"),
        ];
        let creq = canonical_request(
            "GET",
            &canonical_uri("/v1/organizations/create-account-status"),
            &canonical_query("limit=5&states=failed&states=succeeded"),
            "content-type;host;user-agent;x-domain-id;x-sdk-date",
            |n| {
                headers
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(n))
                    .map(|(_, v)| *v)
            },
            EMPTY_BODY_SHA256,
        )
        .expect("headers");
        assert_eq!(
            string_to_sign(DATE, &creq),
            "SDK-HMAC-SHA256\n20240101T000000Z\n149d432dc4f767623ee2bc44f9fad24703b3c6747b3994f2d7a8e77df27afe63"
        );
        assert_eq!(
            signature(SK.as_bytes(), &string_to_sign(DATE, &creq)),
            "3763abf37c97eb7b312df4d7c16fc58a38f8158fa4fdc0ed6f17c82a0fa2735e"
        );
    }

    #[test]
    fn signing_key_matches_the_one_shot_signature() {
        let k = SigningKey::new(SK.as_bytes());
        assert_eq!(k.sign("abc"), signature(SK.as_bytes(), "abc"));
        assert_eq!(k.sign("abc"), k.sign("abc"), "the key is reusable");
    }

    #[test]
    fn canonical_uri_reencodes_segments() {
        assert_eq!(canonical_uri("/a%3Ab/c d"), "/a%3Ab/c%20d/");
        assert_eq!(canonical_uri("/v1/x/"), "/v1/x/");
        assert_eq!(canonical_uri("/v1//x"), "/v1//x/");
        assert_eq!(canonical_uri("/Zo%C3%AB"), "/Zo%C3%AB/");
    }

    #[test]
    fn query_without_value_and_plus() {
        assert_eq!(canonical_query("b&a=1"), "a=1&b=");
        assert_eq!(canonical_query("a=x+y"), "a=x%2By");
    }

    #[test]
    fn parse_authorization_header() {
        let h = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abc",
        )
        .expect("parse");
        assert_eq!(h.access, "AK");
        assert_eq!(h.signed_headers, "host;x-sdk-date");
        assert_eq!(h.signature, "abc");
        assert_eq!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=x"),
            Err(AuthorizationParseError::UnsupportedAlgorithm)
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=AK, Signature=abc"),
            Err(AuthorizationParseError::Missing("SignedHeaders"))
        );
    }

    #[test]
    fn sdk_date_round_trip() {
        assert_eq!(parse_sdk_date("20240101T000000Z"), Some(1_704_067_200));
        assert_eq!(format_sdk_date(1_704_067_200), "20240101T000000Z");
        assert_eq!(parse_sdk_date("2024-01-01T00:00:00Z"), None);
        assert_eq!(parse_sdk_date("20241301T000000Z"), None);
        assert_eq!(parse_sdk_date("2024010XT000000Z"), None);
    }

    #[test]
    fn percent_decode_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%2"), b"a%2".to_vec());
        assert_eq!(percent_decode("%zz"), b"%zz".to_vec());
        assert_eq!(percent_decode("%41%42"), b"AB".to_vec());
    }
}
