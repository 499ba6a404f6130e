//! The wire APIs of iic. Every routed operation is declared once ([`operation`]) and admitted by
//! its endpoint: signature checks on the head, then the body under its operation's limit, then
//! the signature over it all. Around every route the pipeline adds the request id, the panic
//! guard, the error envelope and the access log; a thin handler does the work.

pub mod actions;
pub mod agency;
pub mod auth;
pub mod authorize;
pub mod body;
pub mod caller;
pub mod envelope;
pub mod extract;
pub mod health;
pub mod iam;
pub mod identity_center;
pub mod identity_store;
pub mod oidc;
pub mod operation;
pub mod organizations;
pub mod pages;
pub mod paging;
pub mod password_work;
pub mod pipeline;
mod policy_gate;
pub mod portal;
pub mod scim;
pub mod state;
pub mod user_mail;

pub use operation::{Op, Operation, Routes, Service};
pub use state::{AppState, Limits, ServerKeys};

use axum::Router;

/// Every operation the server routes.
pub fn routes() -> Routes {
    identity_center::routes()
        .merge(identity_store::routes())
        .merge(organizations::routes())
        .merge(iam::routes())
        .merge(oidc::routes())
        .merge(portal::routes())
        .merge(scim::routes())
}

/// The operations the server routes, in declaration order.
pub fn operations() -> Vec<Operation> {
    routes()
        .operations()
        .iter()
        .map(|op| Operation::clone(op))
        .collect()
}

/// The complete HTTP application.
pub fn router(state: AppState) -> Router {
    app(state, routes())
}

/// Wraps `routes` in the request pipeline; tests use it to serve routes of their own.
pub fn app(state: AppState, routes: Routes) -> Router {
    Router::new()
        .merge(routes.into_router())
        .merge(health::routes())
        .merge(pages::routes())
        .fallback(envelope::no_such_api)
        .method_not_allowed_fallback(envelope::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pipeline::pipeline,
        ))
        .with_state(state)
}
