//! SCIM resources and the identity store: a User or Group in its SCIM JSON form (RFC 7643 §4)
//! read into the profile the identity store keeps, and written back out with `meta`.
//!
//! Attribute names are matched without regard to case (RFC 7643 §2.1). Read-only attributes
//! (`id`, `meta`, a user's `groups`) in a request are ignored; attributes the identity store does
//! not hold are refused, never dropped silently.

use super::error::ScimError;
use super::path::{CORE_GROUP, CORE_USER, ENTERPRISE_USER};
use crate::directory::group::Group;
use crate::directory::group::GroupProfile;
use crate::directory::user::{
    Address, Email, Enterprise, Manager, Name, PhoneNumber, User, UserProfile,
};
use crate::directory::ExternalId;
use serde_json::{json, Map, Value};

/// What a SCIM request says of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub profile: UserProfile,
    /// `active`, when the request names it.
    pub active: Option<bool>,
    pub external_id: Option<String>,
}

/// What a SCIM request says of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroup {
    pub profile: GroupProfile,
    pub external_id: Option<String>,
    /// Member user ids, deduplicated, in the order given.
    pub members: Vec<String>,
}

/// Where a tenant's resources live: `<public URL>/<tenant id>/scim/v2`.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub tenant_id: &'a str,
    pub base_url: &'a str,
}

/// The external id a tenant gave a principal: the one whose issuer is the tenant.
pub fn external_id_of<'e>(ids: &'e [ExternalId], tenant_id: &str) -> Option<&'e str> {
    ids.iter()
        .find(|e| e.issuer == tenant_id)
        .map(|e| e.id.as_str())
}

/// `ids` with the tenant's external id set to `id` (or removed), other issuers' ids kept.
pub fn with_external_id(
    mut ids: Vec<ExternalId>,
    tenant_id: &str,
    id: Option<&str>,
) -> Vec<ExternalId> {
    ids.retain(|e| e.issuer != tenant_id);
    if let Some(id) = id {
        ids.push(ExternalId {
            issuer: tenant_id.to_string(),
            id: id.to_string(),
        });
    }
    ids
}

/// Milliseconds since the epoch as an RFC 3339 UTC dateTime with milliseconds.
pub fn date_time(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            let format = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            );
            t.format(&format).ok()
        })
        .unwrap_or_default()
}

/// The weak ETag of a resource last written at `updated_at` (milliseconds).
pub fn version(updated_at: i64) -> String {
    format!("W/\"{updated_at}\"")
}

fn meta(resource_type: &str, location: String, created: i64, updated: i64) -> Value {
    json!({
        "resourceType": resource_type,
        "created": date_time(created),
        "lastModified": date_time(updated),
        "location": location,
        "version": version(updated),
    })
}

/// A user as SCIM shows it.
pub fn user_to_scim(user: &User, origin: Origin<'_>) -> Value {
    let p = &user.profile;
    let mut out = Map::new();
    let mut schemas = vec![Value::from(CORE_USER)];
    if p.enterprise.is_some() {
        schemas.push(Value::from(ENTERPRISE_USER));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), Value::from(user.user_id.as_str()));
    if let Some(ext) = external_id_of(&user.external_ids, origin.tenant_id) {
        out.insert("externalId".into(), Value::from(ext));
    }
    out.insert("userName".into(), Value::from(p.user_name.as_str()));
    out.insert("name".into(), name_to_scim(&p.name));
    out.insert("displayName".into(), Value::from(p.display_name.as_str()));
    let optional = [
        ("nickName", &p.nickname),
        ("profileUrl", &p.profile_url),
        ("title", &p.title),
        ("userType", &p.user_type),
        ("preferredLanguage", &p.preferred_language),
        ("locale", &p.locale),
        ("timezone", &p.timezone),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            out.insert(key.into(), Value::from(v.as_str()));
        }
    }
    if user.active_assigned {
        out.insert("active".into(), Value::Bool(user.enabled));
    }
    let emails = p
        .emails
        .iter()
        .map(|e| json!({"value": e.value, "type": e.kind, "primary": e.primary}))
        .collect();
    out.insert("emails".into(), Value::Array(emails));
    if let Some(phones) = &p.phone_numbers {
        let phones = phones.iter().map(phone_to_scim).collect();
        out.insert("phoneNumbers".into(), Value::Array(phones));
    }
    if let Some(addresses) = &p.addresses {
        let addresses = addresses.iter().map(address_to_scim).collect();
        out.insert("addresses".into(), Value::Array(addresses));
    }
    if let Some(e) = &p.enterprise {
        out.insert(
            ENTERPRISE_USER.into(),
            enterprise_to_scim(e, origin.base_url),
        );
    }
    let location = format!("{}/Users/{}", origin.base_url, user.user_id);
    out.insert(
        "meta".into(),
        meta("User", location, user.created_at, user.updated_at),
    );
    Value::Object(out)
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), Value::from(v.as_str()));
    }
}

