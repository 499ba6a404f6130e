//! The query of a SCIM read (RFC 7644 §3.4.2): `filter`, `startIndex`, `count`, `attributes`,
//! `excludedAttributes`. Form encoding is accepted (`+` for a space), as HTTP clients send it.

use iic_domain::scim::projection::parse_attribute_list;
use iic_domain::scim::{parse_filter, AttrPath, Filter, ScimError};
use serde_json::Value;

/// The most resources one list answers (the catalogue's SCIM lists hold at most 50).
pub const MAX_RESULTS: i64 = 50;

/// Which attributes to return.
#[derive(Debug, Default)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    /// Whether `name` (a top-level attribute) is returned.
    pub fn returns(&self, name: &str) -> bool {
        let named = |list: &[AttrPath]| {
            list.iter()
                .any(|p| p.name.eq_ignore_ascii_case(name) && p.sub.is_none())
        };
        if !self.attributes.is_empty() {
            return self
                .attributes
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(name));
        }
        !named(&self.excluded)
    }
}

#[derive(Debug)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start_index: i64,
    pub count: i64,
    pub projection: Projection,
}

/// The decoded pairs of a raw query string, `+` read as a space.
fn pairs(raw: &str) -> Result<Vec<(String, String)>, ScimError> {
    let spaced = raw.replace('+', "%20");
    iic_domain::signing::query_pairs(&spaced)
        .into_iter()
        .map(|(k, v)| {
            let k = String::from_utf8(k)
                .map_err(|_| ScimError::invalid_value("query parameter names must be UTF-8"))?;
            let v = String::from_utf8(v)
                .map_err(|_| ScimError::invalid_value(format!("{k} must be UTF-8")))?;
            Ok((k, v))
        })
        .collect()
}

fn find<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn integer(pairs: &[(String, String)], name: &str) -> Result<Option<i64>, ScimError> {
    find(pairs, name)
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
        })
        .transpose()
}

fn projection(pairs: &[(String, String)]) -> Result<Projection, ScimError> {
    let list = |name: &str| match find(pairs, name) {
        Some(text) if !text.trim().is_empty() => parse_attribute_list(name, text),
        _ => Ok(Vec::new()),
    };
    Ok(Projection {
        attributes: list("attributes")?,
        excluded: list("excludedAttributes")?,
    })
}

/// The projection of a single-resource read or write.
pub fn parse_projection(raw: Option<&str>) -> Result<Projection, ScimError> {
    projection(&pairs(raw.unwrap_or(""))?)
}

/// A list request's query. Out-of-range numbers are read as RFC 7644 §3.4.2.4 says: a
/// `startIndex` below 1 as 1, a negative `count` as 0; a `count` above [`MAX_RESULTS`] as it.
pub fn parse_list(raw: Option<&str>) -> Result<ListQuery, ScimError> {
    let pairs = pairs(raw.unwrap_or(""))?;
    let filter = match find(&pairs, "filter") {
        Some(text) if !text.trim().is_empty() => Some(parse_filter(text)?),
        _ => None,
    };
    let start_index = integer(&pairs, "startIndex")?.unwrap_or(1).max(1);
    let count = integer(&pairs, "count")?
        .unwrap_or(MAX_RESULTS)
        .clamp(0, MAX_RESULTS);
    Ok(ListQuery {
        filter,
        start_index,
        count,
        projection: projection(&pairs)?,
    })
}

/// The message schema of a `POST …/.search` body (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A `POST …/.search` body: the same parameters as a list's query, as JSON members.
pub fn parse_search(body: &Value) -> Result<ListQuery, ScimError> {
    let member = |name: &str| {
        body.as_object().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .filter(|v| !v.is_null())
        })
    };
    let lists_schema = match member("schemas") {
        Some(Value::Array(items)) => items.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST))
        }),
        _ => false,
    };
    if !lists_schema {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {SEARCH_REQUEST}"
        )));
    }
    let text = |name: &str| match member(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|v| Some(v.join(",")))
            .ok_or_else(|| ScimError::invalid_value(format!("{name} must list strings"))),
        Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    };
    let number = |name: &str| match member(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer"))),
    };
    let list = |name: &str| match text(name)? {
        Some(t) if !t.trim().is_empty() => parse_attribute_list(name, &t),
        _ => Ok(Vec::new()),
    };
    let filter = match text("filter")? {
        Some(t) if !t.trim().is_empty() => Some(parse_filter(&t)?),
        _ => None,
    };
    Ok(ListQuery {
        filter,
        start_index: number("startIndex")?.unwrap_or(1).max(1),
        count: number("count")?
            .unwrap_or(MAX_RESULTS)
            .clamp(0, MAX_RESULTS),
        projection: Projection {
            attributes: list("attributes")?,
            excluded: list("excludedAttributes")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bodies_read_as_queries() {
        let q = parse_search(&serde_json::json!({
            "schemas": [SEARCH_REQUEST],
            "filter": "userName sw \"a\"",
            "attributes": ["userName", "emails.value"],
            "startIndex": 3, "count": 7,
        }))
        .expect("parses");
        assert_eq!((q.start_index, q.count), (3, 7));
        assert_eq!(q.projection.attributes.len(), 2);
        assert!(q.filter.is_some());
        let e = parse_search(&serde_json::json!({"count": 1})).expect_err("schemas");
        assert_eq!(e.scim_type.map(|t| t.as_str()), Some("invalidSyntax"));
        let e = parse_search(&serde_json::json!({"schemas": [SEARCH_REQUEST], "count": "x"}))
            .expect_err("count");
        assert!(e.detail.contains("count"));
    }

    #[test]
    fn form_encoded_filters_and_bounds() {
        let q = parse_list(Some(
            "filter=userName+eq+%22bjensen%22&startIndex=0&count=500",
        ))
        .expect("parses");
        assert_eq!(
            q.filter.map(|f| f.to_string()).as_deref(),
            Some("userName eq \"bjensen\"")
        );
        assert_eq!((q.start_index, q.count), (1, MAX_RESULTS));
        let q = parse_list(Some("count=-3&excludedAttributes=members")).expect("parses");
        assert_eq!(q.count, 0);
        assert!(!q.projection.returns("members"));
        assert!(q.projection.returns("displayName"));
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = parse_list(Some("count=ten")).expect_err("count");
        assert!(e.detail.contains("count"));
        let e = parse_list(Some("filter=userName%20eq")).expect_err("filter");
        assert_eq!(e.scim_type.map(|t| t.as_str()), Some("invalidFilter"));
    }

    #[test]
    fn asked_attributes_decide_what_is_returned() {
        let p = parse_projection(Some("attributes=displayName,members.value")).expect("parses");
        assert!(p.returns("members"));
        assert!(!p.returns("externalId"));
    }
}
