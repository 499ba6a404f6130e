//! Evaluating parsed policy documents against one request (issue 12, first part: the evaluator
//! alone, not yet called by the server). The language's rules: default deny; an explicit Deny
//! in any matching statement wins over every Allow; `Action`/`NotAction` patterns with `*` and
//! `?` matched case-insensitively; `Resource`/`NotResource` patterns matched case-sensitively (a
//! statement without either applies to every resource); every condition of a statement must
//! hold, and within one condition any of its values may match.
//!
//! Conditions on a key the request does not carry: `Null` says whether it is absent; an
//! `…IfExists` condition holds; a negated operator (`StringNotEquals`, `StringNotEqualsIgnoreCase`,
//! `StringNotLike`, `NumberNotEquals`, `NotIpAddress`) holds; `ForAllValues:` holds (no value
//! fails it); any other condition fails. A key with several values: without a qualifier a
//! positive operator needs one of them to match, a negated one needs none to; `ForAnyValue:`
//! needs one value to satisfy the operator, `ForAllValues:` every value.

use crate::policy::{
    Condition, Effect, Matcher, Operator, PolicyDocument, SetQualifier, Statement,
};
use std::borrow::Cow;
use std::net::IpAddr;

/// What a request is, as the policies see it.
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a dyn Context,
}

/// The condition values of a request. A key is compared case-insensitively; values a request
/// computes (the current time, tags read from its body) are made only when a condition asks.
pub trait Context {
    /// The values of `key`, or None when the request does not carry it.
    fn values(&self, key: &str) -> Option<Cow<'_, [String]>>;
}

impl Context for [(String, Vec<String>)] {
    fn values(&self, key: &str) -> Option<Cow<'_, [String]>> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| Cow::Borrowed(v.as_slice()))
    }
}

impl Context for Vec<(String, Vec<String>)> {
    fn values(&self, key: &str) -> Option<Cow<'_, [String]>> {
        self.as_slice().values(key)
    }
}

impl<C: Context + ?Sized> Context for &C {
    fn values(&self, key: &str) -> Option<Cow<'_, [String]>> {
        (**self).values(key)
    }
}

/// The outcome, naming the statement that decided it (indexes into the policies given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A statement allowed it and none denied it.
    Allowed { policy: usize, statement: usize },
    /// This statement denied it explicitly.
    Denied { policy: usize, statement: usize },
    /// No statement allowed it (default deny).
    NotAllowed,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// Evaluates `policies` (all those of the caller, together) for `request`.
pub fn evaluate(policies: &[PolicyDocument], request: &Request<'_>) -> Decision {
    let all = policies.iter().enumerate().flat_map(|(p, policy)| {
        policy
            .statements
            .iter()
            .enumerate()
            .map(move |(s, statement)| (p, s, statement))
    });
    decide(all, request, true)
}

/// Where a statement is: the index of its policy, and its index in that policy.
pub type StatementAt = (usize, usize);

/// The statements of `policies` whose `Action`/`NotAction` matches `action`, in the order
/// [`evaluate`] looks at them. Which statements these are depends on the action alone, so a
/// caller judging many requests of few actions can find them once per action.
pub fn statements_for(policies: &[PolicyDocument], action: &str) -> Vec<StatementAt> {
    let mut found = Vec::new();
    for (p, policy) in policies.iter().enumerate() {
        for (s, statement) in policy.statements.iter().enumerate() {
            if matches_list(&statement.actions, action, true) {
                found.push((p, s));
            }
        }
    }
    found
}

/// The same decision as [`evaluate`], given `candidates` = [`statements_for`]`(policies,
/// request.action)`: a statement whose action does not match never applies, so only these are
/// looked at (their resources and conditions), in the same order.
pub fn evaluate_among(
    policies: &[PolicyDocument],
    candidates: &[StatementAt],
    request: &Request<'_>,
) -> Decision {
    let some = candidates.iter().filter_map(|&(p, s)| {
        let statement = policies.get(p)?.statements.get(s)?;
        Some((p, s, statement))
    });
    decide(some, request, false)
}

