//! The identity store ("directory"): users, groups, memberships and the password policy — their
//! shapes, rules and validation. Storage lives in the store crate.

pub mod group;
pub mod password;
pub mod update;
pub mod user;

use crate::ApiError;
use serde::{Deserialize, Serialize};

/// An identifier a provisioning system (SCIM, an external IdP) knows a principal by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalId {
    pub issuer: String,
    pub id: String,
}

impl ExternalId {
    pub fn validate(&self, field: &str) -> Result<(), ApiError> {
        crate::validate::length(&format!("{field}.issuer"), &self.issuer, 1, 100)?;
        crate::validate::length(&format!("{field}.id"), &self.id, 1, 256)?;
        if self.id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ApiError::bad_request(format!(
                "{field}.id must not contain spaces or control characters"
            )));
        }
        Ok(())
    }
}

/// Principal ids (users, groups, memberships): the store's 10 hex digits, a hyphen, a UUID v4.
pub fn principal_id(identity_store_id: &str) -> String {
    let store_hex = identity_store_id
        .strip_prefix("d-")
        .unwrap_or(identity_store_id);
    format!("{store_hex}-{}", crate::ids::uuid_v4())
}

/// Checks an id received in a path, query or body against the catalogued id shape, naming `field`.
pub fn validate_principal_id(field: &str, id: &str) -> Result<(), ApiError> {
    let ok = {
        let uuid = match id.len() {
            47 => {
                let (prefix, rest) = id.split_at(11);
                prefix[..10]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                    && prefix.ends_with('-')
                    && is_uuid(rest)
            }
            36 => is_uuid(id),
            _ => false,
        };
        uuid
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{field} must be an identity store id of the form <10 hex>-<UUID>"
        )))
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The text shape the catalogue gives most string attributes: any letters, marks, symbols,
/// numbers, punctuation and spaces, but no control characters besides tab, newline and CR.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    crate::validate::length(field, value, min, max)?;
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ApiError::bad_request(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

pub fn optional_text(field: &str, value: &Option<String>) -> Result<(), ApiError> {
    match value {
        Some(v) => text(field, v, 1, 1024),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_ids_carry_the_store_prefix_and_validate() {
        let id = principal_id("d-0123456789");
        assert_eq!(id.len(), 47);
        assert!(id.starts_with("0123456789-"));
        assert!(validate_principal_id("user_id", &id).is_ok());
        assert!(validate_principal_id("user_id", &id[11..]).is_ok());
        let e = validate_principal_id("user_id", "nope").expect_err("bad");
        assert!(e.message.contains("user_id"));
        assert!(validate_principal_id("g", &id.replace('-', "_")).is_err());
    }

    #[test]
    fn text_refuses_control_characters() {
        assert!(text("title", "Head of\tthings", 1, 1024).is_ok());
        assert!(text("title", "bad\u{7}", 1, 1024).is_err());
        assert!(text("title", "", 1, 1024).is_err());
    }

    #[test]
    fn external_id_bounds() {
        let ok = ExternalId {
            issuer: "scim".into(),
            id: "42".into(),
        };
        assert!(ok.validate("external_id").is_ok());
        let long = ExternalId {
            issuer: "x".repeat(101),
            id: "1".into(),
        };
        assert!(long
            .validate("external_id")
            .expect_err("long")
            .message
            .contains("issuer"));
    }
}
