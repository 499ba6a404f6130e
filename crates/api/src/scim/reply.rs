//! What the SCIM API answers: resources in `application/scim+json`, and failures that the
//! pipeline renders as SCIM error bodies (see [`crate::envelope::render_error`]).

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use iic_domain::scim::ScimError;
use iic_domain::ApiError;
use iic_store::StoreError;
use serde_json::Value;

pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM resource or message with its status.
pub struct Scim(pub StatusCode, pub Value);

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.1).unwrap_or_default();
        let mut resp = (self.0, body).into_response();
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        resp
    }
}

/// A resource answered with its ETag beside `meta.version`.
pub fn resource(status: StatusCode, value: Value) -> Response {
    let etag = value
        .pointer("/meta/version")
        .and_then(Value::as_str)
        .and_then(|v| HeaderValue::from_str(v).ok());
    let mut resp = Scim(status, value).into_response();
    if let Some(etag) = etag {
        resp.headers_mut().insert(axum::http::header::ETAG, etag);
    }
    resp
}

/// A failed SCIM request; its body is written by the pipeline, which knows the request id.
#[derive(Debug)]
pub struct ScimFailure(pub ScimError);

impl From<ScimError> for ScimFailure {
    fn from(e: ScimError) -> Self {
        ScimFailure(e)
    }
}

impl From<ApiError> for ScimFailure {
    fn from(e: ApiError) -> Self {
        ScimFailure(from_api_error(&e))
    }
}

impl From<StoreError> for ScimFailure {
    fn from(e: StoreError) -> Self {
        if e.is_conflict() {
            tracing::warn!(error = %e, "SCIM write refused by a rule of the schema");
            ScimFailure(ScimError::uniqueness(
                "the change clashes with another resource (a value that must be unique is taken); retry after reading the current state",
            ))
        } else {
            tracing::error!(error = %e, "store failure");
            ScimFailure(ScimError::new(500, None, "internal error"))
        }
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = status.into_response();
        resp.extensions_mut().insert(self.0);
        resp
    }
}

/// An error of the shared admission steps (body, content type, path) in SCIM's terms.
pub fn from_api_error(e: &ApiError) -> ScimError {
    let scim_type = match e.status {
        400 => Some(iic_domain::scim::ScimType::InvalidValue),
        _ => None,
    };
    ScimError::new(e.status, scim_type, detail(e))
}

/// The message of `e` without the envelope's wording around it (`Bad Request: ….`).
pub fn detail(e: &ApiError) -> String {
    let m = e.message.as_str();
    let m = ["Bad Request: ", "Not Found: "]
        .iter()
        .find_map(|p| m.strip_prefix(p))
        .unwrap_or(m);
    m.strip_suffix('.').unwrap_or(m).to_string()
}

/// The SCIM error body of `e`.
pub fn error_response(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Scim(status, e.body()).into_response()
}

pub fn not_found(kind: &str, id: &str) -> ScimFailure {
    ScimFailure(ScimError::new(404, None, format!("{kind} {id} not found")))
}
