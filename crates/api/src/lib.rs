//! The wire APIs of iic. A request passes through the pipeline (request id, body limit, signature
//! verification and caller resolution, panic guard, error envelope, access log); a signed route
//! then refuses a request without a caller, and a thin handler does the work.

pub mod auth;
pub mod authorize;
pub mod caller;
pub mod envelope;
pub mod extract;
pub mod health;
pub mod iam;
pub mod identity_center;
pub mod identity_store;
pub mod organizations;
pub mod paging;
pub mod pipeline;
pub mod state;

pub use state::{AppState, Limits, ServerKeys};

use axum::Router;

/// The complete HTTP application.
pub fn router(state: AppState) -> Router {
    app(
        state,
        Router::new()
            .merge(identity_center::routes())
            .merge(identity_store::routes())
            .merge(organizations::routes())
            .merge(iam::routes()),
    )
}

/// Wraps signed `routes` in the request pipeline; tests use it to add routes of their own.
pub fn app(state: AppState, routes: Router<AppState>) -> Router {
    let signed = routes.route_layer(auth::RequireCaller);
    Router::new()
        .merge(signed)
        .merge(health::routes())
        .fallback(envelope::no_such_api)
        .method_not_allowed_fallback(envelope::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pipeline::pipeline,
        ))
        .with_state(state)
}
