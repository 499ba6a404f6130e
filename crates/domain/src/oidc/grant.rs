//! The device grant's state machine (RFC 8628 §3.4–3.5) and the OAuth errors of the token
//! endpoint. The store applies [`poll`] inside the transaction that holds the grant's row, so
//! that a poll's effects (its time, a grown interval, the one redemption) are atomic.

use crate::names::Named;
use crate::ApiError;

/// Where a device grant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    /// Waiting for the user to approve or deny it.
    Pending,
    /// Approved by a signed-in user; the next poll of its client redeems it.
    Approved,
    /// Denied by the user.
    Denied,
    /// Its tokens were issued; the device code never works again.
    Redeemed,
}

impl Named for DeviceState {
    const WHAT: &'static str = "device grant state";
    const ALL: &'static [Self] = &[
        DeviceState::Pending,
        DeviceState::Approved,
        DeviceState::Denied,
        DeviceState::Redeemed,
    ];

    fn name(self) -> &'static str {
        match self {
            DeviceState::Pending => "pending",
            DeviceState::Approved => "approved",
            DeviceState::Denied => "denied",
            DeviceState::Redeemed => "redeemed",
        }
    }
}

/// What a poll needs to know of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantView {
    pub client_id: String,
    pub state: DeviceState,
    /// Unix ms.
    pub expires_at: i64,
    pub interval_secs: i64,
    /// Unix ms of the previous poll, if any.
    pub last_poll_at: Option<i64>,
}

/// What one poll does to a grant and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollStep {
    /// Answer with this error; record the poll time (and the new interval).
    Refuse {
        error: OAuthError,
        interval_secs: i64,
    },
    /// Issue the tokens and mark the grant redeemed.
    Issue,
}

/// One poll of `grant` by `client_id` at `now` (Unix ms).
///
/// Order: another client's code is as good as unknown; a redeemed code is spent; an expired one
/// says so; a pending one polled before `interval` passed since the previous poll is told to
/// slow down (the first poll never is) and its interval grows by 5 s.
pub fn poll(grant: &GrantView, client_id: &str, now: i64) -> PollStep {
    let keep = grant.interval_secs;
    let refuse = |error, interval_secs| PollStep::Refuse {
        error,
        interval_secs,
    };
    if grant.client_id != client_id || grant.state == DeviceState::Redeemed {
        return refuse(OAuthError::InvalidGrant, keep);
    }
    if now >= grant.expires_at {
        return refuse(OAuthError::ExpiredToken, keep);
    }
    match grant.state {
        DeviceState::Pending => {
            let too_soon = grant
                .last_poll_at
                .is_some_and(|last| now - last < grant.interval_secs * 1000);
            if too_soon {
                refuse(
                    OAuthError::SlowDown,
                    grant.interval_secs + super::SLOW_DOWN_STEP_SECS,
                )
            } else {
                refuse(OAuthError::AuthorizationPending, keep)
            }
        }
        DeviceState::Denied => refuse(OAuthError::AccessDenied, keep),
        DeviceState::Approved => PollStep::Issue,
        DeviceState::Redeemed => refuse(OAuthError::InvalidGrant, keep),
    }
}

/// The errors of the token endpoint (RFC 6749 §5.2, RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    UnauthorizedClient,
    InvalidScope,
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
}

/// Whether a client registered for `registered` grants may use `grant_type`. A refresh is open
/// to every client: the catalogue's enum cannot register it, and a refresh token only ever
/// comes from a grant the client did register.
pub fn client_may_use(registered: &[String], grant_type: &str) -> bool {
    grant_type == super::REFRESH_TOKEN_GRANT || registered.iter().any(|g| g == grant_type)
}

