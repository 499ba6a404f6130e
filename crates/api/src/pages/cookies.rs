//! The portal's cookies: read from the request, written with the flags every one of them gets.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

/// The browser session (`<session id>.<secret>`).
pub const SESSION: &str = "iic_session";
/// The random value the CSRF tokens of a browser are derived from.
pub const CSRF: &str = "iic_csrf";
/// The sealed ticket that lets a user who signed in with a one-time password choose a new one.
pub const PASSWORD_CHANGE: &str = "iic_password_change";
/// The sealed ticket of a sign-in that still owes a second factor.
pub const MFA_PENDING: &str = "iic_mfa";
/// A random value naming this browser, for the users who proved a second factor on it.
pub const BROWSER: &str = "iic_browser";

/// The value of cookie `name` in the request, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Where and how the portal's cookies are set: scoped to one portal's path, never readable by
/// script, not sent on cross-site subrequests, and only over TLS when the portal is https.
#[derive(Debug, Clone)]
pub struct CookieScope {
    pub path: String,
    pub secure: bool,
}

impl CookieScope {
    /// Adds `Set-Cookie` for `name`; `max_age_secs` None makes a browser-session cookie.
    pub fn set(&self, headers: &mut HeaderMap, name: &str, value: &str, max_age_secs: Option<i64>) {
        let mut c = format!("{name}={value}; Path={}; HttpOnly; SameSite=Lax", self.path);
        if let Some(age) = max_age_secs {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        if let Ok(v) = HeaderValue::from_str(&c) {
            headers.append(SET_COOKIE, v);
        }
    }

    /// Tells the browser to forget `name`.
    pub fn clear(&self, headers: &mut HeaderMap, name: &str) {
        self.set(headers, name, "", Some(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; iic_session=x.y ;b=2"),
        );
        assert_eq!(get(&h, SESSION), Some("x.y"));
        assert_eq!(get(&h, "c"), None);
    }

    #[test]
    fn cookies_carry_their_flags() {
        let mut h = HeaderMap::new();
        let scope = CookieScope {
            path: "/d-1/portal".into(),
            secure: true,
        };
        scope.set(&mut h, SESSION, "v", Some(60));
        let set = h
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(
            set,
            "iic_session=v; Path=/d-1/portal; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
    }
}
