//! Keys and sealing: the master key, keys derived from it for each purpose, authenticated encryption
//! of secrets at rest, and constant-time comparison.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

type HmacSha256 = Hmac<Sha256>;

/// The server's root secret. Every other key is derived from it, one per purpose.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        MasterKey(k)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = Zeroizing::new(hex::decode(s.trim()).ok()?);
        let arr: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(MasterKey(arr))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A 32-byte key for one purpose; distinct purposes give unrelated keys. Wiped when dropped.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(hmac_sha256(&self.0, purpose.as_bytes()))
    }

    /// A public fingerprint stored beside the data, so that a server started with another master
    /// key refuses to run instead of failing to decrypt later.
    pub fn check_value(&self) -> String {
        hex::encode(&self.derive("iic/key-check")[..16])
    }
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    #[allow(clippy::unreachable)]
    let mut mac = match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    to_hex(&Sha256::digest(data))
}

/// Lowercase hex, table-driven: on the request path for ids, hashes and signatures.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
    // Only ASCII hex digits were written.
    String::from_utf8(out).unwrap_or_default()
}

pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// AES-256-GCM with a random 96-bit nonce per message; output is `nonce || ciphertext || tag`.
pub struct Sealer {
    cipher: Aes256Gcm,
}

const NONCE_LEN: usize = 12;

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Sealer {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// `aad` binds the ciphertext to its context (e.g. the access key it belongs to).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        // AES-GCM fails only for messages over 64 GiB.
        #[allow(clippy::unreachable)]
        let ct = match self.cipher.encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        ) {
            Ok(ct) => ct,
            Err(_) => unreachable!("AES-GCM encryption of an in-memory buffer cannot fail"),
        };
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// None when the data was not sealed by this key with this `aad`, or was altered.
    /// The plaintext, wiped from memory when the caller drops it.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_detects_tampering() {
        let k = MasterKey::generate();
        let s = Sealer::new(&k.derive("test"));
        let sealed = s.seal(b"secret", b"ak1");
        assert_eq!(
            s.open(&sealed, b"ak1").as_deref().map(Vec::as_slice),
            Some(&b"secret"[..])
        );
        assert_eq!(s.open(&sealed, b"ak2"), None, "aad binds the context");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(s.open(&bad, b"ak1"), None);
        let other = Sealer::new(&k.derive("other"));
        assert_eq!(other.open(&sealed, b"ak1"), None);
    }

    #[test]
    fn master_key_hex_round_trip_and_check_value() {
        let k = MasterKey::generate();
        let k2 = MasterKey::from_hex(&k.to_hex()).expect("hex");
        assert_eq!(k.check_value(), k2.check_value());
        assert_ne!(k.check_value(), MasterKey::generate().check_value());
        assert!(MasterKey::from_hex("abcd").is_none());
    }

    #[test]
    fn to_hex_matches_the_reference_encoding() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(to_hex(&data), hex::encode(&data));
        assert_eq!(to_hex(&[]), "");
    }

    #[test]
    fn ct_eq_compares_contents() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
