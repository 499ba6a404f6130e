//! The one rule for text: control characters are refused wherever text enters — bodies, queries,
//! paths — the same for every operation and both databases. Tab, line feed and carriage return
//! are whitespace that free-text fields may carry (the catalogue's text patterns allow them);
//! whether a particular field accepts them is that field's own validation.

use crate::ApiError;
use serde_json::Value;

/// Whether tab, line feed and carriage return pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whitespace {
    Allowed,
    Refused,
}

/// Whether `c` is refused: C0 controls, DEL and C1 controls, bar the whitespace when allowed.
pub fn is_refused(c: char, whitespace: Whitespace) -> bool {
    match c {
        '\t' | '\n' | '\r' => whitespace == Whitespace::Refused,
        c => c.is_control(),
    }
}

/// The first refused character of `value`, and its position in characters.
fn first_refused(value: &str, whitespace: Whitespace) -> Option<(usize, char)> {
    // Most text is plain ASCII without controls: one pass over the bytes decides.
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    value
        .chars()
        .enumerate()
        .find(|&(_, c)| is_refused(c, whitespace))
}

/// Refuses `value` when it holds a control character, naming `field` and the character.
pub fn check(field: &str, value: &str, whitespace: Whitespace) -> Result<(), ApiError> {
    match first_refused(value, whitespace) {
        None => Ok(()),
        Some((at, c)) => Err(refusal(field, at, c)),
    }
}

fn refusal(field: &str, at: usize, c: char) -> ApiError {
    ApiError::bad_request(format!(
        "{field} must not contain control characters (U+{:04X} at character {})",
        c as u32,
        at + 1
    ))
}

/// Whether the JSON text `raw` may hold a refused character in a string: escaped (raw C0
/// controls are not valid JSON), or DEL and C1 controls, which JSON lets through raw. A fast,
/// conservative scan: `false` means there is none.
pub fn json_may_hold_controls(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\' {
            match raw.get(i + 1) {
                Some(b'u') => {
                    if let Some(hex) = raw.get(i + 2..i + 6) {
                        if escaped_control(hex) {
                            return true;
                        }
                    }
                    i += 6;
                }
                Some(b'b' | b'f') => return true,
                _ => i += 2,
            }
        } else if b == 0x7f {
            return true;
        } else if b >= 0x80 {
            // C1 controls arrive unescaped as UTF-8 0xC2 0x80..=0x9F.
            if b == 0xc2 && raw.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) {
                return true;
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    false
}

/// Whether the four hex digits of a `\u` escape name a control other than tab, LF or CR.
fn escaped_control(hex: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(hex) else {
        return false;
    };
    match u32::from_str_radix(text, 16) {
        Ok(0x09 | 0x0a | 0x0d) => false,
        Ok(n) => n < 0x20 || (0x7f..=0x9f).contains(&n),
        Err(_) => false,
    }
}

/// The first string (or object key) in `value` holding a refused character, as a field path
/// such as `tags[1].value`; `root` names the value itself.
pub fn check_json(root: &str, value: &Value, whitespace: Whitespace) -> Result<(), ApiError> {
    let mut path = root.to_string();
    walk(value, &mut path, whitespace)
}

fn walk(value: &Value, path: &mut String, whitespace: Whitespace) -> Result<(), ApiError> {
    match value {
        Value::String(s) => check(path, s, whitespace),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, whitespace)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if let Some((at, c)) = first_refused(key, Whitespace::Refused) {
                    path.push_str(&key.escape_debug().to_string());
                    return Err(refusal(&format!("the name of field {path}"), at, c));
                }
                path.push_str(key);
                walk(item, path, whitespace)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn controls_are_refused_and_whitespace_only_where_allowed() {
        for c in ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(is_refused(c, Whitespace::Allowed), "{c:?}");
        }
        for c in ['\t', '\n', '\r'] {
            assert!(!is_refused(c, Whitespace::Allowed));
            assert!(is_refused(c, Whitespace::Refused));
        }
        for c in ['a', ' ', 'é', '中', '\u{a0}', '😀'] {
            assert!(!is_refused(c, Whitespace::Refused), "{c:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_field_and_the_character() {
        let e = check("description", "ab\0c", Whitespace::Allowed).expect_err("NUL");
        assert_eq!(e.code, "IIC.400");
        assert_eq!(
            e.message,
            "Bad Request: description must not contain control characters (U+0000 at character 3)."
        );
        assert!(check("description", "a\tb\nc", Whitespace::Allowed).is_ok());
        assert!(check("user_name", "a\tb", Whitespace::Refused).is_err());
    }

    #[test]
    fn the_scan_finds_every_escaped_control_and_only_those() {
        let hits = [
            r#"{"a":"\u0000"}"#,
            r#"{"a":"x\u001F"}"#,
            r#"{"a":"\u007f"}"#,
            "{\"a\":\"\u{7f}\"}",
            r#"{"a":"\u0085"}"#,
            r#"{"a":"\b"}"#,
            r#"{"a":"\f"}"#,
            "{\"a\":\"\u{85}\"}",
            r#"{"\u0001":1}"#,
        ];
        for h in hits {
            assert!(json_may_hold_controls(h.as_bytes()), "{h}");
        }
        let misses = [
            r#"{"a":"\\u0000"}"#,
            r#"{"a":"\t\n\r\u0009\u000a\u000D"}"#,
            r#"{"a":"\u00e9\u4e2d\"\\\/"}"#,
            "{\"a\":\"é中😀\"}",
            r#"{"a":"\\b\\f"}"#,
        ];
        for m in misses {
            assert!(!json_may_hold_controls(m.as_bytes()), "{m}");
        }
    }

    #[test]
    fn the_scan_agrees_with_the_parsed_value() {
        // Every one-character string from U+0000 to U+00FF, escaped as serde_json escapes it.
        for n in 0u32..=0xff {
            let Some(c) = char::from_u32(n) else { continue };
            let doc = json!({ "f": c.to_string() });
            let raw = serde_json::to_vec(&doc).expect("json");
            let refused = check_json("", &doc, Whitespace::Allowed).is_err();
            assert_eq!(json_may_hold_controls(&raw), refused, "U+{n:04X}");
        }
    }

    #[test]
    fn json_refusals_name_the_nested_field() {
        let doc = json!({"tags": [{"key": "k", "value": "ok"}, {"key": "k", "value": "x\u{0}"}]});
        let e = check_json("", &doc, Whitespace::Allowed).expect_err("NUL");
        assert!(e.message.contains("tags[1].value"), "{}", e.message);
        let doc = json!({"name": {"family_name": "a\u{1b}"}});
        let e = check_json("operations[0].attribute_value", &doc, Whitespace::Allowed)
            .expect_err("ESC");
        assert!(
            e.message
                .contains("operations[0].attribute_value.name.family_name"),
            "{}",
            e.message
        );
        let doc = json!({"a\u{0}b": 1});
        let e = check_json("", &doc, Whitespace::Allowed).expect_err("key");
        assert!(
            e.message.contains("the name of field a\\0b"),
            "{}",
            e.message
        );
        assert!(check_json("", &json!({"a": ["x\ty", 1, null]}), Whitespace::Allowed).is_ok());
    }
}
