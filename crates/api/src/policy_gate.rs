//! Policy enforcement: a request signed with temporary credentials is allowed only when the
//! policies of the agency the credentials act under allow the operation's action on each
//! resource it names (and the actions it depends on). Requests signed with permanent keys are
//! left to the handlers' caller checks, as before. The action and resource types of an
//! operation come from [`crate::actions`].

use crate::actions::OperationActions;
use crate::agency::Agency;
use crate::caller::Caller;
use crate::extract::QueryParams;
use crate::operation::{Operation, Service};
use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use iic_domain::agency_policy::urn;
use iic_domain::authz::PolicyStory;
use iic_domain::organizations::{self as orgs, Tag};
use iic_domain::policy_eval::{Context, Decision, Request};
use iic_domain::ApiError;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::{IpAddr, SocketAddr};

/// The one dependent action the catalogue lists for nearly every operation: the service asks
/// Organizations who the delegated administrators are, on the caller's behalf.
const DELEGATED_ADMINISTRATORS_LIST: &str = "organizations:delegatedAdministrators:list";

/// Checks `caller`'s agency policies for the request, when it has an agency.
pub(crate) async fn check(
    state: &AppState,
    op: &Operation,
    parts: &Parts,
    path: &[(String, String)],
    query: &QueryParams,
    body: &[u8],
    caller: &Caller,
) -> Result<(), ApiError> {
    let Some(agency) = &caller.agency else {
        return Ok(());
    };
    let Some(entry) = op.iam else {
        return Ok(());
    };
    let Some(&action) = entry.actions.first() else {
        return Ok(());
    };
    if !policies_apply(state, op, caller).await? {
        return Ok(());
    }
    let needs_body = agency.policies.reads_request_tags
        || entry.actions.len() > 1
        || entry
            .resources
            .iter()
            .any(|t| from_path(op, path, t).is_none());
    let json = match needs_body && !body.is_empty() {
        true => serde_json::from_slice::<serde_json::Value>(body).ok(),
        false => None,
    };
    let request_tags = json.as_ref().map(request_tags).unwrap_or_default();
    let target = Target::of(state, op, entry, path, query, json.as_ref(), agency).await?;
    let values = RequestValues {
        fixed: &agency.context,
        now_ms: iic_domain::clock::now_millis(),
        source_ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip()),
        request_tags: &request_tags,
        resource_tags: &target.resource_tags,
        current_time: OnceCell::new(),
        source_ip_text: OnceCell::new(),
    };
    // The first action always; the others (tagging at a creation) when the request has tags.
    let checked = match request_tags.is_empty() {
        true => &entry.actions[..1],
        false => entry.actions,
    };
    for &action in checked {
        if let Some(story) = refused(agency, action, &target.urns, &values) {
            return Err(match op.service {
                Service::Organizations => orgs::policy_denied(action, story),
                _ => ApiError::no_permission(action, story),
            });
        }
    }
    if entry.dependencies.contains(&DELEGATED_ADMINISTRATORS_LIST) {
        if let Some(story) = refused(agency, DELEGATED_ADMINISTRATORS_LIST, &[], &values) {
            return Err(ApiError::dependency_denied(
                action,
                DELEGATED_ADMINISTRATORS_LIST,
                story,
            ));
        }
    }
    Ok(())
}

