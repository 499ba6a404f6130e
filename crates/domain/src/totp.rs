//! Time-based one-time passwords (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, one step of
//! clock skew either way. Verification returns the step a code matched, so that the caller can
//! refuse a step at or before the last one it accepted (a replayed code).

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha1::Sha1;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub const PERIOD_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps of clock skew accepted either way.
const SKEW: i64 = 1;
/// 160 bits, the size RFC 4226 recommends for HMAC-SHA-1.
pub const SECRET_BYTES: usize = 20;

/// A new random secret.
pub fn new_secret() -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    OsRng.fill_bytes(&mut secret);
    secret
}

/// The time step of a Unix time in seconds.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(PERIOD_SECS)
}

/// The code of `step`, zero-padded to [`DIGITS`] digits.
pub fn code_at(secret: &[u8], step: i64) -> String {
    // HMAC accepts keys of any length, so construction cannot fail.
    #[allow(clippy::unreachable)]
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        word % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

fn matches(secret: &[u8], code: &str, step: i64) -> bool {
    code_at(secret, step)
        .as_bytes()
        .ct_eq(code.as_bytes())
        .into()
}

/// The step within the skew of `unix_secs` whose code is `code`, if any. Every candidate step
/// is computed, whichever matches.
pub fn verify(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let now = step_at(unix_secs);
    let mut found = None;
    for step in now - SKEW..=now + SKEW {
        if matches(secret, code, step) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Enrolment: `first` and `next` are the codes of two consecutive steps, the later one within
/// the skew of `unix_secs`. Returns the later step (the last one accepted).
pub fn verify_consecutive(secret: &[u8], first: &str, next: &str, unix_secs: i64) -> Option<i64> {
    let now = step_at(unix_secs);
    let mut found = None;
    for step in now - SKEW..=now + SKEW {
        let both = matches(secret, first, step - 1) & matches(secret, next, step);
        if both && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding: how authenticator apps take a secret.
pub fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// The `otpauth://` URI an authenticator app reads (as text or from a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={PERIOD_SECS}",
        percent_encode(account),
        base32(secret),
    )
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_vectors_in_six_digits() {
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(RFC_SECRET, step_at(t)), code, "T={t}");
        }
    }

    #[test]
    fn one_step_of_skew_either_way() {
        let t = 1_234_567_890;
        let step = step_at(t);
        for s in [step - 1, step, step + 1] {
            assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, s), t), Some(s));
        }
        for s in [step - 2, step + 2] {
            assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, s), t), None);
        }
        assert_eq!(verify(RFC_SECRET, "12345", t), None);
    }

    #[test]
    fn enrolment_takes_two_consecutive_codes() {
        let t = 1_234_567_890;
        let step = step_at(t);
        let code = |s| code_at(RFC_SECRET, s);
        assert_eq!(
            verify_consecutive(RFC_SECRET, &code(step - 1), &code(step), t),
            Some(step)
        );
        assert_eq!(
            verify_consecutive(RFC_SECRET, &code(step), &code(step), t),
            None
        );
        assert_eq!(
            verify_consecutive(RFC_SECRET, &code(step - 3), &code(step - 2), t),
            None
        );
    }

    #[test]
    fn secrets_are_random_and_shown_in_base32() {
        assert_ne!(*new_secret(), *new_secret());
        assert_eq!(new_secret().len(), SECRET_BYTES);
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        assert_eq!(
            otpauth_uri("iic d-1", "alice@example.com", b"foobar"),
            "otpauth://totp/iic%20d-1:alice%40example.com?secret=MZXW6YTBOI&issuer=iic%20d-1&algorithm=SHA1&digits=6&period=30"
        );
    }
}
