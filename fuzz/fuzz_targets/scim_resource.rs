//! SCIM resources read from any JSON never panic, and what is read renders back to a resource
//! that reads as the same profile: a user or a group written through SCIM shows what was written.
#![no_main]

use iic_domain::directory::group::Group;
use iic_domain::directory::user::User;
use iic_domain::scim::resource::{
    group_from_scim, group_to_scim, user_from_scim, user_to_scim, with_external_id, Origin,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ORIGIN: Origin<'static> = Origin {
    tenant_id: "t",
    base_url: "http://h/t/scim/v2",
};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(read) = user_from_scim(&value) {
        let user = User {
            seq: 1,
            user_id: "u".into(),
            identity_store_id: "d-0000000000".into(),
            profile: read.profile.clone(),
            external_ids: with_external_id(Vec::new(), "t", read.external_id.as_deref()),
            enabled: read.active.unwrap_or(true),
            active_assigned: read.active.is_some(),
            email_verified: false,
            password_hash: None,
            password_reset_email_owed: false,
            password_must_change: false,
            created_at: 0,
            created_by: "f".into(),
            updated_at: 0,
            updated_by: "f".into(),
        };
        let shown = user_to_scim(&user, ORIGIN);
        let again = match user_from_scim(&shown) {
            Ok(again) => again,
            Err(e) => panic!("rendered user does not read back: {e}: {shown}"),
        };
        assert_eq!(again.profile, read.profile, "{shown}");
        assert_eq!(again.external_id, read.external_id);
        assert_eq!(again.active, read.active);
    }
    if let Ok(read) = group_from_scim(&value) {
        let group = Group {
            seq: 1,
            group_id: "g".into(),
            identity_store_id: "d-0000000000".into(),
            profile: read.profile.clone(),
            external_ids: with_external_id(Vec::new(), "t", read.external_id.as_deref()),
            created_at: 0,
            created_by: "f".into(),
            updated_at: 0,
            updated_by: "f".into(),
        };
        let shown = group_to_scim(&group, Some(&read.members), ORIGIN);
        let again = match group_from_scim(&shown) {
            Ok(again) => again,
            Err(e) => panic!("rendered group does not read back: {e}: {shown}"),
        };
        assert_eq!(again, read, "{shown}");
    }
});
