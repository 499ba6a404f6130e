//! Organizations: ids, field rules and errors of the slice of the Organizations API that IAM
//! Identity Center depends on.

mod refusal;
mod states;

pub use refusal::{ClosureFailure, CreationFailure, Refusal};
pub use states::{AccountStatus, ClosureState, CreationState, JoinMethod};

use crate::ApiError;
use serde::{Deserialize, Serialize};

/// The service principal of IAM Identity Center.
pub const IDENTITY_CENTER: &str = "service.IdentityCenter";

/// Service principals that can be trusted and delegated in this deployment.
pub const SERVICES: &[&str] = &[
    IDENTITY_CENTER,
    "service.Config",
    "service.CTS",
    "service.RAM",
    "service.TagPolicy",
];

fn lower_hex(n: usize) -> String {
    crate::ids::hex32()[..n].to_string()
}

pub fn root_id() -> String {
    format!("r-{}", lower_hex(16))
}

pub fn organizational_unit_id() -> String {
    format!("ou-{}", lower_hex(24))
}

pub fn create_account_status_id() -> String {
    format!("car-{}", crate::ids::hex32())
}

pub fn organization_urn(management_account_id: &str, organization_id: &str) -> String {
    format!("organizations::{management_account_id}:organization:{organization_id}")
}

pub fn account_urn(management_account_id: &str, organization_id: &str, account_id: &str) -> String {
    format!("organizations::{management_account_id}:account:{organization_id}/{account_id}")
}

pub fn root_urn(management_account_id: &str, organization_id: &str, root_id: &str) -> String {
    format!("organizations::{management_account_id}:root:{organization_id}/{root_id}")
}

pub fn ou_urn(management_account_id: &str, organization_id: &str, ou_id: &str) -> String {
    format!("organizations::{management_account_id}:ou:{organization_id}/{ou_id}")
}

/// ISO-8601 UTC with seconds, as Organizations prints times.
pub fn iso8601(millis: i64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(millis / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

// --- errors --------------------------------------------------------------------------------

/// 401 `Organizations.1001`.
pub fn not_management() -> ApiError {
    ApiError::new(
        401,
        "Organizations.1001",
        "This operation can be called only from the management account of an organization.",
    )
}

/// 403 `Organizations.1007`: the policies of the caller's agency do not allow `action`.
pub fn policy_denied(action: &str, story: crate::authz::PolicyStory) -> ApiError {
    ApiError::new(
        403,
        "Organizations.1007",
        format!("Policy doesn't allow '{action}' to be performed."),
    )
    .with_policy_denial(action, story)
}

/// 401 `Organizations.1002`.
pub fn not_management_or_delegate() -> ApiError {
    ApiError::new(
        401,
        "Organizations.1002",
        "This operation can be called only from the management account of an organization or by a member account that is a delegated administrator for a service.",
    )
}

/// 400 `Organizations.400`: invalid input, naming the field.
pub fn bad_request(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(400, "Organizations.400", format!("Bad request: {detail}."))
}

/// 404 `Organizations.404`.
pub fn not_found(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(404, "Organizations.404", format!("Not found: {detail}."))
}

/// 409 `Organizations.409`: the request conflicts with the organization's state.
pub fn conflict(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(409, "Organizations.409", format!("Conflict: {detail}."))
}

/// Re-labels a generic bad-request error (from shared validators) as an Organizations one.
pub fn as_org_error(e: ApiError) -> ApiError {
    if e.code == "IIC.400" {
        let detail = e
            .message
            .trim_start_matches("Bad Request: ")
            .trim_end_matches('.');
        bad_request(detail)
    } else {
        e
    }
}

// --- field rules -----------------------------------------------------------------------------

fn len(field: &str, v: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(bad_request(format!(
            "{field} must be between {min} and {max} characters long"
        )));
    }
    Ok(())
}

/// Account names: a letter, then letters, digits, `_` or `-`.
pub fn validate_account_name(field: &str, v: &str, min: usize, max: usize) -> Result<(), ApiError> {
    len(field, v, min.max(2), max)?;
    let mut chars = v.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(bad_request(format!(
            "{field} must start with a letter and contain only letters, digits, _ and -"
        )));
    }
    Ok(())
}

pub fn validate_email(v: &str) -> Result<(), ApiError> {
    len("email", v, 1, 64)?;
    crate::directory::user::validate_email_address("email", v).map_err(as_org_error)
}

