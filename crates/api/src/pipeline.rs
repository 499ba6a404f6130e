//! The request pipeline around every route: request id, panic guard, error envelope, access log —
//! one middleware, so a request is boxed and moved once. What a request must pass before its
//! handler runs (signature, body) belongs to its operation ([`crate::operation`]).

use crate::caller::Caller;
use crate::envelope::{render_error, Failure};
use crate::operation::Operation;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use iic_domain::ApiError;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

pub const X_REQUEST_ID: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-request-id");

/// The tracing target of the one line logged per request.
pub const ACCESS_LOG_TARGET: &str = "iic::access";

/// The longest path and query served; longer ones are answered 414 before routing.
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub async fn pipeline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = iic_domain::ids::hex32();
    let method = req.method().clone();
    // A Uri clone shares its bytes: no copy of the path per request.
    let uri = req.uri().clone();
    let path = uri.path();

    let mut resp = if uri_length(&uri) > MAX_URI_BYTES {
        Failure(ApiError::uri_too_long()).into_response()
    } else {
        AssertUnwindSafe(next.run(req))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                tracing::error!(%request_id, "handler panicked");
                Failure(ApiError::internal()).into_response()
            })
    };
    let caller = resp.extensions_mut().remove::<Caller>();
    let operation = resp.extensions_mut().remove::<Arc<Operation>>();
    render_error(
        &state,
        &mut resp,
        &request_id,
        &method,
        path,
        caller.as_ref(),
        operation.as_deref(),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(X_REQUEST_ID, v);
    }
    tracing::info!(
        target: ACCESS_LOG_TARGET,
        method = method.as_str(),
        path,
        operation = operation.as_ref().map_or("-", |op| op.name),
        status = resp.status().as_u16() as u64,
        latency_us = started.elapsed().as_micros() as u64,
        request_id = request_id.as_str(),
    );
    resp
}

fn uri_length(uri: &axum::http::Uri) -> usize {
    uri.path().len() + uri.query().map_or(0, |q| q.len() + 1)
}