fn name_to_scim(n: &Name) -> Value {
    let mut m = Map::new();
    insert_some(&mut m, "formatted", &n.formatted);
    m.insert("familyName".into(), Value::from(n.family_name.as_str()));
    m.insert("givenName".into(), Value::from(n.given_name.as_str()));
    insert_some(&mut m, "middleName", &n.middle_name);
    insert_some(&mut m, "honorificPrefix", &n.honorific_prefix);
    insert_some(&mut m, "honorificSuffix", &n.honorific_suffix);
    Value::Object(m)
}

fn phone_to_scim(p: &PhoneNumber) -> Value {
    let mut m = Map::new();
    insert_some(&mut m, "value", &p.value);
    insert_some(&mut m, "type", &p.kind);
    if let Some(primary) = p.primary {
        m.insert("primary".into(), Value::Bool(primary));
    }
    Value::Object(m)
}

fn address_to_scim(a: &Address) -> Value {
    let mut m = Map::new();
    insert_some(&mut m, "formatted", &a.formatted);
    insert_some(&mut m, "streetAddress", &a.street_address);
    insert_some(&mut m, "locality", &a.locality);
    insert_some(&mut m, "region", &a.region);
    insert_some(&mut m, "postalCode", &a.postal_code);
    insert_some(&mut m, "country", &a.country);
    insert_some(&mut m, "type", &a.kind);
    if let Some(primary) = a.primary {
        m.insert("primary".into(), Value::Bool(primary));
    }
    Value::Object(m)
}

fn enterprise_to_scim(e: &Enterprise, base_url: &str) -> Value {
    let mut m = Map::new();
    insert_some(&mut m, "employeeNumber", &e.employee_number);
    insert_some(&mut m, "costCenter", &e.cost_center);
    insert_some(&mut m, "organization", &e.organization);
    insert_some(&mut m, "division", &e.division);
    insert_some(&mut m, "department", &e.department);
    if let Some(Manager { value: Some(v) }) = &e.manager {
        m.insert(
            "manager".into(),
            json!({ "value": v, "$ref": format!("{base_url}/Users/{v}") }),
        );
    }
    Value::Object(m)
}

/// A group as SCIM shows it; `members` when they were read (not excluded).
pub fn group_to_scim(group: &Group, members: Option<&[String]>, origin: Origin<'_>) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([CORE_GROUP]));
    out.insert("id".into(), Value::from(group.group_id.as_str()));
    if let Some(ext) = external_id_of(&group.external_ids, origin.tenant_id) {
        out.insert("externalId".into(), Value::from(ext));
    }
    out.insert(
        "displayName".into(),
        Value::from(group.profile.display_name.as_str()),
    );
    if let Some(members) = members {
        let list = members
            .iter()
            .map(|id| {
                json!({
                    "value": id,
                    "$ref": format!("{}/Users/{id}", origin.base_url),
                    "type": "User",
                })
            })
            .collect();
        out.insert("members".into(), Value::Array(list));
    }
    let location = format!("{}/Groups/{}", origin.base_url, group.group_id);
    out.insert(
        "meta".into(),
        meta("Group", location, group.created_at, group.updated_at),
    );
    Value::Object(out)
}

