//! Who may call the admin and identity store APIs.

use crate::caller::Caller;
use iic_domain::ApiError;

/// The admin and identity store APIs answer only the management account of an organization (and, once delegation
/// exists, a delegated administrator). Returns the organization the caller administers.
pub(crate) fn administered_organization<'c>(
    caller: &'c Caller,
    action: &str,
) -> Result<&'c str, ApiError> {
    match (
        &caller.account.organization_id,
        caller.account.is_management,
    ) {
        (Some(org), true) => Ok(org.as_str()),
        (None, _) => Err(ApiError::not_admin(
            action,
            format!(
                "account {} does not belong to an organization",
                caller.account.id
            ),
        )),
        (Some(org), false) => Err(ApiError::not_admin(
            action,
            format!(
                "account {} is a member of organization {org}, not its management account",
                caller.account.id
            ),
        )),
    }
}
