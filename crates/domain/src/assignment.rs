//! Account assignments and the asynchronous requests that change them: kinds, statuses, who is
//! assigned, and why a request failed.

use crate::names::Named;

/// What an asynchronous request of the admin API does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    AssignmentCreate,
    AssignmentDelete,
    Provision,
}

impl Named for RequestKind {
    const WHAT: &'static str = "request kind";
    const ALL: &'static [Self] = &[
        Self::AssignmentCreate,
        Self::AssignmentDelete,
        Self::Provision,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::AssignmentCreate => "assignment_create",
            Self::AssignmentDelete => "assignment_delete",
            Self::Provision => "provision",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    InProgress,
    Succeeded,
    Failed,
}

impl Named for RequestStatus {
    const WHAT: &'static str = "request status";
    const ALL: &'static [Self] = &[Self::InProgress, Self::Succeeded, Self::Failed];
    fn name(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    User,
    Group,
}

impl Named for PrincipalType {
    const WHAT: &'static str = "principal type";
    const ALL: &'static [Self] = &[Self::User, Self::Group];
    fn name(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Group => "GROUP",
        }
    }
}

/// A user or group of an identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalType,
    pub id: String,
}

/// Why an asynchronous request failed; the text is its `failure_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFailure {
    PermissionSetGone,
    PrincipalGone,
    AccountNotActive,
    NoSuchAssignment,
    /// Its job kept failing and was given up.
    Internal,
}

impl RequestFailure {
    pub fn reason(self) -> &'static str {
        match self {
            RequestFailure::PermissionSetGone => "the permission set no longer exists",
            RequestFailure::PrincipalGone => "the principal does not exist in the identity store",
            RequestFailure::AccountNotActive => {
                "the target account is not an active account of the organization"
            }
            RequestFailure::NoSuchAssignment => "the account assignment does not exist",
            RequestFailure::Internal => {
                "the request could not be completed because of an internal error"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::assert_names_round_trip;

    #[test]
    fn names_round_trip() {
        assert_names_round_trip::<RequestKind>();
        assert_names_round_trip::<RequestStatus>();
        assert_names_round_trip::<PrincipalType>();
    }
}
