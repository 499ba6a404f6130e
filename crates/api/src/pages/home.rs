//! The portal home: who is signed in, the accounts they may act in and, per account, the
//! permission sets with a way to get temporary credentials.

use super::browser::{PageError, Portal};
use super::html::{csrf_field, escape};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;

pub async fn show(State(state): State<AppState>, portal: Portal) -> Result<Response, PageError> {
    let Some(session) = portal.session(&state).await? else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    let user = state
        .store
        .get_user(&session.identity_store_id, &session.user_id)
        .await?;
    let name = user.map_or_else(String::new, |u| {
        if u.profile.display_name.is_empty() {
            u.profile.user_name
        } else {
            u.profile.display_name
        }
    });
    let body = format!(
        "<div class=\"card\"><h1>Welcome, <span id=\"user-name\">{name}</span></h1>\
         <p class=\"muted\">Your accounts and the access you have in each.</p></div>\
         <div class=\"signout\"><form method=\"post\" action=\"{logout}\" id=\"sign-out\">{csrf}\
         <button type=\"submit\" class=\"secondary\">Sign out</button></form></div>",
        name = escape(&name),
        logout = escape(&format!("{}/logout", portal.path)),
        csrf = csrf_field(&portal.csrf_token(&state)),
    );
    Ok(portal.finish(portal.page("Your accounts", body)))
}
