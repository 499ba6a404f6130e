//! Request extractors whose failures are errors of the operation's API naming the offending
//! field. Text arriving through any of them obeys the one rule for control characters
//! ([`iic_domain::text`]).

use crate::envelope::{Failure, RawBody};
use crate::operation::{Operation, Service};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use iic_domain::text::{self, Whitespace};
use iic_domain::ApiError;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The API the request's operation belongs to (the admin API's family when unknown).
fn service(parts: &Parts) -> Service {
    parts
        .extensions
        .get::<Arc<Operation>>()
        .map_or(Service::IdentityCenter, |op| op.service)
}

/// A JSON request body, parsed from the bytes the operation already read.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for JsonBody<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        let raw = parts
            .extensions
            .get::<RawBody>()
            .map(|b| b.0.clone())
            .unwrap_or_default();
        parse_json(&raw)
            .map(JsonBody)
            .map_err(|e| Failure(service(parts).adopt(e)))
    }
}

/// Parses a body that must be exactly one JSON object: not an array or a scalar (which serde
/// would take field by field), nothing after it, no duplicate field, no control character in
/// any string.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    match raw.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::bad_request("the request body is required")),
        Some(b'{') => {}
        Some(_) => {
            return Err(ApiError::bad_request(
                "the request body must be one JSON object",
            ))
        }
    }
    if text::json_may_hold_controls(raw) {
        // Rare: find the field, so that the refusal can name it.
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw) {
            text::check_json("", &value, Whitespace::Allowed)?;
        }
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            ApiError::bad_request(format!("the request body is not valid: {inner}"))
        } else {
            ApiError::bad_request(format!(
                "the request body field {path} is not valid: {inner}"
            ))
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(format!(
            "the request body must be one JSON object with nothing after it ({e})"
        ))
    })?;
    Ok(parsed)
}

/// Path parameters, decoded; a parameter that is not UTF-8 or holds a control character is
/// refused naming it.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let service = service(parts);
        let op = parts.extensions.get::<Arc<Operation>>().cloned();
        let named = |name: &str| match &op {
            Some(op) => op.path_name(name).to_string(),
            None => name.to_string(),
        };
        let value = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|r| Failure(service.bad_request(path_rejection(&r, named))))?;
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            for (name, v) in &raw {
                text::check(&named(name), v, Whitespace::Refused).map_err(|e| service.adopt(e))?;
            }
        }
        Ok(Path(value.0))
    }
}

fn path_rejection(r: &PathRejection, named: impl Fn(&str) -> String) -> String {
    use axum::extract::path::ErrorKind;
    match r {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => {
                format!("{} must be UTF-8 text (percent-encoded UTF-8)", named(key))
            }
            ErrorKind::ParseErrorAtKey { key, .. } => format!("{} is not valid", named(key)),
            kind => format!("a path parameter is not valid: {kind}"),
        },
        other => format!("the path parameters could not be read: {other}"),
    }
}

/// The decoded query parameters of a request.
#[derive(Clone)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Decodes a raw query string; every name and value must be UTF-8 free of control
    /// characters (values may hold whitespace).
    pub fn parse(raw: &str) -> Result<QueryParams, ApiError> {
        iic_domain::signing::query_pairs(raw)
            .into_iter()
            .map(|(k, v)| {
                let k = String::from_utf8(k)
                    .map_err(|_| ApiError::bad_request("query parameter names must be UTF-8"))?;
                text::check("a query parameter name", &k, Whitespace::Refused)?;
                let v = String::from_utf8(v).map_err(|_| {
                    ApiError::bad_request(format!("query parameter {k} must be UTF-8"))
                })?;
                text::check(&k, &v, Whitespace::Allowed)?;
                Ok((k, v))
            })
            .collect::<Result<Vec<_>, ApiError>>()
            .map(QueryParams)
    }
}

/// Every routed operation checks its whole query before the handler runs (see
/// `operation::admit`), whether the handler reads it or not, and leaves it here.
impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        if let Some(parsed) = parts.extensions.get::<QueryParams>() {
            return Ok(parsed.clone());
        }
        let service = service(parts);
        QueryParams::parse(parts.uri.query().unwrap_or("")).map_err(|e| Failure(service.adopt(e)))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter (`states=a&states=b`).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("{name} must be an integer")))
            })
            .transpose()
    }
}
