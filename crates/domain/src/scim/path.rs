//! Attribute paths (RFC 7644 §3.10): `[schema URN ":"] name ["." subAttr]`. Names are kept as
//! written and compared without regard to case.

use std::fmt;

/// The core User schema.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// An attribute, optionally qualified by its schema and narrowed to one sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN as written, without the `:` that joins it to the name.
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// An unqualified attribute without sub-attribute.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            schema: None,
            name: name.into(),
            sub: None,
        }
    }

    /// The same path narrowed to `sub`.
    pub fn with_sub(mut self, sub: impl Into<String>) -> Self {
        self.sub = Some(sub.into());
        self
    }

    /// The same path in `schema`.
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Parses `text` as a whole attribute path; the error names the problem.
    pub fn parse(text: &str) -> Result<AttrPath, String> {
        let (schema, rest) = split_schema(text)?;
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        check_name(name)?;
        if let Some(sub) = sub {
            if sub.contains('.') {
                return Err(format!("`{text}` goes deeper than one sub-attribute"));
            }
            check_name(sub)?;
        }
        Ok(AttrPath {
            schema: schema.map(str::to_string),
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// Whether the path is in the core schema of a resource: unqualified, or qualified by the core
    /// User or Group schema.
    pub fn in_core_schema(&self) -> bool {
        match &self.schema {
            None => true,
            Some(s) => s.eq_ignore_ascii_case(CORE_USER) || s.eq_ignore_ascii_case(CORE_GROUP),
        }
    }

    /// Whether the path is `name` (or `name.sub` when `sub` is given) in the core schema, ignoring
    /// case.
    pub fn is_core(&self, name: &str, sub: Option<&str>) -> bool {
        self.in_core_schema() && self.is(name, sub)
    }

    /// Whether the path's name and sub-attribute are `name` and `sub`, ignoring case and schema.
    pub fn is(&self, name: &str, sub: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Splits a leading schema URN from the attribute part: the URN runs up to the last `:`.
fn split_schema(text: &str) -> Result<(Option<&str>, &str), String> {
    let is_urn = text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if !is_urn {
        return Ok((None, text));
    }
    let Some((schema, rest)) = text.rsplit_once(':') else {
        return Ok((None, text));
    };
    if schema.len() <= 4 || rest.is_empty() {
        return Err(format!("`{text}` names a schema but no attribute"));
    }
    if let Some(c) = schema.chars().find(|c| !is_urn_char(*c)) {
        return Err(format!("`{c}` is not allowed in a schema URN"));
    }
    Ok((Some(schema), rest))
}

fn is_urn_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_')
}

/// `ATTRNAME = ALPHA *(nameChar)`, nameChar = `-` / `_` / DIGIT / ALPHA; `$ref` besides.
fn check_name(name: &str) -> Result<(), String> {
    if name.eq_ignore_ascii_case("$ref") {
        return Ok(());
    }
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("an attribute name is empty".to_string()),
        Some(c) if !c.is_ascii_alphabetic() => {
            return Err(format!(
                "attribute name `{name}` does not start with a letter"
            ))
        }
        Some(_) => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(format!("`{c}` is not allowed in attribute name `{name}`"));
    }
    Ok(())
}

/// Whether `name` is a valid attribute name (`ATTRNAME`, or `$ref`).
pub fn is_attr_name(name: &str) -> bool {
    check_name(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dotted_and_qualified_paths() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::new("userName")
        );
        assert_eq!(
            AttrPath::parse("name.familyName").unwrap(),
            AttrPath::new("name").with_sub("familyName")
        );
        assert_eq!(
            AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap(),
            AttrPath::new("userName").in_schema(CORE_USER)
        );
        assert_eq!(
            AttrPath::parse(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
            )
            .unwrap(),
            AttrPath::new("employeeNumber").in_schema(ENTERPRISE_USER)
        );
        assert_eq!(
            AttrPath::parse(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
            )
            .unwrap(),
            AttrPath::new("manager")
                .with_sub("value")
                .in_schema(ENTERPRISE_USER)
        );
        assert_eq!(
            AttrPath::parse("members.$ref").unwrap(),
            AttrPath::new("members").with_sub("$ref")
        );
        assert_eq!(AttrPath::parse("x-y_2").unwrap(), AttrPath::new("x-y_2"));
    }

    #[test]
    fn display_gives_back_the_text() {
        for text in [
            "userName",
            "name.familyName",
            "URN:ietf:params:scim:schemas:core:2.0:User:name.givenName",
            "members.$ref",
        ] {
            assert_eq!(AttrPath::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn bad_paths_are_refused_with_the_problem() {
        for (text, problem) in [
            ("", "empty"),
            ("1abc", "does not start with a letter"),
            ("a.b.c", "deeper than one sub-attribute"),
            ("a.", "empty"),
            (".a", "empty"),
            ("a b", "` ` is not allowed"),
            ("urn:", "names a schema but no attribute"),
            ("urn:x:", "names a schema but no attribute"),
            ("urn:a/b:name", "`/` is not allowed in a schema URN"),
            ("na$me", "`$` is not allowed"),
        ] {
            let err = AttrPath::parse(text).unwrap_err();
            assert!(err.contains(problem), "{text:?}: {err}");
        }
        assert!(!is_attr_name("-x"));
        assert!(is_attr_name("$REF"));
    }

    #[test]
    fn comparisons_ignore_case() {
        let p = AttrPath::parse("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME").unwrap();
        assert!(p.is_core("userName", None));
        assert!(!p.is_core("userName", Some("x")));
        let q = AttrPath::parse("Emails.VALUE").unwrap();
        assert!(q.is("emails", Some("value")));
        assert!(!q.is("emails", None));
        let e = AttrPath::parse(&format!("{ENTERPRISE_USER}:userName")).unwrap();
        assert!(!e.is_core("userName", None));
        assert!(e.is("userName", None));
        assert!(AttrPath::new("displayName")
            .in_schema(CORE_GROUP)
            .in_core_schema());
    }
}
