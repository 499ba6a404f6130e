//! The shapes the catalogue gives the OIDC request fields; every refusal names its field.

use crate::ApiError;

fn refuse(field: &str, rule: &str) -> ApiError {
    ApiError::bad_request(format!("{field} {rule}"))
}

/// `client_id` and `client_secret`: `^[a-zA-Z0-9_\-\.]{1,10240}$`.
pub fn client_credential(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = (1..=10_240).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(refuse(
            field,
            "must be 1 to 10240 letters, digits, '_', '-' or '.'",
        ))
    }
}

/// `device_code`, `code`, `refresh_token`: lowercase letters and digits, 1 to `max`.
pub fn lower_code(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let ok = (1..=max).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        Err(refuse(
            field,
            &format!("must be 1 to {max} lowercase letters and digits"),
        ))
    }
}

/// One scope: `^[a-zA-Z0-9_\-]{0,64}$`.
pub fn scope(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(refuse(
            field,
            "must hold scopes of at most 64 letters, digits, '_' or '-'",
        ))
    }
}

/// `start_url`, `redirect_uri`: `<letters>://<no whitespace>`.
pub fn url(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = match value.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme.bytes().all(|b| b.is_ascii_alphabetic())
                && !rest.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(refuse(field, "must be a URL (scheme://…, no whitespace)"))
    }
}

/// `client_name`: 1 to 1024 characters; letters, marks, symbols, digits and punctuation, plus
/// tab, line feed and carriage return — so no other whitespace (the catalogue's pattern).
/// Control characters were already refused with the body.
pub fn client_name(value: &str) -> Result<(), ApiError> {
    crate::validate::length("client_name", value, 1, 1024)?;
    if value
        .chars()
        .any(|c| c.is_whitespace() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(refuse(
            "client_name",
            "may not contain spaces (only letters, marks, symbols, digits, punctuation, tab and line breaks)",
        ));
    }
    Ok(())
}

/// A field that must be exactly one of `allowed`.
pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(refuse(field, &format!("must be {}", allowed.join(" or "))))
    }
}

/// A required list whose every item is one of `allowed`; at least one item.
pub fn list_of(field: &str, values: &[String], allowed: &[&str]) -> Result<(), ApiError> {
    if values.is_empty() {
        return Err(refuse(field, "must hold at least one value"));
    }
    for v in values {
        if !allowed.contains(&v.as_str()) {
            return Err(refuse(
                field,
                &format!("may hold only {}", allowed.join(" or ")),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field() {
        assert!(client_credential("client_id", "oc-ab.C_9").is_ok());
        let e = client_credential("client_id", "a b").expect_err("space");
        assert!(e.message.contains("client_id"));
        assert!(client_credential("client_secret", "").is_err());
        assert!(lower_code("device_code", "abc123", 64).is_ok());
        assert!(lower_code("device_code", "ABC", 64).is_err());
        assert!(lower_code("device_code", &"a".repeat(65), 64).is_err());
        assert!(scope("scopes", "").is_ok());
        assert!(scope("scopes", "a:b").is_err());
        assert!(url("start_url", "http://127.0.0.1:8080/start/d-1").is_ok());
        for bad in ["127.0.0.1/start", "h1://x", "http://a b", "://x"] {
            assert!(url("start_url", bad).is_err(), "{bad}");
        }
        assert!(client_name("cli-client.1").is_ok());
        assert!(client_name("two words").is_err());
        assert!(client_name("").is_err());
        let e = one_of("client_type", "private", &["public"]).expect_err("enum");
        assert!(
            e.message.contains("client_type must be public"),
            "{}",
            e.message
        );
        assert!(list_of("response_types", &[], &["code"]).is_err());
        assert!(list_of("response_types", &["token".into()], &["code"]).is_err());
        assert!(list_of("response_types", &["code".into()], &["code"]).is_ok());
    }
}
