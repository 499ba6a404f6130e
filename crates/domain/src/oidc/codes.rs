//! Codes and secrets: user codes people type, and high-entropy values (client secrets, device
//! codes, tokens) that are stored only as SHA-256 hashes and compared in constant time.

use crate::crypto::{ct_eq, sha256_hex, to_hex};
use rand::{Rng, RngCore};

/// Consonants only (no vowels, so no words; no `I`/`O` beside `1`/`0`, no `U`/`Y` lookalikes),
/// as RFC 8628 §6.1 suggests: 20 letters, 8 of them give 20^8 ≈ 2.6 × 10^10 codes.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code (shown as two groups of four).
pub const USER_CODE_LEN: usize = 8;

/// A fresh user code in its stored form: 8 letters of [`USER_CODE_ALPHABET`], no dash.
pub fn new_user_code() -> String {
    let mut rng = rand::thread_rng();
    (0..USER_CODE_LEN)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
        .collect()
}

/// The user code as people see it: `XXXX-XXXX`.
pub fn show_user_code(stored: &str) -> String {
    match (stored.get(..4), stored.get(4..)) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => stored.to_string(),
    }
}

/// What a person typed, in the stored form: letter case ignored, dashes and spaces dropped;
/// None when it cannot be a user code.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then_some(code)
}

/// A high-entropy value: 32 bytes of the CSPRNG as 64 lowercase hex characters (client secrets,
/// device codes, access and refresh tokens). Lowercase hex fits every pattern the catalogue
/// gives these fields.
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    to_hex(&b)
}

/// A client id: `oc-` and 32 hex characters.
pub fn new_client_id() -> String {
    format!("oc-{}", crate::ids::hex32())
}

/// The stored form of a secret: its SHA-256, in hex. The values hashed are random 256-bit
/// strings, so a fast hash is enough (nothing to guess from a dictionary).
pub fn hash_secret(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// Whether `presented` hashes to `stored_hash`, compared in constant time.
pub fn secret_matches(presented: &str, stored_hash: &str) -> bool {
    ct_eq(hash_secret(presented).as_bytes(), stored_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_typed_loosely_and_stored_strictly() {
        let code = new_user_code();
        assert_eq!(code.len(), 8);
        let shown = show_user_code(&code);
        assert_eq!(shown.len(), 9);
        assert_eq!(&shown[4..5], "-");
        assert_eq!(normalize_user_code(&shown).as_deref(), Some(code.as_str()));
        assert_eq!(
            normalize_user_code(&shown.to_lowercase()).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(
            normalize_user_code(" bcdf ghjk ").as_deref(),
            Some("BCDFGHJK")
        );
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCDF-GHJ1",
            "BCDF_GHJK",
        ] {
            assert_eq!(normalize_user_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_are_long_random_and_checked_by_hash() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        let h = hash_secret(&a);
        assert_ne!(h, a);
        assert!(secret_matches(&a, &h));
        assert!(!secret_matches(&b, &h));
        assert!(!secret_matches("", &h));
        assert!(new_client_id().starts_with("oc-"));
    }
}
