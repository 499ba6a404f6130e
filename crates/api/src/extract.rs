//! Request extractors whose failures are IIC errors naming the offending field.

use crate::envelope::{Failure, RawBody};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use iic_domain::ApiError;
use serde::de::DeserializeOwned;

/// A JSON request body, parsed from the bytes the pipeline already read.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for JsonBody<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        let raw = parts
            .extensions
            .get::<RawBody>()
            .map(|b| b.0.clone())
            .unwrap_or_default();
        parse_json(&raw).map(JsonBody).map_err(Failure)
    }
}

pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request("the request body is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            ApiError::bad_request(format!("the request body is not valid: {inner}"))
        } else {
            ApiError::bad_request(format!(
                "the request body field {path} is not valid: {inner}"
            ))
        }
    })
}

/// The decoded query parameters of a request.
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs = iic_domain::signing::query_pairs(raw)
            .into_iter()
            .map(|(k, v)| {
                let k = String::from_utf8(k)
                    .map_err(|_| ApiError::bad_request("query parameter names must be UTF-8"))?;
                let v = String::from_utf8(v).map_err(|_| {
                    ApiError::bad_request(format!("query parameter {k} must be UTF-8"))
                })?;
                Ok((k, v))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(QueryParams(pairs))
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
