//! Browser sign-in sessions: the record, its id, and the cookie that names it.
//!
//! A session cookie is `<session id>.<secret>`. Only the SHA-256 of the secret is kept; a cookie
//! is checked by reading the session by its id and comparing the hash of the presented secret
//! with the stored one in constant time, so neither the database nor the comparison tells an
//! attacker how close a guess came.

use crate::access_control::PrincipalTags;
use crate::crypto::{ct_eq, to_hex};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// One browser sign-in of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Keyset key of the store (0 before it is stored).
    pub seq: i64,
    pub session_id: String,
    pub identity_store_id: String,
    pub user_id: String,
    /// SHA-256 of the cookie's secret.
    pub secret_sha256: Vec<u8>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch; the session is over from then on.
    pub not_valid_after: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// When the session was signed out or ended by an administrator.
    pub ended_at: Option<i64>,
    /// Whether the sign-in proved a second factor (`g:MFAPresent` of what derives from it).
    pub mfa_present: bool,
    /// The principal tags the instance's attributes for access control gave the user when the
    /// session opened; the store resolves them as it stores the session.
    pub principal_tags: PrincipalTags,
}

/// What the sign-in hands the browser: the cookie value, shown once and never stored.
#[derive(Debug)]
pub struct IssuedSession {
    pub session: Session,
    pub cookie: String,
}

/// Where a sign-in came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The longest user agent kept; browsers send a few hundred characters.
pub const MAX_USER_AGENT: usize = 512;
/// Sessions one user may hold open at once; a sign-in beyond it ends the oldest. It bounds what
/// ListSessions (which the catalogue does not page) returns.
pub const MAX_LIVE_SESSIONS: i64 = 100;

/// A new session id: 32 lowercase hex characters.
pub fn session_id() -> String {
    crate::ids::hex32()
}

/// A new session of `user_id`, valid for `max_age_secs` from `now_millis`, and its cookie.
pub fn issue(
    identity_store_id: &str,
    user_id: &str,
    now_millis: i64,
    max_age_secs: i64,
    origin: Origin,
) -> IssuedSession {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let secret = to_hex(&secret);
    let session_id = session_id();
    let user_agent = origin
        .user_agent
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
    IssuedSession {
        cookie: format!("{session_id}.{secret}"),
        session: Session {
            seq: 0,
            session_id,
            identity_store_id: identity_store_id.to_string(),
            user_id: user_id.to_string(),
            secret_sha256: hash_secret(&secret),
            created_at: now_millis,
            not_valid_after: now_millis.saturating_add(max_age_secs.saturating_mul(1000)),
            ip_address: origin.ip_address,
            user_agent,
            ended_at: None,
            mfa_present: false,
            principal_tags: PrincipalTags::new(),
        },
    }
}

pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A presented cookie split into the session id and the secret; None when it is not shaped like
/// one this server issued.
pub fn parse_cookie(value: &str) -> Option<(&str, &str)> {
    let (id, secret) = value.split_once('.')?;
    (crate::ids::is_hex32(id)
        && secret.len() == 64
        && secret.bytes().all(|b| b.is_ascii_hexdigit()))
    .then_some((id, secret))
}

impl Session {
    /// Whether `secret` is this session's, compared in constant time.
    pub fn secret_matches(&self, secret: &str) -> bool {
        ct_eq(&hash_secret(secret), &self.secret_sha256)
    }

    /// Neither ended nor past its end at `now_millis`.
    pub fn is_live(&self, now_millis: i64) -> bool {
        self.ended_at.is_none() && now_millis < self.not_valid_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_cookie_matches_only_its_session() {
        let issued = issue(
            "d-0123456789",
            "u1",
            1_000,
            3_600,
            Origin {
                ip_address: Some("192.0.2.1".into()),
                user_agent: Some("x".repeat(2_000)),
            },
        );
        let (id, secret) = parse_cookie(&issued.cookie).expect("well formed");
        assert_eq!(id, issued.session.session_id);
        assert!(issued.session.secret_matches(secret));
        assert!(!issued.session.secret_matches(&"0".repeat(64)));
        assert_eq!(issued.session.not_valid_after, 1_000 + 3_600_000);
        assert_eq!(
            issued.session.user_agent.as_ref().map(|u| u.len()),
            Some(MAX_USER_AGENT)
        );
        assert!(!issued
            .cookie
            .contains(&to_hex(&issued.session.secret_sha256)));
    }

    #[test]
    fn liveness_and_cookie_shapes() {
        let mut s = issue("d-0123456789", "u1", 0, 60, Origin::default()).session;
        assert!(s.is_live(59_999));
        assert!(!s.is_live(60_000));
        s.ended_at = Some(1);
        assert!(!s.is_live(0));
        let not_hex = format!("{}.{}", "a".repeat(32), "z".repeat(64));
        for bad in ["", "abc", "nodot", not_hex.as_str()] {
            assert_eq!(parse_cookie(bad), None, "{bad}");
        }
    }
}
