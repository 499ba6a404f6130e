//! The source of an access-control attribute: which attribute of an identity store user a
//! principal tag takes its value from, written `${user:…}` or `${path:…}`, and that value for a
//! given user.
//!
//! The console guide lists two families: `${user:…}` (six attributes of IAM Identity Center's
//! own identity source) and `${path:…}` (SCIM paths an external identity provider sends). The
//! identity store here holds every one of those attributes, so both families are accepted and
//! read from the user's profile. A path names one attribute exactly as written (case and
//! spacing included); anything else is refused at Create/Update.

use crate::directory::user::{Address, UserProfile};

/// An attribute of a user a source can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAttribute {
    UserName,
    DisplayName,
    NickName,
    FamilyName,
    GivenName,
    MiddleName,
    FormattedName,
    HonorificPrefix,
    HonorificSuffix,
    /// The value of the e-mail address marked primary (a user holds one).
    PrimaryEmail,
    /// The e-mail address whatever its primary flag (`${user:email}`).
    Email,
    WorkAddress(AddressPart),
    WorkPhone,
    UserType,
    Title,
    Locale,
    Timezone,
    PreferredLanguage,
    ProfileUrl,
    EmployeeNumber,
    CostCenter,
    Organization,
    Division,
    Department,
    Manager,
}

/// A part of the user's work address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPart {
    StreetAddress,
    Locality,
    Region,
    PostalCode,
    Country,
    Formatted,
}

/// Every accepted source with the attribute it names, in the order the documentation lists
/// them (the `${path:…}` entries after the listed ones are attributes the store also holds).
pub const SOURCES: &[(&str, UserAttribute)] = {
    use AddressPart as A;
    use UserAttribute as U;
    &[
        ("${user:email}", U::Email),
        ("${user:familyName}", U::FamilyName),
        ("${user:givenName}", U::GivenName),
        ("${user:middleName}", U::MiddleName),
        ("${user:name}", U::UserName),
        ("${user:displayName}", U::DisplayName),
        ("${path:userName}", U::UserName),
        ("${path:name.familyName}", U::FamilyName),
        ("${path:name.givenName}", U::GivenName),
        ("${path:displayName}", U::DisplayName),
        ("${path:nickName}", U::NickName),
        ("${path:emails[primary eq true].value}", U::PrimaryEmail),
        (
            "${path:addresses[type eq \"work\"].streetAddress}",
            U::WorkAddress(A::StreetAddress),
        ),
        (
            "${path:addresses[type eq \"work\"].locality}",
            U::WorkAddress(A::Locality),
        ),
        (
            "${path:addresses[type eq \"work\"].region}",
            U::WorkAddress(A::Region),
        ),
        (
            "${path:addresses[type eq \"work\"].postalCode}",
            U::WorkAddress(A::PostalCode),
        ),
        (
            "${path:addresses[type eq \"work\"].country}",
            U::WorkAddress(A::Country),
        ),
        (
            "${path:addresses[type eq \"work\"].formatted}",
            U::WorkAddress(A::Formatted),
        ),
        ("${path:phoneNumbers[type eq \"work\"].value}", U::WorkPhone),
        ("${path:userType}", U::UserType),
        ("${path:title}", U::Title),
        ("${path:locale}", U::Locale),
        ("${path:timezone}", U::Timezone),
        ("${path:enterprise.employeeNumber}", U::EmployeeNumber),
        ("${path:enterprise.costCenter}", U::CostCenter),
        ("${path:enterprise.organization}", U::Organization),
        ("${path:enterprise.division}", U::Division),
        ("${path:enterprise.department}", U::Department),
        ("${path:enterprise.manager.value}", U::Manager),
        ("${path:name.middleName}", U::MiddleName),
        ("${path:name.formatted}", U::FormattedName),
        ("${path:name.honorificPrefix}", U::HonorificPrefix),
        ("${path:name.honorificSuffix}", U::HonorificSuffix),
        ("${path:preferredLanguage}", U::PreferredLanguage),
        ("${path:profileUrl}", U::ProfileUrl),
    ]
};