/// Default deny, the first applying Deny wins at once, else the first applying Allow.
fn decide<'s>(
    statements: impl Iterator<Item = (usize, usize, &'s Statement)>,
    request: &Request<'_>,
    check_action: bool,
) -> Decision {
    let mut allowed = None;
    for (p, s, statement) in statements {
        let applies = (!check_action || matches_list(&statement.actions, request.action, true))
            && statement
                .resources
                .as_ref()
                .is_none_or(|r| matches_list(r, request.resource, false))
            && statement.conditions.iter().all(|c| holds(c, request));
        if !applies {
            continue;
        }
        match statement.effect {
            Effect::Deny => {
                return Decision::Denied {
                    policy: p,
                    statement: s,
                }
            }
            Effect::Allow => {
                allowed.get_or_insert(Decision::Allowed {
                    policy: p,
                    statement: s,
                });
            }
        }
    }
    allowed.unwrap_or(Decision::NotAllowed)
}

fn matches_list(m: &Matcher, value: &str, ignore_case: bool) -> bool {
    let any = m.patterns.iter().any(|p| wildcard(p, value, ignore_case));
    any != m.negated
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and `?` for
/// one. Iterative with one backtrack point (byte offsets into both strings, so nothing is
/// allocated): linear in practice, never exponential.
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let eq = |a: char, b: char| a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()));
    let (mut pi, mut ti) = (0usize, 0usize);
    // Where the last `*` is in the pattern, and where in the text its run ends so far.
    let mut star: Option<(usize, usize)> = None;
    while let Some(t) = text[ti..].chars().next() {
        match pattern[pi..].chars().next() {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if c == '?' || eq(c, t) => {
                pi += c.len_utf8();
                ti += t.len_utf8();
            }
            _ => match star {
                Some((sp, st)) => {
                    let grown = st + text[st..].chars().next().map_or(1, char::len_utf8);
                    pi = sp + 1;
                    ti = grown;
                    star = Some((sp, grown));
                }
                None => return false,
            },
        }
    }
    pattern[pi..].bytes().all(|b| b == b'*')
}

fn negated(op: Operator) -> bool {
    matches!(
        op,
        Operator::StringNotEquals
            | Operator::StringNotEqualsIgnoreCase
            | Operator::StringNotLike
            | Operator::NumberNotEquals
            | Operator::NotIpAddress
    )
}

fn holds(c: &Condition, request: &Request<'_>) -> bool {
    let present = request.context.values(&c.key).filter(|v| !v.is_empty());
    if c.operator == Operator::Null {
        let absent = present.is_none();
        return c
            .values
            .iter()
            .any(|v| v.eq_ignore_ascii_case("true") == absent);
    }
    let Some(values) = present else {
        return c.if_exists
            || negated(c.operator)
            || c.qualifier == Some(SetQualifier::ForAllValues);
    };
    // Whether one request value satisfies the operator (a negated operator: matches none).
    let satisfies = |v: &str| positive(c.operator, v, &c.values) != negated(c.operator);
    match c.qualifier {
        Some(SetQualifier::ForAllValues) => values.iter().all(|v| satisfies(v)),
        Some(SetQualifier::ForAnyValue) => values.iter().any(|v| satisfies(v)),
        None if negated(c.operator) => values.iter().all(|v| satisfies(v)),
        None => values.iter().any(|v| satisfies(v)),
    }
}

/// Whether `value` matches any of `allowed` under the operator's positive sense.
fn positive(op: Operator, value: &str, allowed: &[String]) -> bool {
    use Operator::*;
    allowed.iter().any(|a| match op {
        StringEquals | StringNotEquals => value == a,
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => value
            .chars()
            .flat_map(char::to_lowercase)
            .eq(a.chars().flat_map(char::to_lowercase)),
        StringLike | StringNotLike | StringMatch => wildcard(a, value, false),
        StringStartWith => value.starts_with(a.as_str()),
        StringEndWith => value.ends_with(a.as_str()),
        NumberEquals | NumberNotEquals => number(value, a, |x, y| x == y),
        NumberLessThan => number(value, a, |x, y| x < y),
        NumberLessThanEquals => number(value, a, |x, y| x <= y),
        NumberGreaterThan => number(value, a, |x, y| x > y),
        NumberGreaterThanEquals => number(value, a, |x, y| x >= y),
        DateLessThan => date(value, a, |x, y| x < y),
        DateLessThanEquals => date(value, a, |x, y| x <= y),
        DateGreaterThan => date(value, a, |x, y| x > y),
        DateGreaterThanEquals => date(value, a, |x, y| x >= y),
        Bool => value.eq_ignore_ascii_case(a),
        IpAddress | NotIpAddress => in_network(value, a),
        Null => false,
    })
}

