//! Identifier formats of the service, generated from the operating system's CSPRNG.

use rand::rngs::OsRng;
use rand::RngCore;

/// Identifiers come from the thread-local CSPRNG (ChaCha, seeded and reseeded from the operating
/// system): unpredictable, and cheap enough for one per request.
fn random_hex(bytes: usize) -> String {
    let mut buf = [0u8; 32];
    let buf = &mut buf[..bytes.min(32)];
    rand::thread_rng().fill_bytes(buf);
    crate::crypto::to_hex(buf)
}

/// 32 lowercase hex characters: request ids, account ids, project ids, organization ids.
pub fn hex32() -> String {
    random_hex(16)
}

/// An IAM Identity Center instance id: `ins-` + 16 hex.
pub fn instance_id() -> String {
    format!("ins-{}", random_hex(8))
}

/// An identity store id: `d-` + 10 hex.
pub fn identity_store_id() -> String {
    format!("d-{}", &random_hex(5))
}

/// An organization id: `o-` + 32 hex.
pub fn organization_id() -> String {
    format!("o-{}", hex32())
}

/// A random (version 4) UUID in its lowercase hyphenated form.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::crypto::to_hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub fn instance_urn(instance_id: &str) -> String {
    format!("IdentityCenter::system:instance:{instance_id}")
}

const AK_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SK_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_from(alphabet: &[u8], len: usize) -> String {
    // Rejection sampling keeps every symbol equally likely.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        // Keys come straight from the operating system's generator.
        OsRng.fill_bytes(&mut buf);
        for &b in buf.iter() {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// An access key id: 20 upper-case letters and digits, like the cloud's permanent AKs.
pub fn access_key() -> String {
    random_from(AK_ALPHABET, 20)
}

/// A secret access key: 40 letters and digits.
pub fn secret_key() -> String {
    random_from(SK_ALPHABET, 40)
}

pub fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_lower_hex(s: &str) -> bool {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn formats_match_the_catalogue() {
        let ins = instance_id();
        assert_eq!(ins.len(), 20);
        assert!(ins.starts_with("ins-") && is_lower_hex(&ins[4..]));
        let d = identity_store_id();
        assert_eq!(d.len(), 12);
        assert!(d.starts_with("d-") && is_lower_hex(&d[2..]));
        assert!(is_hex32(&hex32()));
        assert_eq!(
            instance_urn("ins-1"),
            "IdentityCenter::system:instance:ins-1"
        );
    }

    #[test]
    fn keys_have_their_alphabets_and_lengths() {
        let ak = access_key();
        assert_eq!(ak.len(), 20);
        assert!(ak.bytes().all(|b| AK_ALPHABET.contains(&b)));
        let sk = secret_key();
        assert_eq!(sk.len(), 40);
        assert!(sk.bytes().all(|b| SK_ALPHABET.contains(&b)));
    }

    #[test]
    fn ids_do_not_repeat() {
        let a: std::collections::HashSet<String> = (0..1000).map(|_| hex32()).collect();
        assert_eq!(a.len(), 1000);
    }

    #[test]
    fn is_hex32_rejects_other_shapes() {
        assert!(!is_hex32("ABCDEF0123456789abcdef0123456789"));
        assert!(!is_hex32("abc"));
    }
}
