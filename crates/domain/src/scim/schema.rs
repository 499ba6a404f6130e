//! The attributes of the User, enterprise User and Group schemas (RFC 7643 §3.1, §4, §8.7) as
//! matching and PATCH need them: type, plurality and whether strings compare case-exactly. An
//! attribute not listed is `caseExact: false` (the RFC's default).

use super::path::{AttrPath, CORE_GROUP, CORE_USER, ENTERPRISE_USER};

/// The resource types this server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    User,
    Group,
}

/// Per-attribute rules for matching. Paths are absolute (`emails.value`, not `value` inside
/// `emails[…]`).
pub trait AttrRules {
    /// Whether string values of `path` compare with regard to case.
    fn case_exact(&self, path: &AttrPath) -> bool;

    /// Whether `path` holds dateTimes, compared chronologically.
    fn date_time(&self, path: &AttrPath) -> bool {
        is_date_time(path)
    }
}

/// Which schema an attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// The common attributes of every resource (RFC 7643 §3.1): `id`, `externalId`, `meta`.
    Common,
    /// `urn:ietf:params:scim:schemas:core:2.0:User` (§4.1).
    User,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (§4.3).
    EnterpriseUser,
    /// `urn:ietf:params:scim:schemas:core:2.0:Group` (§4.2).
    Group,
}

/// The data types of RFC 7643 §2.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    DateTime,
    Reference,
    Binary,
    Complex,
}

/// One attribute (`sub: None`) or sub-attribute of the schemas, as RFC 7643 §3.1, §4 and §8.7
/// define it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub schema: Schema,
    pub name: &'static str,
    pub sub: Option<&'static str>,
    pub kind: Kind,
    /// Multi-valued (for a sub-attribute: its attribute is).
    pub multi: bool,
    pub case_exact: bool,
}

const fn attr(schema: Schema, name: &'static str, kind: Kind, multi: bool) -> AttrDef {
    AttrDef {
        schema,
        name,
        sub: None,
        kind,
        multi,
        case_exact: false,
    }
}

const fn sub(
    schema: Schema,
    name: &'static str,
    sub: &'static str,
    kind: Kind,
    multi: bool,
) -> AttrDef {
    AttrDef {
        schema,
        name,
        sub: Some(sub),
        kind,
        multi,
        case_exact: false,
    }
}

const fn exact(mut def: AttrDef) -> AttrDef {
    def.case_exact = true;
    def
}

use Kind::{Binary, Boolean, Complex, DateTime, Reference, String as Str};
use Schema::{Common, EnterpriseUser, Group, User};

