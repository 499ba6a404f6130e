//! The policies a temporary credential acts under: the provisioned snapshot of its permission
//! set — custom identity policy (5.0), attached system-defined policies, custom role (1.1) and
//! system roles — parsed once into documents the evaluator reads, with what a denial tells.

use crate::authz::ConditionValue;
use crate::permission_set::{Catalog, PermissionSetContent, SystemPolicyKind};
use crate::policy::{self, PolicyDocument, PolicyKind};
use crate::policy_eval::{self, ConditionIds, Context, Decision, Request, StatementAt};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// The policies of one agency, ready to evaluate.
#[derive(Debug, Clone, Default)]
pub struct AgencyPolicies {
    pub documents: Vec<PolicyDocument>,
    /// What a denial calls each document: a system policy's name, or `custom identity policy`.
    pub names: Vec<String>,
    /// Whether any condition reads `g:ResourceTag/…`: only then are a target's tags looked up.
    pub reads_resource_tags: bool,
    /// Whether any condition reads `g:RequestTag/…` or `g:TagKeys`: only then is the body read.
    pub reads_request_tags: bool,
    /// The statements whose action matches, per action asked so far (see [`Self::evaluate`]).
    by_action: ActionIndex,
    /// Identical conditions share an id, so that one request judges each once.
    conditions: ConditionIds,
}

/// How many actions' statements are remembered; the server asks about a few hundred at most.
const MAX_INDEXED_ACTIONS: usize = 4_096;

/// The statements of the documents whose `Action`/`NotAction` matches an action, found once per
/// action. A copy starts empty (it fills again from the copy's documents).
#[derive(Default)]
struct ActionIndex(RwLock<HashMap<String, Arc<[StatementAt]>>>);

impl Clone for ActionIndex {
    fn clone(&self) -> Self {
        ActionIndex::default()
    }
}

impl std::fmt::Debug for ActionIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known = self.0.read().map_or(0, |m| m.len());
        write!(f, "ActionIndex({known} actions)")
    }
}

/// What provisioning stored: the set's session duration and content.
#[derive(Deserialize)]
struct Snapshot {
    content: PermissionSetContent,
}

pub const CUSTOM_POLICY: &str = "custom identity policy";
pub const CUSTOM_ROLE: &str = "custom role";

impl AgencyPolicies {
    /// Compiles a provisioned snapshot. A snapshot that does not read, or a system policy no
    /// longer in the catalogue, contributes nothing (so can allow nothing); `problems` says what.
    pub fn compile(snapshot: &str, catalog: &Catalog) -> (AgencyPolicies, Vec<String>) {
        let mut out = AgencyPolicies::default();
        let mut problems = Vec::new();
        let content = match serde_json::from_str::<Snapshot>(snapshot) {
            Ok(s) => s.content,
            Err(e) => {
                problems.push(format!("the provisioned snapshot does not read: {e}"));
                return (out, problems);
            }
        };
        let mut add = |name: String, text: &str, kind: PolicyKind, problems: &mut Vec<String>| {
            match policy::parse(text, kind, usize::MAX) {
                Ok(doc) => {
                    out.documents.push(doc);
                    out.names.push(name);
                }
                Err(e) => problems.push(format!("{name} does not parse: {e}")),
            }
        };
        if let Some(text) = &content.custom_policy {
            add(
                CUSTOM_POLICY.to_string(),
                text,
                PolicyKind::IdentityPolicy,
                &mut problems,
            );
        }
        if let Some(text) = &content.custom_role {
            add(
                CUSTOM_ROLE.to_string(),
                text,
                PolicyKind::Role,
                &mut problems,
            );
        }
        let attached = content
            .managed_policies
            .iter()
            .map(|p| (p, SystemPolicyKind::Policy, PolicyKind::IdentityPolicy))
            .chain(
                content
                    .managed_roles
                    .iter()
                    .map(|p| (p, SystemPolicyKind::Role, PolicyKind::Role)),
            );
        for (p, system_kind, kind) in attached {
            match catalog.get(&p.id, system_kind) {
                Some(entry) => add(
                    entry.name.clone(),
                    &entry.document.to_string(),
                    kind,
                    &mut problems,
                ),
                None => problems.push(format!(
                    "system-defined policy {} ({}) is no longer in the catalogue",
                    p.name, p.id
                )),
            }
        }
        let keys = || {
            out.documents
                .iter()
                .flat_map(|d| &d.statements)
                .flat_map(|s| &s.conditions)
                .map(|c| c.key.to_ascii_lowercase())
        };
        out.conditions = ConditionIds::of(&out.documents);
        out.reads_resource_tags = keys().any(|k| k.starts_with("g:resourcetag/"));
        out.reads_request_tags = keys().any(|k| k.starts_with("g:requesttag/") || k == "g:tagkeys");
        (out, problems)
    }

