//! What every page request starts from: the instance its path names, the browser's CSRF cookie
//! and session cookie, and where it came from.

use super::cookies::{self, CookieScope};
use super::csrf;
use super::form::Form;
use super::html::{error_notice, Page};
use crate::oidc::Peer;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path};
use axum::http::header::{LOCATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use iic_domain::instance::Instance;
use iic_domain::session::{Origin, Session};
use iic_store::StoreError;

/// A page request of one instance's portal.
pub struct Portal {
    /// The identity store id or alias in the path.
    pub key: String,
    pub instance: Instance,
    /// `/<key>/portal`: the path every page and cookie of this portal lives under.
    pub path: String,
    pub scope: CookieScope,
    pub origin: Origin,
    pub peer: Peer,
    csrf_cookie: String,
    csrf_cookie_is_new: bool,
    session_cookie: Option<String>,
    browser_cookie: Option<String>,
}

/// A page that could not be served: rendered as a page, never as the API's JSON.
pub struct PageError(Response);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "portal page failed");
        PageError::internal()
    }
}

impl PageError {
    pub fn internal() -> Self {
        PageError(
            Page::new(
                "",
                "Something went wrong",
                "<div class=\"card\"><h1>Something went wrong</h1><p>Please try again in a moment.</p></div>".into(),
            )
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        )
    }

    fn not_found() -> Self {
        PageError(
            Page::new(
                "",
                "Not found",
                "<div class=\"card\"><h1>No such portal</h1><p>Check the address you were given.</p></div>".into(),
            )
            .with_status(StatusCode::NOT_FOUND)
            .into_response(),
        )
    }
}

impl FromRequestParts<AppState> for Portal {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Ok(Path(key)) = Path::<String>::from_request_parts(parts, state).await else {
            return Err(PageError::not_found());
        };
        let plain = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !plain {
            return Err(PageError::not_found());
        }
        let instance = state
            .store
            .find_portal_instance(&key)
            .await?
            .ok_or_else(PageError::not_found)?;
        let Ok(peer) = Peer::from_request_parts(parts, state).await;
        let headers = &parts.headers;
        let existing =
            cookies::get(headers, cookies::CSRF).filter(|c| iic_domain::ids::is_hex32(c));
        let (csrf_cookie, csrf_cookie_is_new) = match existing {
            Some(c) => (c.to_string(), false),
            None => (iic_domain::ids::hex32(), true),
        };
        let path = format!("/{key}/portal");
        Ok(Portal {
            scope: CookieScope {
                path: path.clone(),
                secure: state.limits.oidc.public_url.starts_with("https://"),
            },
            origin: Origin {
                ip_address: Some(peer.0.to_string()),
                user_agent: headers
                    .get(USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            },
            peer,
            session_cookie: cookies::get(headers, cookies::SESSION).map(str::to_string),
            browser_cookie: cookies::get(headers, cookies::BROWSER)
                .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_string),
            csrf_cookie,
            csrf_cookie_is_new,
            instance,
            path,
            key,
        })
    }
}

impl Portal {
    /// The CSRF token the forms of this response carry.
    pub fn csrf_token(&self, state: &AppState) -> String {
        csrf::token(&state.keys.csrf, &self.csrf_cookie)
    }

    /// Whether a submitted form carries this browser's CSRF token. A browser without the cookie
    /// never passes: it did not get the form from here.
    pub fn csrf_ok(&self, state: &AppState, form: &Form) -> bool {
        let cookie = (!self.csrf_cookie_is_new).then_some(self.csrf_cookie.as_str());
        csrf::matches(&state.keys.csrf, cookie, form.get("csrf_token"))
    }

    /// The live session of this browser in this portal's identity store.
    pub async fn session(&self, state: &AppState) -> Result<Option<Session>, PageError> {
        let Some(cookie) = &self.session_cookie else {
            return Ok(None);
        };
        let now = iic_domain::clock::now_millis();
        let session = state.store.session_for_cookie(cookie, now).await?;
        Ok(session.filter(|s| s.identity_store_id == self.instance.identity_store_id))
    }

    /// The value naming this browser to the users who proved a second factor on it, if set.
    pub fn browser_cookie(&self) -> Option<&str> {
        self.browser_cookie.as_deref()
    }

    /// Finishes a response: sets the CSRF cookie when this browser had none.
    pub fn finish(&self, resp: impl IntoResponse) -> Response {
        let mut resp = resp.into_response();
        if self.csrf_cookie_is_new {
            self.scope
                .set(resp.headers_mut(), cookies::CSRF, &self.csrf_cookie, None);
        }
        resp
    }

    /// A page of this portal.
    pub fn page(&self, title: &str, body: String) -> Page {
        Page::new(&self.path, title, body)
    }

    /// `303 See Other` to `to` (a path of this portal).
    pub fn redirect(&self, to: &str) -> Response {
        let mut resp = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            resp.headers_mut().insert(LOCATION, v);
        }
        super::html::lock_down(resp.headers_mut());
        self.finish(resp)
    }

    /// The sign-in page, remembering where to go after it.
    pub fn to_sign_in(&self, then: &str) -> Response {
        let next = serde_urlencoded::to_string([("next", then)]).unwrap_or_default();
        self.redirect(&format!("{}/login?{next}", self.path))
    }

    /// `next` when it is a page of this portal (never another site or portal), else the home.
    pub fn local_next(&self, next: Option<&str>) -> String {
        match next {
            Some(n)
                if (n == self.path || n.starts_with(&format!("{}/", self.path)))
                    && !n.contains("//")
                    && !n.contains('\\')
                    && n.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                n.to_string()
            }
            _ => self.path.clone(),
        }
    }

    /// A form whose CSRF token did not match: nothing is done, the browser is asked to retry.
    pub fn stale_form(&self) -> Response {
        let body = format!(
            "<div class=\"card\"><h1>Please try again</h1>{}<p><a href=\"{}\">Back to the portal</a></p></div>",
            error_notice("This form expired or did not come from this site. Nothing was changed."),
            super::html::escape(&self.path),
        );
        self.finish(
            self.page("Please try again", body)
                .with_status(StatusCode::FORBIDDEN),
        )
    }
}

/// A form posted to a portal page, read and checked against the browser's CSRF token; a form
/// that fails either is answered with [`Portal::stale_form`] before the handler runs.
pub struct PostedForm {
    pub portal: Portal,
    pub form: Form,
}

impl axum::extract::FromRequest<AppState> for PostedForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let portal = Portal::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match Form::read(body).await {
            Some(form) if portal.csrf_ok(state, &form) => Ok(PostedForm { portal, form }),
            _ => Err(portal.stale_form()),
        }
    }
}
