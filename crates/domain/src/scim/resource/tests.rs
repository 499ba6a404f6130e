use super::*;
use serde_json::json;

fn origin() -> Origin<'static> {
    Origin {
        tenant_id: "t-1",
        base_url: "http://iic.test/t-1/scim/v2",
    }
}

fn entra_user() -> Value {
    json!({
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@testuser.com",
        "active": "True",
        "displayName": "Test User",
        "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        "emails": [{"Primary": true, "type": "work", "value": "Test_User@testuser.com"}],
        "Title": "Engineer",
        ENTERPRISE_USER: {"employeeNumber": "701984", "department": "Tour", "manager": "26118915"}
    })
}

fn stored(profile: UserProfile, enabled: bool, external: Vec<ExternalId>) -> User {
    User {
        seq: 1,
        user_id: "abc".into(),
        identity_store_id: "d-0123456789".into(),
        profile,
        external_ids: external,
        enabled,
        email_verified: false,
        password_hash: None,
        password_reset_email_owed: false,
        password_must_change: false,
        active_assigned: true,
        created_at: 1_700_000_000_123,
        created_by: "scim".into(),
        updated_at: 1_700_000_100_456,
        updated_by: "scim".into(),
    }
}

#[test]
fn a_user_as_entra_sends_it_reads_and_renders_back() {
    let read = user_from_scim(&entra_user()).expect("reads");
    assert_eq!(read.active, Some(true));
    assert_eq!(
        read.external_id.as_deref(),
        Some("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
    );
    assert_eq!(read.profile.title.as_deref(), Some("Engineer"));
    let ent = read.profile.enterprise.clone().expect("enterprise");
    assert_eq!(
        ent.manager,
        Some(Manager {
            value: Some("26118915".into())
        })
    );
    let ext = with_external_id(Vec::new(), "t-1", read.external_id.as_deref());
    let out = user_to_scim(&stored(read.profile, true, ext), origin());
    assert_eq!(out["userName"], "Test_User_ab6490ee@testuser.com");
    assert_eq!(out["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(out["active"], true);
    assert_eq!(out[ENTERPRISE_USER]["manager"]["value"], "26118915");
    assert_eq!(out["schemas"], json!([CORE_USER, ENTERPRISE_USER]));
    assert_eq!(out["meta"]["resourceType"], "User");
    assert_eq!(
        out["meta"]["location"],
        "http://iic.test/t-1/scim/v2/Users/abc"
    );
    assert_eq!(out["meta"]["created"], "2023-11-14T22:13:20.123Z");
    assert_eq!(out["meta"]["version"], "W/\"1700000100456\"");
    // What it renders, it reads back unchanged.
    let again = user_from_scim(&out).expect("round trip");
    assert_eq!(again.profile.user_name, "Test_User_ab6490ee@testuser.com");
    assert_eq!(again.profile.enterprise, Some(ent));
}

#[test]
fn another_tenants_external_id_is_not_shown() {
    let read = user_from_scim(&entra_user()).expect("reads");
    let ext = vec![ExternalId {
        issuer: "other".into(),
        id: "x".into(),
    }];
    let out = user_to_scim(&stored(read.profile, false, ext), origin());
    assert!(out.get("externalId").is_none());
    assert_eq!(out["active"], false);
}

#[test]
fn refusals_name_the_attribute_as_scim_does() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str, &str)> = vec![
        (
            Box::new(|u| {
                u["userName"] = json!("has space");
            }),
            "userName",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u.as_object_mut().map(|m| m.remove("name"));
            }),
            "name is required",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u["name"] = json!({"givenName": "x"});
            }),
            "name.familyName",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u["emails"] = json!([{"value": "a@b.co", "type": "work"}, {"value": "c@d.co", "type": "home"}]);
            }),
            "emails holds 2 values",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u["emails"] = json!([{"value": "not-mail", "type": "work"}]);
            }),
            "emails.value",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u["active"] = json!("maybe");
            }),
            "active",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u["roles"] = json!([{"value": "x"}]);
            }),
            "roles",
            "invalidValue",
        ),
        (
            Box::new(|u| {
                u["password"] = json!("secret");
            }),
            "password",
            "mutability",
        ),
        (
            Box::new(|u| {
                u["schemas"] = json!(["urn:x"]);
            }),
            "schemas",
            "invalidSyntax",
        ),
    ];
    for (mutate, needle, scim_type) in cases {
        let mut u = entra_user();
        mutate(&mut u);
        let e = user_from_scim(&u).expect_err(needle);
        assert_eq!(e.status, 400, "{needle}");
        assert_eq!(e.scim_type.map(|t| t.as_str()), Some(scim_type), "{needle}");
        assert!(e.detail.contains(needle), "{needle}: {}", e.detail);
    }
}

