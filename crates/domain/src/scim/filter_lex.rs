//! The tokenizer of filters and PATCH paths: parentheses, brackets, words (attribute paths and
//! keywords), JSON strings and JSON numbers, each with the byte it starts at.

use serde_json::Number;

/// What went wrong, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub at: usize,
    pub what: String,
}

impl Problem {
    pub fn new(at: usize, what: impl Into<String>) -> Self {
        Problem {
            at,
            what: what.into(),
        }
    }

    /// `<what> at character <n>` (counting characters from 1).
    pub fn describe(&self, text: &str) -> String {
        let at = text
            .char_indices()
            .take_while(|(i, _)| *i < self.at)
            .count()
            + 1;
        format!("{} at character {at}", self.what)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(&'a str),
    Str(String),
    Num(Number),
}

#[derive(Debug)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub at: usize,
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b'$')
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, Problem> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                Tok::Open
            }
            b')' => {
                i += 1;
                Tok::Close
            }
            b'[' => {
                i += 1;
                Tok::OpenBracket
            }
            b']' => {
                i += 1;
                Tok::CloseBracket
            }
            b'"' => {
                i = string_end(bytes, i)
                    .ok_or_else(|| Problem::new(start, "unterminated string"))?;
                let s: String = serde_json::from_str(&text[start..i])
                    .map_err(|e| Problem::new(start, format!("invalid string ({e})")))?;
                Tok::Str(s)
            }
            b'-' | b'0'..=b'9' => {
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                Tok::Num(
                    number(&text[start..i]).ok_or_else(|| Problem::new(start, "invalid number"))?,
                )
            }
            c if is_word_char(c) => {
                while i < bytes.len() && is_word_char(bytes[i]) {
                    i += 1;
                }
                Tok::Word(&text[start..i])
            }
            _ => {
                let ch = text[start..].chars().next().unwrap_or('?');
                return Err(Problem::new(start, format!("unexpected `{ch}`")));
            }
        };
        tokens.push(Token { tok, at: start });
    }
    Ok(tokens)
}

/// A JSON number (RFC 8259 grammar). Fractions and exponents are read by the standard library,
/// which rounds correctly, so that a printed number reads back the same.
fn number(text: &str) -> Option<Number> {
    let n: Number = serde_json::from_str(text).ok()?;
    if n.is_f64() {
        Number::from_f64(text.parse::<f64>().ok()?)
    } else {
        Some(n)
    }
}

/// The index just past the closing quote of the string opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}
