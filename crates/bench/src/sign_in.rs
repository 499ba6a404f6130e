//! Password sign-ins through the portal's sign-in form, as a browser submits its second step
//! (user name, password and the CSRF token of the form as served). Each sign-in verifies an
//! Argon2id hash and opens a session; an answer counts only if it is the 303 that starts one.

use crate::Workload;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, SET_COOKIE};
use hyper::Request;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The CSRF cookie a browser holds and the token its forms carry.
#[derive(Clone)]
pub struct Csrf {
    pub cookie: String,
    pub token: String,
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the hidden `csrf_token` field of a page.
pub fn csrf_token(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\"")?;
    let rest = &html[at..];
    let value = &rest[rest.find("value=\"")? + 7..];
    Some(value[..value.find('"')?].to_string())
}

/// The value a response sets for cookie `name`.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().find_map(|h| {
        let (pair, _) = h
            .to_str()
            .ok()?
            .split_once(';')
            .unwrap_or((h.to_str().ok()?, ""));
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim().to_string())
    })
}

/// A form POST to `path` carrying `cookies`.
pub fn post_form(host: &str, path: &str, cookies: &str, body: String) -> Request<Full<Bytes>> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header("host", host)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// Sign-ins of `users` (name, password), round-robin across the connections.
pub struct SignIns {
    pub login_path: String,
    pub csrf: Csrf,
    pub users: Vec<(String, String)>,
    pub next_index: AtomicUsize,
}

impl Workload for SignIns {
    type State = ();

    fn start(&self, _: usize) {}

    fn next(&self, _: &mut (), host: &str) -> Option<Request<Full<Bytes>>> {
        let i = self.next_index.fetch_add(1, Ordering::Relaxed) % self.users.len().max(1);
        let (name, password) = self.users.get(i)?;
        let body = form_body(&[
            ("csrf_token", &self.csrf.token),
            ("username", name),
            ("password", password),
        ]);
        let cookies = format!("iic_csrf={}", self.csrf.cookie);
        Some(post_form(host, &self.login_path, &cookies, body))
    }

    fn failed(&self, status: u16, _body: &Bytes) -> bool {
        status != 303
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_and_tokens_and_cookies_read() {
        assert_eq!(
            form_body(&[("a b", "x&y=z!"), ("k", "v-1_.~")]),
            "a%20b=x%26y%3Dz%21&k=v-1_.~"
        );
        let html = r#"<form><input type="hidden" name="csrf_token" value="abc123"></form>"#;
        assert_eq!(csrf_token(html).as_deref(), Some("abc123"));
        assert_eq!(csrf_token("<form></form>"), None);
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            "iic_csrf=c1; Path=/p; HttpOnly".parse().unwrap(),
        );
        h.append(SET_COOKIE, "iic_session=s.1; Path=/p".parse().unwrap());
        assert_eq!(set_cookie(&h, "iic_session").as_deref(), Some("s.1"));
        assert_eq!(set_cookie(&h, "iic_csrf").as_deref(), Some("c1"));
        assert_eq!(set_cookie(&h, "other"), None);
    }
}
