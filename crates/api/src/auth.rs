//! The one place that verifies request signatures (SDK-HMAC-SHA256) and establishes the caller.

use crate::caller::{Caller, ResolvedKey};
use crate::envelope::{Failure, RawBody};
use crate::state::AppState;
use axum::extract::Request;
use axum::http::header::{AsHeaderName, HeaderName, AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::future::Either;
use iic_domain::crypto::ct_eq;
use iic_domain::signing::{self, AuthorizationParseError};
use iic_domain::ApiError;
use sha2::{Digest, Sha256};
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

// Known names, so that a look-up hashes a ready name instead of parsing a string first.
const X_SDK_DATE: HeaderName = HeaderName::from_static("x-sdk-date");
const X_SDK_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-sdk-content-sha256");
const X_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-security-token");
const X_DOMAIN_ID: HeaderName = HeaderName::from_static("x-domain-id");
const X_PROJECT_ID: HeaderName = HeaderName::from_static("x-project-id");

/// Why a request has no caller. The pipeline authenticates every request once and leaves either
/// a [`Caller`] or this in its extensions; signed routes refuse a request without a caller (see
/// [`RequireCaller`]), while routes that need no signature (health, unknown paths, wrong methods)
/// never look.
#[derive(Clone)]
pub struct Unauthenticated(pub ApiError);

/// Authenticates the request and records the outcome in its extensions.
pub async fn authenticate_request(state: &AppState, req: Request) -> (Request, Option<Caller>) {
    // The body is not Sync: only the parts are held across the credential look-up.
    let (mut parts, body) = req.into_parts();
    let caller = match authenticate(state, &parts).await {
        Ok(caller) => {
            parts.extensions.insert(caller.clone());
            Some(caller)
        }
        Err(Failure(e)) => {
            parts.extensions.insert(Unauthenticated(e));
            None
        }
    };
    (Request::from_parts(parts, body), caller)
}

/// The layer of every signed route: a request goes on only with a caller; otherwise it is answered
/// with the reason authentication failed. No allocation, no boxing: the common case is a field
/// check and the inner service's own future.
#[derive(Clone, Copy)]
pub struct RequireCaller;

impl<S> Layer<S> for RequireCaller {
    type Service = RequireCallerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireCallerService(inner)
    }
}

#[derive(Clone)]
pub struct RequireCallerService<S>(S);

impl<S> Service<Request> for RequireCallerService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if req.extensions().get::<Caller>().is_some() {
            return Either::Right(self.0.call(req));
        }
        let reason = req
            .extensions()
            .get::<Unauthenticated>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| ApiError::unauthenticated("the request was not authenticated"));
        Either::Left(ready(Ok(Failure(reason).into_response())))
    }
}

async fn authenticate(state: &AppState, req: &Parts) -> Result<Caller, Failure> {
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
        ))
        .into());
    }
    let signed_headers = parsed.signed_headers;
    for required in ["host", "x-sdk-date"] {
        if !is_signed(signed_headers, required) {
            return Err(ApiError::unauthenticated(format!(
                "SignedHeaders must include {required}"
            ))
            .into());
        }
    }

    let key = state
        .callers
        .resolve(&state.store, &state.keys.credentials, parsed.access)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "credential lookup failed");
            ApiError::internal()
        })?
        .ok_or_else(|| {
            ApiError::unauthenticated(format!("the access key {} does not exist", parsed.access))
        })?;

    let body: &[u8] = req
        .extensions
        .get::<RawBody>()
        .map(|b| b.0.as_ref())
        .unwrap_or_default();
    let payload_hash = if unsigned_payload_allowed(headers, signed_headers, body) {
        UNSIGNED_PAYLOAD.to_string()
    } else {
        signing::payload_hash(body)
    };
    let uri = &req.uri;
    let canonical = signing::canonical_request(
        req.method.as_str(),
        &signing::canonical_uri(uri.path()),
        &signing::canonical_query(uri.query().unwrap_or("")),
        signed_headers,
        |name| header(headers, name),
        &payload_hash,
    )
    .map_err(|missing| {
        ApiError::unauthenticated(format!(
            "the signed header {missing} is not present in the request"
        ))
    })?;
    let expected = key
        .signing_key
        .sign(&signing::string_to_sign(date, &canonical));
    if !ct_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
        return Err(ApiError::unauthenticated(
            "verify aksk signature fail: the signature does not match the request (check the secret key, and that method, path, query, signed headers and body are sent as signed)",
        )
        .into());
    }

    if key.account.closed {
        return Err(ApiError::unauthenticated(format!(
            "the account of access key {} is closed",
            key.access_key
        ))
        .into());
    }
    check_security_token(&key, headers, signed_headers)?;
    check_identity_headers(&key, headers)?;
    Ok(Caller {
        access_key: Arc::clone(&key.access_key),
        account: key.account.clone(),
        temporary: key.security_token_sha256.is_some(),
    })
}

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The SDK signs `UNSIGNED-PAYLOAD` instead of the body's hash only for a body that is not JSON
/// (multipart, octet-stream, forms). A JSON body is always covered by the signature, whatever an
/// `X-Sdk-Content-Sha256` header claims: the hash is computed here, never taken from the request.
fn unsigned_payload_allowed(headers: &HeaderMap, signed_headers: &str, body: &[u8]) -> bool {
    let json_like = header(headers, CONTENT_TYPE).is_none_or(|t| {
        let t = t.trim_start().to_ascii_lowercase();
        t.starts_with("application/json") || t.starts_with("application/bson")
    });
    !body.is_empty()
        && !json_like
        && header(headers, X_SDK_CONTENT_SHA256) == Some(UNSIGNED_PAYLOAD)
        && is_signed(signed_headers, "x-sdk-content-sha256")
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
