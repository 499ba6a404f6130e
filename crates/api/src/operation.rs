//! Operations: every routed operation is declared once, with its catalogue name, method, path and
//! what its body may be. The declaration routes it and wraps its handler in an [`Endpoint`],
//! which admits a request in order of cost: what the head proves (signature header, date, key),
//! the body's declared type and length, then the body itself, read under a byte budget and an idle
//! timeout, then the signature over all of it. The list of operations is what `iic operations`
//! prints and what the black-box walks take.

use crate::auth;
use crate::body::{self, BodyRead};
use crate::envelope::{Failure, RawBody};
use crate::extract::QueryParams;
use crate::policy_gate;
use crate::state::AppState;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use futures::future::BoxFuture;
use iic_domain::ApiError;
use serde::Serialize;
use std::sync::Arc;

const KIB: usize = 1024;

/// The body of an operation that takes none: accepted (and verified) when small, never read.
pub const NO_BODY: usize = 4 * KIB;
/// An ordinary JSON body: a few fields of bounded length.
pub const SMALL_BODY: usize = 64 * KIB;
/// The largest bodies the catalogue allows: a user record with its lists, a policy document,
/// a permission set with its tags. Their fields add up to about 34,000 characters, and the SDK
/// sends every character outside ASCII as a six-byte `\uXXXX` escape.
pub const DOCUMENT_BODY: usize = 256 * KIB;

/// The wire API an operation belongs to: where its errors take their codes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    #[serde(rename = "identitycenter")]
    IdentityCenter,
    #[serde(rename = "identitystore")]
    IdentityStore,
    Organizations,
    Iam,
    /// The OIDC API (unsigned; its errors are the admin API's `IIC.*` codes).
    Oidc,
    /// The user portal API (an OIDC access token; `IIC.*` codes).
    Portal,
    /// The SCIM API of provisioning tenants (a bearer token; SCIM error bodies).
    Scim,
}

impl Service {
    /// The name `iic operations` and the action table (`crate::actions`) use.
    pub fn api_name(self) -> &'static str {
        match self {
            Service::IdentityCenter => "identitycenter",
            Service::IdentityStore => "identitystore",
            Service::Organizations => "organizations",
            Service::Iam => "iam",
            Service::Oidc => "oidc",
            Service::Portal => "portal",
            Service::Scim => "scim",
        }
    }

    /// A 400 of this API's family: `Organizations.400` for Organizations, `IIC.400` otherwise.
    pub fn bad_request(self, detail: impl std::fmt::Display) -> ApiError {
        self.adopt(ApiError::bad_request(detail))
    }

    /// An error in this API's family (the Organizations API words its 400s its own way).
    pub fn adopt(self, e: ApiError) -> ApiError {
        match self {
            Service::Organizations => iic_domain::organizations::as_org_error(e),
            _ => e,
        }
    }
}

/// How a request to an operation proves who sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// An SDK-HMAC-SHA256 signature over head and body.
    Signed,
    /// Nothing in the head: the OIDC API, whose client credentials travel in the JSON body and
    /// are checked by the handler. Content type, body limits and strict JSON still apply.
    Unsigned,
    /// Not signed: the portal API, whose `access-token` header the `PortalUser` extractor checks.
    AccessToken,
    /// Not signed: the SCIM API, whose `Authorization: Bearer` token the `scim::Tenant`
    /// extractor checks against the tenant in the path.
    Bearer,
}

/// What an operation's body may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// None; a small one is tolerated and ignored (but still covered by the signature).
    None,
    /// One JSON object.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }
}

impl Serialize for Verb {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.method().as_str())
    }
}

/// One routed operation.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// The catalogue's name, e.g. `CreatePermissionSet`.
    pub name: &'static str,
    pub service: Service,
    pub method: Verb,
    pub path: &'static str,
    pub auth: AuthKind,
    pub body: BodyKind,
    /// The largest body accepted, in bytes.
    pub body_limit: usize,
    /// Path parameters the catalogue names otherwise than the route must: `(route, catalogue)`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub path_names: &'static [(&'static str, &'static str)],
    /// Its IAM actions and resource types (None for the unsigned APIs), looked up once.
    #[serde(skip)]
    pub iam: Option<&'static crate::actions::OperationActions>,
}

impl Operation {
    /// The catalogue's name of the route's path parameter `name`, for messages.
    pub fn path_name<'a>(&self, name: &'a str) -> &'a str {
        self.path_names
            .iter()
            .find(|(route, _)| *route == name)
            .map_or(name, |(_, catalogue)| catalogue)
    }
}