/// The members of a JSON object, keyed by lower-cased name.
struct Fields<'v> {
    items: Vec<(String, &'v Value)>,
}

impl<'v> Fields<'v> {
    fn of(value: &'v Value, what: &str) -> Result<Self, ScimError> {
        let Some(map) = value.as_object() else {
            return Err(ScimError::invalid_syntax(format!(
                "{what} is not a JSON object"
            )));
        };
        Ok(Fields {
            items: map
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        })
    }

    /// The value of `key` (lower case), a JSON null being no value.
    fn get(&self, key: &str) -> Option<&'v Value> {
        self.items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }

    fn string(&self, key: &str, shown: &str) -> Result<Option<String>, ScimError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{shown} must be a string"
            ))),
        }
    }

    fn required(&self, key: &str, shown: &str) -> Result<String, ScimError> {
        self.string(key, shown)?
            .ok_or_else(|| ScimError::invalid_value(format!("{shown} is required")))
    }

    fn boolean(&self, key: &str, shown: &str) -> Result<Option<bool>, ScimError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => as_bool(v)
                .map(Some)
                .ok_or_else(|| ScimError::invalid_value(format!("{shown} must be a boolean"))),
        }
    }

    /// Refuses a key outside `known`.
    fn only(&self, known: &[&str], what: &str) -> Result<(), ScimError> {
        match self
            .items
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((k, _)) => Err(ScimError::invalid_value(format!(
                "{what}{k} is not an attribute this identity store holds"
            ))),
            None => Ok(()),
        }
    }
}

/// `true`, `false`, or the strings directories send for them (`"True"`, `"false"`).
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

const USER_KEYS: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "groups",
    "externalid",
    "username",
    "name",
    "displayname",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phonenumbers",
    "addresses",
];

fn enterprise_key() -> String {
    ENTERPRISE_USER.to_ascii_lowercase()
}

/// Requests must list their schemas (RFC 7643 §3); the list must name `core`.
fn check_schemas(f: &Fields<'_>, core: &str) -> Result<(), ScimError> {
    let listed = match f.get("schemas") {
        Some(Value::Array(items)) => items
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(core))),
        Some(Value::String(s)) => s.eq_ignore_ascii_case(core),
        _ => false,
    };
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "schemas must list {core}"
        )))
    }
}

/// Reads a User of a create or replace request.
pub fn user_from_scim(body: &Value) -> Result<ScimUser, ScimError> {
    let f = Fields::of(body, "the body")?;
    check_schemas(&f, CORE_USER)?;
    let ent_key = enterprise_key();
    let mut known: Vec<&str> = USER_KEYS.to_vec();
    known.push(&ent_key);
    if f.get("password").is_some() {
        return Err(ScimError::mutability(
            "password cannot be set through SCIM: users choose their password when they first sign in",
        ));
    }
    f.only(&known, "")?;
    let name = match f.get("name") {
        Some(v) => name_from(v)?,
        None => return Err(ScimError::invalid_value("name is required")),
    };
    let emails = match f.get("emails") {
        Some(v) => emails_from(v)?,
        None => return Err(ScimError::invalid_value("emails is required")),
    };
    let phone_numbers = f.get("phonenumbers").map(phones_from).transpose()?;
    let addresses = f.get("addresses").map(addresses_from).transpose()?;
    let enterprise = f.get(&ent_key).map(enterprise_from).transpose()?;
    let profile = UserProfile {
        user_name: f.required("username", "userName")?,
        display_name: f.required("displayname", "displayName")?,
        name,
        emails,
        addresses: addresses.filter(|a| !a.is_empty()),
        phone_numbers: phone_numbers.filter(|p| !p.is_empty()),
        locale: f.string("locale", "locale")?,
        nickname: f.string("nickname", "nickName")?,
        preferred_language: f.string("preferredlanguage", "preferredLanguage")?,
        profile_url: f.string("profileurl", "profileUrl")?,
        timezone: f.string("timezone", "timezone")?,
        title: f.string("title", "title")?,
        user_type: f.string("usertype", "userType")?,
        enterprise: enterprise.filter(|e| *e != Enterprise::default()),
    };
    profile
        .validate()
        .map_err(|e| ScimError::invalid_value(scim_names(&e.message)))?;
    Ok(ScimUser {
        profile,
        active: f.boolean("active", "active")?,
        external_id: external_id_from(&f)?,
    })
}

