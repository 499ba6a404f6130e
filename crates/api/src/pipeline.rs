//! The request pipeline: request id, body limit, authentication, panic guard, error envelope,
//! access log — one middleware, so a request is boxed and moved once.

use crate::envelope::{render_error, Failure, RawBody};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use iic_domain::ApiError;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

const X_REQUEST_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-request-id");

/// The tracing target of the one line logged per request.
pub const ACCESS_LOG_TARGET: &str = "iic::access";

pub async fn pipeline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = iic_domain::ids::hex32();
    let method = req.method().clone();
    // A Uri clone shares its bytes: no copy of the path per request.
    let uri = req.uri().clone();
    let path = uri.path();

    let (mut resp, caller) = match read_body(&state, req).await {
        Ok(req) => {
            let (req, caller) = crate::auth::authenticate_request(&state, req).await;
            let resp = AssertUnwindSafe(next.run(req))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!(%request_id, "handler panicked");
                    Failure(ApiError::internal()).into_response()
                });
            (resp, caller)
        }
        Err(failure) => (failure.into_response(), None),
    };
    render_error(
        &state,
        &mut resp,
        &request_id,
        &method,
        path,
        caller.as_ref(),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(X_REQUEST_ID, v);
    }
    tracing::info!(
        target: ACCESS_LOG_TARGET,
        method = method.as_str(),
        path,
        status = resp.status().as_u16() as u64,
        latency_us = started.elapsed().as_micros() as u64,
        request_id = request_id.as_str(),
    );
    resp
}

async fn read_body(state: &AppState, req: Request) -> Result<Request, Failure> {
    let limit = state.limits.max_body_bytes;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit).into());
    }
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large =
            std::error::Error::source(&e).is_some_and(|s| s.to_string().contains("length limit"));
        if too_large {
            ApiError::payload_too_large(limit)
        } else {
            ApiError::bad_request(format!("the request body could not be read: {e}"))
        }
    })?;
    parts.extensions.insert(RawBody(bytes.clone()));
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
