//! The IAM Identity Center instance of an organization and the rules on its fields.

use crate::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Internal keyset-paging key; never leaves the server except inside a marker.
    pub seq: i64,
    pub instance_id: String,
    pub identity_store_id: String,
    pub organization_id: String,
    pub region: String,
    pub alias: Option<String>,
    pub created_at: i64,
}

/// The alias replaces the identity store id in the portal URL: 1–62 letters, digits and hyphens,
/// not starting with `-` or `d-` (which would collide with store ids), not ending with `-`.
pub fn validate_alias(alias: &str) -> Result<(), ApiError> {
    crate::validate::length("alias", alias, 1, 62)?;
    if !alias
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::bad_request(
            "alias may contain only letters, digits and hyphens",
        ));
    }
    if alias.starts_with('-') || alias.starts_with("d-") || alias.ends_with('-') {
        return Err(ApiError::bad_request(
            "alias must not start with '-' or 'd-' and must not end with '-'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_rules() {
        assert!(validate_alias("my-company").is_ok());
        assert!(validate_alias("d").is_ok());
        assert!(validate_alias("d-1234567890").is_err());
        assert!(validate_alias("-x").is_err());
        assert!(validate_alias("x-").is_err());
        assert!(validate_alias("a_b").is_err());
        assert!(validate_alias("").is_err());
        assert!(validate_alias(&"a".repeat(63)).is_err());
        assert!(validate_alias(&"a".repeat(62)).is_ok());
    }
}