fn external_id_from(f: &Fields<'_>) -> Result<Option<String>, ScimError> {
    let ext = f.string("externalid", "externalId")?;
    if let Some(id) = &ext {
        if id.is_empty() || id.chars().count() > 256 || id.chars().any(char::is_control) {
            return Err(ScimError::invalid_value(
                "externalId must hold 1 to 256 characters and no control characters",
            ));
        }
    }
    Ok(ext)
}

fn name_from(v: &Value) -> Result<Name, ScimError> {
    let f = Fields::of(v, "name")?;
    f.only(
        &[
            "formatted",
            "familyname",
            "givenname",
            "middlename",
            "honorificprefix",
            "honorificsuffix",
        ],
        "name.",
    )?;
    Ok(Name {
        family_name: f.required("familyname", "name.familyName")?,
        given_name: f.required("givenname", "name.givenName")?,
        formatted: f.string("formatted", "name.formatted")?,
        middle_name: f.string("middlename", "name.middleName")?,
        honorific_prefix: f.string("honorificprefix", "name.honorificPrefix")?,
        honorific_suffix: f.string("honorificsuffix", "name.honorificSuffix")?,
    })
}

fn elements<'v>(v: &'v Value, shown: &str) -> Result<&'v [Value], ScimError> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(ScimError::invalid_value(format!(
            "{shown} must be an array"
        ))),
    }
}

/// The identity store holds one value of each multi-valued attribute.
fn at_most_one(items: &[Value], shown: &str) -> Result<(), ScimError> {
    if items.len() > 1 {
        return Err(ScimError::invalid_value(format!(
            "{shown} holds {} values; this identity store keeps one (send the primary one only)",
            items.len()
        )));
    }
    Ok(())
}

fn emails_from(v: &Value) -> Result<Vec<Email>, ScimError> {
    let items = elements(v, "emails")?;
    at_most_one(items, "emails")?;
    items
        .iter()
        .map(|item| {
            let f = Fields::of(item, "an element of emails")?;
            f.only(&["value", "type", "primary", "display"], "emails.")?;
            Ok(Email {
                value: f.required("value", "emails.value")?,
                kind: f.required("type", "emails.type")?,
                primary: f.boolean("primary", "emails.primary")?.unwrap_or(true),
                verification_status: None,
            })
        })
        .collect()
}

fn phones_from(v: &Value) -> Result<Vec<PhoneNumber>, ScimError> {
    let items = elements(v, "phoneNumbers")?;
    at_most_one(items, "phoneNumbers")?;
    items
        .iter()
        .map(|item| {
            let f = Fields::of(item, "an element of phoneNumbers")?;
            f.only(&["value", "type", "primary", "display"], "phoneNumbers.")?;
            Ok(PhoneNumber {
                value: f.string("value", "phoneNumbers.value")?,
                kind: f.string("type", "phoneNumbers.type")?,
                primary: f.boolean("primary", "phoneNumbers.primary")?,
            })
        })
        .collect()
}

