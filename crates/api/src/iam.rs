//! The two IAM discovery calls the SDKs make when built with a region and no account or project
//! id: `GET /v3/auth/domains` and `GET /v3/projects?name=<region>`, answered for the caller.

use crate::caller::Caller;
use crate::extract::QueryParams;
use crate::operation::{Op, Routes, Service};
use axum::{Extension, Json};
use serde_json::{json, Value};

pub fn routes() -> Routes {
    Routes::new(Service::Iam)
        .add(
            Op::get("KeystoneListAuthDomains", "/v3/auth/domains"),
            domains,
        )
        .add(Op::get("KeystoneListProjects", "/v3/projects"), projects)
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
