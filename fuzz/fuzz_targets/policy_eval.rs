//! Policy evaluation never panics on any policy the parser accepts and any request, names a
//! statement that exists, and keeps the language's two invariants: with no policy nothing is
//! allowed, and a Deny of every action wins over whatever else is given. The server's way of
//! evaluating (only the statements whose action matches, identical conditions judged once)
//! decides exactly as the full evaluation.
//!
//! Input: the policy document on the first line, then the action, the resource, and condition
//! values as `key=value` lines.
#![no_main]

use iic_domain::policy::{parse, PolicyDocument, PolicyKind};
use iic_domain::policy_eval::{
    evaluate, evaluate_among, statements_for, ConditionIds, Decision, Request,
};
use libfuzzer_sys::fuzz_target;

const DENY_ALL: &str = r#"{"Version":"5.0","Statement":[{"Effect":"Deny","Action":["*"]}]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let (Some(policy), Some(action), resource) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    let resource = resource.unwrap_or("");
    let mut context: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        if let Some((k, v)) = line.split_once('=') {
            context.push((k.to_string(), vec![v.to_string()]));
        }
    }
    let request = Request {
        action,
        resource,
        context: &context,
    };
    assert_eq!(evaluate(&[], &request), Decision::NotAllowed);
    for kind in [PolicyKind::IdentityPolicy, PolicyKind::Role] {
        let Ok(doc) = parse(policy, kind, 131_072) else {
            continue;
        };
        let docs: Vec<PolicyDocument> = vec![doc.clone(), doc];
        let full = evaluate(&docs, &request);
        let candidates = statements_for(&docs, action);
        let ids = ConditionIds::of(&docs);
        assert_eq!(
            evaluate_among(&docs, &candidates, Some(&ids), &request),
            full
        );
        assert_eq!(evaluate_among(&docs, &candidates, None, &request), full);
        match full {
            Decision::Allowed { policy, statement } | Decision::Denied { policy, statement } => {
                assert!(docs[policy].statements.get(statement).is_some());
            }
            Decision::NotAllowed => {}
        }
        let Ok(deny) = parse(DENY_ALL, PolicyKind::IdentityPolicy, 1024) else {
            return;
        };
        let mut with_deny = docs.clone();
        with_deny.push(deny);
        assert!(matches!(
            evaluate(&with_deny, &request),
            Decision::Denied { .. }
        ));
    }
});