fn number(value: &str, bound: &str, cmp: impl Fn(f64, f64) -> bool) -> bool {
    match (value.trim().parse::<f64>(), bound.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => cmp(x, y),
        _ => false,
    }
}

/// An RFC 3339 time or Unix seconds, as nanoseconds since the epoch.
fn instant(v: &str) -> Option<i128> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn date(value: &str, bound: &str, cmp: impl Fn(i128, i128) -> bool) -> bool {
    match (instant(value), instant(bound)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => false,
    }
}

/// Whether the address `value` lies in `network` (`a.b.c.d/n`, an IPv6 prefix, or one address).
fn in_network(value: &str, network: &str) -> bool {
    let Ok(addr) = value.trim().parse::<IpAddr>() else {
        return false;
    };
    let (base, len) = match network.trim().split_once('/') {
        Some((b, l)) => match l.parse::<u32>() {
            Ok(l) => (b, Some(l)),
            Err(_) => return false,
        },
        None => (network.trim(), None),
    };
    let Ok(base) = base.parse::<IpAddr>() else {
        return false;
    };
    match (addr, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => prefix(
            u128::from(u32::from(a)),
            u128::from(u32::from(b)),
            len.unwrap_or(32),
            32,
        ),
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            prefix(u128::from(a), u128::from(b), len.unwrap_or(128), 128)
        }
        _ => false,
    }
}

