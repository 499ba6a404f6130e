//! Pagination markers: the one place that builds and reads them.
//!
//! A marker is exactly 24 lowercase hex characters (12 bytes): the big-endian sequence number of the
//! last row of the page (8 bytes) and a 4-byte tag binding it to the listing it came from. Lists
//! are keyset-paged on that sequence number, so a page costs the same at any depth. A marker that
//! was not issued for this listing is refused rather than silently reinterpreted.

use crate::crypto::hmac_sha256;
use crate::ApiError;

pub const MARKER_LEN: usize = 24;

#[derive(Clone)]
pub struct MarkerCodec {
    key: [u8; 32],
}

impl Drop for MarkerCodec {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

impl MarkerCodec {
    pub fn new(key: [u8; 32]) -> Self {
        MarkerCodec { key }
    }

    fn tag(&self, scope: &str, seq: i64) -> [u8; 4] {
        let mut msg = Vec::with_capacity(scope.len() + 9);
        msg.extend_from_slice(scope.as_bytes());
        msg.push(0);
        msg.extend_from_slice(&seq.to_be_bytes());
        let mac = hmac_sha256(&self.key, &msg);
        [mac[0], mac[1], mac[2], mac[3]]
    }

    /// `scope` names the listing (operation and owner), e.g. `instances:<org id>`.
    pub fn encode(&self, scope: &str, seq: i64) -> String {
        let mut raw = [0u8; 12];
        raw[..8].copy_from_slice(&seq.to_be_bytes());
        raw[8..].copy_from_slice(&self.tag(scope, seq));
        crate::crypto::to_hex(&raw)
    }

    pub fn decode(&self, scope: &str, marker: &str) -> Result<i64, ApiError> {
        if marker.len() != MARKER_LEN {
            return Err(ApiError::bad_request(format!(
                "marker must be exactly {MARKER_LEN} characters"
            )));
        }
        let raw =
            hex::decode(marker).map_err(|_| ApiError::bad_request("marker must be hexadecimal"))?;
        let mut seq_bytes = [0u8; 8];
        seq_bytes.copy_from_slice(&raw[..8]);
        let seq = i64::from_be_bytes(seq_bytes);
        if !crate::crypto::ct_eq(&raw[8..], &self.tag(scope, seq)) {
            return Err(ApiError::bad_request(
                "marker is not valid for this listing",
            ));
        }
        Ok(seq)
    }
}

/// A page size from the `limit` query parameter; `None` means the default.
pub fn parse_limit(limit: Option<i64>, max: i64, default: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=max).contains(&l) => Ok(l),
        Some(_) => Err(ApiError::bad_request(format!(
            "limit must be between 1 and {max}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> MarkerCodec {
        MarkerCodec::new([7u8; 32])
    }

    #[test]
    fn round_trip_is_24_lowercase_hex() {
        let m = codec().encode("instances:o1", 42);
        assert_eq!(m.len(), 24);
        assert!(m
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(codec().decode("instances:o1", &m), Ok(42));
    }

    #[test]
    fn upper_case_hex_is_accepted() {
        let m = codec().encode("s", 9).to_uppercase();
        assert_eq!(codec().decode("s", &m), Ok(9));
    }

    #[test]
    fn rejects_other_scope_other_key_tampering_and_shape() {
        let m = codec().encode("instances:o1", 42);
        assert!(codec().decode("instances:o2", &m).is_err());
        assert!(MarkerCodec::new([8u8; 32])
            .decode("instances:o1", &m)
            .is_err());
        let mut t = m.into_bytes();
        t[15] = if t[15] == b'0' { b'1' } else { b'0' };
        let t = String::from_utf8(t).expect("ascii");
        assert!(codec().decode("instances:o1", &t).is_err());
        let e = codec().decode("s", "abc").expect_err("short");
        assert_eq!(e.code, "IIC.400");
        assert!(e.message.contains("marker"));
        assert!(codec().decode("s", "zzzzzzzzzzzzzzzzzzzzzzzz").is_err());
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(parse_limit(None, 100, 100), Ok(100));
        assert_eq!(parse_limit(Some(1), 100, 100), Ok(1));
        assert_eq!(parse_limit(Some(100), 100, 100), Ok(100));
        assert!(parse_limit(Some(0), 100, 100).is_err());
        assert!(parse_limit(Some(101), 100, 100).is_err());
        assert!(parse_limit(Some(-5), 100, 100)
            .expect_err("negative")
            .message
            .contains("limit"));
    }
}