/// The attribute `source` names; None for any other text.
pub fn parse(source: &str) -> Option<UserAttribute> {
    SOURCES
        .iter()
        .find(|(text, _)| *text == source)
        .map(|(_, attribute)| *attribute)
}

impl UserAttribute {
    /// The user's value of this attribute; None when the user has none or it is empty.
    pub fn value_of(self, user: &UserProfile) -> Option<&str> {
        use UserAttribute as U;
        let enterprise = user.enterprise.as_ref();
        let value = match self {
            U::UserName => Some(user.user_name.as_str()),
            U::DisplayName => Some(user.display_name.as_str()),
            U::NickName => user.nickname.as_deref(),
            U::FamilyName => Some(user.name.family_name.as_str()),
            U::GivenName => Some(user.name.given_name.as_str()),
            U::MiddleName => user.name.middle_name.as_deref(),
            U::FormattedName => user.name.formatted.as_deref(),
            U::HonorificPrefix => user.name.honorific_prefix.as_deref(),
            U::HonorificSuffix => user.name.honorific_suffix.as_deref(),
            U::PrimaryEmail => user
                .emails
                .iter()
                .find(|e| e.primary)
                .map(|e| e.value.as_str()),
            U::Email => user
                .emails
                .iter()
                .find(|e| e.primary)
                .or_else(|| user.emails.first())
                .map(|e| e.value.as_str()),
            U::WorkAddress(part) => work_address(user).and_then(|a| part.of(a)),
            U::WorkPhone => user
                .phone_numbers
                .iter()
                .flatten()
                .find(|p| p.kind.as_deref() == Some("work"))
                .and_then(|p| p.value.as_deref()),
            U::UserType => user.user_type.as_deref(),
            U::Title => user.title.as_deref(),
            U::Locale => user.locale.as_deref(),
            U::Timezone => user.timezone.as_deref(),
            U::PreferredLanguage => user.preferred_language.as_deref(),
            U::ProfileUrl => user.profile_url.as_deref(),
            U::EmployeeNumber => enterprise.and_then(|e| e.employee_number.as_deref()),
            U::CostCenter => enterprise.and_then(|e| e.cost_center.as_deref()),
            U::Organization => enterprise.and_then(|e| e.organization.as_deref()),
            U::Division => enterprise.and_then(|e| e.division.as_deref()),
            U::Department => enterprise.and_then(|e| e.department.as_deref()),
            U::Manager => enterprise
                .and_then(|e| e.manager.as_ref())
                .and_then(|m| m.value.as_deref()),
        };
        value.filter(|v| !v.is_empty())
    }
}

/// The first address of type `work`.
fn work_address(user: &UserProfile) -> Option<&Address> {
    user.addresses
        .iter()
        .flatten()
        .find(|a| a.kind.as_deref() == Some("work"))
}

