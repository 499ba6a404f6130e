//! Permission sets: fields and their rules, session durations, and the catalogue of
//! system-defined policies and roles they can carry.

use crate::organizations::Tag;
use crate::policy::{self, PolicyKind};
use crate::ApiError;
use serde::{Deserialize, Serialize};

/// Sets per instance and policies per set, unless configured otherwise.
pub const DEFAULT_SETS_QUOTA: i64 = 2000;
pub const DEFAULT_POLICIES_PER_SET: i64 = 20;
/// The largest custom policy or role document accepted, in characters (the API Explorer bound;
/// the reference pages print 131072).
pub const CUSTOM_POLICY_MAX: usize = 10_240;
pub const DEFAULT_SESSION_DURATION: &str = "PT1H";

pub fn permission_set_id() -> String {
    format!("ps-{}", &crate::ids::hex32()[..16])
}

pub fn permission_set_urn(id: &str) -> String {
    format!("IdentityCenter::system:permissionSet:{id}")
}

pub fn set_not_found() -> ApiError {
    ApiError::new(404, "IIC.1205", "The permission set does not exist.")
}

pub fn name_taken() -> ApiError {
    ApiError::conflict(
        "IIC.1206",
        "A permission set with the same name already exists.",
    )
}

pub fn policy_duplicate() -> ApiError {
    ApiError::conflict(
        "IIC.1207",
        "Duplicate system-defined policy or identity policy.",
    )
}

pub fn system_policy_not_found(id: &str) -> ApiError {
    ApiError::new(
        404,
        "IIC.1211",
        format!("System-defined policy {id} does not exist."),
    )
}

/// 1–32 word characters or `+=,.@-`.
pub fn validate_name(v: &str) -> Result<(), ApiError> {
    crate::validate::length("name", v, 1, 32)?;
    if !v
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-'))
    {
        return Err(ApiError::bad_request(
            "name may contain only letters, digits and _+=,.@-",
        ));
    }
    Ok(())
}

pub fn validate_description(v: &str) -> Result<(), ApiError> {
    crate::directory::text("description", v, 0, 700)
}

pub fn validate_relay_state(v: &str) -> Result<(), ApiError> {
    crate::validate::length("relay_state", v, 0, 240)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "&$@#\\/%?=~-_'\"|!:,.;*+[] (){}".contains(c))
    {
        return Err(ApiError::bad_request(
            "relay_state contains a character that is not allowed in a URL",
        ));
    }
    Ok(())
}

/// Seconds of an ISO-8601 duration (`PT8H`, `PT90M`, `P1DT2H`, `PT3600S`).
pub fn parse_duration(v: &str) -> Option<i64> {
    let rest = v.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    if date.is_empty() && time.is_none_or(str::is_empty) {
        return None;
    }
    let mut total: i64 = 0;
    let mut eat = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut num = String::new();
        let mut last_unit = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let idx = units.iter().position(|(u, _)| *u == c)?;
            if num.is_empty() || idx < last_unit {
                return None;
            }
            last_unit = idx + 1;
            total = total.checked_add(num.parse::<i64>().ok()?.checked_mul(units[idx].1)?)?;
            num.clear();
        }
        num.is_empty().then_some(())
    };
    eat(date, &[('W', 604_800), ('D', 86_400)])?;
    if let Some(t) = time {
        if t.is_empty() {
            return None;
        }
        eat(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    Some(total)
}

/// A session lasts from 1 to 12 hours.
pub fn validate_session_duration(v: &str) -> Result<(), ApiError> {
    crate::validate::length("session_duration", v, 1, 100)?;
    match parse_duration(v) {
        Some(s) if (3600..=43_200).contains(&s) => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "session_duration must be between PT1H and PT12H",
        )),
        None => Err(ApiError::bad_request(format!(
            "session_duration {v} is not an ISO-8601 duration such as PT8H"
        ))),
    }
}

pub fn validate_tags(tags: &[Tag], max: usize) -> Result<(), ApiError> {
    if tags.len() > max {
        return Err(ApiError::bad_request(format!(
            "tags may hold at most {max} items"
        )));
    }
    for t in tags {
        crate::organizations::validate_tag(t).map_err(|e| {
            ApiError::bad_request(
                e.message
                    .trim_start_matches("Bad request: ")
                    .trim_end_matches('.'),
            )
        })?;
    }
    let mut keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(ApiError::bad_request("tags must not repeat a key"));
    }
    Ok(())
}

/// Parses a custom identity policy (5.0) or custom role (1.1), naming what is wrong and where.
pub fn validate_custom(field: &str, text: &str, kind: PolicyKind) -> Result<(), ApiError> {
    policy::parse(text, kind, CUSTOM_POLICY_MAX)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("{field} is not a valid policy document: {e}")))
}

/// A system-defined policy or role attached to a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedPolicy {
    pub id: String,
    pub name: String,
}