fn addresses_from(v: &Value) -> Result<Vec<Address>, ScimError> {
    let items = elements(v, "addresses")?;
    at_most_one(items, "addresses")?;
    items
        .iter()
        .map(|item| {
            let f = Fields::of(item, "an element of addresses")?;
            f.only(
                &[
                    "formatted",
                    "streetaddress",
                    "locality",
                    "region",
                    "postalcode",
                    "country",
                    "type",
                    "primary",
                ],
                "addresses.",
            )?;
            Ok(Address {
                formatted: f.string("formatted", "addresses.formatted")?,
                street_address: f.string("streetaddress", "addresses.streetAddress")?,
                locality: f.string("locality", "addresses.locality")?,
                region: f.string("region", "addresses.region")?,
                postal_code: f.string("postalcode", "addresses.postalCode")?,
                country: f.string("country", "addresses.country")?,
                kind: f.string("type", "addresses.type")?,
                primary: f.boolean("primary", "addresses.primary")?,
            })
        })
        .collect()
}

fn enterprise_from(v: &Value) -> Result<Enterprise, ScimError> {
    let f = Fields::of(v, ENTERPRISE_USER)?;
    f.only(
        &[
            "employeenumber",
            "costcenter",
            "organization",
            "division",
            "department",
            "manager",
        ],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
    )?;
    let manager = match f.get("manager") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(v @ Value::Object(_)) => {
            let m = Fields::of(v, "manager")?;
            m.only(&["value", "$ref", "displayname"], "manager.")?;
            m.string("value", "manager.value")?
        }
        Some(_) => return Err(ScimError::invalid_value("manager must be an object")),
    };
    Ok(Enterprise {
        employee_number: f.string("employeenumber", "employeeNumber")?,
        cost_center: f.string("costcenter", "costCenter")?,
        organization: f.string("organization", "organization")?,
        division: f.string("division", "division")?,
        department: f.string("department", "department")?,
        manager: manager.map(|value| Manager { value: Some(value) }),
    })
}

/// Reads a Group of a create or replace request.
pub fn group_from_scim(body: &Value) -> Result<ScimGroup, ScimError> {
    let f = Fields::of(body, "the body")?;
    check_schemas(&f, CORE_GROUP)?;
    f.only(
        &[
            "schemas",
            "id",
            "meta",
            "externalid",
            "displayname",
            "members",
        ],
        "",
    )?;
    let profile = GroupProfile {
        display_name: f.required("displayname", "displayName")?,
        description: None,
    };
    profile
        .validate()
        .map_err(|e| ScimError::invalid_value(scim_names(&e.message)))?;
    let members = match f.get("members") {
        None => Vec::new(),
        Some(v) => member_ids(elements(v, "members")?)?,
    };
    Ok(ScimGroup {
        profile,
        external_id: external_id_from(&f)?,
        members,
    })
}

/// The user ids of `members` elements (`{"value": id}`), deduplicated in order. A member of
/// another type than User is refused: groups do not nest in the identity store.
pub fn member_ids(items: &[Value]) -> Result<Vec<String>, ScimError> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let f = Fields::of(item, "an element of members")?;
        if let Some(kind) = f.string("type", "members.type")? {
            if !kind.eq_ignore_ascii_case("User") {
                return Err(ScimError::invalid_value(format!(
                    "members.type {kind} is not supported: only users are members of groups"
                )));
            }
        }
        let id = f.required("value", "members.value")?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The identity store's field names in a validation message, as SCIM names them.
fn scim_names(message: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("user_name", "userName"),
        ("display_name", "displayName"),
        ("family_name", "familyName"),
        ("given_name", "givenName"),
        ("middle_name", "middleName"),
        ("honorific_prefix", "honorificPrefix"),
        ("honorific_suffix", "honorificSuffix"),
        ("phone_numbers", "phoneNumbers"),
        ("street_address", "streetAddress"),
        ("postal_code", "postalCode"),
        ("preferred_language", "preferredLanguage"),
        ("profile_url", "profileUrl"),
        ("user_type", "userType"),
        ("nickname", "nickName"),
        ("cost_center", "costCenter"),
        ("employee_number", "employeeNumber"),
        ("enterprise.", ""),
    ];
    let mut out = message.to_string();
    for (from, to) in NAMES {
        out = out.replace(from, to);
    }
    out
}

#[cfg(test)]
mod tests;
