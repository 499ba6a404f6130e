//! Groups.

use super::{text, ExternalId};
use crate::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupProfile {
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl GroupProfile {
    pub fn validate(&self) -> Result<(), ApiError> {
        text("display_name", &self.display_name, 1, 1024)?;
        if let Some(d) = &self.description {
            text("description", d, 0, 1024)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub seq: i64,
    pub group_id: String,
    pub identity_store_id: String,
    pub profile: GroupProfile,
    pub external_ids: Vec<ExternalId>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub seq: i64,
    pub membership_id: String,
    pub identity_store_id: String,
    pub group_id: String,
    pub user_id: String,
    pub created_at: i64,
}

/// How many groups one user may belong to.
pub const MAX_GROUPS_PER_USER: i64 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_profile_rules() {
        let ok = GroupProfile {
            display_name: "Admins".into(),
            description: Some(String::new()),
        };
        assert!(ok.validate().is_ok());
        let e = GroupProfile {
            display_name: String::new(),
            description: None,
        }
        .validate()
        .expect_err("empty");
        assert!(e.message.contains("display_name"));
        let long = GroupProfile {
            display_name: "g".into(),
            description: Some("d".repeat(1025)),
        };
        assert!(long
            .validate()
            .expect_err("long")
            .message
            .contains("description"));
    }
}
