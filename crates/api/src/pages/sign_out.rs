//! Sign-out: ends the browser's session (and with it the tokens issued under it) and forgets the
//! cookie.

use super::browser::{PageError, PostedForm};
use super::cookies;
use super::html::escape;
use super::sign_in::SIGN_IN_LOG;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;

pub async fn submit(
    State(state): State<AppState>,
    PostedForm { portal, .. }: PostedForm,
) -> Result<Response, PageError> {
    if let Some(session) = portal.session(&state).await? {
        let ids = [session.session_id.clone()];
        state
            .store
            .end_sessions(
                &session.identity_store_id,
                &session.user_id,
                &ids,
                iic_domain::clock::now_millis(),
            )
            .await?;
        // The session's temporary credentials went with it; forget cached keys here at once.
        state.callers.clear();
        tracing::info!(target: SIGN_IN_LOG, user_id = %session.user_id, session_id = %session.session_id, "signed out");
    }
    let body = format!(
        "<div class=\"card\"><h1>Signed out</h1><p id=\"signed-out\">You have signed out. Tokens issued to your devices in this session no longer work.</p>\
         <p><a href=\"{login}\">Sign in again</a></p></div>",
        login = escape(&format!("{}/login", portal.path)),
    );
    let mut resp = portal.finish(portal.page("Signed out", body));
    portal.scope.clear(resp.headers_mut(), cookies::SESSION);
    Ok(resp)
}