/// An operation being declared: `Op::post(name, path)`, its body rule defaulting from the method.
pub struct Op {
    name: &'static str,
    method: Verb,
    path: &'static str,
    auth: AuthKind,
    body: BodyKind,
    body_limit: usize,
    path_names: &'static [(&'static str, &'static str)],
}

impl Op {
    fn new(method: Verb, name: &'static str, path: &'static str, body: BodyKind) -> Op {
        let body_limit = match body {
            BodyKind::None => NO_BODY,
            BodyKind::Json => SMALL_BODY,
        };
        Op {
            name,
            method,
            path,
            auth: AuthKind::Signed,
            body,
            body_limit,
            path_names: &[],
        }
    }

    pub fn get(name: &'static str, path: &'static str) -> Op {
        Op::new(Verb::Get, name, path, BodyKind::None)
    }

    pub fn delete(name: &'static str, path: &'static str) -> Op {
        Op::new(Verb::Delete, name, path, BodyKind::None)
    }

    /// A POST with a JSON body; [`Op::no_body`] for the few without.
    pub fn post(name: &'static str, path: &'static str) -> Op {
        Op::new(Verb::Post, name, path, BodyKind::Json)
    }

    pub fn put(name: &'static str, path: &'static str) -> Op {
        Op::new(Verb::Put, name, path, BodyKind::Json)
    }

    pub fn patch(name: &'static str, path: &'static str) -> Op {
        Op::new(Verb::Patch, name, path, BodyKind::Json)
    }

    pub fn no_body(self) -> Op {
        Op {
            body: BodyKind::None,
            body_limit: NO_BODY,
            ..self
        }
    }

    /// Where a route shares its place with others and so must name a path parameter as they do
    /// (`{instance_id}`), the catalogue's name for it: `(route, catalogue)` pairs.
    pub fn path_names(self, names: &'static [(&'static str, &'static str)]) -> Op {
        Op {
            path_names: names,
            ..self
        }
    }

    /// An operation whose requests are not signed (see [`AuthKind::Unsigned`]).
    pub fn unsigned(self) -> Op {
        Op {
            auth: AuthKind::Unsigned,
            ..self
        }
    }

    /// An operation authenticated by an OIDC access token (see [`AuthKind::AccessToken`]).
    pub fn access_token(self) -> Op {
        Op {
            auth: AuthKind::AccessToken,
            ..self
        }
    }

    /// An operation authenticated by a SCIM bearer token (see [`AuthKind::Bearer`]).
    pub fn bearer(self) -> Op {
        Op {
            auth: AuthKind::Bearer,
            ..self
        }
    }

    /// A body larger than [`SMALL_BODY`] (a document).
    pub fn body_limit(self, bytes: usize) -> Op {
        Op {
            body_limit: bytes,
            ..self
        }
    }
}

/// The routes of one or more wire APIs, and the operations they serve.
pub struct Routes {
    service: Service,
    router: Router<AppState>,
    operations: Vec<Arc<Operation>>,
}

impl Routes {
    pub fn new(service: Service) -> Routes {
        Routes {
            service,
            router: Router::new(),
            operations: Vec::new(),
        }
    }

