//! What matching and PATCH need to know of the User, enterprise User and Group schemas (RFC 7643
//! §3.1, §4, §8.7): which attributes compare case-exactly, which are dateTimes, which are
//! booleans. Every attribute not listed is `caseExact: false` (the RFC's default) and a string.

use super::path::{AttrPath, ENTERPRISE_USER};

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

/// The attributes with `caseExact: true` in RFC 7643: the common `id` and `externalId`
/// (§3.1), the `meta` values that are identifiers (`resourceType` per §3.1; `location`, a URI,
/// and `version`, an opaque ETag, the same way), and the binary certificate values (§4.1.2).
/// The same in both resource types; every other attribute (userName, displayName, emails.value,
/// members.value, the enterprise extension…) is `caseExact: false`.
const CASE_EXACT: &[(&str, Option<&str>)] = &[
    ("id", None),
    ("externalId", None),
    ("meta", Some("resourceType")),
    ("meta", Some("location")),
    ("meta", Some("version")),
    ("x509Certificates", Some("value")),
];

impl AttrRules for ResourceType {
    fn case_exact(&self, path: &AttrPath) -> bool {
        path.in_core_schema() && CASE_EXACT.iter().any(|(n, s)| path.is(n, *s))
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
    path.in_core_schema()
        && (path.is("meta", Some("created")) || path.is("meta", Some("lastModified")))
}

/// The boolean attributes of the User and Group schemas: `active`, and `primary` of every
/// multi-valued attribute.
pub fn is_boolean(path: &AttrPath) -> bool {
    path.in_core_schema()
        && (path.is("active", None)
            || path
                .sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("primary")))
}

/// The complex attributes that hold one value with sub-attributes (not a list): `name`, and
/// the enterprise extension's `manager`.
pub fn is_single_complex(path: &AttrPath) -> bool {
    path.sub.is_none()
        && ((path.in_core_schema() && path.name.eq_ignore_ascii_case("name"))
            || (is_enterprise(path) && path.name.eq_ignore_ascii_case("manager")))
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
    use crate::scim::path::{CORE_GROUP, CORE_USER};

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
                "x509Certificates.value",
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
        assert!(!is_date_time(&path("meta")));
        assert!(!is_date_time(&path(&format!(
            "{ENTERPRISE_USER}:meta.created"
        ))));
        assert!(is_boolean(&path("active")));
        assert!(is_boolean(&path("emails.primary")));
        assert!(is_boolean(&path("addresses.Primary")));
        assert!(!is_boolean(&path("primary.x")));
        assert!(!is_boolean(&path("title")));
        assert!(is_single_complex(&path("name")));
        assert!(is_single_complex(&path(&format!(
            "{ENTERPRISE_USER}:manager"
        ))));
        assert!(!is_single_complex(&path("manager")));
        assert!(!is_single_complex(&path("emails")));
        assert!(!is_single_complex(&path("name.givenName")));
    }
}
