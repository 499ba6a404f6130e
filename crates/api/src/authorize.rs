//! Who may call the admin and identity store APIs. A refusal names no action: the envelope seals
//! the one the table of actions ([`crate::actions`]) gives the operation that answered.

use crate::caller::Caller;
use crate::envelope::Failure;
use crate::state::AppState;
use iic_domain::{organizations, ApiError};

/// The admin and identity store APIs answer the management account of an organization and the
/// accounts registered as delegated administrators of IAM Identity Center in it. Returns the
/// organization the caller administers. Delegation is read from the store on every call, so a
/// deregistration takes effect at once.
pub(crate) async fn administered_organization(
    state: &AppState,
    caller: &Caller,
) -> Result<String, Failure> {
    let Some(org) = &caller.account.organization_id else {
        return Err(ApiError::not_admin(format!(
            "account {} does not belong to an organization",
            caller.account.id
        ))
        .into());
    };
    if caller.account.is_management
        || state
            .store
            .is_delegated_admin(&caller.account.id, organizations::IDENTITY_CENTER)
            .await?
    {
        return Ok(org.clone());
    }
    Err(ApiError::not_admin(
        format!(
            "account {} is a member of organization {org}, neither its management account nor a delegated administrator of IAM Identity Center",
            caller.account.id
        ),
    )
    .into())
}

/// Operations only the management account may run, even with delegated administrators around.
pub(crate) fn managed_organization(caller: &Caller) -> Result<String, Failure> {
    match (
        &caller.account.organization_id,
        caller.account.is_management,
    ) {
        (Some(org), true) => Ok(org.clone()),
        _ => Err(ApiError::not_admin(format!(
            "account {} is not the management account of an organization",
            caller.account.id
        ))
        .into()),
    }
}