/// The attributes of the schemas. `caseExact` is true only where RFC 7643 says so: `id` and
/// `externalId` (§3.1), `meta.resourceType` (§3.1) — and, here, `meta.location` (a URI) and
/// `meta.version` (an opaque ETag) — and the binary `x509Certificates.value`; every other
/// string compares without regard to case.
pub const ATTRIBUTES: &[AttrDef] = &[
    exact(attr(Common, "id", Str, false)),
    exact(attr(Common, "externalId", Str, false)),
    attr(Common, "meta", Complex, false),
    exact(sub(Common, "meta", "resourceType", Str, false)),
    sub(Common, "meta", "created", DateTime, false),
    sub(Common, "meta", "lastModified", DateTime, false),
    exact(sub(Common, "meta", "location", Reference, false)),
    exact(sub(Common, "meta", "version", Str, false)),
    attr(User, "userName", Str, false),
    attr(User, "name", Complex, false),
    sub(User, "name", "formatted", Str, false),
    sub(User, "name", "familyName", Str, false),
    sub(User, "name", "givenName", Str, false),
    sub(User, "name", "middleName", Str, false),
    sub(User, "name", "honorificPrefix", Str, false),
    sub(User, "name", "honorificSuffix", Str, false),
    attr(User, "displayName", Str, false),
    attr(User, "nickName", Str, false),
    attr(User, "profileUrl", Reference, false),
    attr(User, "title", Str, false),
    attr(User, "userType", Str, false),
    attr(User, "preferredLanguage", Str, false),
    attr(User, "locale", Str, false),
    attr(User, "timezone", Str, false),
    attr(User, "active", Boolean, false),
    attr(User, "password", Str, false),
    attr(User, "emails", Complex, true),
    sub(User, "emails", "value", Str, true),
    sub(User, "emails", "display", Str, true),
    sub(User, "emails", "type", Str, true),
    sub(User, "emails", "primary", Boolean, true),
    attr(User, "phoneNumbers", Complex, true),
    sub(User, "phoneNumbers", "value", Str, true),
    sub(User, "phoneNumbers", "display", Str, true),
    sub(User, "phoneNumbers", "type", Str, true),
    sub(User, "phoneNumbers", "primary", Boolean, true),
    attr(User, "ims", Complex, true),
    sub(User, "ims", "value", Str, true),
    sub(User, "ims", "display", Str, true),
    sub(User, "ims", "type", Str, true),
    sub(User, "ims", "primary", Boolean, true),
    attr(User, "photos", Complex, true),
    sub(User, "photos", "value", Reference, true),
    sub(User, "photos", "display", Str, true),
    sub(User, "photos", "type", Str, true),
    sub(User, "photos", "primary", Boolean, true),
    attr(User, "addresses", Complex, true),
    sub(User, "addresses", "formatted", Str, true),
    sub(User, "addresses", "streetAddress", Str, true),
    sub(User, "addresses", "locality", Str, true),
    sub(User, "addresses", "region", Str, true),
    sub(User, "addresses", "postalCode", Str, true),
    sub(User, "addresses", "country", Str, true),
    sub(User, "addresses", "type", Str, true),
    sub(User, "addresses", "primary", Boolean, true),
    attr(User, "groups", Complex, true),
    sub(User, "groups", "value", Str, true),
    sub(User, "groups", "$ref", Reference, true),
    sub(User, "groups", "display", Str, true),
    sub(User, "groups", "type", Str, true),
    attr(User, "entitlements", Complex, true),
    sub(User, "entitlements", "value", Str, true),
    sub(User, "entitlements", "display", Str, true),
    sub(User, "entitlements", "type", Str, true),
    sub(User, "entitlements", "primary", Boolean, true),
    attr(User, "roles", Complex, true),
    sub(User, "roles", "value", Str, true),
    sub(User, "roles", "display", Str, true),
    sub(User, "roles", "type", Str, true),
    sub(User, "roles", "primary", Boolean, true),
    attr(User, "x509Certificates", Complex, true),
    exact(sub(User, "x509Certificates", "value", Binary, true)),
    sub(User, "x509Certificates", "display", Str, true),
    sub(User, "x509Certificates", "type", Str, true),
    sub(User, "x509Certificates", "primary", Boolean, true),
    attr(EnterpriseUser, "employeeNumber", Str, false),
    attr(EnterpriseUser, "costCenter", Str, false),
    attr(EnterpriseUser, "organization", Str, false),
    attr(EnterpriseUser, "division", Str, false),
    attr(EnterpriseUser, "department", Str, false),
    attr(EnterpriseUser, "manager", Complex, false),
    sub(EnterpriseUser, "manager", "value", Str, false),
    sub(EnterpriseUser, "manager", "$ref", Reference, false),
    sub(EnterpriseUser, "manager", "displayName", Str, false),
    attr(Group, "displayName", Str, false),
    attr(Group, "members", Complex, true),
    sub(Group, "members", "value", Str, true),
    sub(Group, "members", "$ref", Reference, true),
    sub(Group, "members", "display", Str, true),
    sub(Group, "members", "type", Str, true),
];

/// The schemas `path` may be in: those its URN names, or for an unqualified path the common and
/// core ones and then the extensions (as matching looks them up). `rt` narrows to one resource
/// type.
fn schemas_of(path: &AttrPath, rt: Option<ResourceType>) -> &'static [Schema] {
    let user = rt != Some(ResourceType::Group);
    let group = rt != Some(ResourceType::User);
    match path.schema.as_deref() {
        None => match (user, group) {
            (true, true) => &[Common, User, Group, EnterpriseUser],
            (true, false) => &[Common, User, EnterpriseUser],
            _ => &[Common, Group],
        },
        Some(s) if s.eq_ignore_ascii_case(CORE_USER) && user => &[Common, User],
        Some(s) if s.eq_ignore_ascii_case(CORE_GROUP) && group => &[Common, Group],
        Some(s) if s.eq_ignore_ascii_case(ENTERPRISE_USER) && user => &[EnterpriseUser],
        Some(_) => &[],
    }
}

/// The definition of `path` in the schemas of `rt` (of either resource type when `None`).
pub fn definition(path: &AttrPath, rt: Option<ResourceType>) -> Option<&'static AttrDef> {
    schemas_of(path, rt).iter().find_map(|schema| {
        ATTRIBUTES
            .iter()
            .find(|d| d.schema == *schema && path.is(d.name, d.sub))
    })
}

impl AttrRules for ResourceType {
    fn case_exact(&self, path: &AttrPath) -> bool {
        definition(path, Some(*self)).is_some_and(|d| d.case_exact)
    }
}

/// A caller's own rule: the function says whether a path is case-exact.
impl<F: Fn(&AttrPath) -> bool> AttrRules for F {
    fn case_exact(&self, path: &AttrPath) -> bool {
        self(path)
    }
}

/// `meta.created` and `meta.lastModified`.
pub fn is_date_time(path: &AttrPath) -> bool {
    definition(path, None).is_some_and(|d| d.kind == DateTime)
}

/// The boolean attributes: `active`, and `primary` of the multi-valued attributes that have one.
pub fn is_boolean(path: &AttrPath) -> bool {
    definition(path, None).is_some_and(|d| d.kind == Boolean)
}

