//! Confirming an e-mail address through the link VerifyEmail mailed. Opening the link only
//! shows a button (mail scanners fetch links); posting it spends the link and marks the address
//! verified, if it is still the user's primary one.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, escape, hidden};
use super::reset_password::{dead_link, live_link, LinkQuery};
use crate::state::AppState;
use crate::user_mail::MAIL_LOG;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::mailed_secret::{is_link_token, link_token_hash};
use iic_store::LinkPurpose;

fn dead(portal: &Portal) -> Response {
    dead_link(
        portal,
        "confirmation",
        "Ask your administrator to send a new one.",
    )
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    Query(q): Query<LinkQuery>,
) -> Result<Response, PageError> {
    let token = q.token.as_deref();
    let Some(link) = live_link(&state, &portal, token, LinkPurpose::VerifyEmail).await? else {
        return Ok(dead(&portal));
    };
    let body = format!(
        "<div class=\"card\"><h1>Confirm your e-mail address</h1>\
         <p>Confirm that <strong id=\"email\">{email}</strong> is your address.</p>\
         <form method=\"post\" action=\"{action}\" id=\"verify-email\">{csrf}{token}\
         <button type=\"submit\">Confirm</button></form></div>",
        email = escape(&link.email),
        action = escape(&format!("{}/verify-email", portal.path)),
        csrf = csrf_field(&portal.csrf_token(&state)),
        token = hidden("token", token.unwrap_or_default()),
    );
    Ok(portal.finish(portal.page("Confirm your e-mail address", body)))
}

pub async fn submit(
    State(state): State<AppState>,
    PostedForm {
        portal,
        form: posted,
    }: PostedForm,
) -> Result<Response, PageError> {
    let token = posted.get("token").unwrap_or_default();
    // Only a link of this portal's identity store is spent here.
    if !is_link_token(token)
        || live_link(&state, &portal, Some(token), LinkPurpose::VerifyEmail)
            .await?
            .is_none()
    {
        return Ok(dead(&portal));
    }
    let now = iic_domain::clock::now_millis();
    let Some((link, verified)) = state
        .store
        .verify_email_by_link(&link_token_hash(token), now)
        .await?
    else {
        return Ok(dead(&portal));
    };
    let (id, title, text, status) = if verified {
        tracing::info!(target: MAIL_LOG, identity_store_id = %link.identity_store_id, user_id = %link.user_id, "e-mail address verified through a mailed link");
        (
            "email-verified",
            "Address confirmed",
            "Thank you: your e-mail address is confirmed.",
            StatusCode::OK,
        )
    } else {
        tracing::info!(target: MAIL_LOG, identity_store_id = %link.identity_store_id, user_id = %link.user_id, "verification link spent for an address that is no longer the user's");
        (
            "email-not-verified",
            "Address not confirmed",
            "Your e-mail address changed after this link was sent, so nothing was confirmed. Ask your administrator for a new link.",
            StatusCode::CONFLICT,
        )
    };
    let body = format!(
        "<div class=\"card\" id=\"{id}\"><h1>{title}</h1>\
         <p class=\"notice\" role=\"status\" id=\"notice\">{text}</p>\
         <p><a href=\"{home}\">Go to the portal</a></p></div>",
        title = escape(title),
        text = escape(text),
        home = escape(&portal.path),
    );
    Ok(portal.finish(portal.page(title, body).with_status(status)))
}
