//! PATCH paths (RFC 7644 §3.5.2): `attrPath / valuePath [subAttr]`, e.g. `members`,
//! `name.givenName`, `members[value eq "…"]`, `emails[type eq "work"].value`,
//! `urn:…:enterprise:2.0:User:manager.value`; and, beyond the grammar, a whole extension
//! (`urn:…:enterprise:2.0:User`), which some clients send with an object value.

use super::error::ScimError;
use super::filter::Filter;
use super::filter_parse::parse_with;
use super::path::{AttrPath, ENTERPRISE_USER};
use std::fmt;

/// What a PATCH operation's `path` designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchPath {
    /// An attribute or one sub-attribute of it, possibly schema-qualified.
    Attr(AttrPath),
    /// The values of the multi-valued attribute `attr` that match `filter` (whose paths are
    /// sub-attribute names), or their sub-attribute `sub`.
    Filtered {
        attr: AttrPath,
        filter: Box<Filter>,
        sub: Option<String>,
    },
    /// A whole extension schema's attributes: the canonical URN.
    Extension(&'static str),
}

/// Parses a PATCH `path`. Bounds and errors are the filter parser's, as `invalidPath`.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, ScimError> {
    if text.trim().eq_ignore_ascii_case(ENTERPRISE_USER) {
        return Ok(PatchPath::Extension(ENTERPRISE_USER));
    }
    parse_with(text, |p| {
        let attr = p.parse_path(false)?;
        let path = if p.at_bracket() {
            let (filter, sub) = p.parse_brackets(&attr)?;
            PatchPath::Filtered {
                attr,
                filter: Box::new(filter),
                sub,
            }
        } else {
            PatchPath::Attr(attr)
        };
        p.expect_end("`[` or the end of the path")?;
        Ok(path)
    })
    .map_err(|problem| ScimError::invalid_path(format!("path: {}", problem.describe(text))))
}

impl PatchPath {
    /// The attribute the path is in (for `Filtered`, the multi-valued attribute; `None` for a
    /// whole extension).
    pub fn attr(&self) -> Option<&AttrPath> {
        match self {
            PatchPath::Attr(a) | PatchPath::Filtered { attr: a, .. } => Some(a),
            PatchPath::Extension(_) => None,
        }
    }

    /// The path a value written at this path is a value of: `emails[…].value` writes
    /// `emails.value`, `emails[…]` writes (elements of) `emails`.
    pub fn value_path(&self) -> Option<AttrPath> {
        match self {
            PatchPath::Attr(a) => Some(a.clone()),
            PatchPath::Filtered { attr, sub, .. } => Some(match sub {
                Some(s) => attr.clone().with_sub(s.clone()),
                None => attr.clone(),
            }),
            PatchPath::Extension(_) => None,
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(a) => write!(f, "{a}"),
            PatchPath::Filtered { attr, filter, sub } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(sub) = sub {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
            PatchPath::Extension(urn) => f.write_str(urn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{CompValue, CompareOp};
    use crate::scim::filter_parse::{MAX_DEPTH, MAX_FILTER_LEN};
    use crate::scim::ScimType;

    fn p(text: &str) -> PatchPath {
        parse_patch_path(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        let e = parse_patch_path(text).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidPath)));
        e.detail
    }

    fn eq(name: &str, v: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op: CompareOp::Eq,
            value: CompValue::String(v.to_string()),
        }
    }

    #[test]
    fn attribute_paths() {
        assert_eq!(p("members"), PatchPath::Attr(AttrPath::new("members")));
        assert_eq!(
            p("name.givenName"),
            PatchPath::Attr(AttrPath::new("name").with_sub("givenName"))
        );
        assert_eq!(
            p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
            PatchPath::Attr(AttrPath::new("manager").in_schema(ENTERPRISE_USER))
        );
        assert_eq!(
            p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
            PatchPath::Attr(
                AttrPath::new("manager")
                    .with_sub("value")
                    .in_schema(ENTERPRISE_USER)
            )
        );
        assert_eq!(
            p("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"),
            PatchPath::Attr(
                AttrPath::new("name")
                    .with_sub("familyName")
                    .in_schema("urn:ietf:params:scim:schemas:core:2.0:User")
            )
        );
        assert_eq!(
            p(" urn:ietf:params:scim:schemas:extension:enterprise:2.0:user "),
            PatchPath::Extension(ENTERPRISE_USER)
        );
    }

    #[test]
    fn value_paths() {
        let member = p(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#);
        assert_eq!(
            member,
            PatchPath::Filtered {
                attr: AttrPath::new("members"),
                filter: Box::new(eq("value", "2819c223-7f76-453a-919d-413861904646")),
                sub: None
            }
        );
        assert_eq!(member.value_path(), Some(AttrPath::new("members")));
        let work = p(r#"emails[type eq "work"].value"#);
        assert_eq!(
            work,
            PatchPath::Filtered {
                attr: AttrPath::new("emails"),
                filter: Box::new(eq("type", "work")),
                sub: Some("value".to_string())
            }
        );
        assert_eq!(work.attr(), Some(&AttrPath::new("emails")));
        assert_eq!(
            work.value_path(),
            Some(AttrPath::new("emails").with_sub("value"))
        );
        assert_eq!(
            p(r#"addresses[type eq "work" and (primary eq true or not (formatted pr))].locality"#)
                .to_string(),
            r#"addresses[type eq "work" and (primary eq true or not (formatted pr))].locality"#
        );
        assert_eq!(PatchPath::Extension(ENTERPRISE_USER).attr(), None);
        assert_eq!(PatchPath::Extension(ENTERPRISE_USER).value_path(), None);
        assert_eq!(
            PatchPath::Extension(ENTERPRISE_USER).to_string(),
            ENTERPRISE_USER
        );
    }

    #[test]
    fn bad_paths() {
        assert_eq!(err(""), "path: empty at character 1");
        assert_eq!(
            err("a.b.c"),
            "path: `a.b.c` goes deeper than one sub-attribute at character 1"
        );
        assert_eq!(
            err(r#"userName eq "x""#),
            "path: expected `[` or the end of the path, found `eq` at character 10"
        );
        assert_eq!(
            err(r#"emails[type eq "work"] x"#),
            "path: expected `[` or the end of the path, found `x` at character 24"
        );
        assert_eq!(
            err(r#"emails[type eq "work"].value.x"#),
            "path: `.value.x` is not a sub-attribute at character 23"
        );
        assert_eq!(
            err(r#"emails[type]"#),
            "path: expected an operator, found `]` at character 12"
        );
        assert_eq!(
            err(r#"emails[type eq "work""#),
            "path: expected `]`, found the end at character 22"
        );
        assert_eq!(
            err(r#"(members)"#),
            "path: expected an attribute path, found `(` at character 1"
        );
        assert_eq!(err(r#"name.givenName[x pr]"#), "path: `name.givenName[`: brackets follow an attribute, not a sub-attribute at character 15");
        assert_eq!(
            err(r#"emails[a[b pr]]"#),
            "path: value paths cannot be nested at character 9"
        );
        assert!(err(&"a".repeat(MAX_FILTER_LEN + 1)).starts_with("path: longer than"));
        let deep = format!("e[{}v pr{}]", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(err(&deep).starts_with("path: nested deeper than 32 levels"));
    }
}
