//! The `encoded_authorization_message` of a 403: who asked for what and why it was refused,
//! sealed with authenticated encryption so that only the operator (holder of the master key) can
//! read it and nobody can forge one.

use crate::crypto::Sealer;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

const VERSION: u8 = 1;
const AAD: &[u8] = b"iic/authorization-message/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationContext {
    pub request_id: String,
    pub account_id: String,
    pub access_key: String,
    pub action: String,
    pub method: String,
    pub path: String,
    pub reason: String,
    /// Unix milliseconds.
    pub time: i64,
    /// When the policies of a temporary credential decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyStory>,
}

/// What the policies of a temporary credential were asked and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PolicyStory {
    /// The resource URNs evaluated (`*` for an action on no particular resource).
    pub resources: Vec<String>,
    /// The policies considered, by name, in evaluation order.
    pub policies: Vec<String>,
    /// The statement that denied, or that none allowed.
    pub decision: String,
    /// Every condition key the policies read, with the request's values (null: absent).
    pub conditions: Vec<ConditionValue>,
    /// The permission set the credential acts under.
    pub permission_set_id: String,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionValue {
    pub key: String,
    pub values: Option<Vec<String>>,
}

pub fn encode(sealer: &Sealer, ctx: &AuthorizationContext) -> String {
    let json = serde_json::to_vec(ctx).unwrap_or_default();
    let mut raw = vec![VERSION];
    raw.extend_from_slice(&sealer.seal(&json, AAD));
    URL_SAFE_NO_PAD.encode(raw)
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    NotBase64,
    UnknownVersion,
    NotSealedByThisKey,
    Malformed,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecodeError::NotBase64 => "the message is not base64url",
            DecodeError::UnknownVersion => "the message has an unknown version",
            DecodeError::NotSealedByThisKey => {
                "the message was not sealed with this server's master key, or was altered"
            }
            DecodeError::Malformed => "the message content is malformed",
        })
    }
}

pub fn decode(sealer: &Sealer, blob: &str) -> Result<AuthorizationContext, DecodeError> {
    let raw = URL_SAFE_NO_PAD
        .decode(blob.trim())
        .map_err(|_| DecodeError::NotBase64)?;
    let (version, sealed) = raw.split_first().ok_or(DecodeError::Malformed)?;
    if *version != VERSION {
        return Err(DecodeError::UnknownVersion);
    }
    let json = sealer
        .open(sealed, AAD)
        .ok_or(DecodeError::NotSealedByThisKey)?;
    serde_json::from_slice(&json).map_err(|_| DecodeError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;

    fn ctx() -> AuthorizationContext {
        AuthorizationContext {
            request_id: "r".into(),
            account_id: "a".into(),
            access_key: "AK".into(),
            action: "IdentityCenter:instance:list".into(),
            method: "GET".into(),
            path: "/v1/instances".into(),
            reason: "member account".into(),
            time: 1,
            policy: Some(PolicyStory {
                resources: vec!["*".into()],
                policies: vec!["custom identity policy".into()],
                decision: "denied: no statement of the 1 policies allows it".into(),
                conditions: vec![ConditionValue {
                    key: "g:MFAPresent".into(),
                    values: Some(vec!["false".into()]),
                }],
                permission_set_id: "ps-1".into(),
                user_id: "u".into(),
            }),
        }
    }

    #[test]
    fn round_trip_and_opacity() {
        let k = MasterKey::generate();
        let s = Sealer::new(&k.derive("authz"));
        let blob = encode(&s, &ctx());
        assert!(!blob.contains("instance:list"), "the blob is opaque");
        assert_eq!(decode(&s, &blob), Ok(ctx()));
        let other = Sealer::new(&MasterKey::generate().derive("authz"));
        assert_eq!(decode(&other, &blob), Err(DecodeError::NotSealedByThisKey));
        assert_eq!(decode(&s, "!!"), Err(DecodeError::NotBase64));
    }
}