fn prefix(a: u128, b: u128, len: u32, bits: u32) -> bool {
    if len > bits {
        return false;
    }
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{parse, PolicyKind};

    fn policy(text: &str) -> PolicyDocument {
        parse(text, PolicyKind::IdentityPolicy, 6144).expect("valid policy")
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn decide(
        policies: &[PolicyDocument],
        action: &str,
        context: &[(String, Vec<String>)],
    ) -> Decision {
        evaluate(
            policies,
            &Request {
                action,
                resource: "IdentityCenter::system:permissionSet:ps-1",
                context: &context,
            },
        )
    }

    #[test]
    fn wildcards_match_characters_not_bytes_and_fold_case_only_when_asked() {
        assert!(wildcard(
            "IdentityCenter:*:list*",
            "identitycenter:permissionSet:listX",
            true
        ));
        assert!(!wildcard(
            "IdentityCenter:*:list*",
            "identitycenter:permissionSet:listX",
            false
        ));
        assert!(wildcard("a?c", "aéc", false));
        assert!(!wildcard("a?c", "ac", false));
        assert!(wildcard("*", "", false));
        assert!(wildcard("a*b*c", "aXbYbZc", false));
        assert!(!wildcard("a*b*c", "aXbYbZ", false));
    }

    #[test]
    fn default_deny_and_explicit_deny_wins() {
        let allow = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["IdentityCenter:*:list*","IdentityCenter:*:get*"]}]}"#,
        );
        let deny = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Deny","Action":["IdentityCenter:permissionSet:list*"]}]}"#,
        );
        let none = ctx(&[]);
        assert!(decide(
            std::slice::from_ref(&allow),
            "IdentityCenter:instance:list",
            &none
        )
        .is_allowed());
        assert_eq!(
            decide(
                std::slice::from_ref(&allow),
                "IdentityCenter:instance:create",
                &none
            ),
            Decision::NotAllowed
        );
        assert_eq!(
            decide(&[allow, deny], "IdentityCenter:permissionSet:list", &none),
            Decision::Denied {
                policy: 1,
                statement: 0
            }
        );
    }

    #[test]
    fn not_action_allows_everything_else() {
        let p = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","NotAction":["IdentityCenter:*:delete*"]}]}"#,
        );
        assert!(decide(
            std::slice::from_ref(&p),
            "IdentityCenter:instance:list",
            &ctx(&[])
        )
        .is_allowed());
        assert!(!decide(&[p], "IdentityCenter:permissionSet:delete", &ctx(&[])).is_allowed());
    }

    #[test]
    fn conditions_and_missing_keys() {
        let mfa = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],"Condition":{"Bool":{"g:MFAPresent":["true"]}}}]}"#,
        );
        assert!(decide(
            std::slice::from_ref(&mfa),
            "a:b:c",
            &ctx(&[("g:MFAPresent", &["true"])])
        )
        .is_allowed());
        assert!(!decide(
            std::slice::from_ref(&mfa),
            "a:b:c",
            &ctx(&[("g:MFAPresent", &["false"])])
        )
        .is_allowed());
        assert!(
            !decide(&[mfa], "a:b:c", &ctx(&[])).is_allowed(),
            "a missing key fails"
        );

        let not_eq = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],"Condition":{"StringNotEquals":{"g:PrincipalTag/team":["ops"]}}}]}"#,
        );
        assert!(
            decide(std::slice::from_ref(&not_eq), "a:b:c", &ctx(&[])).is_allowed(),
            "negated holds when absent"
        );
        assert!(!decide(
            &[not_eq],
            "a:b:c",
            &ctx(&[("g:principaltag/team", &["ops"])])
        )
        .is_allowed());

        let ip = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],"Condition":{"IpAddress":{"g:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}]}"#,
        );
        assert!(decide(
            std::slice::from_ref(&ip),
            "a:b:c",
            &ctx(&[("g:SourceIp", &["10.1.2.3"])])
        )
        .is_allowed());
        assert!(decide(
            std::slice::from_ref(&ip),
            "a:b:c",
            &ctx(&[("g:SourceIp", &["2001:db8::1"])])
        )
        .is_allowed());
        assert!(!decide(&[ip], "a:b:c", &ctx(&[("g:SourceIp", &["11.0.0.1"])])).is_allowed());

        let time = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],"Condition":{"DateLessThan":{"g:CurrentTime":["2026-12-31T00:00:00Z"]}}}]}"#,
        );
        assert!(decide(
            std::slice::from_ref(&time),
            "a:b:c",
            &ctx(&[("g:CurrentTime", &["2026-12-03T09:00:00Z"])])
        )
        .is_allowed());
        assert!(!decide(
            &[time],
            "a:b:c",
            &ctx(&[("g:CurrentTime", &["2027-01-01T00:00:00Z"])])
        )
        .is_allowed());

        let tags = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],"Condition":{"ForAllValues:StringEquals":{"g:TagKeys":["env","team"]}}}]}"#,
        );
        assert!(decide(
            std::slice::from_ref(&tags),
            "a:b:c",
            &ctx(&[("g:TagKeys", &["env"])])
        )
        .is_allowed());
        assert!(!decide(
            std::slice::from_ref(&tags),
            "a:b:c",
            &ctx(&[("g:TagKeys", &["env", "cost"])])
        )
        .is_allowed());
        assert!(
            decide(&[tags], "a:b:c", &ctx(&[])).is_allowed(),
            "ForAllValues holds on no values"
        );

        let null = policy(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["*"],"Condition":{"Null":{"g:RequestTag/env":["true"]}}}]}"#,
        );
        assert!(decide(std::slice::from_ref(&null), "a:b:c", &ctx(&[])).is_allowed());
        assert!(!decide(&[null], "a:b:c", &ctx(&[("g:RequestTag/env", &["prod"])])).is_allowed());
    }

    /// The textbook recursive definition, exponential but obviously right on short inputs.
    fn reference_wildcard(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => {
                reference_wildcard(&p[1..], t) || (!t.is_empty() && reference_wildcard(p, &t[1..]))
            }
            (Some('?'), Some(_)) => reference_wildcard(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => reference_wildcard(&p[1..], &t[1..]),
            _ => false,
        }
    }

    fn random_word(rng: &mut impl rand::Rng, alphabet: &[char], max: usize) -> String {
        let n = rng.gen_range(0..=max);
        (0..n)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect()
    }

    #[test]
    fn wildcard_agrees_with_the_reference_on_random_inputs() {
        let mut rng = rand::thread_rng();
        for _ in 0..20_000 {
            let p = random_word(&mut rng, &['a', 'é', '中', '*', '?'], 7);
            let t = random_word(&mut rng, &['a', 'é', '中'], 8);
            let want = reference_wildcard(
                &p.chars().collect::<Vec<_>>(),
                &t.chars().collect::<Vec<_>>(),
            );
            assert_eq!(wildcard(&p, &t, false), want, "pattern {p:?} text {t:?}");
        }
    }

    /// A reference decision over statements of actions and Bool conditions only: deny if any
    /// denying statement applies, else allow if any allowing one does.
    #[test]
    fn evaluation_agrees_with_a_reference_model_on_random_policies() {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let actions = ["svc:a:list", "svc:a:get", "svc:b:list", "svc:b:delete"];
        let patterns = [
            "svc:*:*",
            "svc:a:*",
            "svc:?:list",
            "svc:*:delete",
            "svc:b:list",
            "nope:*:*",
            "*",
        ];
        for _ in 0..2_000 {
            let mut statements = Vec::new();
            let mut model = Vec::new();
            for _ in 0..rng.gen_range(1..4) {
                let deny = rng.gen_bool(0.3);
                let negated = rng.gen_bool(0.2);
                let chosen: Vec<&str> = (0..rng.gen_range(1..3))
                    .map(|_| patterns[rng.gen_range(0..patterns.len())])
                    .collect();
                let mfa = rng.gen_bool(0.3);
                let list = chosen
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(",");
                let cond = if mfa {
                    r#","Condition":{"Bool":{"g:MFAPresent":["true"]}}"#
                } else {
                    ""
                };
                statements.push(format!(
                    r#"{{"Effect":"{}","{}":[{}]{}}}"#,
                    if deny { "Deny" } else { "Allow" },
                    if negated { "NotAction" } else { "Action" },
                    list,
                    cond
                ));
                model.push((deny, negated, chosen, mfa));
            }
            let text = format!(
                r#"{{"Version":"5.0","Statement":[{}]}}"#,
                statements.join(",")
            );
            let doc = policy(&text);
            let action = actions[rng.gen_range(0..actions.len())];
            let mfa_present = rng.gen_bool(0.5);
            let context = ctx(&[(
                "g:MFAPresent",
                &[if mfa_present { "true" } else { "false" }],
            )]);
            let applies = |(_, negated, chosen, mfa): &(bool, bool, Vec<&str>, bool)| {
                let hit = chosen.iter().any(|c| {
                    reference_wildcard(
                        &c.chars().collect::<Vec<_>>(),
                        &action.chars().collect::<Vec<_>>(),
                    )
                });
                (hit != *negated) && (!*mfa || mfa_present)
            };
            let denied = model.iter().any(|m| m.0 && applies(m));
            let allowed = !denied && model.iter().any(|m| !m.0 && applies(m));
            let got = decide(std::slice::from_ref(&doc), action, &context);
            let docs = std::slice::from_ref(&doc);
            let among = evaluate_among(
                docs,
                &statements_for(docs, action),
                &Request {
                    action,
                    resource: "IdentityCenter::system:permissionSet:ps-1",
                    context: &context,
                },
            );
            assert_eq!(
                among, got,
                "{text} for {action}: indexed evaluation differs"
            );
            assert_eq!(
                got.is_allowed(),
                allowed,
                "{text} for {action} (mfa {mfa_present}): {got:?}"
            );
            assert_eq!(
                matches!(got, Decision::Denied { .. }),
                denied,
                "{text} for {action}"
            );
        }
    }
}
