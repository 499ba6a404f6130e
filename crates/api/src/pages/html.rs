//! The markup every page shares: escaping, the layout, the headers that lock a page down, and
//! the one stylesheet.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Text made safe for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// No third-party anything; script only from this server's file (the WebAuthn ceremonies, no
/// inline script) and styles only from its stylesheet; forms post back only here; never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A rendered page: its title and the contents of `<main>`, under the portal at `portal_path`.
pub struct Page {
    pub status: StatusCode,
    pub title: String,
    pub portal_path: String,
    pub body: String,
}

impl Page {
    pub fn new(portal_path: &str, title: &str, body: String) -> Self {
        Page {
            status: StatusCode::OK,
            title: title.to_string(),
            portal_path: portal_path.to_string(),
            body,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn document(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · IAM Identity Center</title>\
             <link rel=\"stylesheet\" href=\"{portal}/style.css\"></head>\
             <body><header><span class=\"brand\">IAM Identity Center</span></header>\
             <main>{body}</main></body></html>\n",
            title = escape(&self.title),
            portal = escape(&self.portal_path),
            body = self.body,
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = self.document();
        let mut resp = (self.status, html).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        lock_down(headers);
        resp
    }
}

/// The headers every page response carries.
pub fn lock_down(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// An error shown above a form, announced to screen readers.
pub fn error_notice(text: &str) -> String {
    format!(
        "<p class=\"notice error\" role=\"alert\" id=\"error\">{}</p>",
        escape(text)
    )
}

/// The hidden CSRF field of a form.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        escape(token)
    )
}

/// A hidden field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

pub const STYLESHEET: &str = include_str!("style.css");

pub fn stylesheet() -> Response {
    let mut resp = STYLESHEET.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    lock_down(headers);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