/// The story of a refusal of `action` on any of `urns` (`*` when there are none), or None
/// when the policies allow it on all of them.
fn refused(
    agency: &Agency,
    action: &'static str,
    urns: &[String],
    values: &RequestValues<'_>,
) -> Option<PolicyStory> {
    let decide = |resource: &str| {
        agency.policies.evaluate(&Request {
            action,
            resource,
            context: values,
        })
    };
    // A request that names no resource and carries no tags of its own is judged on the
    // agency's fixed values, the time to the second and the source address alone: the same
    // inputs give the same decision, so it is remembered for the rest of that second.
    let plain =
        urns.is_empty() && values.request_tags.is_empty() && values.resource_tags.is_empty();
    let second = values.now_ms.div_euclid(1000);
    let decision = match plain {
        true => {
            let d = match agency.decisions.get(second, values.source_ip, action) {
                Some(d) => d,
                None => {
                    let d = decide("*");
                    agency.decisions.put(second, values.source_ip, action, d);
                    d
                }
            };
            Some(d).filter(|d| !d.is_allowed())
        }
        false => match urns.is_empty() {
            true => Some(decide("*")).filter(|d| !d.is_allowed()),
            false => urns.iter().map(|u| decide(u)).find(|d| !d.is_allowed()),
        },
    }?;
    Some(story(agency, decision, urns, values))
}

fn story(
    agency: &Agency,
    decision: Decision,
    urns: &[String],
    values: &RequestValues<'_>,
) -> PolicyStory {
    PolicyStory {
        resources: match urns.is_empty() {
            true => vec!["*".to_string()],
            false => urns.to_vec(),
        },
        policies: agency.policies.names.clone(),
        decision: agency.policies.explain(decision),
        conditions: agency.policies.condition_values(values),
        permission_set_id: agency.permission_set_id.clone(),
        user_id: agency.user_id.clone(),
    }
}

/// Who the policies judge: temporary credentials of the management account, and of a delegated
/// administrator for the admin and identity-store APIs. Any other account's credentials meet
/// the handlers' caller checks first (which refuse them there); Organizations judges every
/// caller's policies first, as the cloud's gateway does, then its own caller rules.
async fn policies_apply(
    state: &AppState,
    op: &Operation,
    caller: &Caller,
) -> Result<bool, ApiError> {
    match op.service {
        Service::IdentityCenter | Service::IdentityStore if !caller.account.is_management => state
            .store
            .is_delegated_admin(&caller.account.id, orgs::IDENTITY_CENTER)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "delegation lookup failed");
                ApiError::internal()
            }),
        _ => Ok(true),
    }
}

/// The resources a request names, as URNs, and the tags of the permission set among them.
struct Target {
    urns: Vec<String>,
    resource_tags: Vec<Tag>,
}

impl Target {
    async fn of(
        state: &AppState,
        op: &Operation,
        entry: &OperationActions,
        path: &[(String, String)],
        query: &QueryParams,
        json: Option<&serde_json::Value>,
        agency: &Agency,
    ) -> Result<Target, ApiError> {
        let mut ids: Vec<(&str, Option<String>)> = entry
            .resources
            .iter()
            .map(|&t| {
                let id = from_path(op, path, t)
                    .map(str::to_string)
                    .or_else(|| from_request(t, query, json));
                (t, id)
            })
            .collect();
        let set = ids
            .iter()
            .find(|(t, _)| *t == "permissionSet")
            .and_then(|(_, id)| id.clone());
        let instance_unknown = ids.iter().any(|(t, id)| *t == "instance" && id.is_none());
        let mut resource_tags = Vec::new();
        if let Some(set) = set.filter(|_| agency.policies.reads_resource_tags || instance_unknown) {
            let found = state.store.permission_set_tags(&set).await.map_err(|e| {
                tracing::error!(error = %e, "permission set lookup failed");
                ApiError::internal()
            })?;
            if let Some(found) = found {
                for (t, id) in ids.iter_mut() {
                    if *t == "instance" && id.is_none() {
                        *id = Some(found.instance_id.clone());
                    }
                }
                resource_tags = found.tags;
            }
        }
        let prefix = match op.service {
            Service::Organizations => "organizations",
            _ => "IdentityCenter",
        };
        let urns = ids
            .into_iter()
            .map(|(t, id)| urn(prefix, t, id.as_deref().unwrap_or("*")))
            .collect();
        Ok(Target {
            urns,
            resource_tags,
        })
    }
}

