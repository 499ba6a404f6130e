//! The operator catalogue of the policy-enforcement benchmark: system-defined identity policies
//! of many statements each, of the shapes real policies take (Allow and Deny, `Action` and
//! `NotAction` with wildcards, `Resource` patterns, conditions on `g:MFAPresent`, `g:SourceIp`,
//! `g:CurrentTime`, `g:UserName`, tags). Only the last statement of the last policy allows
//! `IdentityCenter:instance:list` and its dependent action, and no Deny applies to a signed-in
//! user without MFA calling from loopback: the evaluator looks at every statement of every
//! policy, and evaluates the conditions of every statement whose action matches.

use serde_json::{json, Value};

/// The actions the benchmark's request is judged on: ListInstances and its dependent action.
pub const ACTIONS: [&str; 2] = [
    "IdentityCenter:instance:list",
    "organizations:delegatedAdministrators:list",
];

/// The id of catalogue entry `index` (a simple id, as the catalogue requires).
pub fn policy_id(index: usize) -> String {
    format!("b0b0b0b0b0b04c4f9a0e{index:012x}")
}

/// Statement `s` of policy `p`, one of nineteen shapes none of which allows the benchmark's
/// actions to the benchmark's caller nor denies them.
fn filler(p: usize, s: usize) -> Value {
    let team = format!("team{p:02}");
    match s % 19 {
        0 => json!({"Sid": format!("ReadUsers{s}"), "Effect": "Allow",
            "Action": ["IdentityCenter:user:get*", "IdentityCenter:user:list*", "IdentityCenter:user:describe*"]}),
        1 => json!({"Effect": "Allow",
            "Action": ["IdentityCenter:group:*", "IdentityCenter:groupMembership:*"],
            "Condition": {"StringLike": {"g:UserName": [format!("{team}.*")]}}}),
        2 => json!({"Sid": "NoDeleteWithoutMfa", "Effect": "Deny",
            "Action": ["IdentityCenter:*:delete*"],
            "Condition": {"Bool": {"g:MFAPresent": ["false"]}}}),
        3 => json!({"Effect": "Allow", "Action": ["IdentityCenter:permissionSet:*"],
            "Resource": ["IdentityCenter::system:permissionSet:ps-*"],
            "Condition": {"StringEquals": {"g:ResourceTag/team": [team]}}}),
        4 => json!({"Sid": "ReadOnlyOutsideTheOffice", "Effect": "Deny",
            "NotAction": ["IdentityCenter:*:get*", "IdentityCenter:*:list*", "IdentityCenter:*:describe*", "organizations:*:list*"],
            "Condition": {"NotIpAddress": {"g:SourceIp": [format!("10.{p}.0.0/16"), "127.0.0.0/8"]}}}),
        5 => {
            json!({"Sid": "Expiry", "Effect": "Deny", "Action": ["IdentityCenter:*:*", "organizations:*:*"],
            "Condition": {"DateGreaterThan": {"g:CurrentTime": [format!("2099-{:02}-28T00:00:00Z", p % 12 + 1)]}}})
        }
        6 => json!({"Effect": "Allow", "Action": ["IdentityCenter:instance:*"],
            "Condition": {"Bool": {"g:MFAPresent": ["true"]}}}),
        7 => json!({"Effect": "Allow",
            "Action": ["IdentityCenter:accountAssignment:*", "IdentityCenter:permissionSet:provision*"],
            "Resource": [format!("IdentityCenter::system:account:{:012}", 100_000 + p), "IdentityCenter::system:permissionSet:*"]}),
        8 => {
            json!({"Sid": "NoContractors", "Effect": "Deny", "Action": ["IdentityCenter:instance:*"],
            "Condition": {"StringLike": {"g:UserName": ["contractor.*", "temp.*"]}}})
        }
        9 => {
            json!({"Effect": "Allow", "Action": ["IdentityCenter:*:tag*", "IdentityCenter:*:untag*"],
            "Condition": {"ForAllValues:StringEquals": {"g:TagKeys": ["env", "team", "cost-center"]},
                          "StringEquals": {"g:RequestTag/team": [team]}}})
        }
        10 => {
            json!({"Sid": "OrganizationsFromInside", "Effect": "Deny", "Action": ["organizations:*:*"],
            "Condition": {"NotIpAddress": {"g:SourceIp": ["127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"]}}})
        }
        11 => json!({"Effect": "Allow", "Action": ["IdentityCenter:group:*"],
            "Condition": {"StringEquals": {"g:PrincipalTag/department": [format!("dept{p}")]}}}),
        12 => json!({"Sid": "FrozenBefore2001", "Effect": "Deny",
            "NotAction": ["IdentityCenter:*:get*", "IdentityCenter:*:list*", "IdentityCenter:*:describe*", "organizations:delegatedAdministrators:list"],
            "Condition": {"DateLessThan": {"g:CurrentTime": ["2001-01-01T00:00:00Z"]}}}),
        13 => {
            json!({"Sid": "ListFromTheOffice", "Effect": "Allow", "Action": ["IdentityCenter:*:list*"],
            "Condition": {"IpAddress": {"g:SourceIp": [format!("10.{p}.0.0/16"), format!("172.16.{p}.0/24")]}}})
        }
        14 => json!({"Effect": "Allow",
            "Action": ["IdentityCenter:application:*", "IdentityCenter:applicationAssignment:*"],
            "Resource": ["IdentityCenter::system:application:*"]}),
        15 => json!({"Sid": "WritesNeedMfa", "Effect": "Deny",
            "Action": ["IdentityCenter:*:create*", "IdentityCenter:*:update*", "IdentityCenter:*:put*"],
            "Condition": {"Bool": {"g:MFAPresent": ["false"]}}}),
        16 => {
            json!({"Effect": "Allow", "Action": ["IdentityCenter:*:get*", "IdentityCenter:*:describe*"],
            "Resource": ["IdentityCenter::system:instance:ins-*"]})
        }
        17 => {
            json!({"Effect": "Allow", "Action": ["organizations:*:get*", "organizations:*:list*"],
            "Condition": {"StringEquals": {"g:UserName": [format!("{team}.admin")]}}})
        }
        _ => json!({"Sid": "NextQuarter", "Effect": "Allow",
            "Action": ["IdentityCenter:*:list*", "organizations:delegatedAdministrators:list"],
            "Condition": {"DateGreaterThan": {"g:CurrentTime": ["2099-01-01T00:00:00Z"]}}}),
    }
}

