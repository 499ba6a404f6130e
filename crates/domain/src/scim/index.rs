//! Recognising the filters an index answers, so that the store turns them into indexed queries
//! instead of matching every resource. What to do with the rest (match over a bounded scan, or
//! refuse as too costly) is the caller's policy.

use super::filter::{CompValue, CompareOp, Filter};
use super::schema::{AttrRules, ResourceType};

/// The indexed attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexKey {
    /// `id` (users and groups).
    Id,
    /// `userName` (users).
    UserName,
    /// `externalId` (users and groups).
    ExternalId,
    /// `displayName` (groups).
    DisplayName,
    /// `members.value`, or `members[value eq …]` (groups having that member).
    MemberValue,
}

/// `key eq value`, compared with or without regard to case as the attribute's rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub key: IndexKey,
    pub value: String,
    pub case_exact: bool,
}

/// How a filter can be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The lookup's results are exactly the filter's.
    Exact(Lookup),
    /// The filter is an `and` one of whose operands is the lookup: its results, each matched
    /// against the whole filter, are the filter's.
    Narrowed(Lookup),
    /// No index helps.
    Scan,
}

/// The plan for `filter` over resources of type `rt`.
pub fn classify(filter: &Filter, rt: ResourceType) -> Plan {
    if let Some(lookup) = lookup(filter, rt) {
        return Plan::Exact(lookup);
    }
    if let Filter::And(items) = filter {
        // The most selective: ids first, members last.
        if let Some(best) = items
            .iter()
            .filter_map(|f| lookup(f, rt))
            .min_by_key(|l| l.key)
        {
            return Plan::Narrowed(best);
        }
    }
    Plan::Scan
}

/// The lookup `filter` is, when it is one: `attr eq "string"` on an indexed attribute.
fn lookup(filter: &Filter, rt: ResourceType) -> Option<Lookup> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(value),
        } => {
            let key = if path.is_core("id", None) {
                IndexKey::Id
            } else if path.is_core("externalId", None) {
                IndexKey::ExternalId
            } else if rt == ResourceType::User && path.is_core("userName", None) {
                IndexKey::UserName
            } else if rt == ResourceType::Group && path.is_core("displayName", None) {
                IndexKey::DisplayName
            } else if rt == ResourceType::Group && path.is_core("members", Some("value")) {
                IndexKey::MemberValue
            } else {
                return None;
            };
            Some(Lookup {
                key,
                value: value.clone(),
                case_exact: rt.case_exact(path),
            })
        }
        Filter::ValuePath { path, filter }
            if rt == ResourceType::Group && path.is_core("members", None) =>
        {
            match filter.as_ref() {
                Filter::Compare {
                    path: inner,
                    op: CompareOp::Eq,
                    value: CompValue::String(value),
                } if inner.is("value", None) => Some(Lookup {
                    key: IndexKey::MemberValue,
                    value: value.clone(),
                    case_exact: rt.case_exact(&path.clone().with_sub("value")),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter_parse::parse_filter;

    fn plan(text: &str, rt: ResourceType) -> Plan {
        classify(&parse_filter(text).unwrap(), rt)
    }

    fn lookup(key: IndexKey, value: &str, case_exact: bool) -> Lookup {
        Lookup {
            key,
            value: value.to_string(),
            case_exact,
        }
    }

    #[test]
    fn indexed_equalities() {
        use ResourceType::{Group, User};
        let cases = [
            (
                r#"userName eq "Bjensen""#,
                User,
                IndexKey::UserName,
                "Bjensen",
                false,
            ),
            (r#"USERNAME EQ "x""#, User, IndexKey::UserName, "x", false),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
                User,
                IndexKey::UserName,
                "x",
                false,
            ),
            (
                r#"externalId eq "E1""#,
                User,
                IndexKey::ExternalId,
                "E1",
                true,
            ),
            (
                r#"externalId eq "E1""#,
                Group,
                IndexKey::ExternalId,
                "E1",
                true,
            ),
            (r#"id eq "abc""#, User, IndexKey::Id, "abc", true),
            (r#"id eq "abc""#, Group, IndexKey::Id, "abc", true),
            (
                r#"displayName eq "Admins""#,
                Group,
                IndexKey::DisplayName,
                "Admins",
                false,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Admins""#,
                Group,
                IndexKey::DisplayName,
                "Admins",
                false,
            ),
            (
                r#"members.value eq "u1""#,
                Group,
                IndexKey::MemberValue,
                "u1",
                false,
            ),
            (
                r#"members[value eq "u1"]"#,
                Group,
                IndexKey::MemberValue,
                "u1",
                false,
            ),
        ];
        for (text, rt, key, value, exact) in cases {
            assert_eq!(
                plan(text, rt),
                Plan::Exact(lookup(key, value, exact)),
                "{text}"
            );
        }
    }

    #[test]
    fn an_and_with_an_indexed_operand_is_narrowed() {
        assert_eq!(
            plan(r#"active eq true and userName eq "a""#, ResourceType::User),
            Plan::Narrowed(lookup(IndexKey::UserName, "a", false))
        );
        assert_eq!(
            plan(
                r#"externalId eq "e" and title pr and id eq "i""#,
                ResourceType::User
            ),
            Plan::Narrowed(lookup(IndexKey::Id, "i", true))
        );
    }

    #[test]
    fn everything_else_scans() {
        use ResourceType::{Group, User};
        for (text, rt) in [
            (r#"userName ne "a""#, User),
            (r#"userName sw "a""#, User),
            (r#"userName eq 1"#, User),
            (r#"userName eq null"#, User),
            (r#"userName pr"#, User),
            (r#"userName eq "a" or userName eq "b""#, User),
            (r#"not (userName eq "a")"#, User),
            (r#"userName eq "a""#, Group),
            (r#"displayName eq "a""#, User),
            (r#"members.value eq "a""#, User),
            (r#"members[value eq "a" and type eq "User"]"#, Group),
            (r#"members[display eq "a"]"#, Group),
            (r#"members.display eq "a""#, Group),
            (r#"name.userName eq "a""#, User),
            (r#"userName.x eq "a""#, User),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "a""#,
                User,
            ),
            (r#"emails[value eq "a"]"#, User),
        ] {
            assert_eq!(plan(text, rt), Plan::Scan, "{text}");
        }
    }
}
