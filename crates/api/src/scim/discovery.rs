//! The discovery endpoints (RFC 7644 §4): what this server supports, read by clients and
//! compliance testers before anything else. Schemas are generated from the domain's attribute
//! table, narrowed to what the identity store holds.

use super::auth::Tenant;
use super::listing::LIST_RESPONSE;
use super::query::MAX_RESULTS;
use super::reply::{not_found, Scim, ScimFailure};
use crate::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use iic_domain::scim::path::{CORE_GROUP, CORE_USER, ENTERPRISE_USER};
use iic_domain::scim::schema::{AttrDef, Kind, Schema, ATTRIBUTES};
use serde_json::{json, Map, Value};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// The attributes (and sub-attributes) the identity store keeps, per schema.
const HELD: &[(Schema, &str, &[&str])] = &[
    (Schema::User, "userName", &[]),
    (
        Schema::User,
        "name",
        &[
            "formatted",
            "familyName",
            "givenName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
        ],
    ),
    (Schema::User, "displayName", &[]),
    (Schema::User, "nickName", &[]),
    (Schema::User, "profileUrl", &[]),
    (Schema::User, "title", &[]),
    (Schema::User, "userType", &[]),
    (Schema::User, "preferredLanguage", &[]),
    (Schema::User, "locale", &[]),
    (Schema::User, "timezone", &[]),
    (Schema::User, "active", &[]),
    (Schema::User, "emails", &["value", "type", "primary"]),
    (Schema::User, "phoneNumbers", &["value", "type", "primary"]),
    (
        Schema::User,
        "addresses",
        &[
            "formatted",
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
            "type",
            "primary",
        ],
    ),
    (Schema::EnterpriseUser, "employeeNumber", &[]),
    (Schema::EnterpriseUser, "costCenter", &[]),
    (Schema::EnterpriseUser, "organization", &[]),
    (Schema::EnterpriseUser, "division", &[]),
    (Schema::EnterpriseUser, "department", &[]),
    (Schema::EnterpriseUser, "manager", &["value", "$ref"]),
    (Schema::Group, "displayName", &[]),
    (Schema::Group, "members", &["value", "$ref", "type"]),
];

/// Attributes the identity store cannot do without.
fn required(schema: Schema, name: &str, sub: Option<&str>) -> bool {
    matches!(
        (schema, name, sub),
        (
            Schema::User,
            "userName" | "name" | "displayName" | "emails",
            None
        ) | (Schema::User, "name", Some("familyName" | "givenName"))
            | (Schema::User, "emails", Some("value" | "type"))
            | (Schema::Group, "displayName", None)
            | (Schema::Group, "members", Some("value"))
    )
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::DateTime => "dateTime",
        Kind::Reference => "reference",
        Kind::Binary => "binary",
        Kind::Complex => "complex",
    }
}

fn definition(schema: Schema, name: &str, sub: Option<&str>) -> Option<&'static AttrDef> {
    ATTRIBUTES
        .iter()
        .find(|d| d.schema == schema && d.name == name && d.sub == sub)
}

fn attribute(schema: Schema, name: &str, sub: Option<&str>, subs: &[&str]) -> Value {
    let def = definition(schema, name, sub);
    let kind = def.map_or(Kind::String, |d| d.kind);
    let multi = sub.is_none() && def.is_some_and(|d| d.multi);
    let shown = sub.unwrap_or(name);
    let mut a = Map::new();
    a.insert("name".into(), json!(shown));
    a.insert("type".into(), json!(kind_name(kind)));
    a.insert("multiValued".into(), json!(multi));
    a.insert(
        "description".into(),
        json!(format!(
            "{name}{}",
            sub.map(|s| format!(".{s}")).unwrap_or_default()
        )),
    );
    a.insert("required".into(), json!(required(schema, name, sub)));
    a.insert("caseExact".into(), json!(def.is_some_and(|d| d.case_exact)));
    a.insert("mutability".into(), json!("readWrite"));
    a.insert("returned".into(), json!("default"));
    let unique = matches!(
        (schema, name, sub),
        (Schema::User, "userName", None) | (Schema::Group, "displayName", None)
    );
    a.insert(
        "uniqueness".into(),
        json!(if unique { "server" } else { "none" }),
    );
    if kind == Kind::Reference {
        let types = match (name, sub) {
            ("profileUrl", _) => json!(["external"]),
            ("manager", _) | ("members", _) => json!(["User"]),
            _ => json!(["uri"]),
        };
        a.insert("referenceTypes".into(), types);
    }
    if matches!(sub, Some("type")) && name == "members" {
        a.insert("canonicalValues".into(), json!(["User"]));
    }
    if !subs.is_empty() {
        let list: Vec<Value> = subs
            .iter()
            .map(|s| attribute(schema, name, Some(s), &[]))
            .collect();
        a.insert("subAttributes".into(), Value::Array(list));
    }
    Value::Object(a)
}

fn schema_resource(tenant: &Tenant, id: &str, name: &str, description: &str, of: Schema) -> Value {
    let attributes: Vec<Value> = HELD
        .iter()
        .filter(|(s, _, _)| *s == of)
        .map(|(s, name, subs)| attribute(*s, name, None, subs))
        .collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{id}", tenant.base_url)},
    })
}

fn schemas(tenant: &Tenant) -> Vec<Value> {
    vec![
        schema_resource(tenant, CORE_USER, "User", "User Account", Schema::User),
        schema_resource(
            tenant,
            ENTERPRISE_USER,
            "EnterpriseUser",
            "Enterprise User",
            Schema::EnterpriseUser,
        ),
        schema_resource(tenant, CORE_GROUP, "Group", "Group", Schema::Group),
    ]
}

fn resource_types(tenant: &Tenant) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": CORE_USER,
            "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/User", tenant.base_url)},
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": CORE_GROUP,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/Group", tenant.base_url)},
        }),
    ]
}

fn list(items: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": items.len(),
        "itemsPerPage": items.len(),
        "startIndex": 1,
        "Resources": items,
    });
    Scim(StatusCode::OK, body).into_response()
}

pub async fn service_provider_config(tenant: Tenant) -> Response {
    let body = json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token of the provisioning tenant, made with CreateBearerToken",
            "specUri": "https://datatracker.ietf.org/doc/html/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", tenant.base_url),
        },
    });
    Scim(StatusCode::OK, body).into_response()
}

/// `POST /.search` across resource types is not offered (RFC 7644 §3.4.3 allows 501).
pub async fn search_everything(_: Tenant) -> ScimFailure {
    ScimFailure(iic_domain::scim::ScimError::new(
        501,
        None,
        "searching across resource types is not supported; use /Users/.search or /Groups/.search",
    ))
}

pub async fn list_schemas(tenant: Tenant) -> Response {
    list(schemas(&tenant))
}

pub async fn get_schema(
    tenant: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ScimFailure> {
    one_of(schemas(&tenant), "Schema", &id)
}

pub async fn list_resource_types(tenant: Tenant) -> Response {
    list(resource_types(&tenant))
}

pub async fn get_resource_type(
    tenant: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ScimFailure> {
    one_of(resource_types(&tenant), "ResourceType", &id)
}

/// The item of `items` whose `id` is `id` (in any case).
fn one_of(items: Vec<Value>, kind: &str, id: &str) -> Result<Response, ScimFailure> {
    items
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
        .map(|s| Scim(StatusCode::OK, s).into_response())
        .ok_or_else(|| not_found(kind, id))
}
