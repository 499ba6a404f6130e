//! The authorization endpoint of the authorization-code grant: a registered client sends the
//! browser here; the signed-in user approves or denies, and the browser goes back to the
//! client's loopback redirect URI with a single-use code (or `error=access_denied`). PKCE
//! (`S256`) is honoured when the client sends a challenge: CreateToken then wants the verifier.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, escape, hidden};
use super::sign_in::SIGN_IN_LOG;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::oidc::{self, AUTHORIZATION_CODE_GRANT};
use iic_store::{AuthCode, OidcClient};
use std::collections::HashMap;

/// How long an issued code may wait for its redemption.
const CODE_TTL_MS: i64 = 5 * 60_000;

/// The request's parameters, as the client sent them (query) or the consent form carried them.
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    code_challenge: Option<String>,
}

/// What is wrong with a request, in the two ways RFC 6749 §4.1.2.1 distinguishes.
enum Refusal {
    /// The client or redirect URI cannot be trusted: say so here, never redirect.
    Page(&'static str),
    /// The redirect URI is good: tell the client there.
    Redirect(&'static str),
}

/// Only loopback addresses may receive codes (RFC 8252 §7.3): the catalogue registers no
/// redirect URIs, so any other target would let a stranger's link collect a user's code.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
        None => authority.split(':').next().map(str::to_string),
    };
    matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]"))
        && !uri.contains('#')
        && !authority.contains('@')
        && uri.len() <= 2048
        && uri.bytes().all(|b| b.is_ascii_graphic())
}

fn parse(params: &HashMap<String, String>) -> Result<AuthorizeRequest, Refusal> {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let client_id = get("client_id").ok_or(Refusal::Page("The request names no client."))?;
    let redirect_uri = get("redirect_uri")
        .filter(|u| is_loopback_redirect(u))
        .ok_or(Refusal::Page(
            "The redirect address must be a loopback address (http://127.0.0.1, http://localhost or http://[::1]).",
        ))?;
    let request = AuthorizeRequest {
        client_id,
        redirect_uri,
        state: get("state"),
        code_challenge: get("code_challenge"),
    };
    if get("response_type").as_deref() != Some("code") {
        return Err(Refusal::Redirect("unsupported_response_type"));
    }
    if let Some(c) = &request.code_challenge {
        let shaped = c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if get("code_challenge_method").as_deref() != Some("S256") || !shaped {
            return Err(Refusal::Redirect("invalid_request"));
        }
    }
    Ok(request)
}

async fn client_for(
    state: &AppState,
    r: &AuthorizeRequest,
) -> Result<Result<OidcClient, Refusal>, PageError> {
    let now = iic_domain::clock::now_millis();
    let client = state.store.get_oidc_client(&r.client_id).await?;
    Ok(match client {
        Some(c) if c.expires_at > now => {
            if oidc::client_may_use(&c.grant_types, AUTHORIZATION_CODE_GRANT) {
                Ok(c)
            } else {
                Err(Refusal::Redirect("unauthorized_client"))
            }
        }
        _ => Err(Refusal::Page("The application asking is not registered.")),
    })
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let request = match parse(&params) {
        Ok(r) => r,
        Err(refusal) => return Ok(refuse(&portal, &params, refusal)),
    };
    let client = match client_for(&state, &request).await? {
        Ok(c) => c,
        Err(refusal) => return Ok(refuse(&portal, &params, refusal)),
    };
    if portal.session(&state).await?.is_none() {
        let here = uri
            .path_and_query()
            .map_or(portal.path.clone(), |p| p.to_string());
        return Ok(portal.to_sign_in(&here));
    }
    let body = format!(
        "<div class=\"card\"><h1>Allow access?</h1>\
         <p><strong id=\"client-name\">{client}</strong> asks to act as you in this portal.</p>\
         <form method=\"post\" action=\"{action}\" id=\"authorize-decision\">{csrf}{fields}\
         <div class=\"row\"><button type=\"submit\" name=\"action\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" class=\"secondary\">Deny</button></div>\
         </form></div>",
        client = escape(&client.name),
        action = escape(&format!("{}/authorize", portal.path)),
        csrf = csrf_field(&portal.csrf_token(&state)),
        fields = ["response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"]
            .iter()
            .filter_map(|k| params.get(*k).map(|v| hidden(k, v)))
            .collect::<String>(),
    );
    Ok(portal.finish(portal.page("Allow access?", body)))
}

pub async fn submit(
    State(state): State<AppState>,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let params = form.fields();
    let request = match parse(params) {
        Ok(r) => r,
        Err(refusal) => return Ok(refuse(&portal, params, refusal)),
    };
    let client = match client_for(&state, &request).await? {
        Ok(c) => c,
        Err(refusal) => return Ok(refuse(&portal, params, refusal)),
    };
    let Some(session) = portal.session(&state).await? else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    if form.get("action") != Some("approve") {
        tracing::info!(target: SIGN_IN_LOG, user_id = %session.user_id, client_id = %client.client_id, "authorization denied");
        return Ok(back_to_client(
            &portal,
            &request,
            &[("error", "access_denied")],
        ));
    }
    let code = oidc::new_secret();
    state
        .store
        .create_auth_code(&AuthCode {
            code_sha256: oidc::hash_secret(&code),
            client_id: client.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            instance_id: portal.instance.instance_id.clone(),
            identity_store_id: session.identity_store_id.clone(),
            user_id: session.user_id.clone(),
            session_id: session.session_id.clone(),
            scopes: client.scopes.clone(),
            expires_at: iic_domain::clock::now_millis() + CODE_TTL_MS,
        })
        .await?;
    tracing::info!(target: SIGN_IN_LOG, user_id = %session.user_id, session_id = %session.session_id, client_id = %client.client_id, "authorization code issued");
    Ok(back_to_client(&portal, &request, &[("code", &code)]))
}

/// `303` to the client's redirect URI with `extra` and the client's `state`.
fn back_to_client(portal: &Portal, r: &AuthorizeRequest, extra: &[(&str, &str)]) -> Response {
    let mut pairs: Vec<(&str, &str)> = extra.to_vec();
    if let Some(s) = &r.state {
        pairs.push(("state", s));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let joiner = if r.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    portal.redirect(&format!("{}{joiner}{query}", r.redirect_uri))
}

fn refuse(portal: &Portal, params: &HashMap<String, String>, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(text) => {
            let body = format!(
                "<div class=\"card\"><h1>This sign-in link is not valid</h1><p id=\"error\" role=\"alert\">{}</p></div>",
                escape(text)
            );
            portal.finish(
                portal
                    .page("Not a valid request", body)
                    .with_status(StatusCode::BAD_REQUEST),
            )
        }
        Refusal::Redirect(error) => {
            let r = AuthorizeRequest {
                client_id: String::new(),
                redirect_uri: params.get("redirect_uri").cloned().unwrap_or_default(),
                state: params.get("state").filter(|s| !s.is_empty()).cloned(),
                code_challenge: None,
            };
            back_to_client(portal, &r, &[("error", error)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_redirect;

    #[test]
    fn only_loopback_addresses_receive_codes() {
        for good in [
            "http://127.0.0.1:8400/callback",
            "http://localhost/cb?x=1",
            "http://[::1]:9000/",
        ] {
            assert!(is_loopback_redirect(good), "{good}");
        }
        for bad in [
            "https://127.0.0.1/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://evil.example/cb",
            "http://localhost@evil.example/",
            "http://127.0.0.1/cb#frag",
            "javascript:alert(1)",
            "http://127.0.0.1/a b",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }
}
