//! The error envelope: the one place that turns an [`ApiError`] into the wire body
//! `{"error_code","error_msg","request_id"[,"encoded_authorization_message"]}`.

use crate::caller::Caller;
use crate::operation::Operation;
use crate::state::AppState;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use iic_domain::authz::{self, AuthorizationContext};
use iic_domain::ApiError;
use iic_store::StoreError;

/// The raw request body, kept for signature verification.
#[derive(Clone)]
pub struct RawBody(pub Bytes);

/// A failed request, as handlers return it. The body is rendered by the pipeline, which knows the
/// request id.
#[derive(Debug)]
pub struct Failure(pub ApiError);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        if e.is_conflict() {
            tracing::warn!(error = %e, "write refused by a rule of the schema");
            Failure(ApiError::concurrency_conflict())
        } else {
            tracing::error!(error = %e, "store failure");
            Failure(ApiError::internal())
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = status.into_response();
        resp.extensions_mut().insert(self.0);
        resp
    }
}

/// The OAuth error of a failed token request (RFC 6749 §5.2): its envelope also carries
/// `error` and `error_description`, which OAuth clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthFields {
    pub error: &'static str,
    pub description: &'static str,
}

pub async fn no_such_api() -> Failure {
    Failure(ApiError::no_such_api())
}

pub async fn method_not_allowed(method: Method) -> Failure {
    Failure(ApiError::method_not_allowed(method.as_str()))
}

/// The envelope of `err`: `{"error_code","error_msg","request_id"}`.
pub fn error_body(err: &ApiError, request_id: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "error_code": err.code,
        "error_msg": err.message,
        "request_id": request_id,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Writes the envelope of a failed response in place. A denial that names no action (a caller
/// check's) is sealed with the action the table gives `operation`, the one that answered.
pub fn render_error(
    state: &AppState,
    resp: &mut Response,
    request_id: &str,
    method: &Method,
    path: &str,
    caller: Option<&Caller>,
    operation: Option<&Operation>,
) {
    if let Some(e) = resp
        .extensions_mut()
        .remove::<iic_domain::scim::ScimError>()
    {
        *resp = crate::scim::reply::error_response(&e);
        return;
    }
    let Some(err) = resp.extensions_mut().remove::<ApiError>() else {
        return;
    };
    // Unrouted paths under a SCIM base answer as SCIM does too.
    let scim = match operation {
        Some(op) => op.service == crate::operation::Service::Scim,
        None => path.contains("/scim/v2"),
    };
    if scim {
        *resp = crate::scim::reply::error_response(&crate::scim::reply::from_api_error(&err));
        return;
    }
    let oauth = resp.extensions_mut().remove::<OAuthFields>();
    let bytes = match (&err.denial, oauth) {
        (None, None) => error_body(&err, request_id),
        (None, Some(oauth)) => {
            let body = serde_json::json!({
                "error_code": err.code,
                "error_msg": err.message,
                "request_id": request_id,
                "error": oauth.error,
                "error_description": oauth.description,
            });
            serde_json::to_vec(&body).unwrap_or_default()
        }
        (Some(denial), _) => {
            let ctx = AuthorizationContext {
                request_id: request_id.to_string(),
                account_id: caller.map(|c| c.account.id.clone()).unwrap_or_default(),
                access_key: caller.map(|c| c.access_key.to_string()).unwrap_or_default(),
                action: match denial.action.is_empty() {
                    true => operation
                        .and_then(action_of)
                        .unwrap_or_default()
                        .to_string(),
                    false => denial.action.clone(),
                },
                method: method.to_string(),
                path: path.to_string(),
                reason: denial.reason.clone(),
                time: iic_domain::clock::now_millis(),
                policy: denial.policy.clone(),
            };
            let body = serde_json::json!({
                "error_code": err.code,
                "error_msg": err.message,
                "request_id": request_id,
                "encoded_authorization_message": authz::encode(&state.keys.authorization, &ctx),
            });
            serde_json::to_vec(&body).unwrap_or_default()
        }
    };
    let status = resp.status();
    let mut fresh = (status, bytes).into_response();
    fresh.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    *resp = fresh;
}

/// The operation's own IAM action, as the table ([`crate::actions`]) lists it.
fn action_of(op: &Operation) -> Option<&'static str> {
    op.iam?.actions.first().copied()
}