#[test]
fn read_only_attributes_are_ignored() {
    let mut u = entra_user();
    u["id"] = json!("chosen-by-client");
    u["meta"] = json!({"resourceType": "User"});
    u["groups"] = json!([{"value": "g"}]);
    assert!(user_from_scim(&u).is_ok());
}

#[test]
fn groups_read_members_once_and_refuse_nested_groups() {
    let body = json!({
        "schemas": [CORE_GROUP], "displayName": "Eng", "externalId": "e-1",
        "members": [{"value": "u1"}, {"value": "u2", "type": "User"}, {"value": "u1"}]
    });
    let g = group_from_scim(&body).expect("group");
    assert_eq!(g.members, vec!["u1".to_string(), "u2".to_string()]);
    assert_eq!(g.external_id.as_deref(), Some("e-1"));
    let nested = json!({"schemas": [CORE_GROUP], "displayName": "E", "members": [{"value": "g", "type": "Group"}]});
    assert!(group_from_scim(&nested)
        .expect_err("nested")
        .detail
        .contains("members.type"));
    let unnamed = json!({"schemas": [CORE_GROUP]});
    assert!(group_from_scim(&unnamed)
        .expect_err("name")
        .detail
        .contains("displayName"));
}

#[test]
fn external_ids_of_other_issuers_survive_a_change() {
    let ids = vec![
        ExternalId {
            issuer: "idp".into(),
            id: "1".into(),
        },
        ExternalId {
            issuer: "t-1".into(),
            id: "old".into(),
        },
    ];
    let changed = with_external_id(ids.clone(), "t-1", Some("new"));
    assert_eq!(external_id_of(&changed, "t-1"), Some("new"));
    assert_eq!(external_id_of(&changed, "idp"), Some("1"));
    let removed = with_external_id(ids, "t-1", None);
    assert_eq!(removed.len(), 1);
}

/// Users of random shape (attributes present or not, in any letter case, values from a small
/// alphabet that includes non-ASCII letters) read, render and read back to the same profile.
#[test]
fn what_is_read_renders_back_to_the_same_user() {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let alphabet: Vec<char> = "abcXYZ09 ._-éß漢".chars().collect();
    let text = |rng: &mut rand::rngs::ThreadRng| -> String {
        let n = rng.gen_range(1..8);
        (0..n)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect()
    };
    let optional = [
        "nickName",
        "title",
        "userType",
        "locale",
        "timezone",
        "preferredLanguage",
        "profileUrl",
    ];
    let mut read_ok = 0;
    for _ in 0..2_000 {
        let mut u = entra_user();
        for key in optional {
            if rng.gen_bool(0.5) {
                u[key] = json!(text(&mut rng));
            }
        }
        if rng.gen_bool(0.3) {
            u["phoneNumbers"] = json!([{"value": text(&mut rng), "type": "work"}]);
        }
        if rng.gen_bool(0.3) {
            u["addresses"] = json!([{"locality": text(&mut rng), "primary": rng.gen_bool(0.5)}]);
        }
        if rng.gen_bool(0.3) {
            u["active"] = json!(rng.gen_bool(0.5));
        }
        if rng.gen_bool(0.3) {
            u.as_object_mut().map(|m| m.remove(ENTERPRISE_USER));
        }
        u["displayName"] = json!(text(&mut rng));
        let Ok(read) = user_from_scim(&u) else {
            continue;
        };
        read_ok += 1;
        let mut user = stored(
            read.profile.clone(),
            read.active.unwrap_or(true),
            Vec::new(),
        );
        user.active_assigned = read.active.is_some();
        user.external_ids = with_external_id(Vec::new(), "t-1", read.external_id.as_deref());
        let shown = user_to_scim(&user, origin());
        let again = user_from_scim(&shown).unwrap_or_else(|e| panic!("{e}: {shown}"));
        assert_eq!(again, read, "{shown}");
    }
    assert!(read_ok > 1_000, "only {read_ok} generated users were valid");
}