/// The id of a resource of type `resource_type` in the request's path.
fn from_path<'p>(
    op: &Operation,
    path: &'p [(String, String)],
    resource_type: &str,
) -> Option<&'p str> {
    let param = |name: &str| {
        path.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match resource_type {
        // The tag routes put the resource type where other routes put the instance.
        "instance" if op.path_name("instance_id") == "instance_id" => param("instance_id"),
        "permissionSet" => param("permission_set_id").or_else(|| param("resource_id")),
        "account" => param("account_id"),
        _ => None,
    }
}

/// The id of a resource of type `resource_type` named in the body or the query.
fn from_request(
    resource_type: &str,
    query: &QueryParams,
    json: Option<&serde_json::Value>,
) -> Option<String> {
    let names: &[&str] = match resource_type {
        "permissionSet" => &["permission_set_id"],
        "account" => &["target_id", "account_id"],
        "instance" => &["instance_id"],
        _ => &[],
    };
    names.iter().find_map(|n| {
        json.and_then(|j| j.get(n)?.as_str().map(str::to_string))
            .or_else(|| query.get(n).map(str::to_string))
    })
}

/// The tags a request body carries (`tags: [{key, value}]`), as `(key, value)`; a tag without a
/// value (an untagging) has an empty one.
fn request_tags(json: &serde_json::Value) -> Vec<(String, String)> {
    json.get("tags")
        .and_then(|t| t.as_array())
        .map(|tags| {
            tags.iter()
                .filter_map(|t| {
                    let key = t.get("key")?.as_str()?.to_string();
                    let value = t.get("value").and_then(|v| v.as_str()).unwrap_or("");
                    Some((key, value.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The condition values of one request: the agency's fixed ones, and those the request brings,
/// made only when a condition asks for them.
struct RequestValues<'a> {
    fixed: &'a [(String, Vec<String>)],
    now_ms: i64,
    source_ip: Option<IpAddr>,
    request_tags: &'a [(String, String)],
    resource_tags: &'a [Tag],
    /// `g:CurrentTime` and `g:SourceIp` as text, made on first ask and kept for the request's
    /// other conditions.
    current_time: OnceCell<String>,
    source_ip_text: OnceCell<String>,
}

/// `key` without the prefix `prefix` (compared case-insensitively).
fn strip<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let head = key.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &key[prefix.len()..])
}

impl Context for RequestValues<'_> {
    fn values(&self, key: &str) -> Option<Cow<'_, [String]>> {
        if let Some(v) = self.fixed.values(key) {
            return Some(v);
        }
        let one = |v: String| Some(Cow::Owned(vec![v]));
        if key.eq_ignore_ascii_case("g:CurrentTime") {
            let text = self
                .current_time
                .get_or_init(|| iic_domain::clock::format_iso8601_secs(self.now_ms / 1000));
            return Some(Cow::Borrowed(std::slice::from_ref(text)));
        }
        if key.eq_ignore_ascii_case("g:SourceIp") {
            let ip = self.source_ip?;
            let text = self.source_ip_text.get_or_init(|| ip.to_string());
            return Some(Cow::Borrowed(std::slice::from_ref(text)));
        }
        if key.eq_ignore_ascii_case("g:TagKeys") {
            if self.request_tags.is_empty() {
                return None;
            }
            let keys = self.request_tags.iter().map(|(k, _)| k.clone()).collect();
            return Some(Cow::Owned(keys));
        }
        if let Some(tag) = strip(key, "g:RequestTag/") {
            return self
                .request_tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                .and_then(|(_, v)| one(v.clone()));
        }
        if let Some(tag) = strip(key, "g:ResourceTag/") {
            return self
                .resource_tags
                .iter()
                .find(|t| t.key.eq_ignore_ascii_case(tag))
                .and_then(|t| one(t.value.clone()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{AuthKind, BodyKind, Verb};

    fn op(path_names: &'static [(&'static str, &'static str)]) -> Operation {
        Operation {
            name: "X",
            service: Service::IdentityCenter,
            method: Verb::Get,
            path: "/x",
            auth: AuthKind::Signed,
            body: BodyKind::None,
            body_limit: 0,
            path_names,
            iam: None,
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resources_come_from_the_path_and_the_tag_routes_name_no_instance() {
        let path = pairs(&[("instance_id", "ins-1"), ("permission_set_id", "ps-1")]);
        assert_eq!(from_path(&op(&[]), &path, "instance"), Some("ins-1"));
        assert_eq!(from_path(&op(&[]), &path, "permissionSet"), Some("ps-1"));
        assert_eq!(from_path(&op(&[]), &path, "account"), None);
        let tag_route = op(&[("instance_id", "resource_type")]);
        let path = pairs(&[
            ("instance_id", "identitycenter:permissionset"),
            ("resource_id", "ps-2"),
        ]);
        assert_eq!(from_path(&tag_route, &path, "instance"), None);
        assert_eq!(from_path(&tag_route, &path, "permissionSet"), Some("ps-2"));
    }

    #[test]
    fn resources_come_from_the_body_before_the_query() {
        let query = QueryParams::parse("account_id=q-acct&permission_set_id=q-ps").expect("query");
        let body = serde_json::json!({"target_id": "b-acct"});
        assert_eq!(
            from_request("account", &query, Some(&body)).as_deref(),
            Some("b-acct")
        );
        assert_eq!(
            from_request("permissionSet", &query, Some(&body)).as_deref(),
            Some("q-ps")
        );
        assert_eq!(from_request("application", &query, Some(&body)), None);
    }

    #[test]
    fn request_tags_take_keys_with_or_without_values() {
        let body = serde_json::json!({"tags": [{"key": "env", "value": "dev"}, {"key": "team"}, {"value": "x"}]});
        assert_eq!(
            request_tags(&body),
            vec![
                ("env".to_string(), "dev".to_string()),
                ("team".to_string(), String::new())
            ]
        );
        assert!(request_tags(&serde_json::json!({"name": "x"})).is_empty());
    }

    #[test]
    fn condition_values_are_made_on_demand() {
        let fixed = vec![("g:MFAPresent".to_string(), vec!["false".to_string()])];
        let tags = [("Env".to_string(), "dev".to_string())];
        let resource_tags = [Tag {
            key: "team".into(),
            value: "blue".into(),
        }];
        let values = RequestValues {
            fixed: &fixed,
            now_ms: 1_700_000_000_000,
            source_ip: "10.0.0.7".parse().ok(),
            request_tags: &tags,
            resource_tags: &resource_tags,
            current_time: OnceCell::new(),
            source_ip_text: OnceCell::new(),
        };
        let get = |k: &str| values.values(k).map(|v| v.into_owned());
        assert_eq!(get("g:mfapresent"), Some(vec!["false".to_string()]));
        assert_eq!(
            get("g:CurrentTime"),
            Some(vec!["2023-11-14T22:13:20Z".to_string()])
        );
        assert_eq!(get("g:SourceIp"), Some(vec!["10.0.0.7".to_string()]));
        assert_eq!(get("g:RequestTag/env"), Some(vec!["dev".to_string()]));
        assert_eq!(get("g:RequestTag/team"), None);
        assert_eq!(get("g:TagKeys"), Some(vec!["Env".to_string()]));
        assert_eq!(get("g:ResourceTag/TEAM"), Some(vec!["blue".to_string()]));
        assert_eq!(get("g:PrincipalTag/x"), None);
        let untagged = RequestValues {
            request_tags: &[],
            source_ip: None,
            current_time: OnceCell::new(),
            source_ip_text: OnceCell::new(),
            ..values
        };
        assert_eq!(untagged.values("g:TagKeys"), None);
        assert_eq!(untagged.values("g:SourceIp"), None);
    }
}