impl AddressPart {
    fn of(self, a: &Address) -> Option<&str> {
        match self {
            AddressPart::StreetAddress => a.street_address.as_deref(),
            AddressPart::Locality => a.locality.as_deref(),
            AddressPart::Region => a.region.as_deref(),
            AddressPart::PostalCode => a.postal_code.as_deref(),
            AddressPart::Country => a.country.as_deref(),
            AddressPart::Formatted => a.formatted.as_deref(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::directory::user::{Email, Enterprise, Manager, Name, PhoneNumber};

    pub(crate) fn user() -> UserProfile {
        UserProfile {
            user_name: "ada".into(),
            display_name: "Ada Lovelace".into(),
            name: Name {
                family_name: "Lovelace".into(),
                given_name: "Ada".into(),
                middle_name: Some("Augusta".into()),
                ..Name::default()
            },
            emails: vec![Email {
                value: "ada@example.com".into(),
                kind: "work".into(),
                primary: true,
                verification_status: None,
            }],
            addresses: Some(vec![
                Address {
                    kind: Some("home".into()),
                    locality: Some("Marylebone".into()),
                    ..Address::default()
                },
                Address {
                    kind: Some("work".into()),
                    locality: Some("London".into()),
                    country: Some("GB".into()),
                    ..Address::default()
                },
            ]),
            phone_numbers: Some(vec![PhoneNumber {
                value: Some("+44 20 0000".into()),
                kind: Some("work".into()),
                primary: Some(true),
            }]),
            locale: Some("en-GB".into()),
            nickname: None,
            preferred_language: None,
            profile_url: None,
            timezone: Some(String::new()),
            title: Some("Analyst".into()),
            user_type: None,
            enterprise: Some(Enterprise {
                department: Some("Engines".into()),
                cost_center: Some("CC-7".into()),
                manager: Some(Manager {
                    value: Some("u-babbage".into()),
                }),
                ..Enterprise::default()
            }),
        }
    }

    fn value(source: &str, u: &UserProfile) -> Option<String> {
        parse(source)
            .unwrap_or_else(|| panic!("{source} parses"))
            .value_of(u)
            .map(str::to_string)
    }

    #[test]
    fn every_documented_source_parses_and_nothing_else() {
        for (text, attribute) in SOURCES {
            assert_eq!(parse(text), Some(*attribute), "{text}");
        }
        for bad in [
            "",
            "${user:email",
            "${user:Email}",
            "${path:enterprise.Department}",
            "${path:addresses[type eq 'work'].locality}",
            "${path:addresses[type eq \"home\"].locality}",
            "${path:password}",
            " ${user:email}",
            "user:email",
            "${aws:username}",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_come_from_the_profile() {
        let u = user();
        assert_eq!(
            value("${user:email}", &u).as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(
            value("${path:emails[primary eq true].value}", &u).as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(value("${user:name}", &u).as_deref(), Some("ada"));
        assert_eq!(value("${path:userName}", &u).as_deref(), Some("ada"));
        assert_eq!(
            value("${user:displayName}", &u).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(value("${user:familyName}", &u).as_deref(), Some("Lovelace"));
        assert_eq!(value("${path:name.givenName}", &u).as_deref(), Some("Ada"));
        assert_eq!(value("${user:middleName}", &u).as_deref(), Some("Augusta"));
        assert_eq!(
            value("${path:enterprise.department}", &u).as_deref(),
            Some("Engines")
        );
        assert_eq!(
            value("${path:enterprise.costCenter}", &u).as_deref(),
            Some("CC-7")
        );
        assert_eq!(
            value("${path:enterprise.manager.value}", &u).as_deref(),
            Some("u-babbage")
        );
        assert_eq!(value("${path:title}", &u).as_deref(), Some("Analyst"));
        assert_eq!(value("${path:locale}", &u).as_deref(), Some("en-GB"));
        assert_eq!(
            value("${path:addresses[type eq \"work\"].locality}", &u).as_deref(),
            Some("London"),
            "the work address, not the first one"
        );
        assert_eq!(
            value("${path:phoneNumbers[type eq \"work\"].value}", &u).as_deref(),
            Some("+44 20 0000")
        );
    }

    #[test]
    fn missing_and_empty_attributes_have_no_value() {
        let mut u = user();
        assert_eq!(value("${path:timezone}", &u), None, "empty");
        assert_eq!(value("${path:nickName}", &u), None);
        assert_eq!(value("${path:userType}", &u), None);
        assert_eq!(value("${path:enterprise.division}", &u), None);
        assert_eq!(
            value("${path:addresses[type eq \"work\"].postalCode}", &u),
            None
        );
        u.emails[0].primary = false;
        assert_eq!(value("${path:emails[primary eq true].value}", &u), None);
        assert_eq!(
            value("${user:email}", &u).as_deref(),
            Some("ada@example.com"),
            "${{user:email}} is the address whatever its flag"
        );
        u.enterprise = None;
        u.addresses = None;
        u.phone_numbers = None;
        assert_eq!(value("${path:enterprise.department}", &u), None);
        assert_eq!(value("${path:enterprise.manager.value}", &u), None);
        assert_eq!(
            value("${path:addresses[type eq \"work\"].locality}", &u),
            None
        );
        assert_eq!(
            value("${path:phoneNumbers[type eq \"work\"].value}", &u),
            None
        );
    }
}
