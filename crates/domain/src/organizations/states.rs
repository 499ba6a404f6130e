//! The states of accounts and of their creation and closure, as stored and as Organizations shows
//! them.

use crate::names::Named;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountStatus {
    #[default]
    Active,
    /// Closed by its organization; suspended once the closure job has run.
    PendingClosure,
    Suspended,
}

impl Named for AccountStatus {
    const WHAT: &'static str = "account status";
    const ALL: &'static [Self] = &[Self::Active, Self::PendingClosure, Self::Suspended];
    fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::PendingClosure => "pending_closure",
            Self::Suspended => "suspended",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinMethod {
    #[default]
    Created,
    Invited,
}

impl Named for JoinMethod {
    const WHAT: &'static str = "join method";
    const ALL: &'static [Self] = &[Self::Created, Self::Invited];
    fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Invited => "invited",
        }
    }
}

/// The state of a CreateAccount request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreationState {
    InProgress,
    Succeeded,
    Failed,
}

impl Named for CreationState {
    const WHAT: &'static str = "account creation state";
    const ALL: &'static [Self] = &[Self::InProgress, Self::Succeeded, Self::Failed];
    fn name(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// The state of an account closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureState {
    PendingClosure,
    Suspended,
}

impl Named for ClosureState {
    const WHAT: &'static str = "account closure state";
    const ALL: &'static [Self] = &[Self::PendingClosure, Self::Suspended];
    fn name(self) -> &'static str {
        match self {
            Self::PendingClosure => "pending_closure",
            Self::Suspended => "suspended",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::assert_names_round_trip;

    #[test]
    fn names_round_trip() {
        assert_names_round_trip::<AccountStatus>();
        assert_names_round_trip::<JoinMethod>();
        assert_names_round_trip::<CreationState>();
        assert_names_round_trip::<ClosureState>();
    }
}
