//! SQL of organizations, accounts and jobs, shared by both backends (`$n` parameters; the SQLite
//! backend rewrites them to `?n`).

pub const ACCOUNT_COLUMNS: &str = "seq, id, name, organization_id, created_at, email, phone, description, join_method, status, parent_id, joined_at";
pub const INSERT_ACCOUNT: &str = "INSERT INTO accounts (id, name, organization_id, created_at, email, phone, description, join_method, status, parent_id, joined_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
pub const ACCOUNT_IN_ORG: &str =
    "SELECT organization_id, parent_id, status FROM accounts WHERE id = $1";
pub const ACCOUNT_NAME_TAKEN: &str =
    "SELECT 1 FROM accounts WHERE organization_id = $1 AND name = $2";
pub const JOIN_ORGANIZATION: &str =
    "UPDATE accounts SET organization_id = $2, parent_id = $3, joined_at = $4 WHERE id = $1 AND organization_id IS NULL";
pub const LEAVE_ORGANIZATION: &str =
    "UPDATE accounts SET organization_id = NULL, parent_id = NULL WHERE id = $1";
/// Removing an account from the organization removes its assignments and provisioned sets.
pub const DELETE_ACCOUNT_ASSIGNMENTS: &str =
    "DELETE FROM account_assignments WHERE account_id = $1";
pub const DELETE_ACCOUNT_PROVISIONED: &str = "DELETE FROM provisioned_sets WHERE account_id = $1";
pub const SET_DESCRIPTION: &str =
    "UPDATE accounts SET description = $3 WHERE organization_id = $1 AND id = $2";
pub const SET_PARENT: &str =
    "UPDATE accounts SET parent_id = $3 WHERE organization_id = $1 AND id = $2";
pub const SET_ACCOUNT_STATUS: &str = "UPDATE accounts SET status = $2 WHERE id = $1";
pub const MEMBER_COUNT: &str =
    "SELECT COUNT(*) FROM accounts WHERE organization_id = $1 AND id <> $2";

pub const INSERT_ORGANIZATION: &str =
    "INSERT INTO organizations (id, management_account_id, created_at) VALUES ($1, $2, $3)";
pub const DELETE_ORGANIZATION: &str = "DELETE FROM organizations WHERE id = $1";
pub const INSTANCE_COUNT: &str = "SELECT COUNT(*) FROM instances WHERE organization_id = $1";
pub const INSERT_ROOT: &str =
    "INSERT INTO roots (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)";
pub const GET_ROOT: &str =
    "SELECT id, organization_id, name, created_at FROM roots WHERE organization_id = $1";

pub const OU_COLUMNS: &str = "seq, id, organization_id, parent_id, name, created_at";
pub const INSERT_OU: &str = "INSERT INTO organizational_units (id, organization_id, parent_id, name, created_at) VALUES ($1, $2, $3, $4, $5)";
pub const OU_EXISTS: &str =
    "SELECT 1 FROM organizational_units WHERE organization_id = $1 AND id = $2";
pub const OU_NAME_TAKEN: &str =
    "SELECT 1 FROM organizational_units WHERE parent_id = $1 AND name = $2";

pub const CAR_COLUMNS: &str = "seq, id, organization_id, account_id, account_name, state, failure_reason, created_at, completed_at, request";
pub const INSERT_CAR: &str = "INSERT INTO create_account_statuses (id, organization_id, account_id, account_name, state, request, created_at)
     VALUES ($1, $2, $3, $4, 'in_progress', $5, $6)";
pub const CAR_NAME_PENDING: &str = "SELECT 1 FROM create_account_statuses WHERE organization_id = $1 AND account_name = $2 AND state = 'in_progress'";
pub const FINISH_CAR: &str = "UPDATE create_account_statuses SET state = $2, failure_reason = $3, completed_at = $4 WHERE id = $1 AND state = 'in_progress'";

pub const CLOSE_COLUMNS: &str =
    "seq, account_id, organization_id, state, failure_reason, created_at, updated_at";
pub const UPSERT_CLOSE: &str = "INSERT INTO close_account_statuses (account_id, organization_id, state, created_at, updated_at) VALUES ($1, $2, 'pending_closure', $3, $3)
     ON CONFLICT (account_id) DO UPDATE SET state = 'pending_closure', organization_id = $2, failure_reason = NULL, updated_at = $3";
pub const FINISH_CLOSE: &str =
    "UPDATE close_account_statuses SET state = 'suspended', updated_at = $2 WHERE account_id = $1";

pub const DELEGATED_COLUMNS: &str =
    "seq, organization_id, account_id, service_principal, enabled_at";
pub const INSERT_DELEGATED: &str = "INSERT INTO delegated_administrators (organization_id, account_id, service_principal, enabled_at) VALUES ($1, $2, $3, $4)";
pub const DELETE_DELEGATED: &str = "DELETE FROM delegated_administrators WHERE organization_id = $1 AND account_id = $2 AND service_principal = $3";
pub const DELETE_DELEGATED_FOR_SERVICE: &str =
    "DELETE FROM delegated_administrators WHERE organization_id = $1 AND service_principal = $2";
pub const IS_DELEGATED: &str =
    "SELECT 1 FROM delegated_administrators WHERE account_id = $1 AND service_principal = $2";
pub const DELEGATED_ANY: &str = "SELECT 1 FROM delegated_administrators WHERE account_id = $1";

pub const TRUSTED_COLUMNS: &str = "seq, organization_id, service_principal, enabled_at";
pub const INSERT_TRUSTED: &str = "INSERT INTO trusted_services (organization_id, service_principal, enabled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
pub const DELETE_TRUSTED: &str =
    "DELETE FROM trusted_services WHERE organization_id = $1 AND service_principal = $2";
pub const IS_TRUSTED: &str =
    "SELECT 1 FROM trusted_services WHERE organization_id = $1 AND service_principal = $2";

pub const JOB_COLUMNS: &str = "id, kind, payload, attempts, run_after, created_at";
pub const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, payload, state, attempts, run_after, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5)";
pub const FINISH_JOB: &str =
    "UPDATE jobs SET state = $2, finished_at = $3, locked_by = NULL, locked_until = NULL WHERE id = $1";
pub const RETRY_JOB: &str = "UPDATE jobs SET state = 'pending', run_after = $2, locked_by = NULL, locked_until = NULL WHERE id = $1";
