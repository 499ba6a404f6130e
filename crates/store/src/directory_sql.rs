//! SQL of the directory, shared by both backends (both accept `$n` parameters; SQLite binds
//! them by position of first appearance).

pub const STORE_INFO: &str = "SELECT identity_store_id, instance_id, organization_id, users_count, groups_count, password_policy
     FROM identity_stores WHERE identity_store_id = $1";
pub const SET_POLICY: &str =
    "UPDATE identity_stores SET password_policy = $2 WHERE identity_store_id = $1";
pub const STORE_EXISTS: &str = "SELECT 1 FROM identity_stores WHERE identity_store_id = $1";

pub const USER_COLUMNS: &str = "seq, user_id, identity_store_id, profile, external_ids, enabled, email_verified, password_hash, password_reset_email_owed, created_at, created_by, updated_at, updated_by";
pub const TAKE_USER_QUOTA: &str = "UPDATE identity_stores SET users_count = users_count + 1
     WHERE identity_store_id = $1 AND users_count < $2";
pub const RELEASE_USER_QUOTA: &str =
    "UPDATE identity_stores SET users_count = users_count - 1 WHERE identity_store_id = $1";
pub const USER_NAME_TAKEN: &str =
    "SELECT 1 FROM users WHERE identity_store_id = $1 AND user_name_lower = $2 AND user_id <> $3";
pub const INSERT_USER: &str = "INSERT INTO users (user_id, identity_store_id, user_name_lower, primary_email_lower, profile, external_ids, enabled, email_verified, password_hash, password_reset_email_owed, created_at, created_by, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
pub const UPDATE_USER: &str = "UPDATE users SET user_name_lower = $3, primary_email_lower = $4, profile = $5, external_ids = $6, enabled = $7, email_verified = $8, password_hash = $9, password_reset_email_owed = $10, updated_at = $11, updated_by = $12
     WHERE identity_store_id = $1 AND user_id = $2";
pub const DELETE_USER: &str = "DELETE FROM users WHERE identity_store_id = $1 AND user_id = $2";
pub const USER_EXISTS: &str = "SELECT 1 FROM users WHERE identity_store_id = $1 AND user_id = $2";
pub const FIND_USER_BY_NAME: &str =
    "SELECT user_id FROM users WHERE identity_store_id = $1 AND user_name_lower = $2";
pub const FIND_USER_BY_EMAIL: &str = "SELECT user_id FROM users WHERE identity_store_id = $1 AND primary_email_lower = $2 ORDER BY seq LIMIT 1";

pub const GROUP_COLUMNS: &str = "seq, group_id, identity_store_id, profile, external_ids, created_at, created_by, updated_at, updated_by";
pub const TAKE_GROUP_QUOTA: &str = "UPDATE identity_stores SET groups_count = groups_count + 1
     WHERE identity_store_id = $1 AND groups_count < $2";
pub const RELEASE_GROUP_QUOTA: &str =
    "UPDATE identity_stores SET groups_count = groups_count - 1 WHERE identity_store_id = $1";
pub const GROUP_NAME_TAKEN: &str = "SELECT 1 FROM directory_groups WHERE identity_store_id = $1 AND display_name_lower = $2 AND group_id <> $3";
pub const INSERT_GROUP: &str = "INSERT INTO directory_groups (group_id, identity_store_id, display_name_lower, profile, external_ids, created_at, created_by, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const UPDATE_GROUP: &str = "UPDATE directory_groups SET display_name_lower = $3, profile = $4, external_ids = $5, updated_at = $6, updated_by = $7
     WHERE identity_store_id = $1 AND group_id = $2";
pub const DELETE_GROUP: &str =
    "DELETE FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2";
pub const GROUP_EXISTS: &str =
    "SELECT 1 FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2";
pub const FIND_GROUP_BY_NAME: &str = "SELECT group_id FROM directory_groups WHERE identity_store_id = $1 AND display_name_lower = $2";

/// Deleting a principal removes its account assignments in the same transaction.
pub const DELETE_ASSIGNMENTS_OF: &str = "DELETE FROM account_assignments WHERE principal_id = $1";
pub const INSERT_EXTERNAL_ID: &str = "INSERT INTO external_ids (identity_store_id, kind, issuer, external_id, principal_id) VALUES ($1, $2, $3, $4, $5)";
pub const DELETE_EXTERNAL_IDS: &str =
    "DELETE FROM external_ids WHERE identity_store_id = $1 AND principal_id = $2";
pub const FIND_BY_EXTERNAL_ID: &str = "SELECT principal_id FROM external_ids WHERE identity_store_id = $1 AND kind = $2 AND issuer = $3 AND external_id = $4";

pub const MEMBERSHIP_COLUMNS: &str =
    "seq, membership_id, identity_store_id, group_id, user_id, created_at";
pub const FIND_MEMBERSHIP: &str = "SELECT membership_id FROM memberships WHERE identity_store_id = $1 AND group_id = $2 AND user_id = $3";
pub const COUNT_USER_GROUPS: &str = "SELECT COUNT(*) FROM memberships WHERE user_id = $1";
pub const INSERT_MEMBERSHIP: &str = "INSERT INTO memberships (membership_id, identity_store_id, group_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5)";
pub const DELETE_MEMBERSHIP: &str =
    "DELETE FROM memberships WHERE identity_store_id = $1 AND membership_id = $2";

/// The `n`-th parameter list `$from, …` for an `IN (…)` of `n` items.
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Upper bound of a prefix range: every string starting with `prefix` sorts below it bytewise.
pub fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}
