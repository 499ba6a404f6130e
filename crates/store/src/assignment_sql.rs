//! SQL of account assignments, provisioning and asynchronous requests, shared by both backends.

pub const REQUEST_COLUMNS: &str = "seq, request_id, instance_id, kind, status, failure_reason, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at";
/// The in-flight count of an instance is kept in counter rows, so checking the bound costs the
/// same however many requests are in progress. On PostgreSQL an instance has several counter rows
/// ("shards", each with its share of the bound) so that concurrent requests lock different rows;
/// a request records the shard it took, and its completion gives that slot back.
pub const ENSURE_COUNTER: &str =
    "INSERT INTO instance_request_counts (instance_id, shard, in_flight) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING";
pub const TAKE_SLOT: &str = "UPDATE instance_request_counts SET in_flight = in_flight + 1 WHERE instance_id = $1 AND shard = $2 AND in_flight < $3";
pub const RELEASE_SLOT: &str = "UPDATE instance_request_counts SET in_flight = in_flight - 1
     WHERE instance_id = $1 AND shard = (SELECT slot FROM async_requests WHERE request_id = $2) AND in_flight > 0";
pub const INSERT_REQUEST: &str = "INSERT INTO async_requests (request_id, instance_id, kind, status, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at, slot)
     VALUES ($1, $2, $3, 'IN_PROGRESS', $4, $5, $6, $7, $8, $8, $9)";

/// Shard `shard`'s share of a bound of `max` spread over `shards` rows; the shares sum to `max`.
pub fn shard_capacity(max: i64, shards: i64, shard: i64) -> i64 {
    max / shards + i64::from(shard < max % shards)
}

/// The shards to try, in order: all of them, starting at one picked from the (random) request id
/// so that concurrent requests start on different rows.
pub fn shard_order(request_id: &str, shards: i64) -> impl Iterator<Item = i64> {
    let start = request_id
        .bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % shards);
    (0..shards).map(move |i| (start + i) % shards)
}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_shares_sum_to_the_bound() {
        for (max, shards) in [(10_000, 16), (5, 16), (1, 1), (17, 16), (0, 4)] {
            let shares: Vec<i64> = (0..shards)
                .map(|s| shard_capacity(max, shards, s))
                .collect();
            assert_eq!(shares.iter().sum::<i64>(), max, "{max} over {shards}");
            assert!(shares.iter().max().unwrap_or(&0) - shares.iter().min().unwrap_or(&0) <= 1);
        }
    }

    #[test]
    fn every_shard_is_tried_once() {
        for id in ["a", "0123456789abcdef0123456789abcdef", ""] {
            let mut order: Vec<i64> = shard_order(id, 16).collect();
            order.sort();
            assert_eq!(order, (0..16).collect::<Vec<_>>());
        }
        assert_eq!(shard_order("x", 1).collect::<Vec<_>>(), vec![0]);
    }
}
