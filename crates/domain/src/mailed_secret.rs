//! The one-time secrets iic mails to users: link tokens (256 random bits, kept as their SHA-256)
//! and six-digit sign-in codes (kept as an HMAC under a server key, since a million candidates
//! are too few for a plain hash to hide one).

use crate::crypto::{hmac_sha256, sha256, to_hex};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

/// A link token: 64 lowercase hex characters from the operating system's CSPRNG.
pub fn link_token() -> String {
    let mut buf = [0u8; 32];
    OsRng.fill_bytes(&mut buf);
    to_hex(&buf)
}

/// What the store keeps of a link token.
pub fn link_token_hash(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

/// Whether `s` has the shape of a link token (checked before any look-up).
pub fn is_link_token(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A six-digit sign-in code, uniform over 000000–999999, from the operating system's CSPRNG.
pub fn sign_in_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// What the store keeps of a sign-in code: bound to its user, keyed with a server key.
pub fn sign_in_code_hash(
    key: &[u8],
    identity_store_id: &str,
    user_id: &str,
    code: &str,
) -> [u8; 32] {
    let msg = format!("{identity_store_id}\n{user_id}\n{code}");
    hmac_sha256(key, msg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes_have_their_shapes() {
        let t = link_token();
        assert!(is_link_token(&t));
        assert_ne!(t, link_token());
        assert!(!is_link_token(&"A".repeat(64)));
        assert!(!is_link_token(&t[1..]));
        for _ in 0..200 {
            let c = sign_in_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_code_hash_is_bound_to_key_and_user() {
        let h = sign_in_code_hash(b"k", "d-1", "u-1", "123456");
        assert_eq!(h, sign_in_code_hash(b"k", "d-1", "u-1", "123456"));
        assert_ne!(h, sign_in_code_hash(b"k2", "d-1", "u-1", "123456"));
        assert_ne!(h, sign_in_code_hash(b"k", "d-1", "u-2", "123456"));
        assert_ne!(h, sign_in_code_hash(b"k", "d-1", "u-1", "123457"));
    }
}
