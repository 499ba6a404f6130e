//! Attributes for access control (ABAC): an instance's configuration maps attributes of its
//! identity store's users to principal tags, resolved when a user signs in and carried by every
//! temporary credential of that sign-in (`g:PrincipalTag/<key>`).

pub mod source;

use crate::directory::user::UserProfile;
use crate::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Principal tags of a session or credential: key to value, stored as a JSON object.
pub type PrincipalTags = BTreeMap<String, String>;

/// Most attributes one configuration holds.
pub const MAX_ATTRIBUTES: usize = 20;
/// Longest key, in characters.
pub const MAX_KEY: usize = 128;
/// Longest source, in characters.
pub const MAX_SOURCE: usize = 255;
/// The only status a configuration has here: it is in force once written.
pub const STATUS_ENABLED: &str = "ENABLED";

const FIELD: &str = "instance_access_control_attribute_configuration.access_control_attributes";

/// The configuration as the wire carries it and the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Configuration {
    pub access_control_attributes: Vec<AccessControlAttribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessControlAttribute {
    pub key: String,
    pub value: AttributeValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeValue {
    pub source: Vec<String>,
}

impl Configuration {
    /// Checks the catalogued bounds and patterns, that keys are unique (ignoring case) and that
    /// each source names a user attribute; the message names the offending field.
    pub fn validate(&self) -> Result<(), ApiError> {
        let attributes = &self.access_control_attributes;
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(ApiError::bad_request(format!(
                "{FIELD} may hold at most {MAX_ATTRIBUTES} items"
            )));
        }
        let mut seen = HashSet::new();
        for (i, a) in attributes.iter().enumerate() {
            let field = format!("{FIELD}[{i}]");
            validate_key(&format!("{field}.key"), &a.key)?;
            if !seen.insert(a.key.to_lowercase()) {
                return Err(ApiError::bad_request(format!(
                    "{field}.key {} repeats the key of an earlier attribute (keys are compared ignoring case)",
                    a.key
                )));
            }
            validate_source(&format!("{field}.value.source"), &a.value.source)?;
        }
        Ok(())
    }

    /// The principal tags of `user`: one per attribute whose source the user has a non-empty
    /// value for.
    pub fn resolve(&self, user: &UserProfile) -> PrincipalTags {
        self.access_control_attributes
            .iter()
            .filter_map(|a| {
                let attribute = source::parse(a.value.source.first()?)?;
                let value = attribute.value_of(user)?;
                Some((a.key.clone(), value.to_string()))
            })
            .collect()
    }
}

fn is_letter_or_number(c: char) -> bool {
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
    )
}

fn is_separator(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Separator
}

/// `^((?!_sys_|\s)[\p{L}\p{Z}\p{N}_.:=+\-@]*[\p{L}\p{N}_.:=+\-@])$`, 1–128 characters.
pub fn validate_key(field: &str, key: &str) -> Result<(), ApiError> {
    crate::validate::length(field, key, 1, MAX_KEY)?;
    if key.starts_with("_sys_") {
        return Err(ApiError::bad_request(format!(
            "{field} must not start with _sys_"
        )));
    }
    let punctuation = |c: char| matches!(c, '_' | '.' | ':' | '=' | '+' | '-' | '@');
    if key.starts_with(char::is_whitespace) || key.ends_with(is_separator) {
        return Err(ApiError::bad_request(format!(
            "{field} must not start or end with a space"
        )));
    }
    if !key
        .chars()
        .all(|c| is_letter_or_number(c) || is_separator(c) || punctuation(c))
    {
        return Err(ApiError::bad_request(format!(
            "{field} may contain only letters, digits, spaces and the characters _.:=+-@"
        )));
    }
    Ok(())
}

