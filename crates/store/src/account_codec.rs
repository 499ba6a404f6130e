//! The account a CreateAccount request will create, kept as JSON beside its status.

use crate::Account;
use iic_domain::names::Named;
use iic_domain::organizations::{AccountStatus, JoinMethod};
use serde_json::json;

pub(crate) fn encode(a: &Account) -> String {
    json!({
        "id": a.id, "name": a.name, "organization_id": a.organization_id,
        "created_at": a.created_at, "email": a.email, "phone": a.phone,
        "description": a.description, "join_method": a.join_method.name(),
        "status": a.status.name(), "parent_id": a.parent_id, "joined_at": a.joined_at,
    })
    .to_string()
}

pub(crate) fn decode(text: &str) -> Result<Account, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let s = |k: &str| v[k].as_str().map(str::to_string);
    let named = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(Account {
        seq: 0,
        id: s("id").ok_or("id")?,
        name: s("name").ok_or("name")?,
        organization_id: s("organization_id"),
        created_at: v["created_at"].as_i64().unwrap_or(0),
        email: s("email"),
        phone: s("phone"),
        description: s("description"),
        join_method: JoinMethod::from_name(&named("join_method")).unwrap_or_default(),
        status: AccountStatus::from_name(&named("status")).unwrap_or_default(),
        parent_id: s("parent_id"),
        joined_at: v["joined_at"].as_i64().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = Account {
            id: "a".into(),
            name: "dev".into(),
            organization_id: Some("o-1".into()),
            email: Some("x@y.zz".into()),
            join_method: JoinMethod::Invited,
            status: AccountStatus::Suspended,
            parent_id: Some("r-1234".into()),
            ..Default::default()
        };
        assert_eq!(decode(&encode(&a)), Ok(a));
    }
}