/// The statement that allows the benchmark's request: the last of the last policy.
fn allowing() -> Value {
    json!({"Sid": "ListInstancesFromLoopback", "Effect": "Allow",
        "Action": ACTIONS,
        "Condition": {"IpAddress": {"g:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]},
                      "DateGreaterThan": {"g:CurrentTime": ["2026-01-01T00:00:00Z"]},
                      "StringNotLike": {"g:UserName": ["contractor.*"]}}})
}

/// `policies` catalogue entries (kind `policy`) of `statements` statements each.
pub fn catalogue(policies: usize, statements: usize) -> Value {
    let entries: Vec<Value> = (0..policies)
        .map(|p| {
            let last = p + 1 == policies;
            let body: Vec<Value> = (0..statements)
                .map(|s| match last && s + 1 == statements {
                    true => allowing(),
                    false => filler(p, s),
                })
                .collect();
            json!({
                "id": policy_id(p),
                "kind": "policy",
                "name": format!("BenchPolicy{p:02}"),
                "description": format!("Benchmark policy {p} of {policies}, {statements} statements."),
                "document": {"Version": "5.0", "Statement": body},
            })
        })
        .collect();
    Value::Array(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iic_domain::permission_set::{Catalog, SystemPolicyKind};
    use iic_domain::policy::{parse, PolicyDocument, PolicyKind};
    use iic_domain::policy_eval::{evaluate, Decision, Request};

    fn documents(catalogue: &Value) -> Vec<PolicyDocument> {
        let entries = catalogue.as_array().expect("array");
        entries
            .iter()
            .map(|e| {
                parse(
                    &e["document"].to_string(),
                    PolicyKind::IdentityPolicy,
                    usize::MAX,
                )
                .expect("parses")
            })
            .collect()
    }

    fn caller(ip: &str) -> Vec<(String, Vec<String>)> {
        [
            ("g:UserName", "bench.portal"),
            ("g:MFAPresent", "false"),
            ("g:SourceIp", ip),
            (
                "g:CurrentTime",
                &iic_domain::clock::format_iso8601_secs(iic_domain::clock::now_secs()),
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect()
    }

    fn decide(docs: &[PolicyDocument], action: &str, ip: &str) -> Decision {
        evaluate(
            docs,
            &Request {
                action,
                resource: "*",
                context: &caller(ip),
            },
        )
    }

    #[test]
    fn the_catalogue_loads_as_an_operator_catalogue() {
        let text = catalogue(20, 20).to_string();
        let c = Catalog::from_json(&text).expect("valid catalogue");
        assert_eq!(c.len(), 20);
        assert!(c.get(&policy_id(19), SystemPolicyKind::Policy).is_some());
    }

    #[test]
    fn only_the_last_statement_allows_the_request_and_nothing_denies_it() {
        let docs = documents(&catalogue(20, 20));
        for action in ACTIONS {
            assert_eq!(
                decide(&docs, action, "127.0.0.1"),
                Decision::Allowed {
                    policy: 19,
                    statement: 19
                },
                "{action}"
            );
        }
        let mut without = docs.clone();
        if let Some(last) = without.last_mut() {
            last.statements.pop();
        }
        for action in ACTIONS {
            assert_eq!(
                decide(&without, action, "127.0.0.1"),
                Decision::NotAllowed,
                "{action}"
            );
        }
        // Each filler shape is met: a Deny does apply elsewhere (not a dead catalogue).
        assert!(matches!(
            decide(&docs, "IdentityCenter:permissionSet:delete", "127.0.0.1"),
            Decision::Denied { .. }
        ));
        assert!(matches!(
            decide(&docs, "organizations:accounts:list", "192.0.2.1"),
            Decision::Denied { .. }
        ));
    }
}
