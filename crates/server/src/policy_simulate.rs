//! `iic policy simulate`: evaluates policy documents against one request with the server's own
//! evaluator, without a server or a database, and says why the answer is what it is.

use clap::Args;
use iic_domain::policy::{parse, PolicyDocument, PolicyKind};
use iic_domain::policy_eval::{evaluate, Decision, Request};
use std::path::PathBuf;

#[derive(Args)]
pub struct SimulateArgs {
    /// A policy document (identity policy "5.0" or custom role "1.1"); repeat for several, which
    /// are evaluated together as one caller's policies.
    #[arg(long = "policy", required = true)]
    pub policies: Vec<PathBuf>,
    /// The action asked for, e.g. `IdentityCenter:permissionSet:list`.
    #[arg(long)]
    pub action: String,
    /// The resource URN; without it only statements that name no resource (or `*`) apply.
    #[arg(long, default_value = "")]
    pub resource: String,
    /// A condition key and one of its values, `key=value`; repeat a key for several values.
    #[arg(long = "context")]
    pub context: Vec<String>,
}

/// Prints the decision; Ok(true) when the request is allowed.
pub fn run(args: &SimulateArgs) -> Result<bool, String> {
    let mut documents = Vec::new();
    for path in &args.policies {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        documents.push(document(&text).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let context = context(&args.context)?;
    let decision = evaluate(
        &documents,
        &Request {
            action: &args.action,
            resource: &args.resource,
            context: &context,
        },
    );
    println!("{}", explain(decision, &documents, &args.policies));
    Ok(decision.is_allowed())
}

/// Parses a document of the kind its `Version` says.
fn document(text: &str) -> Result<PolicyDocument, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let kind = match value.get("Version").and_then(|v| v.as_str()) {
        Some("5.0") => PolicyKind::IdentityPolicy,
        Some("1.1") => PolicyKind::Role,
        _ => return Err("Version must be \"5.0\" or \"1.1\"".into()),
    };
    parse(text, kind, text.chars().count()).map_err(|e| e.to_string())
}

fn context(pairs: &[String]) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--context {pair:?} is not key=value"))?;
        match out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, values)) => values.push(value.to_string()),
            None => out.push((key.to_string(), vec![value.to_string()])),
        }
    }
    Ok(out)
}

fn explain(decision: Decision, documents: &[PolicyDocument], paths: &[PathBuf]) -> String {
    let name = |policy: usize, statement: usize| {
        let sid = documents
            .get(policy)
            .and_then(|d| d.statements.get(statement))
            .and_then(|s| s.sid.as_deref())
            .map(|sid| format!(" (Sid {sid})"))
            .unwrap_or_default();
        let file = paths
            .get(policy)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        format!("{file} Statement[{statement}]{sid}")
    };
    match decision {
        Decision::Allowed { policy, statement } => {
            format!("allowed: {}", name(policy, statement))
        }
        Decision::Denied { policy, statement } => {
            format!("denied: explicitly, by {}", name(policy, statement))
        }
        Decision::NotAllowed => "denied: no statement allows it".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn args(policies: Vec<PathBuf>, action: &str, context: &[&str]) -> SimulateArgs {
        SimulateArgs {
            policies,
            action: action.into(),
            resource: String::new(),
            context: context.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn simulates_allow_deny_and_conditions_and_names_the_deciding_statement() {
        let dir = tempfile::tempdir().expect("dir");
        let read = write(
            &dir,
            "read.json",
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["IdentityCenter:*:list*"],"Condition":{"Bool":{"g:MFAPresent":["true"]}}}]}"#,
        );
        let deny = write(
            &dir,
            "deny.json",
            r#"{"Version":"5.0","Statement":[{"Sid":"NoSets","Effect":"Deny","Action":["IdentityCenter:permissionSet:*"]}]}"#,
        );
        let list = "IdentityCenter:instance:list";
        assert_eq!(
            run(&args(vec![read.clone()], list, &["g:MFAPresent=true"])),
            Ok(true)
        );
        assert_eq!(run(&args(vec![read.clone()], list, &[])), Ok(false));
        let decision = evaluate(
            &[
                document(&std::fs::read_to_string(&read).expect("read")).expect("doc"),
                document(&std::fs::read_to_string(&deny).expect("read")).expect("doc"),
            ],
            &Request {
                action: "IdentityCenter:permissionSet:list",
                resource: "",
                context: &context(&["g:MFAPresent=true".into()]).expect("context"),
            },
        );
        assert_eq!(
            decision,
            Decision::Denied {
                policy: 1,
                statement: 0
            }
        );
        assert!(explain(decision, &[], &[read.clone(), deny.clone()])
            .contains("deny.json Statement[0]"));
        let bad = write(&dir, "bad.json", r#"{"Version":"9","Statement":[]}"#);
        assert!(run(&args(vec![bad], list, &[])).is_err());
        assert!(run(&args(vec![read], list, &["no-equals-sign"])).is_err());
    }
}
