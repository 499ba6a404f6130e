//! Durable background work: what a job does.

use crate::assignment::RequestKind;
use crate::names::Named;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Finishes a CreateAccount request; the payload names the status and the account.
    CreateAccount,
    /// Finishes an account closure; the payload is the account id.
    CloseAccount,
    /// Runs an asynchronous request of the admin API; the payload is the request id.
    Request(RequestKind),
}

impl Named for JobKind {
    const WHAT: &'static str = "job kind";
    const ALL: &'static [Self] = &[
        Self::CreateAccount,
        Self::CloseAccount,
        Self::Request(RequestKind::AssignmentCreate),
        Self::Request(RequestKind::AssignmentDelete),
        Self::Request(RequestKind::Provision),
    ];
    fn name(self) -> &'static str {
        match self {
            Self::CreateAccount => "create_account",
            Self::CloseAccount => "close_account",
            Self::Request(kind) => kind.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        crate::names::assert_names_round_trip::<JobKind>();
    }
}
