//! Why the organization's state refuses a change, and why an account creation failed: the store
//! reports these as values; their wording lives here.

use std::fmt;

/// A change the organization's current state does not allow (409 `Organizations.409`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    AlreadyInOrganization,
    HasMembers(i64),
    HasInstance,
    OuNameTaken { name: String, parent_id: String },
    NotUnderSource(String),
    NoSuchDestination(String),
    RemoveManagement,
    CloseManagement,
    DelegateManagement,
    IsDelegatedAdministrator,
    AlreadyClosing,
    NotTrusted(String),
    AlreadyDelegated(String),
    AccountNameTaken(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::AlreadyInOrganization => {
                f.write_str("the account already belongs to an organization")
            }
            Refusal::HasMembers(n) => {
                write!(f, "the organization still has {n} member accounts")
            }
            Refusal::HasInstance => {
                f.write_str("delete the IAM Identity Center instance of the organization first")
            }
            Refusal::OuNameTaken { name, parent_id } => write!(
                f,
                "an organizational unit named {name} already exists under {parent_id}"
            ),
            Refusal::NotUnderSource(source) => {
                write!(f, "the account is not under source_parent_id {source}")
            }
            Refusal::NoSuchDestination(destination) => write!(
                f,
                "destination_parent_id {destination} does not exist in the organization"
            ),
            Refusal::RemoveManagement => {
                f.write_str("the management account cannot be removed from its organization")
            }
            Refusal::CloseManagement => f.write_str("the management account cannot be closed"),
            Refusal::DelegateManagement => {
                f.write_str("the management account cannot be a delegated administrator")
            }
            Refusal::IsDelegatedAdministrator => {
                f.write_str("the account is a delegated administrator; deregister it first")
            }
            Refusal::AlreadyClosing => f.write_str("the account is already closing or closed"),
            Refusal::NotTrusted(service) => write!(
                f,
                "{service} is not enabled as a trusted service of the organization"
            ),
            Refusal::AlreadyDelegated(service) => write!(
                f,
                "the account is already a delegated administrator for {service}"
            ),
            Refusal::AccountNameTaken(name) => write!(
                f,
                "an account named {name} already exists in the organization"
            ),
        }
    }
}

impl From<Refusal> for crate::ApiError {
    fn from(r: Refusal) -> Self {
        super::conflict(r)
    }
}

/// Why a CreateAccount request failed; the text is its `failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreationFailure {
    OrganizationGone,
    NameTaken,
    /// Its job kept failing and was given up.
    Internal,
}

impl CreationFailure {
    pub fn reason(self) -> &'static str {
        match self {
            CreationFailure::OrganizationGone => "the organization no longer exists",
            CreationFailure::NameTaken => "an account with this name already exists",
            CreationFailure::Internal => {
                "the account could not be created because of an internal error"
            }
        }
    }
}

/// Why an account closure failed; the text is its `failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureFailure {
    /// Its job kept failing and was given up; the account is active again.
    Internal,
}

impl ClosureFailure {
    pub fn reason(self) -> &'static str {
        match self {
            ClosureFailure::Internal => {
                "the account could not be closed because of an internal error; it remains active"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_a_409_naming_what_is_in_the_way() {
        let e = crate::ApiError::from(Refusal::OuNameTaken {
            name: "Eng".into(),
            parent_id: "r-1234".into(),
        });
        assert_eq!((e.status, e.code), (409, "Organizations.409"));
        assert_eq!(
            e.message,
            "Conflict: an organizational unit named Eng already exists under r-1234."
        );
        assert_eq!(
            Refusal::HasMembers(2).to_string(),
            "the organization still has 2 member accounts"
        );
    }
}
