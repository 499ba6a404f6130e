//! The filter parser (RFC 7644 §3.4.2.2): a tokenizer and a precedence parser (`not` binds
//! tightest, then `and`, then `or`). The text, the nesting depth and the number of comparisons are
//! bounded before any work they would cost; recursion happens only on a parenthesis or bracket,
//! after the depth check. Keywords and attribute names are case-insensitive.

use super::error::ScimError;
use super::filter::{CompValue, CompareOp, Filter};
use super::filter_lex::{tokenize, Problem, Tok, Token};
use super::path::{is_attr_name, AttrPath};

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses and brackets accepted.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons (`attrPath op value` and `attrPath pr`) in one filter.
pub const MAX_TERMS: usize = 100;

/// Parses a filter, as given in a `filter` query parameter (already URL-decoded).
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    parse_with(text, |p| {
        let f = p.parse_or(false)?;
        p.expect_end("`and`, `or` or the end of the filter")?;
        Ok(f)
    })
    .map_err(|problem| ScimError::invalid_filter(problem.describe(text)))
}

/// Runs `body` over the tokens of `text`, after the length check.
pub(crate) fn parse_with<T>(
    text: &str,
    body: impl FnOnce(&mut Parser<'_>) -> Result<T, Problem>,
) -> Result<T, Problem> {
    if text.len() > MAX_FILTER_LEN {
        return Err(Problem::new(
            MAX_FILTER_LEN,
            format!("longer than {MAX_FILTER_LEN} bytes"),
        ));
    }
    if text.trim().is_empty() {
        return Err(Problem::new(0, "empty"));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        terms: 0,
        end: text.len(),
    };
    body(&mut parser)
}

pub(crate) struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
    terms: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.at)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            None => "the end".to_string(),
            Some(Tok::Open) => "`(`".to_string(),
            Some(Tok::Close) => "`)`".to_string(),
            Some(Tok::OpenBracket) => "`[`".to_string(),
            Some(Tok::CloseBracket) => "`]`".to_string(),
            Some(Tok::Word(w)) => format!("`{w}`"),
            Some(Tok::Str(_)) => "a string".to_string(),
            Some(Tok::Num(n)) => format!("number {n}"),
        }
    }

    fn unexpected(&self, expected: &str) -> Problem {
        Problem::new(
            self.at(),
            format!("expected {expected}, found {}", self.describe_next()),
        )
    }

    fn expect(&mut self, tok: &Tok<'_>, expected: &str) -> Result<(), Problem> {
        if self.peek() == Some(tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// The end of the text; `expected` says what else could have come.
    pub(crate) fn expect_end(&self, expected: &str) -> Result<(), Problem> {
        if self.peek().is_none() {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Whether the next token is `[`.
    pub(crate) fn at_bracket(&self) -> bool {
        self.peek() == Some(&Tok::OpenBracket)
    }

    /// Counts one more level of nesting, refusing to go past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), Problem> {
        if self.depth >= MAX_DEPTH {
            return Err(Problem::new(
                self.at(),
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// `or` of `and`s. Inside a value path (`in_value`) paths are sub-attribute names.
    pub(crate) fn parse_or(&mut self, in_value: bool) -> Result<Filter, Problem> {
        let mut items = vec![self.parse_and(in_value)?];
        while self.peek_keyword("or") {
            self.pos += 1;
            items.push(self.parse_and(in_value)?);
        }
        Ok(join(items, Filter::Or))
    }

    fn parse_and(&mut self, in_value: bool) -> Result<Filter, Problem> {
        let mut items = vec![self.parse_unary(in_value)?];
        while self.peek_keyword("and") {
            self.pos += 1;
            items.push(self.parse_unary(in_value)?);
        }
        Ok(join(items, Filter::And))
    }

    fn parse_unary(&mut self, in_value: bool) -> Result<Filter, Problem> {
        match self.peek() {
            Some(Tok::Open) => self.parse_group(in_value),
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("not")
                    && matches!(
                        self.tokens.get(self.pos + 1),
                        Some(Token { tok: Tok::Open, .. })
                    ) =>
            {
                self.pos += 1;
                Ok(Filter::Not(Box::new(self.parse_group(in_value)?)))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && !self.operator_follows() => {
                self.pos += 1;
                Err(self.unexpected("`(` after `not`"))
            }
            Some(Tok::Word(_)) => self.parse_attr_exp(in_value),
            _ => Err(self.unexpected("an attribute, `not` or `(`")),
        }
    }

    /// Whether the token after the current one is `pr` or a comparison operator (so that the
    /// current word is an attribute, even one named `not`).
    fn operator_follows(&self) -> bool {
        matches!(
            self.tokens.get(self.pos + 1),
            Some(Token { tok: Tok::Word(w), .. })
                if w.eq_ignore_ascii_case("pr") || CompareOp::from_keyword(w).is_some()
        )
    }

    /// `( filter )`.
    fn parse_group(&mut self, in_value: bool) -> Result<Filter, Problem> {
        self.enter()?;
        self.expect(&Tok::Open, "`(`")?;
        let inner = self.parse_or(in_value)?;
        self.expect(&Tok::Close, "`)`")?;
        self.depth -= 1;
        Ok(inner)
    }

    /// The attribute path at the current token, which must be a word.
    pub(crate) fn parse_path(&mut self, in_value: bool) -> Result<AttrPath, Problem> {
        let at = self.at();
        let Some(Tok::Word(word)) = self.peek() else {
            return Err(self.unexpected("an attribute path"));
        };
        let path = AttrPath::parse(word).map_err(|what| Problem::new(at, what))?;
        if in_value && (path.schema.is_some() || path.sub.is_some()) {
            return Err(Problem::new(
                at,
                format!("`{path}`: inside brackets, name a sub-attribute only"),
            ));
        }
        self.pos += 1;
        Ok(path)
    }

    /// `[ valFilter ]` after an attribute path, and the `.subAttr` that may follow it (returned
    /// separately).
    pub(crate) fn parse_brackets(
        &mut self,
        path: &AttrPath,
    ) -> Result<(Filter, Option<String>), Problem> {
        let at = self.at();
        if path.sub.is_some() {
            return Err(Problem::new(
                at,
                format!("`{path}[`: brackets follow an attribute, not a sub-attribute"),
            ));
        }
        self.enter()?;
        self.expect(&Tok::OpenBracket, "`[`")?;
        let inner = self.parse_or(true)?;
        self.expect(&Tok::CloseBracket, "`]`")?;
        self.depth -= 1;
        let sub = match self.peek() {
            Some(Tok::Word(w)) if w.starts_with('.') => {
                let name = &w[1..];
                if !is_attr_name(name) {
                    return Err(Problem::new(
                        self.at(),
                        format!("`{w}` is not a sub-attribute"),
                    ));
                }
                self.pos += 1;
                Some(name.to_string())
            }
            _ => None,
        };
        Ok((inner, sub))
    }

    fn parse_attr_exp(&mut self, in_value: bool) -> Result<Filter, Problem> {
        let path = self.parse_path(in_value)?;
        if !self.at_bracket() {
            return self.parse_test(path);
        }
        if in_value {
            return Err(Problem::new(self.at(), "value paths cannot be nested"));
        }
        let (inner, sub) = self.parse_brackets(&path)?;
        let filter = match sub {
            None => inner,
            Some(sub) => {
                let test = self.parse_test(AttrPath::new(sub))?;
                match inner {
                    Filter::And(mut items) => {
                        items.push(test);
                        Filter::And(items)
                    }
                    other => Filter::And(vec![other, test]),
                }
            }
        };
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    /// `pr`, or an operator and a value, after `path`.
    fn parse_test(&mut self, path: AttrPath) -> Result<Filter, Problem> {
        let at = self.at();
        if self.terms >= MAX_TERMS {
            return Err(Problem::new(
                at,
                format!("more than {MAX_TERMS} comparisons"),
            ));
        }
        self.terms += 1;
        let Some(Tok::Word(word)) = self.peek() else {
            return Err(self.unexpected("an operator"));
        };
        if word.eq_ignore_ascii_case("pr") {
            self.pos += 1;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            return Err(Problem::new(at, format!("unknown operator `{word}`")));
        };
        self.pos += 1;
        let value_at = self.at();
        let value = match self.peek() {
            Some(Tok::Str(s)) => CompValue::String(s.clone()),
            Some(Tok::Num(n)) => CompValue::Number(n.clone()),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => return Err(self.unexpected("a string, number, true, false or null")),
        };
        let fits = match &value {
            CompValue::String(_) => true,
            CompValue::Number(_) => !op.is_substring(),
            CompValue::Bool(_) | CompValue::Null => !op.is_substring() && !op.is_ordering(),
        };
        if !fits {
            return Err(Problem::new(
                value_at,
                format!("`{}` cannot compare with {value}", op.as_str()),
            ));
        }
        self.pos += 1;
        Ok(Filter::Compare { path, op, value })
    }
}

fn join(mut items: Vec<Filter>, make: fn(Vec<Filter>) -> Filter) -> Filter {
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return only;
        }
    }
    make(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::path::{CORE_USER, ENTERPRISE_USER};
    use crate::scim::ScimType;
    use serde_json::Number;

    fn p(text: &str) -> Filter {
        parse_filter(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> String {
        let e = parse_filter(text).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        e.detail
    }

    fn cmp(path: &str, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare {
            path: AttrPath::parse(path).unwrap(),
            op,
            value,
        }
    }

    fn s(v: &str) -> CompValue {
        CompValue::String(v.to_string())
    }

    #[test]
    fn every_operator() {
        for op in CompareOp::ALL {
            assert_eq!(
                p(&format!("userName {} \"bjensen\"", op.as_str())),
                cmp("userName", op, s("bjensen"))
            );
        }
        assert_eq!(p("title pr"), Filter::Present(AttrPath::new("title")));
    }

    #[test]
    fn every_value_kind() {
        assert_eq!(
            p("a eq true"),
            cmp("a", CompareOp::Eq, CompValue::Bool(true))
        );
        assert_eq!(
            p("a ne False"),
            cmp("a", CompareOp::Ne, CompValue::Bool(false))
        );
        assert_eq!(p("a eq NULL"), cmp("a", CompareOp::Eq, CompValue::Null));
        assert_eq!(
            p("a gt -12"),
            cmp("a", CompareOp::Gt, CompValue::Number(Number::from(-12)))
        );
        assert_eq!(
            p("a le 1.5e3"),
            cmp(
                "a",
                CompareOp::Le,
                CompValue::Number(Number::from_f64(1500.0).unwrap())
            )
        );
        assert_eq!(
            p("a eq 0"),
            cmp("a", CompareOp::Eq, CompValue::Number(0.into()))
        );
        assert_eq!(p(r#"a eq """#), cmp("a", CompareOp::Eq, s("")));
    }

    #[test]
    fn strings_take_json_escapes() {
        assert_eq!(
            p(r#"a eq "q\"b\\s\/n\nt\tu\u00e9\ud83d\ude00""#),
            cmp("a", CompareOp::Eq, s("q\"b\\s/n\nt\tué😀"))
        );
        assert_eq!(
            p(r#"a co "[x] (y) and or""#),
            cmp("a", CompareOp::Co, s("[x] (y) and or"))
        );
        assert_eq!(p("a eq \"中文\""), cmp("a", CompareOp::Eq, s("中文")));
        assert!(err(r#"a eq "\x""#).contains("invalid string"));
        assert!(err(r#"a eq "\ud800""#).contains("invalid string"));
        assert!(err("a eq \"tab\there\"").contains("invalid string"));
        assert!(err(r#"a eq "open"#).contains("unterminated string at character 6"));
        assert!(err(r#"a eq "ends\"#).contains("unterminated string"));
    }

    #[test]
    fn numbers_follow_json() {
        for bad in ["01", "1.", "-", "1e", "+1", "1e999", "1-2", "--1", ".5"] {
            let d = err(&format!("a eq {bad}"));
            assert!(
                d.contains("invalid number")
                    || d.contains("expected a string")
                    || d.contains("unexpected `+`"),
                "{bad}: {d}"
            );
        }
    }

    #[test]
    fn paths_with_schema_and_sub_attributes() {
        assert_eq!(
            p("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\""),
            Filter::Compare {
                path: AttrPath::new("userName").in_schema(CORE_USER),
                op: CompareOp::Sw,
                value: s("J")
            }
        );
        assert_eq!(
            p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"7\""),
            Filter::Compare {
                path: AttrPath::new("employeeNumber").in_schema(ENTERPRISE_USER),
                op: CompareOp::Eq,
                value: s("7")
            }
        );
        assert_eq!(
            p("name.familyName co \"O'Malley\""),
            cmp("name.familyName", CompareOp::Co, s("O'Malley"))
        );
        assert_eq!(
            p("meta.lastModified gt \"2011-05-13T04:42:34Z\""),
            cmp(
                "meta.lastModified",
                CompareOp::Gt,
                s("2011-05-13T04:42:34Z")
            )
        );
    }

    #[test]
    fn keywords_ignore_case_and_names_keep_theirs() {
        assert_eq!(
            p("USERNAME EQ \"x\" AND Title PR OR NOT (a Eq 1)"),
            Filter::Or(vec![
                Filter::And(vec![
                    cmp("USERNAME", CompareOp::Eq, s("x")),
                    Filter::Present(AttrPath::new("Title")),
                ]),
                Filter::Not(Box::new(cmp(
                    "a",
                    CompareOp::Eq,
                    CompValue::Number(1.into())
                ))),
            ])
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let (a, b, c) = (
            Filter::Present(AttrPath::new("a")),
            Filter::Present(AttrPath::new("b")),
            Filter::Present(AttrPath::new("c")),
        );
        assert_eq!(
            p("a pr or b pr and c pr"),
            Filter::Or(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            p("a pr and b pr or c pr"),
            Filter::Or(vec![Filter::And(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            p("(a pr or b pr) and c pr"),
            Filter::And(vec![Filter::Or(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            p("a pr and (b pr and c pr)"),
            Filter::And(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            p("a pr and b pr and c pr"),
            Filter::And(vec![a.clone(), b.clone(), c.clone()])
        );
        assert_eq!(p("((a pr))"), a.clone());
        assert_eq!(
            p("not (a pr) and b pr"),
            Filter::And(vec![Filter::Not(Box::new(a.clone())), b.clone()])
        );
        assert_eq!(p("not(a pr)"), Filter::Not(Box::new(a.clone())));
    }

    #[test]
    fn rfc_examples_parse() {
        for text in [
            r#"userName eq "bjensen""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"title pr"#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ] {
            p(text);
        }
    }

    #[test]
    fn value_paths() {
        let inner = Filter::And(vec![
            cmp("type", CompareOp::Eq, s("work")),
            cmp("value", CompareOp::Co, s("@example.com")),
        ]);
        assert_eq!(
            p(r#"emails[type eq "work" and value co "@example.com"]"#),
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(inner.clone())
            }
        );
        // The `.sub` form says the same as the condition moved inside the brackets.
        assert_eq!(
            p(r#"emails[type eq "work"].value co "@example.com""#),
            p(r#"emails[type eq "work" and value co "@example.com"]"#)
        );
        assert_eq!(
            p(r#"emails[type eq "work" or primary eq true].value pr"#),
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(Filter::And(vec![
                    Filter::Or(vec![
                        cmp("type", CompareOp::Eq, s("work")),
                        cmp("primary", CompareOp::Eq, CompValue::Bool(true)),
                    ]),
                    Filter::Present(AttrPath::new("value")),
                ]))
            }
        );
        assert_eq!(
            p(r#"urn:ietf:params:scim:schemas:core:2.0:User:emails [ not (type eq "x") ]"#),
            Filter::ValuePath {
                path: AttrPath::new("emails").in_schema(CORE_USER),
                filter: Box::new(Filter::Not(Box::new(cmp("type", CompareOp::Eq, s("x")))))
            }
        );
        assert!(err(r#"emails[type eq "work"].value"#).contains("expected an operator"));
        assert!(err(r#"emails[type eq "work"].1x eq "a""#).contains("is not a sub-attribute"));
        assert!(err(r#"emails[x[y pr]]"#).contains("cannot be nested"));
        assert!(err(r#"emails[emails.type eq "w"]"#).contains("name a sub-attribute only"));
        assert!(err(r#"name.x[y pr]"#).contains("not a sub-attribute"));
        assert!(err(r#"emails[type eq "w""#).contains("expected `]`"));
        assert!(err(r#"emails[]"#).contains("expected an attribute"));
    }

    #[test]
    fn whitespace_is_flexible() {
        assert_eq!(p("  a   eq\t\"x\"\n"), cmp("a", CompareOp::Eq, s("x")));
        assert_eq!(p("a eq\"x\""), cmp("a", CompareOp::Eq, s("x")));
    }

    #[test]
    fn errors_name_the_problem_and_place() {
        assert_eq!(err(""), "empty at character 1");
        assert_eq!(err("   "), "empty at character 1");
        assert_eq!(
            err("userName"),
            "expected an operator, found the end at character 9"
        );
        assert_eq!(
            err("userName xx \"a\""),
            "unknown operator `xx` at character 10"
        );
        assert_eq!(
            err("userName eq"),
            "expected a string, number, true, false or null, found the end at character 12"
        );
        assert_eq!(
            err("a eq bjensen"),
            "expected a string, number, true, false or null, found `bjensen` at character 6"
        );
        assert_eq!(
            err("a pr b pr"),
            "expected `and`, `or` or the end of the filter, found `b` at character 6"
        );
        assert_eq!(
            err("a pr)"),
            "expected `and`, `or` or the end of the filter, found `)` at character 5"
        );
        assert_eq!(err("(a pr"), "expected `)`, found the end at character 6");
        assert_eq!(
            err("a pr and"),
            "expected an attribute, `not` or `(`, found the end at character 9"
        );
        assert_eq!(
            err("not a pr"),
            "expected `(` after `not`, found `a` at character 5"
        );
        assert_eq!(p("not pr"), Filter::Present(AttrPath::new("not")));
        assert_eq!(
            err("not"),
            "expected `(` after `not`, found the end at character 4"
        );
        assert_eq!(err("a eq \"é\" and % pr"), "unexpected `%` at character 14");
        assert_eq!(err("é pr"), "unexpected `é` at character 1");
        assert_eq!(
            err("1a pr"),
            "expected an attribute, `not` or `(`, found number 1 at character 1"
        );
        assert_eq!(err("-x pr"), "invalid number at character 1");
        assert_eq!(
            err("a gt true"),
            "`gt` cannot compare with true at character 6"
        );
        assert_eq!(
            err("a le null"),
            "`le` cannot compare with null at character 6"
        );
        assert_eq!(err("a co 5"), "`co` cannot compare with 5 at character 6");
        assert_eq!(
            err("a sw false"),
            "`sw` cannot compare with false at character 6"
        );
        assert_eq!(
            err("a.b.c pr"),
            "`a.b.c` goes deeper than one sub-attribute at character 1"
        );
        assert_eq!(
            err("a pr and [b pr]"),
            "expected an attribute, `not` or `(`, found `[` at character 10"
        );
        assert_eq!(
            err("a eq \"x\" \"y\""),
            "expected `and`, `or` or the end of the filter, found a string at character 10"
        );
        assert_eq!(
            err("a eq 1 2"),
            "expected `and`, `or` or the end of the filter, found number 2 at character 8"
        );
        assert_eq!(
            err("a ] pr"),
            "expected an operator, found `]` at character 3"
        );
        assert_eq!(
            err("a ( pr"),
            "expected an operator, found `(` at character 3"
        );
    }

    #[test]
    fn bounds() {
        let long = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert_eq!(
            err(&long),
            format!(
                "longer than {MAX_FILTER_LEN} bytes at character {}",
                MAX_FILTER_LEN + 1
            )
        );
        let fits = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN - 7));
        assert_eq!(fits.len(), MAX_FILTER_LEN);
        p(&fits);

        let nested = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
        p(&nested(MAX_DEPTH));
        assert!(
            err(&nested(MAX_DEPTH + 1)).starts_with("nested deeper than 32 levels at character 33")
        );
        let nots = |n: usize| format!("{}a pr{}", "not (".repeat(n), ")".repeat(n));
        p(&nots(MAX_DEPTH));
        assert!(err(&nots(MAX_DEPTH + 1)).starts_with("nested deeper than 32 levels"));
        // A bracket counts as a level.
        let in_brackets = format!(
            "{}e[v pr]{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        p(&in_brackets);
        let too_deep = format!("{}e[v pr]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(err(&too_deep).starts_with("nested deeper than 32 levels"));
        // Thousands of opening parentheses are refused at the 33rd, without recursing further.
        assert!(err(&"(".repeat(4000)).starts_with("nested deeper"));

        let terms = |n: usize| vec!["a pr"; n].join(" or ");
        p(&terms(MAX_TERMS));
        assert_eq!(
            err(&terms(MAX_TERMS + 1)),
            format!(
                "more than {MAX_TERMS} comparisons at character {}",
                MAX_TERMS * 8 + 3
            )
        );
        // The `.sub` condition of a value path counts.
        let mut v: Vec<String> = vec!["a pr".to_string(); MAX_TERMS - 1];
        v.push("e[t pr].v pr".to_string());
        assert!(err(&v.join(" and ")).starts_with("more than 100"));
    }

    #[test]
    fn positions_count_characters() {
        let e = err("a eq \"ééé\" and ~");
        assert_eq!(e, "unexpected `~` at character 16");
    }
}
