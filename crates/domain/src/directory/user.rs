//! Users: the profile a caller may set, its validation, and what the store keeps beside it.

use super::{optional_text, text, ExternalId};
use crate::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Name {
    pub family_name: String,
    pub given_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub primary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumber {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Manager {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Manager>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

/// Every attribute of a user that callers set and read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserProfile {
    pub user_name: String,
    pub display_name: String,
    pub name: Name,
    pub emails: Vec<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<Address>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_numbers: Option<Vec<PhoneNumber>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<Enterprise>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordMode {
    #[serde(rename = "OTP")]
    Otp,
    #[serde(rename = "EMAIL")]
    Email,
}

/// The body of CreateUser: the profile and how the first password is delivered.
/// Unknown fields are refused by the flattened profile.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateUserRequest {
    #[serde(flatten)]
    pub profile: UserProfile,
    pub password_mode: PasswordMode,
}

/// `user_name`: 2–128 word characters or any of `+=,.@-`.
pub fn validate_user_name(field: &str, v: &str) -> Result<(), ApiError> {
    crate::validate::length(field, v, 2, 128)?;
    if !v
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-'))
    {
        return Err(ApiError::bad_request(format!(
            "{field} may contain only letters, digits and the characters _+=,.@-"
        )));
    }
    Ok(())
}

/// A practical e-mail check: one `@`, a non-empty local part without spaces, a dotted domain of
/// letters, digits and hyphens whose last label is alphabetic.
pub fn validate_email_address(field: &str, v: &str) -> Result<(), ApiError> {
    text(field, v, 1, 1024)?;
    let bad = || ApiError::bad_request(format!("{field} is not a valid e-mail address"));
    let (local, domain) = v.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '~')
        })
        || !labels
            .last()
            .is_some_and(|l| l.chars().all(|c| c.is_alphabetic() || c == '-'))
    {
        return Err(bad());
    }
    Ok(())
}

fn exactly_one<T>(field: &str, items: &[T]) -> Result<(), ApiError> {
    if items.len() != 1 {
        return Err(ApiError::bad_request(format!(
            "{field} must hold exactly 1 item"
        )));
    }
    Ok(())
}

impl UserProfile {
    pub fn validate(&self) -> Result<(), ApiError> {
        validate_user_name("user_name", &self.user_name)?;
        text("display_name", &self.display_name, 1, 1024)?;
        text("name.family_name", &self.name.family_name, 1, 1024)?;
        text("name.given_name", &self.name.given_name, 1, 1024)?;
        optional_text("name.formatted", &self.name.formatted)?;
        optional_text("name.middle_name", &self.name.middle_name)?;
        optional_text("name.honorific_prefix", &self.name.honorific_prefix)?;
        optional_text("name.honorific_suffix", &self.name.honorific_suffix)?;
        exactly_one("emails", &self.emails)?;
        for e in &self.emails {
            validate_email_address("emails.value", &e.value)?;
            text("emails.type", &e.kind, 1, 1024)?;
            if let Some(s) = &e.verification_status {
                if s != "NOT_VERIFIED" && s != "VERIFIED" {
                    return Err(ApiError::bad_request(
                        "emails.verification_status must be NOT_VERIFIED or VERIFIED",
                    ));
                }
            }
        }
        if let Some(addresses) = &self.addresses {
            exactly_one("addresses", addresses)?;
            for a in addresses {
                optional_text("addresses.country", &a.country)?;
                optional_text("addresses.formatted", &a.formatted)?;
                optional_text("addresses.locality", &a.locality)?;
                optional_text("addresses.postal_code", &a.postal_code)?;
                optional_text("addresses.region", &a.region)?;
                optional_text("addresses.street_address", &a.street_address)?;
                optional_text("addresses.type", &a.kind)?;
            }
        }
        if let Some(phones) = &self.phone_numbers {
            exactly_one("phone_numbers", phones)?;
            for p in phones {
                optional_text("phone_numbers.value", &p.value)?;
                optional_text("phone_numbers.type", &p.kind)?;
            }
        }
        optional_text("locale", &self.locale)?;
        optional_text("nickname", &self.nickname)?;
        optional_text("preferred_language", &self.preferred_language)?;
        optional_text("profile_url", &self.profile_url)?;
        optional_text("timezone", &self.timezone)?;
        optional_text("title", &self.title)?;
        optional_text("user_type", &self.user_type)?;
        if let Some(e) = &self.enterprise {
            optional_text("enterprise.cost_center", &e.cost_center)?;
            optional_text("enterprise.department", &e.department)?;
            optional_text("enterprise.division", &e.division)?;
            optional_text("enterprise.employee_number", &e.employee_number)?;
            optional_text("enterprise.organization", &e.organization)?;
            if let Some(m) = &e.manager {
                optional_text("enterprise.manager.value", &m.value)?;
            }
        }
        Ok(())
    }

