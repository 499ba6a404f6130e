//! How Organizations shows its resources (ISO-8601 times, URNs).

use iic_domain::names::Named;
use iic_domain::organizations::{self as orgs, iso8601};
use iic_store::{
    Account, CloseAccountStatus, CreateAccountStatus, Organization, OrganizationalUnit, Root,
};
use serde_json::{json, Value};

pub fn organization(org: &Organization, management_name: &str) -> Value {
    json!({
        "id": org.id,
        "urn": orgs::organization_urn(&org.management_account_id, &org.id),
        "management_account_id": org.management_account_id,
        "management_account_name": management_name,
        "created_at": iso8601(org.created_at),
    })
}

pub fn account(a: &Account, org: &Organization) -> Value {
    let mut v = json!({
        "id": a.id,
        "urn": orgs::account_urn(&org.management_account_id, &org.id, &a.id),
        "join_method": a.join_method.name(),
        "status": a.status.name(),
        "joined_at": iso8601(a.joined_at),
        "name": a.name,
    });
    if let Some(e) = &a.email {
        v["email"] = json!(e);
    }
    if let Some(p) = &a.phone {
        v["mobile_phone"] = json!(p);
    }
    if let Some(d) = &a.description {
        v["description"] = json!(d);
    }
    v
}

pub fn root(r: &Root, org: &Organization) -> Value {
    json!({
        "id": r.id,
        "urn": orgs::root_urn(&org.management_account_id, &org.id, &r.id),
        "name": r.name,
        "policy_types": [],
        "created_at": iso8601(r.created_at),
    })
}

pub fn ou(o: &OrganizationalUnit, org: &Organization) -> Value {
    json!({
        "id": o.id,
        "urn": orgs::ou_urn(&org.management_account_id, &org.id, &o.id),
        "name": o.name,
        "created_at": iso8601(o.created_at),
    })
}

pub fn create_status(s: &CreateAccountStatus) -> Value {
    let mut v = json!({
        "id": s.id,
        "account_id": s.account_id,
        "account_name": s.account_name,
        "state": s.state.name(),
        "created_at": iso8601(s.created_at),
        "completed_at": s.completed_at.map(iso8601),
    });
    if let Some(r) = &s.failure_reason {
        v["failure_reason"] = json!(r);
    }
    v
}

pub fn close_status(s: &CloseAccountStatus) -> Value {
    let mut v = json!({
        "account_id": s.account_id,
        "organization_id": s.organization_id,
        "state": s.state.name(),
        "created_at": iso8601(s.created_at),
        "updated_at": iso8601(s.updated_at),
    });
    if let Some(r) = &s.failure_reason {
        v["failure_reason"] = json!(r);
    }
    v
}