pub fn validate_phone(v: &str) -> Result<(), ApiError> {
    let b = v.as_bytes();
    if b.len() != 11
        || b[0] != b'1'
        || !(b'3'..=b'9').contains(&b[1])
        || !b.iter().all(u8::is_ascii_digit)
    {
        return Err(bad_request(
            "phone must be an 11-digit mobile number starting with 13-19",
        ));
    }
    Ok(())
}

pub fn validate_word(field: &str, v: &str, min: usize, max: usize) -> Result<(), ApiError> {
    len(field, v, min, max)?;
    if !v
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(bad_request(format!(
            "{field} may contain only letters, digits, _ and -"
        )));
    }
    Ok(())
}

pub fn validate_description(v: &str) -> Result<(), ApiError> {
    len("description", v, 0, 128)
}

/// OU names: letters (Latin or CJK), digits, `_`, `-` and spaces.
pub fn validate_ou_name(v: &str) -> Result<(), ApiError> {
    len("name", v, 1, 64)?;
    if !v.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-' | ' ')
            || ('\u{4e00}'..='\u{9fa5}').contains(&c)
    }) {
        return Err(bad_request(
            "name may contain only letters, digits, _, - and spaces",
        ));
    }
    Ok(())
}

/// A parent: a root (`r-…`) or an OU (`ou-…`).
pub fn validate_parent_id(field: &str, v: &str) -> Result<(), ApiError> {
    let ok = |prefix: &str, min: usize, max: usize| {
        v.strip_prefix(prefix).is_some_and(|rest| {
            (min..=max).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
    };
    if ok("r-", 4, 32) || ok("ou-", 8, 32) {
        Ok(())
    } else {
        Err(bad_request(format!(
            "{field} must be a root id (r-…) or an organizational unit id (ou-…)"
        )))
    }
}

pub fn validate_account_id(field: &str, v: &str) -> Result<(), ApiError> {
    len(field, v, 1, 64)?;
    if !v
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(bad_request(format!(
            "{field} may contain only letters, digits, _ and -"
        )));
    }
    Ok(())
}

pub fn validate_service_principal(v: &str) -> Result<(), ApiError> {
    len("service_principal", v, 1, 100)?;
    if !SERVICES.contains(&v) {
        return Err(bad_request(format!(
            "service_principal {v} is not a known service (known: {})",
            SERVICES.join(", ")
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub fn validate_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > 20 {
        return Err(bad_request("tags may hold at most 20 items"));
    }
    tags.iter().try_for_each(validate_tag)
}

/// One tag: a key of 1–128 characters (no spaces, not `_sys_…`) and a value of 0–255.
pub fn validate_tag(t: &Tag) -> Result<(), ApiError> {
    len("tags.key", &t.key, 1, 128)?;
    len("tags.value", &t.value, 0, 255)?;
    if t.key.starts_with("_sys_") || t.key.chars().any(char::is_whitespace) {
        return Err(bad_request(
            "tags.key must not start with _sys_ or contain spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_their_patterns() {
        assert!(validate_parent_id("p", &root_id()).is_ok());
        assert!(validate_parent_id("p", &organizational_unit_id()).is_ok());
        let car = create_account_status_id();
        assert!(car.starts_with("car-") && car.len() == 36);
        assert!(validate_parent_id("p", "x-123").is_err());
    }

    #[test]
    fn field_rules_name_their_field() {
        assert!(validate_account_name("name", "dev-account_1", 1, 64).is_ok());
        assert!(validate_account_name("name", "1dev", 1, 64)
            .expect_err("digit")
            .message
            .contains("name"));
        assert!(validate_account_name("name", "short", 6, 32).is_err());
        assert!(validate_phone("13812345678").is_ok());
        assert!(validate_phone("12812345678").is_err());
        assert!(validate_email("a@example.com").is_ok());
        assert_eq!(
            validate_email("nope").expect_err("bad").code,
            "Organizations.400"
        );
        assert!(validate_ou_name("研发 team_1").is_ok());
        assert!(validate_ou_name("bad/name").is_err());
        assert!(validate_service_principal(IDENTITY_CENTER).is_ok());
        assert!(validate_service_principal("service.Nope").is_err());
        assert!(validate_tags(&[Tag {
            key: "_sys_x".into(),
            value: String::new()
        }])
        .is_err());
    }

    #[test]
    fn iso8601_prints_utc_seconds() {
        assert_eq!(iso8601(1_661_322_706_000), "2022-08-24T06:31:46Z");
    }

    #[test]
    fn auth_errors_use_the_catalogued_codes() {
        assert_eq!(
            (not_management().status, not_management().code),
            (401, "Organizations.1001")
        );
        assert_eq!(not_management_or_delegate().code, "Organizations.1002");
    }
}