    /// The primary e-mail address, lower-cased, for look-ups.
    pub fn primary_email_lower(&self) -> Option<String> {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or(self.emails.first())
            .map(|e| e.value.to_lowercase())
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub seq: i64,
    pub user_id: String,
    pub identity_store_id: String,
    pub profile: UserProfile,
    pub external_ids: Vec<ExternalId>,
    pub enabled: bool,
    pub email_verified: bool,
    /// Argon2id PHC string of the current password (a one-time password until the user changes it).
    pub password_hash: Option<String>,
    /// True when a password-reset e-mail is owed (mode EMAIL).
    pub password_reset_email_owed: bool,
    /// True while the password is a one-time password the user must replace at sign-in.
    pub password_must_change: bool,
    /// Whether SCIM's `active` is assigned: a SCIM client may create a user without it or
    /// remove it, leaving the user enabled and `active` unassigned. Everything else assigns it.
    pub active_assigned: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn profile() -> UserProfile {
        UserProfile {
            user_name: "zoe.doe".into(),
            display_name: "Zoë Doe".into(),
            name: Name {
                family_name: "Doe".into(),
                given_name: "Zoë".into(),
                ..Default::default()
            },
            emails: vec![Email {
                value: "zoe@example.com".into(),
                kind: "work".into(),
                primary: true,
                verification_status: None,
            }],
            addresses: None,
            phone_numbers: None,
            locale: None,
            nickname: None,
            preferred_language: None,
            profile_url: None,
            timezone: None,
            title: None,
            user_type: None,
            enterprise: None,
        }
    }

    #[test]
    fn a_complete_profile_validates() {
        assert!(profile().validate().is_ok());
        assert_eq!(
            profile().primary_email_lower().as_deref(),
            Some("zoe@example.com")
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        type Mutation = Box<dyn Fn(&mut UserProfile)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|p| p.user_name = "a".into()), "user_name"),
            (Box::new(|p| p.user_name = "has space".into()), "user_name"),
            (Box::new(|p| p.user_name = "x".repeat(129)), "user_name"),
            (Box::new(|p| p.display_name = String::new()), "display_name"),
            (
                Box::new(|p| p.name.given_name = "x".repeat(1025)),
                "name.given_name",
            ),
            (Box::new(|p| p.emails.clear()), "emails"),
            (
                Box::new(|p| p.emails[0].value = "not-an-email".into()),
                "emails.value",
            ),
            (
                Box::new(|p| p.emails[0].value = "a@b".into()),
                "emails.value",
            ),
            (
                Box::new(|p| p.emails[0].verification_status = Some("MAYBE".into())),
                "verification_status",
            ),
            (Box::new(|p| p.addresses = Some(vec![])), "addresses"),
            (Box::new(|p| p.title = Some("\u{1}".into())), "title"),
        ];
        for (mutate, field) in cases {
            let mut p = profile();
            mutate(&mut p);
            let e = p.validate().expect_err(field);
            assert_eq!(e.code, "IIC.400");
            assert!(e.message.contains(field), "{field}: {}", e.message);
        }
    }

    #[test]
    fn emails_that_should_pass() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "zoë@exämple.de"] {
            assert!(validate_email_address("e", ok).is_ok(), "{ok}");
        }
        for bad in ["@b.co", "a@", "a b@c.de", "a@b.c1", "a@-b.com"] {
            assert!(validate_email_address("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn create_request_parses_with_mode_and_refuses_unknown_fields() {
        let json = serde_json::json!({
            "user_name": "zoe", "display_name": "Zoe", "password_mode": "OTP",
            "name": {"family_name": "Doe", "given_name": "Zoe"},
            "emails": [{"value": "z@example.com", "type": "work", "primary": true}]
        });
        let r: CreateUserRequest = serde_json::from_value(json.clone()).expect("parse");
        assert_eq!(r.password_mode, PasswordMode::Otp);
        let mut bad = json;
        bad["password_mode"] = "SMS".into();
        assert!(serde_json::from_value::<CreateUserRequest>(bad).is_err());
    }
}