    /// Routes `op` to `handler`.
    pub fn add<H, T>(mut self, op: Op, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let operation = Arc::new(Operation {
            name: op.name,
            service: self.service,
            method: op.method,
            path: op.path,
            auth: op.auth,
            body: op.body,
            body_limit: op.body_limit,
            path_names: op.path_names,
            iam: crate::actions::of(self.service.api_name(), op.name),
        });
        let endpoint = Endpoint {
            operation: Arc::clone(&operation),
            handler,
        };
        self.router = self
            .router
            .route(operation.path, on(operation.method.filter(), endpoint));
        self.operations.push(operation);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    pub fn operations(&self) -> &[Arc<Operation>] {
        &self.operations
    }

    pub(crate) fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// An operation's handler behind the admission steps of its operation.
#[derive(Clone)]
struct Endpoint<H> {
    operation: Arc<Operation>,
    handler: H,
}

impl<H, T> Handler<T, AppState> for Endpoint<H>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    type Future = BoxFuture<'static, Response>;

    fn call(self, req: Request, state: AppState) -> Self::Future {
        Box::pin(async move {
            let op = self.operation;
            let (mut parts, incoming) = req.into_parts();
            let admitted = admit(&state, &op, &parts, incoming).await;
            let (caller, read, query) = match admitted {
                Ok(ok) => ok,
                Err(e) => return answer(&op, e),
            };
            if let Some(caller) = caller.as_ref().filter(|c| c.agency.is_some()) {
                let path = match op.iam.is_some_and(|a| !a.resources.is_empty()) {
                    true => path_params(&mut parts, &state).await,
                    false => Vec::new(),
                };
                let judged =
                    policy_gate::check(&state, &op, &parts, &path, &query, &read.bytes, caller)
                        .await;
                if let Err(e) = judged {
                    let mut resp = answer(&op, e);
                    resp.extensions_mut().insert(caller.clone());
                    return resp;
                }
            }
            if let Some(caller) = &caller {
                parts.extensions.insert(caller.clone());
            }
            parts.extensions.insert(query);
            parts.extensions.insert(Arc::clone(&op));
            let BodyRead { bytes, permit } = read;
            parts.extensions.insert(RawBody(bytes));
            let req = Request::from_parts(parts, axum::body::Body::empty());
            let mut resp = self.handler.call(req, state).await;
            drop(permit);
            if let Some(caller) = caller {
                resp.extensions_mut().insert(caller);
            }
            resp.extensions_mut().insert(op);
            resp
        })
    }
}

/// The request's path parameters by name (empty when the route has none).
async fn path_params(
    parts: &mut axum::http::request::Parts,
    state: &AppState,
) -> Vec<(String, String)> {
    use axum::extract::{FromRequestParts, RawPathParams};
    match RawPathParams::from_request_parts(parts, state).await {
        Ok(params) => params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn answer(op: &Arc<Operation>, e: ApiError) -> Response {
    let mut resp = Failure(e).into_response();
    resp.extensions_mut().insert(Arc::clone(op));
    resp
}

/// Everything a request must pass before its handler runs, cheapest first. An unsigned
/// operation skips the signature steps and has no caller.
async fn admit(
    state: &AppState,
    op: &Operation,
    parts: &axum::http::request::Parts,
    incoming: axum::body::Body,
) -> Result<(Option<crate::caller::Caller>, BodyRead, QueryParams), ApiError> {
    let head = match op.auth {
        AuthKind::Signed => Some(auth::check_head(state, parts).await?),
        AuthKind::Unsigned | AuthKind::AccessToken | AuthKind::Bearer => None,
    };
    let declared = body::declared_length(&parts.headers);
    let has_body = declared != Some(0) && !body::is_empty(&incoming);
    if has_body {
        check_content_type(op, &parts.headers).map_err(|e| op.service.adopt(e))?;
    }
    let read = body::read(&state.body_gate, incoming, declared, op.body_limit)
        .await
        .map_err(|e| op.service.adopt(e))?;
    let caller = match head {
        Some(head) => Some(auth::verify(head, parts, &read.bytes)?),
        None => None,
    };
    // Checked whether or not the handler reads it: no parameter with a control character
    // reaches an operation, even one it ignores.
    let query =
        QueryParams::parse(parts.uri.query().unwrap_or("")).map_err(|e| op.service.adopt(e))?;
    Ok((caller, read, query))
}

/// A body must say it is JSON, so that its hash is always computed here: a body of another type
/// could be signed as `UNSIGNED-PAYLOAD`, and then anything could replace it.
fn check_content_type(op: &Operation, headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let scim = op.service == Service::Scim;
    if declared.is_some_and(|t| is_json(t) || (scim && is_scim_json(t))) {
        return Ok(());
    }
    let shown = declared.unwrap_or("none");
    let accepted = match scim {
        true => "application/scim+json or application/json",
        false => "application/json",
    };
    Err(ApiError::new(
        415,
        "IIC.400",
        format!(
            "Bad Request: Content-Type {shown} is not accepted; a request body must be {accepted}."
        ),
    ))
}

/// `application/scim+json` (RFC 7644 §8.1), with parameters and in any letter case.
fn is_scim_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/scim+json")
}

/// `application/json`, with parameters (`; charset=utf-8`) and in any letter case.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for t in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
        ] {
            assert!(is_json(t), "{t}");
        }
        for t in [
            "text/plain",
            "application/jsonx",
            "application/json-patch+json",
            "application/x-www-form-urlencoded",
            "",
        ] {
            assert!(!is_json(t), "{t}");
        }
    }

    #[test]
    fn declared_limits_follow_the_body_rule() {
        assert_eq!(Op::get("A", "/a").body_limit, NO_BODY);
        assert_eq!(Op::post("A", "/a").body_limit, SMALL_BODY);
        assert_eq!(Op::post("A", "/a").no_body().body, BodyKind::None);
        assert_eq!(Op::post("A", "/a").auth, AuthKind::Signed);
        assert_eq!(Op::post("A", "/a").unsigned().auth, AuthKind::Unsigned);
        assert_eq!(
            Op::put("A", "/a").body_limit(DOCUMENT_BODY).body_limit,
            DOCUMENT_BODY
        );
    }
}
