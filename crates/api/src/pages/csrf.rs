//! CSRF tokens: each browser holds a random `iic_csrf` cookie, and every form carries the HMAC of
//! it under a server key. A cross-site page can neither read the cookie nor compute the token.

use iic_domain::crypto::{ct_eq, hmac_sha256, to_hex};

/// The token a form served to the browser holding `cookie` carries.
pub fn token(key: &[u8; 32], cookie: &str) -> String {
    to_hex(&hmac_sha256(key, cookie.as_bytes()))
}

/// Whether a submitted form's token belongs to the browser's cookie (constant time).
pub fn matches(key: &[u8; 32], cookie: Option<&str>, submitted: Option<&str>) -> bool {
    match (cookie, submitted) {
        (Some(c), Some(t)) if iic_domain::ids::is_hex32(c) => {
            ct_eq(token(key, c).as_bytes(), t.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_its_cookie_and_key() {
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        let c = iic_domain::ids::hex32();
        let t = token(&k1, &c);
        assert!(matches(&k1, Some(&c), Some(&t)));
        assert!(!matches(&k2, Some(&c), Some(&t)));
        assert!(!matches(&k1, Some(&iic_domain::ids::hex32()), Some(&t)));
        assert!(!matches(&k1, None, Some(&t)));
        assert!(!matches(&k1, Some(&c), None));
    }
}