/// Exactly one item of 0–255 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@\[\]{}$\\"]`, naming a
/// user attribute ([`source::SOURCES`]).
pub fn validate_source(field: &str, sources: &[String]) -> Result<(), ApiError> {
    let [one] = sources else {
        return Err(ApiError::bad_request(format!(
            "{field} must hold exactly 1 item"
        )));
    };
    crate::validate::length(field, one, 0, MAX_SOURCE)?;
    let allowed = |c: char| {
        is_letter_or_number(c)
            || is_separator(c)
            || matches!(
                c,
                '_' | '.'
                    | ':'
                    | '/'
                    | '='
                    | '+'
                    | '-'
                    | '@'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '$'
                    | '\\'
                    | '"'
            )
    };
    if !one.chars().all(allowed) {
        return Err(ApiError::bad_request(format!(
            "{field} may contain only letters, digits, spaces and the characters _.:/=+-@[]{{}}$\\\""
        )));
    }
    if source::parse(one).is_none() {
        return Err(ApiError::bad_request(format!(
            "{field} {one} does not name a user attribute (such as ${{user:email}} or ${{path:enterprise.department}})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(key: &str, source: &str) -> AccessControlAttribute {
        AccessControlAttribute {
            key: key.into(),
            value: AttributeValue {
                source: vec![source.into()],
            },
        }
    }

    fn config(attributes: Vec<AccessControlAttribute>) -> Configuration {
        Configuration {
            access_control_attributes: attributes,
        }
    }

    #[test]
    fn keys_follow_the_catalogued_pattern() {
        for good in [
            "department",
            "Cost Center",
            "a",
            "部门",
            "x_1.y:z=w+v-u@t",
            "١٢٣",
            "sys_ok",
            "a_sys_b",
        ] {
            assert!(validate_key("k", good).is_ok(), "{good}");
        }
        for (bad, says) in [
            ("", "between 1 and 128"),
            (&"k".repeat(129), "between 1 and 128"),
            ("_sys_x", "_sys_"),
            (" lead", "space"),
            ("trail ", "space"),
            ("trail\u{3000}", "space"),
            ("tab\tinside", "only letters"),
            ("slash/", "only letters"),
            ("a$b", "only letters"),
            ("emoji😀", "only letters"),
        ] {
            let e = validate_key("the.key", bad).expect_err(bad);
            assert_eq!((e.status, e.code), (400, "IIC.400"));
            assert!(
                e.message.contains("the.key") && e.message.contains(says),
                "{bad}: {}",
                e.message
            );
        }
        assert!(
            validate_key("k", &"é".repeat(128)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn a_source_is_one_known_attribute() {
        let f = "s";
        assert!(validate_source(f, &["${user:email}".into()]).is_ok());
        assert!(validate_source(f, &["${path:enterprise.department}".into()]).is_ok());
        for (bad, says) in [
            (vec![], "exactly 1 item"),
            (
                vec!["${user:email}".to_string(), "${user:name}".to_string()],
                "exactly 1 item",
            ),
            (vec!["x".repeat(256)], "between 0 and 255"),
            (vec!["${user:email}\n".to_string()], "only letters"),
            (vec!["${user:e#mail}".to_string()], "only letters"),
            (vec![String::new()], "does not name a user attribute"),
            (vec!["${user:password}".to_string()], "does not name"),
            (vec!["department".to_string()], "does not name"),
        ] {
            let e = validate_source("the.source", &bad).expect_err("bad source");
            assert!(
                e.message.contains("the.source") && e.message.contains(says),
                "{bad:?}: {}",
                e.message
            );
        }
    }

    #[test]
    fn a_configuration_is_bounded_and_its_keys_unique_ignoring_case() {
        let twenty: Vec<_> = (0..20)
            .map(|i| attribute(&format!("k{i}"), "${user:email}"))
            .collect();
        assert!(config(twenty.clone()).validate().is_ok());
        assert!(config(vec![]).validate().is_ok(), "0 items is allowed");
        let mut too_many = twenty;
        too_many.push(attribute("k20", "${user:email}"));
        let e = config(too_many).validate().expect_err("21");
        assert!(e.message.contains("at most 20"), "{}", e.message);
        let e = config(vec![
            attribute("Dept", "${path:enterprise.department}"),
            attribute("dept", "${user:email}"),
        ])
        .validate()
        .expect_err("same key");
        assert!(
            e.message.contains("access_control_attributes[1].key"),
            "{}",
            e.message
        );
        let e = config(vec![
            attribute("ok", "${user:email}"),
            attribute("bad", "${user:nope}"),
        ])
        .validate()
        .expect_err("source");
        assert!(
            e.message
                .contains("access_control_attributes[1].value.source"),
            "{}",
            e.message
        );
    }

    #[test]
    fn resolution_gives_a_tag_per_attribute_the_user_has() {
        let user = source::tests::user();
        let c = config(vec![
            attribute("department", "${path:enterprise.department}"),
            attribute("email", "${user:email}"),
            attribute("division", "${path:enterprise.division}"),
            attribute("tz", "${path:timezone}"),
            attribute("Cost Center", "${path:enterprise.costCenter}"),
        ]);
        let tags = c.resolve(&user);
        let expected: PrincipalTags = [
            ("Cost Center", "CC-7"),
            ("department", "Engines"),
            ("email", "ada@example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(tags, expected, "no tag for a missing or empty value");
        assert!(config(vec![]).resolve(&user).is_empty());
    }

    #[test]
    fn the_wire_shape_round_trips() {
        let json = r#"{"access_control_attributes":[{"key":"dept","value":{"source":["${path:enterprise.department}"]}}]}"#;
        let c: Configuration = serde_json::from_str(json).expect("parses");
        assert_eq!(c.access_control_attributes[0].key, "dept");
        assert_eq!(serde_json::to_string(&c).expect("serializes"), json);
        assert!(serde_json::from_str::<Configuration>(
            r#"{"access_control_attributes":[{"key":"k","value":{"source":["x"]},"extra":1}]}"#
        )
        .is_err());
    }
}
