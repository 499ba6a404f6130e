//! The one place that verifies request signatures (SDK-HMAC-SHA256) and establishes the caller.

use crate::caller::{Caller, ResolvedKey};
use crate::state::AppState;
use axum::http::header::{AsHeaderName, HeaderName, AUTHORIZATION};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use iic_domain::crypto::ct_eq;
use iic_domain::signing::{self, AuthorizationParseError};
use iic_domain::ApiError;
use sha2::{Digest, Sha256};
use std::sync::Arc;

fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

// Known names, so that a look-up hashes a ready name instead of parsing a string first.
const X_SDK_DATE: HeaderName = HeaderName::from_static("x-sdk-date");
const X_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-security-token");
const X_DOMAIN_ID: HeaderName = HeaderName::from_static("x-domain-id");
const X_PROJECT_ID: HeaderName = HeaderName::from_static("x-project-id");

/// What the head of a request proves before its body is read: the Authorization header is
/// well formed, the date is fresh, host and date are signed, and the access key exists.
pub struct SignedHead<'a> {
    key: Arc<ResolvedKey>,
    date: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

/// Checks everything about the caller that does not need the body.
pub async fn check_head<'a>(state: &AppState, req: &'a Parts) -> Result<SignedHead<'a>, ApiError> {
    let headers = &req.headers;
    let authorization = header(headers, AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthenticated("the Authorization header is missing"))?;
    let parsed = signing::parse_authorization(authorization).map_err(|e| match e {
        AuthorizationParseError::UnsupportedAlgorithm => ApiError::unauthenticated(
            "the Authorization header must use the SDK-HMAC-SHA256 algorithm",
        ),
        AuthorizationParseError::Missing(part) => {
            ApiError::unauthenticated(format!("the Authorization header lacks its {part} part"))
        }
    })?;
    let date = header(headers, X_SDK_DATE)
        .ok_or_else(|| ApiError::unauthenticated("the X-Sdk-Date header is missing"))?;
    let signed_at = signing::parse_sdk_date(date).ok_or_else(|| {
        ApiError::unauthenticated("X-Sdk-Date must be a UTC time formatted as YYYYMMDDTHHMMSSZ")
    })?;
    let now = iic_domain::clock::now_secs();
    if (now - signed_at).abs() > state.limits.max_clock_skew_secs {
        return Err(ApiError::unauthenticated(format!(
            "the request time X-Sdk-Date {date} is more than {} minutes away from the server time",
            state.limits.max_clock_skew_secs / 60
        )));
    }
    let signed_headers = parsed.signed_headers;
    for required in ["host", "x-sdk-date"] {
        if !is_signed(signed_headers, required) {
            return Err(ApiError::unauthenticated(format!(
                "SignedHeaders must include {required}"
            )));
        }
    }
    let key = state
        .callers
        .resolve(
            &state.store,
            &state.keys.credentials,
            &state.catalog,
            parsed.access,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "credential lookup failed");
            ApiError::internal()
        })?
        .ok_or_else(|| {
            ApiError::unauthenticated(format!("the access key {} does not exist", parsed.access))
        })?;
    Ok(SignedHead {
        key,
        date,
        signed_headers,
        signature: parsed.signature,
    })
}

/// Verifies the signature over the request and its body, then what the key's state demands.
/// The body's hash is always computed here: every body the server accepts is JSON, and a JSON
/// body is never taken on an `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` claim.
pub fn verify(head: SignedHead<'_>, req: &Parts, body: &[u8]) -> Result<Caller, ApiError> {
    let headers = &req.headers;
    let payload_hash = signing::payload_hash(body);
    let uri = &req.uri;
    let canonical = signing::canonical_request(
        req.method.as_str(),
        &signing::canonical_uri(uri.path()),
        &signing::canonical_query(uri.query().unwrap_or("")),
        head.signed_headers,
        |name| header(headers, name),
        &payload_hash,
    )
    .map_err(|missing| {
        ApiError::unauthenticated(format!(
            "the signed header {missing} is not present in the request"
        ))
    })?;
    let key = head.key;
    let expected = key
        .signing_key
        .sign(&signing::string_to_sign(head.date, &canonical));
    if !ct_eq(expected.as_bytes(), head.signature.as_bytes()) {
        return Err(ApiError::unauthenticated(
            "verify aksk signature fail: the signature does not match the request (check the secret key, and that method, path, query, signed headers and body are sent as signed)",
        ));
    }
    if key.account.closed {
        return Err(ApiError::unauthenticated(format!(
            "the account of access key {} is closed",
            key.access_key
        )));
    }
    check_security_token(&key, headers, head.signed_headers)?;
    check_identity_headers(&key, headers)?;
    Ok(Caller {
        access_key: Arc::clone(&key.access_key),
        account: key.account.clone(),
        temporary: key.security_token_sha256.is_some(),
        agency: key.agency.clone(),
    })
}

/// Whether `name` (lower case) is among the `SignedHeaders` of the Authorization header.
fn is_signed(signed_headers: &str, name: &str) -> bool {
    signed_headers.split(';').any(|h| h == name)
}

fn check_security_token(
    key: &ResolvedKey,
    headers: &HeaderMap,
    signed_headers: &str,
) -> Result<(), ApiError> {
    let token = header(headers, X_SECURITY_TOKEN);
    match (&key.security_token_sha256, token) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ApiError::unauthenticated(
            "X-Security-Token was sent with a permanent access key",
        )),
        (Some(_), None) => Err(ApiError::unauthenticated(
            "the access key is temporary and needs its X-Security-Token",
        )),
        (Some(expected), Some(token)) => {
            if !is_signed(signed_headers, "x-security-token") {
                return Err(ApiError::unauthenticated(
                    "X-Security-Token must be among the signed headers",
                ));
            }
            if !ct_eq(&Sha256::digest(token.as_bytes()), expected) {
                return Err(ApiError::unauthenticated(
                    "the security token does not belong to this access key",
                ));
            }
            let now = iic_domain::clock::now_millis();
            if key.expires_at.is_some_and(|exp| exp <= now) {
                return Err(ApiError::unauthenticated(
                    "the security token has expired; obtain new temporary credentials",
                ));
            }
            Ok(())
        }
    }
}

fn check_identity_headers(key: &ResolvedKey, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(domain) = header(headers, X_DOMAIN_ID) {
        if domain != key.account.id {
            return Err(ApiError::unauthenticated(format!(
                "X-Domain-Id {domain} is not the account of access key {}",
                key.access_key
            )));
        }
    }
    if let Some(project) = header(headers, X_PROJECT_ID) {
        if !key.account.projects.iter().any(|p| p.id == project) {
            return Err(ApiError::unauthenticated(format!(
                "X-Project-Id {project} is not a project of the account of access key {}",
                key.access_key
            )));
        }
    }
    Ok(())
}
