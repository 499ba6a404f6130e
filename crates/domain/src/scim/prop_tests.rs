//! Property tests: printing a filter and parsing it back gives the same tree, and matching agrees
//! with a reference written over a plain model of a user rather than its JSON.

use super::filter::{CompValue, CompareOp, Filter};
use super::filter_parse::parse_filter;
use super::matching::matches;
use super::patch_path::{parse_patch_path, PatchPath};
use super::path::{AttrPath, ENTERPRISE_USER};
use super::schema::ResourceType;
use rand::Rng;
use serde_json::{json, Map, Number, Value};

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn random_case(rng: &mut impl Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.gen_bool(0.3) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn random_text(rng: &mut impl Rng, alphabet: &[char], max: usize) -> String {
    let n = rng.gen_range(0..=max);
    (0..n).map(|_| *pick(rng, alphabet)).collect()
}

// ---------------------------------------------------------------------------------------------
// Printing and parsing back.

const NAMES: &[&str] = &["userName", "title", "x-y_1", "emails", "$ref", "a"];
const SCHEMAS: &[&str] = &[
    "urn:ietf:params:scim:schemas:core:2.0:User",
    ENTERPRISE_USER,
    "urn:example:x-1.2",
];

fn random_path(rng: &mut impl Rng, relative: bool) -> AttrPath {
    let name = *pick(rng, NAMES);
    let mut p = AttrPath::new(random_case(rng, name));
    if relative {
        return p;
    }
    if rng.gen_bool(0.3) {
        p = p.with_sub(*pick(rng, NAMES));
    }
    if rng.gen_bool(0.2) {
        p = p.in_schema(*pick(rng, SCHEMAS));
    }
    p
}

fn random_value(rng: &mut impl Rng, op: CompareOp) -> CompValue {
    let kind = if op.is_substring() {
        0
    } else if op.is_ordering() {
        rng.gen_range(0..2)
    } else {
        rng.gen_range(0..4)
    };
    match kind {
        0 => CompValue::String(random_text(
            rng,
            &[
                'a', 'Z', ' ', '"', '\\', '/', '\n', '\u{1}', 'é', '😀', ']', ')', '\'',
            ],
            6,
        )),
        1 => CompValue::Number(match rng.gen_range(0..4) {
            0 => Number::from(rng.gen_range(-1000i64..1000)),
            1 => Number::from(u64::MAX - rng.gen_range(0..10u64)),
            2 => Number::from(i64::MIN + rng.gen_range(0..10i64)),
            _ => Number::from_f64(rng.gen_range(-1e6..1e6)).unwrap_or_else(|| Number::from(0)),
        }),
        2 => CompValue::Bool(rng.gen_bool(0.5)),
        _ => CompValue::Null,
    }
}

fn random_filter(rng: &mut impl Rng, depth: usize, relative: bool) -> Filter {
    let choice = if depth == 0 {
        rng.gen_range(0..2)
    } else {
        rng.gen_range(0..6)
    };
    match choice {
        0 => Filter::Present(random_path(rng, relative)),
        1 => {
            let op = *pick(rng, &CompareOp::ALL);
            Filter::Compare {
                path: random_path(rng, relative),
                op,
                value: random_value(rng, op),
            }
        }
        2 => Filter::Not(Box::new(random_filter(rng, depth - 1, relative))),
        3 => Filter::And(
            (0..rng.gen_range(2..4))
                .map(|_| random_filter(rng, depth - 1, relative))
                .collect(),
        ),
        4 => Filter::Or(
            (0..rng.gen_range(2..4))
                .map(|_| random_filter(rng, depth - 1, relative))
                .collect(),
        ),
        _ if relative => Filter::Present(random_path(rng, true)),
        _ => {
            let mut path = random_path(rng, false);
            path.sub = None;
            Filter::ValuePath {
                path,
                filter: Box::new(random_filter(rng, depth - 1, true)),
            }
        }
    }
}

#[test]
fn printing_then_parsing_gives_the_same_filter() {
    let mut rng = rand::thread_rng();
    for _ in 0..5_000 {
        let f = random_filter(&mut rng, 3, false);
        let text = f.to_string();
        let back = parse_filter(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, f, "{text}");
        // With the keywords shouted, the tree is the same.
        if !text.contains('"') {
            assert_eq!(
                parse_filter(&text.to_ascii_uppercase())
                    .map(|f| f.to_string().to_ascii_uppercase()),
                Ok(text.to_ascii_uppercase())
            );
        }
    }
}

#[test]
fn patch_paths_print_and_parse_back() {
    let mut rng = rand::thread_rng();
    for _ in 0..2_000 {
        let path = if rng.gen_bool(0.5) {
            PatchPath::Attr(random_path(&mut rng, false))
        } else {
            let mut attr = random_path(&mut rng, false);
            attr.sub = None;
            PatchPath::Filtered {
                attr,
                filter: Box::new(random_filter(&mut rng, 2, true)),
                sub: rng.gen_bool(0.5).then(|| pick(&mut rng, NAMES).to_string()),
            }
        };
        let text = path.to_string();
        assert_eq!(parse_patch_path(&text), Ok(path), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Matching against a reference.

/// Timestamps, with the instant each denotes (milliseconds after 2020-01-01T00:00:00Z).
const DATES: &[(&str, i64)] = &[
    ("2020-01-01T00:00:00Z", 0),
    ("2020-01-01T01:00:00+01:00", 0),
    ("2020-01-01T00:00:01Z", 1000),
    ("2019-12-31T23:30:00-00:31", 60_000),
    ("2020-01-01T00:00:00.5Z", 500),
];

#[derive(Debug, Clone)]
struct Email {
    kind: Option<String>,
    value: Option<String>,
}

/// A user as plain fields.
#[derive(Debug, Clone)]
struct Model {
    user_name: Option<String>,
    external_id: Option<String>,
    title: Option<String>,
    active: Option<bool>,
    count: Option<i64>,
    emails: Vec<Email>,
    modified: Option<usize>,
    employee_number: Option<String>,
}

const ALPHABET: &[char] = &['a', 'A', 'b', 'B'];

fn maybe_text(rng: &mut impl Rng) -> Option<String> {
    rng.gen_bool(0.8).then(|| random_text(rng, ALPHABET, 3))
}

fn random_model(rng: &mut impl Rng) -> Model {
    Model {
        user_name: maybe_text(rng),
        external_id: maybe_text(rng),
        title: maybe_text(rng),
        active: rng.gen_bool(0.8).then(|| rng.gen_bool(0.5)),
        count: rng.gen_bool(0.8).then(|| rng.gen_range(-2..3)),
        emails: (0..rng.gen_range(0..3))
            .map(|_| Email {
                kind: maybe_text(rng),
                value: maybe_text(rng),
            })
            .collect(),
        modified: rng.gen_bool(0.8).then(|| rng.gen_range(0..DATES.len())),
        employee_number: maybe_text(rng),
    }
}

/// The model as SCIM JSON, attribute names in random case.
fn to_json(rng: &mut impl Rng, m: &Model) -> Value {
    let emails: Vec<Value> = m
        .emails
        .iter()
        .map(|e| {
            let mut x = Map::new();
            if let Some(k) = &e.kind {
                x.insert(random_case(rng, "type"), Value::from(k.clone()));
            }
            if let Some(v) = &e.value {
                x.insert(random_case(rng, "value"), Value::from(v.clone()));
            }
            Value::Object(x)
        })
        .collect();
    let meta = match m.modified {
        Some(i) => json!({"lastModified": DATES[i].0}),
        None => json!({}),
    };
    let fields = [
        ("userName", m.user_name.clone().map(Value::from)),
        ("externalId", m.external_id.clone().map(Value::from)),
        ("title", m.title.clone().map(Value::from)),
        ("active", m.active.map(Value::from)),
        ("loginCount", m.count.map(Value::from)),
        ("emails", Some(Value::Array(emails))),
        ("meta", Some(meta)),
    ];
    let mut o = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            o.insert(random_case(rng, k), v);
        }
    }
    if let Some(n) = &m.employee_number {
        o.insert(ENTERPRISE_USER.to_string(), json!({"employeeNumber": n}));
    }
    Value::Object(o)
}

#[derive(Debug, Clone, PartialEq)]
enum Ref {
    Str(String),
    Int(i64),
    Bool(bool),
    Date(usize),
}

/// Which attribute a path of the generated filters names, and whether it is case-exact.
fn lookup(m: &Model, path: &AttrPath, in_email: Option<&Email>) -> (Vec<Ref>, bool) {
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    let text = |v: &Option<String>| v.iter().map(|s| Ref::Str(s.clone())).collect::<Vec<_>>();
    if let Some(e) = in_email {
        return match name.as_str() {
            "type" => (text(&e.kind), false),
            _ => (text(&e.value), false),
        };
    }
    match (name.as_str(), sub.as_deref()) {
        ("username", _) => (text(&m.user_name), false),
        ("externalid", _) => (text(&m.external_id), true),
        ("title", _) => (text(&m.title), false),
        ("active", _) => (m.active.iter().map(|b| Ref::Bool(*b)).collect(), false),
        ("logincount", _) => (m.count.iter().map(|n| Ref::Int(*n)).collect(), false),
        ("employeenumber", _) => (text(&m.employee_number), false),
        ("meta", _) => (m.modified.iter().map(|i| Ref::Date(*i)).collect(), true),
        ("emails", Some("type")) => (m.emails.iter().flat_map(|e| text(&e.kind)).collect(), false),
        // `emails` alone compares the `value` of each email.
        ("emails", _) => (
            m.emails.iter().flat_map(|e| text(&e.value)).collect(),
            false,
        ),
        _ => (Vec::new(), false),
    }
}

fn reference_compare(have: &Ref, op: CompareOp, want: &CompValue, exact: bool) -> bool {
    use std::cmp::Ordering;
    if op == CompareOp::Ne {
        return !reference_compare(have, CompareOp::Eq, want, exact);
    }
    let order = |o: Ordering| match op {
        CompareOp::Eq => o.is_eq(),
        CompareOp::Gt => o.is_gt(),
        CompareOp::Ge => o.is_ge(),
        CompareOp::Lt => o.is_lt(),
        CompareOp::Le => o.is_le(),
        _ => false,
    };
    match (have, want) {
        (Ref::Str(h), CompValue::String(w)) => {
            let (h, w) = if exact {
                (h.clone(), w.clone())
            } else {
                (h.to_lowercase(), w.to_lowercase())
            };
            match op {
                CompareOp::Co => h.contains(&w),
                CompareOp::Sw => h.starts_with(&w),
                CompareOp::Ew => h.ends_with(&w),
                _ => order(h.cmp(&w)),
            }
        }
        (Ref::Date(i), CompValue::String(w)) => {
            let (text, instant) = DATES[*i];
            match (op, DATES.iter().find(|(t, _)| t == w)) {
                (CompareOp::Co, _) => text.contains(w.as_str()),
                (CompareOp::Sw, _) => text.starts_with(w.as_str()),
                (CompareOp::Ew, _) => text.ends_with(w.as_str()),
                (_, Some((_, other))) => order(instant.cmp(other)),
                (_, None) => order(text.cmp(w.as_str())),
            }
        }
        (Ref::Int(h), CompValue::Number(n)) => n.as_i64().is_some_and(|n| order(h.cmp(&n))),
        (Ref::Bool(h), CompValue::Bool(w)) => op == CompareOp::Eq && h == w,
        (Ref::Bool(h), CompValue::String(w)) => {
            op == CompareOp::Eq
                && (w.eq_ignore_ascii_case("true") && *h || w.eq_ignore_ascii_case("false") && !*h)
        }
        _ => false,
    }
}

/// `pr`: a value that is not empty; for `emails` itself, an email with a non-empty member.
fn present(m: &Model, path: &AttrPath, in_email: Option<&Email>) -> bool {
    let non_empty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if in_email.is_none() && path.is("emails", None) {
        return m
            .emails
            .iter()
            .any(|e| non_empty(&e.kind) || non_empty(&e.value));
    }
    let (vals, _) = lookup(m, path, in_email);
    vals.iter()
        .any(|v| !matches!(v, Ref::Str(s) if s.is_empty()))
}

fn reference(f: &Filter, m: &Model, in_email: Option<&Email>) -> bool {
    match f {
        Filter::Present(p) => present(m, p, in_email),
        Filter::Compare { path, op, value } => {
            let (vals, exact) = lookup(m, path, in_email);
            let present = present(m, path, in_email);
            match value {
                CompValue::Null => match op {
                    CompareOp::Eq => !present,
                    CompareOp::Ne => present,
                    _ => false,
                },
                _ if vals.is_empty() => *op == CompareOp::Ne,
                _ => vals.iter().any(|v| reference_compare(v, *op, value, exact)),
            }
        }
        Filter::Not(inner) => !reference(inner, m, in_email),
        Filter::And(items) => items.iter().all(|f| reference(f, m, in_email)),
        Filter::Or(items) => items.iter().any(|f| reference(f, m, in_email)),
        Filter::ValuePath { filter, .. } => m.emails.iter().any(|e| reference(filter, m, Some(e))),
    }
}

fn random_comp(rng: &mut impl Rng, path: AttrPath, dates: bool) -> Filter {
    let op = *pick(rng, &CompareOp::ALL);
    let value = if op.is_substring() || rng.gen_bool(0.6) {
        if dates && rng.gen_bool(0.7) {
            let (d, _) = *pick(rng, DATES);
            CompValue::String(if op.is_substring() {
                d[..rng.gen_range(0..d.len())].to_string()
            } else {
                d.to_string()
            })
        } else {
            CompValue::String(random_text(rng, ALPHABET, 3))
        }
    } else if op.is_ordering() {
        CompValue::Number(Number::from(rng.gen_range(-2..3)))
    } else {
        match rng.gen_range(0..3) {
            0 => CompValue::Number(Number::from(rng.gen_range(-2..3))),
            1 => CompValue::Bool(rng.gen_bool(0.5)),
            _ => CompValue::Null,
        }
    };
    if rng.gen_bool(0.15) {
        Filter::Present(path)
    } else {
        Filter::Compare { path, op, value }
    }
}

fn random_model_filter(rng: &mut impl Rng, depth: usize, in_email: bool) -> Filter {
    let choice = if depth == 0 { 0 } else { rng.gen_range(0..5) };
    match choice {
        0 if in_email => {
            let name = *pick(rng, &["type", "value"]);
            let name = random_case(rng, name);
            random_comp(rng, AttrPath::new(name), false)
        }
        0 => {
            let text = *pick(
                rng,
                &[
                    "userName",
                    "externalId",
                    "title",
                    "active",
                    "loginCount",
                    "emails",
                    "emails.value",
                    "emails.type",
                    "meta.lastModified",
                    "employeeNumber",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                ],
            );
            let path = AttrPath::parse(&random_case(rng, text)).unwrap_or_else(|e| panic!("{e}"));
            random_comp(rng, path, text == "meta.lastModified")
        }
        1 => Filter::Not(Box::new(random_model_filter(rng, depth - 1, in_email))),
        2 => Filter::And(vec![
            random_model_filter(rng, depth - 1, in_email),
            random_model_filter(rng, depth - 1, in_email),
        ]),
        3 => Filter::Or(vec![
            random_model_filter(rng, depth - 1, in_email),
            random_model_filter(rng, depth - 1, in_email),
        ]),
        _ if in_email => random_model_filter(rng, depth - 1, true),
        _ => Filter::ValuePath {
            path: AttrPath::new(random_case(rng, "emails")),
            filter: Box::new(random_model_filter(rng, depth - 1, true)),
        },
    }
}

#[test]
fn matching_agrees_with_the_reference() {
    let mut rng = rand::thread_rng();
    let mut hits = 0;
    for _ in 0..20_000 {
        let model = random_model(&mut rng);
        let resource = to_json(&mut rng, &model);
        let f = random_model_filter(&mut rng, 3, false);
        // What is matched is what was parsed: go through the text.
        let f = parse_filter(&f.to_string()).unwrap_or_else(|e| panic!("{f}: {e}"));
        let want = reference(&f, &model, None);
        hits += usize::from(want);
        assert_eq!(
            matches(&f, &resource, &ResourceType::User),
            want,
            "filter {f}\nresource {resource}\nmodel {model:?}"
        );
    }
    // Both outcomes are exercised.
    assert!(hits > 2_000 && hits < 18_000, "{hits}");
}

// ---------------------------------------------------------------------------------------------
// Mutated inputs, in the stable suite (the fuzz targets go further).

fn mutate(rng: &mut impl Rng, seed: &[u8]) -> Vec<u8> {
    const BYTES: &[u8] = b" ()[]\".\\:-$0123456789aeEnotrpqwl\x00\xff\xc3\xa9";
    let mut v = seed.to_vec();
    for _ in 0..rng.gen_range(1..6) {
        let at = rng.gen_range(0..=v.len());
        match rng.gen_range(0..4) {
            0 if at < v.len() => {
                v.remove(at);
            }
            1 if at < v.len() => v[at] = *pick(rng, BYTES),
            2 => v.insert(at, *pick(rng, BYTES)),
            _ => {
                let from = rng.gen_range(0..=v.len());
                let to = rng.gen_range(from..=v.len());
                let chunk = v[from..to].to_vec();
                v.splice(at..at, chunk);
            }
        }
    }
    v
}

#[test]
fn mutated_filters_and_patch_bodies_never_panic() {
    use super::index::classify;
    use super::patch::parse_patch_json;
    let filters: &[&[u8]] = &[
        br#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        br#"emails[type eq "work" and value co "@example.com"].display pr or meta.lastModified gt "2011-05-13T04:42:34Z""#,
        br#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m\u00e9" and x le -1.5e3"#,
    ];
    let bodies: &[&[u8]] = &[
        br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].primary","value":"False"},{"op":"add","value":{"name.givenName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m"}}},{"op":"remove","path":"members[value eq \"u\"]"}]}"#,
    ];
    let user = to_json(
        &mut rand::thread_rng(),
        &random_model(&mut rand::thread_rng()),
    );
    let mut rng = rand::thread_rng();
    let (mut filters_parsed, mut bodies_parsed) = (0, 0);
    for _ in 0..20_000 {
        let seed = *pick(&mut rng, filters);
        let bytes = mutate(&mut rng, seed);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Ok(f) = parse_filter(text) {
                filters_parsed += 1;
                matches(&f, &user, &ResourceType::User);
                classify(&f, ResourceType::Group);
                assert_eq!(parse_filter(&f.to_string()).as_ref(), Ok(&f), "{f}");
            }
            if let Ok(p) = parse_patch_path(text) {
                assert_eq!(parse_patch_path(&p.to_string()), Ok(p));
            }
        }
        let seed = *pick(&mut rng, bodies);
        let body = mutate(&mut rng, seed);
        bodies_parsed += usize::from(parse_patch_json(&body).is_ok());
    }
    // The mutations keep some inputs valid, so that what follows parsing is reached.
    assert!(
        filters_parsed > 1_000 && bodies_parsed > 100,
        "{filters_parsed} {bodies_parsed}"
    );
}
