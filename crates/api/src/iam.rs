//! The two IAM discovery calls the SDKs make when built with a region and no account or project
//! id: `GET /v3/auth/domains` and `GET /v3/projects?name=<region>`, answered for the caller.

use crate::caller::Caller;
use crate::extract::QueryParams;
use crate::state::AppState;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/auth/domains", get(domains))
        .route("/v3/projects", get(projects))
}

async fn domains(Extension(caller): Extension<Caller>) -> Json<Value> {
    let a = &caller.account;
    Json(json!({
        "domains": [{
            "id": a.id,
            "name": a.name,
            "enabled": true,
            "description": "",
        }],
        "links": { "self": "/v3/auth/domains" },
    }))
}

async fn projects(Extension(caller): Extension<Caller>, query: QueryParams) -> Json<Value> {
    let a = &caller.account;
    let name = query.get("name");
    let projects: Vec<Value> = a
        .projects
        .iter()
        .filter(|p| name.is_none_or(|n| n == p.region))
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.region,
                "domain_id": a.id,
                "parent_id": a.id,
                "enabled": true,
                "is_domain": false,
                "description": "",
            })
        })
        .collect();
    Json(json!({ "projects": projects, "links": { "self": "/v3/projects" } }))
}
