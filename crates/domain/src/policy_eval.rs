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
    let mut memo = Memo {
        ids: None,
        known: [0; MEMO_SLOTS],
    };
    decide(all, request, true, &mut memo)
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
/// looked at (their resources and conditions), in the same order. With `ids` (from
/// [`ConditionIds::of`] over the same policies), a condition that stands in several statements
/// is judged once.
pub fn evaluate_among(
    policies: &[PolicyDocument],
    candidates: &[StatementAt],
    ids: Option<&ConditionIds>,
    request: &Request<'_>,
) -> Decision {
    let some = candidates.iter().filter_map(|&(p, s)| {
        let statement = policies.get(p)?.statements.get(s)?;
        Some((p, s, statement))
    });
    let mut memo = Memo {
        ids,
        known: [0; MEMO_SLOTS],
    };
    decide(some, request, false, &mut memo)
}

/// How many distinct conditions one evaluation remembers the outcome of; conditions beyond
/// are judged every time they are met.
const MEMO_SLOTS: usize = 256;

/// Ids of the conditions of a set of documents: identical conditions (operator, qualifier,
/// `IfExists`, key ignoring case, values) share one, since their outcome on a request is the same.
#[derive(Debug, Clone, Default)]
pub struct ConditionIds {
    /// `[policy][statement][condition]`.
    ids: Vec<Vec<Vec<u16>>>,
}

impl ConditionIds {
    pub fn of(policies: &[PolicyDocument]) -> ConditionIds {
        let mut seen: std::collections::HashMap<String, u16> = std::collections::HashMap::new();
        let ids = policies
            .iter()
            .map(|d| {
                d.statements
                    .iter()
                    .map(|st| {
                        st.conditions
                            .iter()
                            .map(|c| {
                                let identity = format!(
                                    "{:?}|{:?}|{}|{}|{:?}",
                                    c.qualifier,
                                    c.operator,
                                    c.if_exists,
                                    c.key.to_ascii_lowercase(),
                                    c.values
                                );
                                let next = u16::try_from(seen.len()).unwrap_or(u16::MAX);
                                *seen.entry(identity).or_insert(next)
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        ConditionIds { ids }
    }

    fn get(&self, p: usize, s: usize, c: usize) -> Option<usize> {
        let id = usize::from(*self.ids.get(p)?.get(s)?.get(c)?);
        (id < MEMO_SLOTS).then_some(id)
    }
}

/// The outcomes of the conditions judged so far in one evaluation (0 unknown, 1 false, 2 true).
struct Memo<'a> {
    ids: Option<&'a ConditionIds>,
    known: [u8; MEMO_SLOTS],
}

impl Memo<'_> {
    fn holds(
        &mut self,
        p: usize,
        s: usize,
        c: usize,
        cond: &Condition,
        request: &Request<'_>,
    ) -> bool {
        let Some(id) = self.ids.and_then(|ids| ids.get(p, s, c)) else {
            return holds(cond, request);
        };
        match self.known[id] {
            1 => false,
            2 => true,
            _ => {
                let outcome = holds(cond, request);
                self.known[id] = 1 + u8::from(outcome);
                outcome
            }
        }
    }
}

/// Default deny, the first applying Deny wins at once, else the first applying Allow.
fn decide<'s>(
    statements: impl Iterator<Item = (usize, usize, &'s Statement)>,
    request: &Request<'_>,
    check_action: bool,
    memo: &mut Memo<'_>,
) -> Decision {
    let mut allowed = None;
    for (p, s, statement) in statements {
        // Once an Allow applies, only a Deny can change the decision.
        if allowed.is_some() && statement.effect == Effect::Allow {
            continue;
        }
        let applies = (!check_action || matches_list(&statement.actions, request.action, true))
            && statement
                .resources
                .as_ref()
                .is_none_or(|r| matches_list(r, request.resource, false))
            && statement
                .conditions
                .iter()
                .enumerate()
                .all(|(c, cond)| memo.holds(p, s, c, cond, request));
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
    if let Some(secs) = utc_seconds(v) {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(secs) = v.parse::<i64>() {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// `YYYY-MM-DDTHH:MM:SSZ` (the shape of `g:CurrentTime` and of most policies' bounds) as Unix
/// seconds, read without the general RFC 3339 parser; None for any other text, or a field out
/// of range (the general parser then decides).
fn utc_seconds(v: &str) -> Option<i64> {
    let b = v.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let in_month = usize::try_from(month - 1)
        .ok()
        .and_then(|m| month_days.get(m))?;
    if day < 1 || day > *in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (the proleptic Gregorian calendar, March-based years).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
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
    fn the_fast_utc_reader_agrees_with_the_rfc3339_parser() {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        for _ in 0..20_000 {
            let text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                rng.gen_range(0..10_000),
                rng.gen_range(0..14),
                rng.gen_range(0..33),
                rng.gen_range(0..25),
                rng.gen_range(0..61),
                rng.gen_range(0..61)
            );
            let general =
                time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                    .ok()
                    .map(|t| t.unix_timestamp());
            if let Some(fast) = utc_seconds(&text) {
                assert_eq!(Some(fast), general, "{text}");
            } else if let Some(secs) = general {
                // Only a leap second (:60) may be left to the general parser and still read.
                assert!(
                    text.ends_with(":60Z"),
                    "{text} read as {secs} only by the parser"
                );
            }
        }
        assert_eq!(utc_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(utc_seconds("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(utc_seconds("1900-02-29T00:00:00Z"), None);
        assert_eq!(utc_seconds("2026-12-03T15:00:00+00:00"), None);
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
            let request = Request {
                action,
                resource: "IdentityCenter::system:permissionSet:ps-1",
                context: &context,
            };
            let candidates = statements_for(docs, action);
            let among = evaluate_among(docs, &candidates, None, &request);
            assert_eq!(
                among, got,
                "{text} for {action}: indexed evaluation differs"
            );
            let ids = ConditionIds::of(docs);
            let remembered = evaluate_among(docs, &candidates, Some(&ids), &request);
            assert_eq!(
                remembered, got,
                "{text} for {action}: evaluation judging shared conditions once differs"
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
