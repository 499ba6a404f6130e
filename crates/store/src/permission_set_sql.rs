//! SQL of permission sets, shared by both backends.

pub const COLUMNS: &str = "seq, permission_set_id, instance_id, name, description, relay_state, session_duration, content, version, created_at, updated_at";
pub const COUNT: &str = "SELECT COUNT(*) FROM permission_sets WHERE instance_id = $1";
pub const NAME_TAKEN: &str = "SELECT 1 FROM permission_sets WHERE instance_id = $1 AND name_lower = $2 AND permission_set_id <> $3";
pub const INSERT: &str = "INSERT INTO permission_sets (permission_set_id, instance_id, name, name_lower, description, relay_state, session_duration, content, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
pub const UPDATE: &str = "UPDATE permission_sets SET name = $3, name_lower = $4, description = $5, relay_state = $6, session_duration = $7, content = $8, version = $9, updated_at = $10
     WHERE instance_id = $1 AND permission_set_id = $2 AND version = $11";
pub const EXISTS: &str =
    "SELECT 1 FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2";
pub const DELETE: &str =
    "DELETE FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2";