/// Whether the path is qualified by the enterprise User extension.
pub fn is_enterprise(path: &AttrPath) -> bool {
    path.schema
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(ENTERPRISE_USER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).unwrap()
    }

    #[test]
    fn case_exact_follows_rfc_7643() {
        for rt in [ResourceType::User, ResourceType::Group] {
            for exact in [
                "id",
                "ID",
                "externalId",
                "meta.resourceType",
                "meta.location",
                "meta.version",
            ] {
                assert!(rt.case_exact(&path(exact)), "{exact}");
            }
            for not_exact in [
                "userName",
                "displayName",
                "name.familyName",
                "emails.value",
                "emails.type",
                "members.value",
                "members.display",
                "title",
                "meta.created",
            ] {
                assert!(!rt.case_exact(&path(not_exact)), "{not_exact}");
            }
        }
        assert!(ResourceType::User.case_exact(&path("x509Certificates.value")));
        assert!(!ResourceType::Group.case_exact(&path("x509Certificates.value")));
        assert!(ResourceType::User.case_exact(&path(&format!("{CORE_USER}:externalId"))));
        assert!(ResourceType::Group.case_exact(&path(&format!("{CORE_GROUP}:id"))));
        // An extension's `id` is not the resource's.
        assert!(!ResourceType::User.case_exact(&path(&format!("{ENTERPRISE_USER}:id"))));
        assert!(!ResourceType::User.case_exact(&path(&format!("{ENTERPRISE_USER}:employeeNumber"))));
        let everything_exact = |_: &AttrPath| true;
        assert!(everything_exact.case_exact(&path("userName")));
        assert!(everything_exact.date_time(&path("meta.lastModified")));
    }

    #[test]
    fn kinds_of_attributes() {
        assert!(is_date_time(&path("meta.created")));
        assert!(is_date_time(&path("Meta.LastModified")));
        assert!(is_date_time(&path(&format!(
            "{CORE_GROUP}:meta.lastModified"
        ))));
        assert!(!is_date_time(&path("meta")));
        assert!(!is_date_time(&path(&format!(
            "{ENTERPRISE_USER}:meta.created"
        ))));
        assert!(is_boolean(&path("active")));
        assert!(is_boolean(&path("emails.primary")));
        assert!(is_boolean(&path("addresses.Primary")));
        assert!(!is_boolean(&path("groups.primary")));
        assert!(!is_boolean(&path("primary.x")));
        assert!(!is_boolean(&path("title")));
        assert!(!is_boolean(&path("urn:example:x:active")));
        assert!(is_enterprise(&path(&format!("{ENTERPRISE_USER}:manager"))));
        assert!(!is_enterprise(&path("manager")));
    }

    #[test]
    fn definitions_by_resource_type() {
        use ResourceType::{Group as G, User as U};
        let d = |text: &str, rt| definition(&path(text), rt).map(|d| (d.schema, d.kind, d.multi));
        assert_eq!(d("userName", Some(U)), Some((User, Str, false)));
        assert_eq!(d("userName", Some(G)), None);
        assert_eq!(d("members.value", Some(G)), Some((Group, Str, true)));
        assert_eq!(d("members", Some(U)), None);
        assert_eq!(d("displayName", Some(G)), Some((Group, Str, false)));
        assert_eq!(d("displayName", None), Some((User, Str, false)));
        assert_eq!(
            d("employeeNumber", Some(U)),
            Some((EnterpriseUser, Str, false))
        );
        assert_eq!(d("employeeNumber", Some(G)), None);
        assert_eq!(
            d(&format!("{ENTERPRISE_USER}:manager"), None),
            Some((EnterpriseUser, Complex, false))
        );
        assert_eq!(d(&format!("{CORE_USER}:manager"), None), None);
        assert_eq!(d(&format!("{CORE_GROUP}:userName"), None), None);
        assert_eq!(d(&format!("{CORE_USER}:id"), Some(G)), None);
        assert_eq!(d("id", Some(G)), Some((Common, Str, false)));
        assert_eq!(d("emails", None), Some((User, Complex, true)));
        assert_eq!(
            d("x509Certificates.value", None),
            Some((User, Binary, true))
        );
        assert_eq!(d("meta.location", None), Some((Common, Reference, false)));
        // Every entry is found by its own path, and no path is listed twice.
        for (i, def) in ATTRIBUTES.iter().enumerate() {
            let mut p = AttrPath::new(def.name);
            if let Some(s) = def.sub {
                p = p.with_sub(s);
            }
            if def.schema == EnterpriseUser {
                p = p.in_schema(ENTERPRISE_USER);
            }
            let rt = match def.schema {
                Group => Some(G),
                User | EnterpriseUser => Some(U),
                Common => None,
            };
            assert_eq!(definition(&p, rt), Some(def), "{p}");
            assert!(
                !ATTRIBUTES[..i]
                    .iter()
                    .any(|o| o.schema == def.schema && o.name == def.name && o.sub == def.sub),
                "{p} twice"
            );
            if def.sub.is_some() {
                let parent = ATTRIBUTES
                    .iter()
                    .find(|o| o.schema == def.schema && o.name == def.name && o.sub.is_none());
                assert!(
                    parent.is_some_and(|o| o.kind == Complex && o.multi == def.multi),
                    "{p}"
                );
            }
        }
    }
}
