//! SQL of account assignments, provisioning and asynchronous requests, shared by both backends.

pub const REQUEST_COLUMNS: &str = "seq, request_id, instance_id, kind, status, failure_reason, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at";
/// The in-flight count of an instance is kept as a counter, so checking the bound costs the
/// same however many requests are in progress.
pub const ENSURE_COUNTER: &str =
    "INSERT INTO instance_request_counts (instance_id, in_flight) VALUES ($1, 0) ON CONFLICT DO NOTHING";
pub const TAKE_SLOT: &str = "UPDATE instance_request_counts SET in_flight = in_flight + 1 WHERE instance_id = $1 AND in_flight < $2";
pub const RELEASE_SLOT: &str =
    "UPDATE instance_request_counts SET in_flight = in_flight - 1 WHERE instance_id = $1 AND in_flight > 0";
pub const INSERT_REQUEST: &str = "INSERT INTO async_requests (request_id, instance_id, kind, status, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at)
     VALUES ($1, $2, $3, 'IN_PROGRESS', $4, $5, $6, $7, $8, $8)";
pub const FINISH_REQUEST: &str = "UPDATE async_requests SET status = $2, failure_reason = $3, updated_at = $4 WHERE request_id = $1";

pub const SET_ROW: &str = "SELECT version, session_duration, content FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2";
pub const USER_IN_INSTANCE: &str = "SELECT 1 FROM users u JOIN instances i ON i.identity_store_id = u.identity_store_id WHERE i.instance_id = $1 AND u.user_id = $2";
pub const GROUP_IN_INSTANCE: &str = "SELECT 1 FROM directory_groups g JOIN instances i ON i.identity_store_id = g.identity_store_id WHERE i.instance_id = $1 AND g.group_id = $2";
pub const ACCOUNT_IN_INSTANCE: &str = "SELECT 1 FROM accounts a JOIN instances i ON i.organization_id = a.organization_id WHERE i.instance_id = $1 AND a.id = $2 AND a.status = 'active'";

pub const ASSIGNMENT_COLUMNS: &str =
    "seq, instance_id, permission_set_id, principal_type, principal_id, account_id, created_at";
pub const INSERT_ASSIGNMENT: &str = "INSERT INTO account_assignments (instance_id, permission_set_id, principal_type, principal_id, account_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
pub const DELETE_ASSIGNMENT: &str = "DELETE FROM account_assignments WHERE instance_id = $1 AND permission_set_id = $2 AND principal_type = $3 AND principal_id = $4 AND account_id = $5";
pub const DELETE_PRINCIPAL_ASSIGNMENTS: &str =
    "DELETE FROM account_assignments WHERE instance_id = $1 AND principal_type = $2 AND principal_id = $3";

pub const PROVISIONED_COLUMNS: &str =
    "seq, instance_id, permission_set_id, account_id, version, snapshot, updated_at";
pub const PROVISIONED_EXISTS: &str =
    "SELECT 1 FROM provisioned_sets WHERE permission_set_id = $1 AND account_id = $2";
pub const UPSERT_PROVISIONED: &str = "INSERT INTO provisioned_sets (instance_id, permission_set_id, account_id, version, snapshot, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (permission_set_id, account_id) DO UPDATE SET version = $4, snapshot = $5, updated_at = $6";
pub const REPROVISION_ALL: &str = "UPDATE provisioned_sets SET version = $2, snapshot = $3, updated_at = $4 WHERE permission_set_id = $1";
/// After an assignment goes: the set leaves the account when no assignment of it remains there.
pub const DEPROVISION_IF_UNUSED: &str = "DELETE FROM provisioned_sets WHERE permission_set_id = $1 AND account_id = $2
     AND NOT EXISTS (SELECT 1 FROM account_assignments WHERE permission_set_id = $1 AND account_id = $2)";
/// Before a principal's assignments go: deprovision the pairs only that principal holds.
pub const DEPROVISION_FOR_PRINCIPAL: &str = "DELETE FROM provisioned_sets WHERE
     EXISTS (SELECT 1 FROM account_assignments a WHERE a.principal_id = $1
             AND a.permission_set_id = provisioned_sets.permission_set_id AND a.account_id = provisioned_sets.account_id)
     AND NOT EXISTS (SELECT 1 FROM account_assignments b WHERE b.principal_id <> $1
             AND b.permission_set_id = provisioned_sets.permission_set_id AND b.account_id = provisioned_sets.account_id)";
pub const IS_PROVISIONED: &str =
    "SELECT 1 FROM provisioned_sets WHERE permission_set_id = $1 LIMIT 1";

/// The snapshot a provisioned agency carries: the set's session duration and content.
pub fn snapshot(session_duration: &str, content: &str) -> String {
    format!(
        "{{\"session_duration\":{},\"content\":{}}}",
        serde_json::Value::String(session_duration.to_string()),
        content
    )
}