impl OAuthError {
    /// The `error` field.
    pub fn code(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::AuthorizationPending => "authorization_pending",
            OAuthError::SlowDown => "slow_down",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::ExpiredToken => "expired_token",
        }
    }

    /// The `error_description` field, also the envelope's message.
    pub fn description(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "the request is missing a field or has a bad one",
            OAuthError::InvalidClient => {
                "the client is unknown, expired, or its secret does not match"
            }
            OAuthError::InvalidGrant => {
                "the code or refresh token is unknown, spent, or belongs to another client"
            }
            OAuthError::UnsupportedGrantType => "the grant type is not supported",
            OAuthError::UnauthorizedClient => "the client did not register this grant type",
            OAuthError::InvalidScope => "a scope was not registered for this client",
            OAuthError::AuthorizationPending => "the user has not yet approved the request",
            OAuthError::SlowDown => "polling too fast; wait 5 seconds more between polls",
            OAuthError::AccessDenied => "the user denied the request",
            OAuthError::ExpiredToken => "the device code has expired",
        }
    }

    /// The envelope's error: 400 `IIC.400` for every one of them (the catalogue's table has no
    /// other code that fits; RFC 6749 §5.2 allows 400 for `invalid_client` when the client did
    /// not authenticate with an `Authorization` header), the OAuth code leading the message.
    pub fn api_error(self) -> ApiError {
        ApiError::bad_request(format!("{}: {}", self.code(), self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_uses_the_grants_it_registered_and_refresh() {
        let device = vec![super::super::DEVICE_CODE_GRANT.to_string()];
        assert!(client_may_use(&device, super::super::DEVICE_CODE_GRANT));
        assert!(client_may_use(&device, super::super::REFRESH_TOKEN_GRANT));
        assert!(!client_may_use(
            &device,
            super::super::AUTHORIZATION_CODE_GRANT
        ));
        assert!(!client_may_use(&[], super::super::DEVICE_CODE_GRANT));
    }

    const T0: i64 = 1_700_000_000_000;

    fn grant(state: DeviceState, last_poll_at: Option<i64>) -> GrantView {
        GrantView {
            client_id: "c".into(),
            state,
            expires_at: T0 + 600_000,
            interval_secs: 5,
            last_poll_at,
        }
    }

    fn error_of(step: PollStep) -> (OAuthError, i64) {
        match step {
            PollStep::Refuse {
                error,
                interval_secs,
            } => (error, interval_secs),
            PollStep::Issue => panic!("issued"),
        }
    }

    #[test]
    fn a_pending_grant_waits_and_slows_fast_pollers_down() {
        let first = poll(&grant(DeviceState::Pending, None), "c", T0);
        assert_eq!(error_of(first), (OAuthError::AuthorizationPending, 5));
        let fast = poll(&grant(DeviceState::Pending, Some(T0)), "c", T0 + 4_999);
        assert_eq!(error_of(fast), (OAuthError::SlowDown, 10));
        let patient = poll(&grant(DeviceState::Pending, Some(T0)), "c", T0 + 5_000);
        assert_eq!(error_of(patient), (OAuthError::AuthorizationPending, 5));
    }

    #[test]
    fn outcomes_after_a_decision_or_expiry() {
        assert_eq!(
            poll(&grant(DeviceState::Approved, Some(T0)), "c", T0 + 1),
            PollStep::Issue
        );
        let denied = poll(&grant(DeviceState::Denied, None), "c", T0);
        assert_eq!(error_of(denied).0, OAuthError::AccessDenied);
        let late = poll(&grant(DeviceState::Approved, None), "c", T0 + 600_000);
        assert_eq!(error_of(late).0, OAuthError::ExpiredToken);
        let spent = poll(&grant(DeviceState::Redeemed, None), "c", T0);
        assert_eq!(error_of(spent).0, OAuthError::InvalidGrant);
        let other = poll(&grant(DeviceState::Approved, None), "d", T0);
        assert_eq!(error_of(other).0, OAuthError::InvalidGrant);
    }

    #[test]
    fn errors_carry_their_oauth_code() {
        let e = OAuthError::InvalidClient.api_error();
        assert_eq!((e.status, e.code), (400, "IIC.400"));
        assert!(
            e.message.starts_with("Bad Request: invalid_client: "),
            "{}",
            e.message
        );
        assert_eq!(OAuthError::SlowDown.api_error().status, 400);
        crate::names::assert_names_round_trip::<DeviceState>();
    }
}
