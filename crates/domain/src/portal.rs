//! The user portal: what a permission set is called in the accounts it is provisioned to, the
//! URN of that agency, and the portal's refusals.

use crate::ApiError;
use std::fmt;

/// What every agency iic provisions is called before the permission set's name.
const AGENCY_PREFIX: &str = "IdentityCenter_";

/// The agency a permission set is in every account it is provisioned to:
/// `IdentityCenter_<set name>_<the 16 hex digits of the set id>`. The id makes the name unique in
/// the account and leads back to the set; with names of at most 32 characters it stays within
/// the 64 characters an agency name may have.
pub fn agency_name(set_name: &str, permission_set_id: &str) -> String {
    let digits = permission_set_id
        .strip_prefix("ps-")
        .unwrap_or(permission_set_id);
    format!("{AGENCY_PREFIX}{set_name}_{digits}")
}

/// `iam::<account id>:agency:<agency name>`.
pub fn agency_urn(account_id: &str, agency_name: &str) -> String {
    format!("iam::{account_id}:agency:{agency_name}")
}

/// The agency an URN names, as the portal reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRef {
    pub account_id: String,
    pub permission_set_name: String,
    pub permission_set_id: String,
}

/// Reads an agency URN of the form [`agency_urn`] makes over a name [`agency_name`] makes; None
/// for anything else (another service, another resource type, an agency iic did not name).
pub fn parse_agency_urn(urn: &str) -> Option<AgencyRef> {
    let rest = urn.strip_prefix("iam::")?;
    let (account_id, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("agency:")?;
    let (set_name, digits) = name.strip_prefix(AGENCY_PREFIX)?.rsplit_once('_')?;
    let well_formed = !account_id.is_empty()
        && !set_name.is_empty()
        && digits.len() == 16
        && digits.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then(|| AgencyRef {
        account_id: account_id.to_string(),
        permission_set_name: set_name.to_string(),
        permission_set_id: format!("ps-{digits}"),
    })
}

/// A fresh security token for temporary credentials: 256 bits of the CSPRNG as hex.
pub fn new_security_token() -> String {
    crate::oidc::new_secret()
}

/// 401 `IIC.401`: the `access-token` header is missing, malformed, unknown, expired or revoked.
/// The catalogue has no 401 row; this follows its `IIC.<status>` codes (`IIC.400`, `IIC.404`).
pub fn unauthorized(detail: impl fmt::Display) -> ApiError {
    ApiError::new(401, "IIC.401", format!("Unauthorized: {detail}."))
}

/// 403 `IIC.1001`: the user may not have credentials for this agency (no assignment, or the
/// permission set is not provisioned to the account).
pub fn access_denied(detail: impl fmt::Display) -> ApiError {
    ApiError::new(403, "IIC.1001", format!("Access denied: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_urns_round_trip() {
        let name = agency_name("Admin_Access", "ps-0123456789abcdef");
        assert_eq!(name, "IdentityCenter_Admin_Access_0123456789abcdef");
        let urn = agency_urn("acc1", &name);
        assert_eq!(
            urn,
            "iam::acc1:agency:IdentityCenter_Admin_Access_0123456789abcdef"
        );
        assert_eq!(
            parse_agency_urn(&urn),
            Some(AgencyRef {
                account_id: "acc1".into(),
                permission_set_name: "Admin_Access".into(),
                permission_set_id: "ps-0123456789abcdef".into(),
            })
        );
        assert!(agency_name(&"n".repeat(32), "ps-0123456789abcdef").len() <= 64);
    }

    #[test]
    fn foreign_urns_are_not_read() {
        for urn in [
            "",
            "iam::acc1:agency:Admin",
            "iam::acc1:agency:IdentityCenter_Admin_0123",
            "iam::acc1:role:IdentityCenter_Admin_0123456789abcdef",
            "obs::acc1:agency:IdentityCenter_Admin_0123456789abcdef",
            "iam:::agency:IdentityCenter_Admin_0123456789abcdef",
            "iam::acc1:agency:IdentityCenter__0123456789abcdef",
            "iam::acc1:agency:IdentityCenter_Admin_0123456789abcdeg",
        ] {
            assert_eq!(parse_agency_urn(urn), None, "{urn}");
        }
    }
}
