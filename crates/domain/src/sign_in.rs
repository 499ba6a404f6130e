//! Throttling of failed sign-ins: a key (a user name, a source address, a session entering
//! device codes) that fails too often within a window is locked for a while.

/// How many failures within how long lock a key, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

impl ThrottlePolicy {
    /// Huawei IAM's console defaults: 5 failures in 15 minutes lock for 15 minutes.
    pub const USER: ThrottlePolicy = ThrottlePolicy {
        max_failures: 5,
        window_ms: 15 * 60_000,
        lock_ms: 15 * 60_000,
    };
}

/// The throttle key of a user name typed into the sign-in page of an identity store. Keyed by
/// the name, not the user, so that names of users who do not exist behave the same.
pub fn user_key(identity_store_id: &str, user_name: &str) -> String {
    format!("user:{identity_store_id}:{}", user_name.to_lowercase())
}

/// The throttle key of a source address (password spraying across many names).
pub fn address_key(ip: &str) -> String {
    format!("address:{ip}")
}

/// The throttle key of wrong second-factor codes of a user (TOTP, e-mail), by user id: a
/// code is guessed for one user, whatever name or address it is entered from.
pub fn mfa_key(identity_store_id: &str, user_id: &str) -> String {
    format!("mfa:{identity_store_id}:{user_id}")
}

/// The throttle key of wrong user codes entered in one browser session (RFC 8628 §5.1).
pub fn device_entry_key(session_id: &str) -> String {
    format!("device:{session_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_keys_ignore_case_and_stay_per_store() {
        assert_eq!(user_key("d-1", "Zoe"), user_key("d-1", "zoe"));
        assert_ne!(user_key("d-1", "zoe"), user_key("d-2", "zoe"));
        assert_ne!(address_key("10.0.0.1"), device_entry_key("10.0.0.1"));
    }
}