    /// The decision of the documents on `request`: that of [`policy_eval::evaluate`], looking
    /// only at the statements whose action matches, found once per action and remembered (the
    /// documents do not change once compiled).
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let known = self
            .by_action
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(request.action)
            .cloned();
        let candidates = match known {
            Some(c) => c,
            None => {
                let found: Arc<[StatementAt]> =
                    policy_eval::statements_for(&self.documents, request.action).into();
                let mut map = self
                    .by_action
                    .0
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                if map.len() >= MAX_INDEXED_ACTIONS {
                    map.clear();
                }
                map.insert(request.action.to_string(), Arc::clone(&found));
                found
            }
        };
        policy_eval::evaluate_among(
            &self.documents,
            &candidates,
            Some(&self.conditions),
            request,
        )
    }

    /// Every condition key the documents read, once each, in the order first met.
    pub fn condition_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for c in self
            .documents
            .iter()
            .flat_map(|d| &d.statements)
            .flat_map(|s| &s.conditions)
        {
            if !keys.iter().any(|k| k.eq_ignore_ascii_case(&c.key)) {
                keys.push(&c.key);
            }
        }
        keys
    }

    /// The decision in words: which statement of which policy decided, or that none allowed.
    pub fn explain(&self, decision: Decision) -> String {
        let statement = |p: usize, s: usize| {
            let name = self.names.get(p).map_or("?", String::as_str);
            let sid = self
                .documents
                .get(p)
                .and_then(|d| d.statements.get(s))
                .and_then(|st| st.sid.as_deref());
            match sid {
                Some(sid) => format!("{name} Statement[{s}] (Sid {sid})"),
                None => format!("{name} Statement[{s}]"),
            }
        };
        match decision {
            Decision::Allowed {
                policy,
                statement: s,
            } => {
                format!("allowed by {}", statement(policy, s))
            }
            Decision::Denied {
                policy,
                statement: s,
            } => {
                format!("denied explicitly by {}", statement(policy, s))
            }
            Decision::NotAllowed if self.documents.is_empty() => {
                "denied: the agency has no policies".to_string()
            }
            Decision::NotAllowed => format!(
                "denied: no statement of the {} policies allows it",
                self.documents.len()
            ),
        }
    }

    /// The value of every condition key the documents read, as `context` has it (None: absent).
    pub fn condition_values(&self, context: &dyn Context) -> Vec<ConditionValue> {
        self.condition_keys()
            .into_iter()
            .map(|k| ConditionValue {
                key: k.to_string(),
                values: context.values(k).map(|v| v.into_owned()),
            })
            .collect()
    }
}

/// The URN of a resource of IAM Identity Center or Organizations, in the catalogue's shape
/// (`IdentityCenter::system:permissionSet:ps-…`); `*` stands for a resource the request does
/// not name.
pub fn urn(service: &str, resource_type: &str, id: &str) -> String {
    format!("{service}::system:{resource_type}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy_eval::evaluate;

    fn snapshot(content: serde_json::Value) -> String {
        serde_json::json!({"session_duration": "PT1H", "content": content}).to_string()
    }

    #[test]
    fn compiles_custom_documents_and_catalogued_policies_in_order() {
        let catalog = Catalog::builtin();
        let read_only = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a51";
        let custom = r#"{"Version":"5.0","Statement":[{"Effect":"Deny","Action":["IdentityCenter:permissionSet:list"],"Condition":{"StringEquals":{"g:ResourceTag/team":["x"]}}}]}"#;
        let (p, problems) = AgencyPolicies::compile(
            &snapshot(serde_json::json!({
                "custom_policy": custom,
                "managed_policies": [{"id": read_only, "name": "IdentityCenterReadOnlyAccess"},
                                     {"id": "0000", "name": "Gone"}],
            })),
            &catalog,
        );
        assert_eq!(p.names, [CUSTOM_POLICY, "IdentityCenterReadOnlyAccess"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("Gone"));
        assert!(p.reads_resource_tags);
        assert!(!p.reads_request_tags);
        let none: Vec<(String, Vec<String>)> = Vec::new();
        let decide = |action: &str| {
            evaluate(
                &p.documents,
                &Request {
                    action,
                    resource: "*",
                    context: &none,
                },
            )
        };
        for action in [
            "IdentityCenter:instance:list",
            "IdentityCenter:instance:create",
            "IdentityCenter:permissionSet:list",
        ] {
            for _ in 0..2 {
                let request = Request {
                    action,
                    resource: "*",
                    context: &none,
                };
                assert_eq!(p.evaluate(&request), decide(action), "{action}");
            }
        }
        assert!(decide("IdentityCenter:instance:list").is_allowed());
        assert_eq!(
            decide("IdentityCenter:instance:create"),
            Decision::NotAllowed
        );
        assert_eq!(
            p.explain(decide("IdentityCenter:instance:create")),
            "denied: no statement of the 2 policies allows it"
        );
        assert_eq!(
            p.explain(decide("IdentityCenter:instance:list")),
            "allowed by IdentityCenterReadOnlyAccess Statement[0]"
        );
        assert_eq!(
            p.condition_values(&none),
            vec![ConditionValue {
                key: "g:ResourceTag/team".to_string(),
                values: None
            }]
        );
    }

    #[test]
    fn an_unreadable_snapshot_allows_nothing() {
        let (p, problems) = AgencyPolicies::compile("{", &Catalog::builtin());
        assert!(p.documents.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(
            p.explain(Decision::NotAllowed),
            "denied: the agency has no policies"
        );
    }

    #[test]
    fn urns_follow_the_catalogue() {
        assert_eq!(
            urn("IdentityCenter", "permissionSet", "ps-8603aaaaaaaa14bd"),
            "IdentityCenter::system:permissionSet:ps-8603aaaaaaaa14bd"
        );
    }
}
