//! The SCIM 2.0 API (RFC 7643, RFC 7644) of provisioning tenants: `/{tenant_id}/scim/v2/…`,
//! authenticated by a tenant's bearer token ([`auth::Tenant`]), answering in
//! `application/scim+json` with SCIM error bodies ([`reply`]). Users and groups are the identity
//! store's own rows: what SCIM writes, the identity-store API reads, and the other way round.

mod auth;
mod body;
mod discovery;
mod groups;
mod listing;
mod query;
pub mod reply;
mod users;

use crate::operation::{Op, Routes, Service, DOCUMENT_BODY};

/// The tenant's place in the path is shared with the sign-in pages' `/{key}/portal`, so the
/// route names it as they do; messages use the catalogue's name.
const TENANT: &[(&str, &str)] = &[("key", "tenant_id")];

/// A group with its members: about 25,000 member references.
const MEMBERS_BODY: usize = 2 * 1024 * 1024;

pub fn routes() -> Routes {
    const USERS: &str = "/{key}/scim/v2/Users";
    const USER: &str = "/{key}/scim/v2/Users/{user_id}";
    const GROUPS: &str = "/{key}/scim/v2/Groups";
    const GROUP: &str = "/{key}/scim/v2/Groups/{group_id}";
    Routes::new(Service::Scim)
        .add(
            Op::post("CreateUser", USERS)
                .bearer()
                .path_names(TENANT)
                .body_limit(DOCUMENT_BODY),
            users::create,
        )
        .add(
            Op::get("ListUsers", USERS).bearer().path_names(TENANT),
            users::list,
        )
        .add(
            Op::post("SearchUsers", "/{key}/scim/v2/Users/.search")
                .bearer()
                .path_names(TENANT),
            users::search,
        )
        .add(
            Op::post("SearchGroups", "/{key}/scim/v2/Groups/.search")
                .bearer()
                .path_names(TENANT),
            groups::search,
        )
        .add(
            Op::post("Search", "/{key}/scim/v2/.search")
                .bearer()
                .path_names(TENANT),
            discovery::search_everything,
        )
        .add(
            Op::get("GetUser", USER).bearer().path_names(TENANT),
            users::get,
        )
        .add(
            Op::put("PutUser", USER)
                .bearer()
                .path_names(TENANT)
                .body_limit(DOCUMENT_BODY),
            users::replace,
        )
        .add(
            Op::patch("PatchUser", USER)
                .bearer()
                .path_names(TENANT)
                .body_limit(DOCUMENT_BODY),
            users::patch,
        )
        .add(
            Op::delete("DeleteUser", USER).bearer().path_names(TENANT),
            users::delete,
        )
        .add(
            Op::post("CreateGroup", GROUPS)
                .bearer()
                .path_names(TENANT)
                .body_limit(MEMBERS_BODY),
            groups::create,
        )
        .add(
            Op::get("ListGroups", GROUPS).bearer().path_names(TENANT),
            groups::list,
        )
        .add(
            Op::get("GetGroup", GROUP).bearer().path_names(TENANT),
            groups::get,
        )
        .add(
            Op::put("PutGroup", GROUP)
                .bearer()
                .path_names(TENANT)
                .body_limit(MEMBERS_BODY),
            groups::replace,
        )
        .add(
            Op::patch("PatchGroup", GROUP)
                .bearer()
                .path_names(TENANT)
                .body_limit(MEMBERS_BODY),
            groups::patch,
        )
        .add(
            Op::delete("DeleteGroup", GROUP).bearer().path_names(TENANT),
            groups::delete,
        )
        .add(
            Op::get(
                "ServiceProviderConfig",
                "/{key}/scim/v2/ServiceProviderConfig",
            )
            .bearer()
            .path_names(TENANT),
            discovery::service_provider_config,
        )
        .add(
            Op::get("ListSchemas", "/{key}/scim/v2/Schemas")
                .bearer()
                .path_names(TENANT),
            discovery::list_schemas,
        )
        .add(
            Op::get("GetSchema", "/{key}/scim/v2/Schemas/{schema_id}")
                .bearer()
                .path_names(TENANT),
            discovery::get_schema,
        )
        .add(
            Op::get("ListResourceTypes", "/{key}/scim/v2/ResourceTypes")
                .bearer()
                .path_names(TENANT),
            discovery::list_resource_types,
        )
        .add(
            Op::get(
                "GetResourceType",
                "/{key}/scim/v2/ResourceTypes/{resource_type}",
            )
            .bearer()
            .path_names(TENANT),
            discovery::get_resource_type,
        )
}
