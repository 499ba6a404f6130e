//! The SCIM error (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a detail for a
//! person, and the JSON body that carries them.

use serde_json::{json, Value};
use std::fmt;

/// The message schema of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` values of RFC 7644 §3.12, table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

/// A SCIM failure: what the API layer answers with, as [`ScimError::body`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// 400 `invalidFilter`: the filter does not parse, or asks what cannot be answered.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// 400 `invalidPath`: a PATCH path does not parse or names nothing that can be changed.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// 400 `invalidSyntax`: the request body is not the message it should be.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// 400 `invalidValue`: a value is missing or does not fit the attribute or operation.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// 400 `noTarget`: the path selects nothing (or a remove came without a path).
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    /// 400 `tooMany`: the request would return or touch more than the server allows.
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::TooMany, detail)
    }

    /// 409 `uniqueness`: a value that must be unique is already taken.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }

    /// 400 `mutability`: the attribute cannot be changed this way.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    /// The error body (RFC 7644 §3.12): `schemas`, `status`, `scimType` when there is one,
    /// `detail`. `status` is an integer, as the catalogue's `ScimErrorResp` types it.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status,
            "detail": self.detail,
        });
        if let (Some(t), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".to_string(), Value::from(t.as_str()));
        }
        body
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} {}: {}", self.status, t.as_str(), self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_wire_keyword() {
        let all = [
            (ScimType::InvalidFilter, "invalidFilter"),
            (ScimType::TooMany, "tooMany"),
            (ScimType::Uniqueness, "uniqueness"),
            (ScimType::Mutability, "mutability"),
            (ScimType::InvalidSyntax, "invalidSyntax"),
            (ScimType::InvalidPath, "invalidPath"),
            (ScimType::NoTarget, "noTarget"),
            (ScimType::InvalidValue, "invalidValue"),
            (ScimType::InvalidVers, "invalidVers"),
            (ScimType::Sensitive, "sensitive"),
        ];
        for (t, s) in all {
            assert_eq!(t.as_str(), s);
        }
    }

    #[test]
    fn constructors_set_status_and_type() {
        let cases = [
            (ScimError::invalid_filter("d"), 400, ScimType::InvalidFilter),
            (ScimError::invalid_path("d"), 400, ScimType::InvalidPath),
            (ScimError::invalid_syntax("d"), 400, ScimType::InvalidSyntax),
            (ScimError::invalid_value("d"), 400, ScimType::InvalidValue),
            (ScimError::no_target("d"), 400, ScimType::NoTarget),
            (ScimError::too_many("d"), 400, ScimType::TooMany),
            (ScimError::mutability("d"), 400, ScimType::Mutability),
            (ScimError::uniqueness("d"), 409, ScimType::Uniqueness),
        ];
        for (e, status, t) in cases {
            assert_eq!(
                (e.status, e.scim_type, e.detail.as_str()),
                (status, Some(t), "d")
            );
        }
    }

    #[test]
    fn the_body_is_the_catalogued_error_message() {
        let e = ScimError::invalid_filter("expected an operator at character 10");
        assert_eq!(
            e.body(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": 400,
                "scimType": "invalidFilter",
                "detail": "expected an operator at character 10",
            })
        );
        assert_eq!(
            e.to_string(),
            "400 invalidFilter: expected an operator at character 10"
        );
        let plain = ScimError::new(404, None, "Resource 1 not found");
        assert_eq!(
            plain.body(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": 404,
                "detail": "Resource 1 not found",
            })
        );
        assert_eq!(plain.to_string(), "404: Resource 1 not found");
    }
}