/// What a permission set carries: its policies and tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PermissionSetContent {
    #[serde(default)]
    pub managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub managed_roles: Vec<AttachedPolicy>,
    #[serde(default)]
    pub custom_policy: Option<String>,
    #[serde(default)]
    pub custom_role: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl PermissionSetContent {
    /// Policies counted against the per-set limit: every attached policy and role, and each
    /// custom document.
    pub fn policy_count(&self) -> i64 {
        (self.managed_policies.len()
            + self.managed_roles.len()
            + usize::from(self.custom_policy.is_some())
            + usize::from(self.custom_role.is_some())) as i64
    }
}

/// A permission set as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub seq: i64,
    pub permission_set_id: String,
    pub instance_id: String,
    pub name: String,
    pub description: Option<String>,
    pub relay_state: Option<String>,
    pub session_duration: String,
    pub content: PermissionSetContent,
    /// Bumped by every change; writes are conditional on it.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SystemPolicyKind {
    Policy,
    Role,
}

/// A system-defined identity policy or role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SystemPolicy {
    pub id: String,
    pub kind: SystemPolicyKind,
    pub name: String,
    pub description: String,
    pub document: serde_json::Value,
}

/// The system-defined policies and roles: those shipped with iic, plus the operator's.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<SystemPolicy>,
}

impl Catalog {
    /// The catalogue shipped with iic.
    pub fn builtin() -> Catalog {
        Catalog::from_json(include_str!("../data/system_policies.json"))
            .unwrap_or(Catalog { entries: vec![] })
    }

    /// Parses a catalogue (a JSON array of entries) and checks every document.
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let entries: Vec<SystemPolicy> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for e in &entries {
            crate::validate::simple_id("id", &e.id, 64)
                .map_err(|x| format!("{}: {}", e.name, x.message))?;
            let kind = match e.kind {
                SystemPolicyKind::Policy => PolicyKind::IdentityPolicy,
                SystemPolicyKind::Role => PolicyKind::Role,
            };
            policy::parse(&e.document.to_string(), kind, 131_072)
                .map_err(|x| format!("{}: {x}", e.name))?;
        }
        Ok(Catalog { entries })
    }

    /// Adds (or replaces, by id) the entries of `other`.
    pub fn extend(&mut self, other: Catalog) {
        for e in other.entries {
            self.entries.retain(|x| x.id != e.id);
            self.entries.push(e);
        }
    }

    pub fn get(&self, id: &str, kind: SystemPolicyKind) -> Option<&SystemPolicy> {
        self.entries.iter().find(|e| e.id == id && e.kind == kind)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT8H"), Some(28_800));
        assert_eq!(parse_duration("PT1H30M"), Some(5_400));
        assert_eq!(parse_duration("P1DT2H"), Some(93_600));
        assert_eq!(parse_duration("PT3600S"), Some(3_600));
        for bad in ["", "P", "PT", "8H", "PT8", "PTH", "PT30M1H", "P1H"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert!(validate_session_duration("PT12H").is_ok());
        assert!(validate_session_duration("PT1H").is_ok());
        assert!(validate_session_duration("PT59M")
            .expect_err("short")
            .message
            .contains("session_duration"));
        assert!(validate_session_duration("PT13H").is_err());
        assert!(validate_session_duration("eight hours").is_err());
    }

    #[test]
    fn names_and_fields() {
        assert!(validate_name("ReadOnly_1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name(&"a".repeat(33)).is_err());
        assert!(validate_name("has space")
            .expect_err("space")
            .message
            .contains("name"));
        assert!(validate_relay_state("https://console.example.com/home?x=1").is_ok());
        assert!(validate_relay_state("bad\u{1}").is_err());
    }

    #[test]
    fn builtin_catalog_is_valid_and_has_the_administrator_policies() {
        let c = Catalog::builtin();
        assert!(c.len() >= 10);
        for name in [
            "IdentityCenterFullAccess",
            "IdentityCenterReadOnlyAccess",
            "OrganizationsFullAccess",
            "OrganizationsReadOnlyAccess",
            "IdentityStoreFullAccess",
            "IdentityStoreReadOnlyAccess",
        ] {
            assert!(c.entries.iter().any(|e| e.name == name), "{name}");
        }
        assert!(c
            .get("8a14c1e2f0b34c4f9a0e6f1d2c3b4a50", SystemPolicyKind::Policy)
            .is_some());
        assert!(c
            .get("8a14c1e2f0b34c4f9a0e6f1d2c3b4a50", SystemPolicyKind::Role)
            .is_none());
        assert!(Catalog::from_json(r#"[{"id":"x","kind":"policy","name":"bad","description":"","document":{"Version":"1.1","Statement":[]}}]"#).is_err());
    }

    #[test]
    fn custom_documents_are_parsed() {
        assert!(validate_custom(
            "custom_policy",
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["obs:*:*"]}]}"#,
            PolicyKind::IdentityPolicy
        )
        .is_ok());
        let e = validate_custom(
            "custom_policy",
            r#"{"Version":"5.0","Statement":[{"Effect":"Permit","Action":["obs:*:*"]}]}"#,
            PolicyKind::IdentityPolicy,
        )
        .expect_err("effect");
        assert!(
            e.message.contains("custom_policy") && e.message.contains("Statement[0].Effect"),
            "{}",
            e.message
        );
    }
}
