//! The portal home: who is signed in, the accounts they may act in and, per account, the
//! permission sets, each with a button that issues temporary credentials.

use super::browser::{PageError, Portal};
use super::html::{csrf_field, escape, hidden};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use iic_domain::page::Page;
use iic_domain::portal::{agency_name, agency_urn};
use serde::Deserialize;

/// Accounts shown per page of the home.
const ACCOUNTS_PER_PAGE: i64 = 50;
/// Permission sets shown per account.
const SETS_PER_ACCOUNT: i64 = 100;

#[derive(Deserialize)]
pub struct HomeQuery {
    after: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    Query(q): Query<HomeQuery>,
) -> Result<Response, PageError> {
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
    let scope = format!("portal-home:{}", session.user_id);
    let markers = &state.keys.markers;
    let page = match q.after.as_deref().map(|m| markers.decode(&scope, m)) {
        Some(Ok(seq)) => Page::after(seq, ACCOUNTS_PER_PAGE),
        _ => Page::first(ACCOUNTS_PER_PAGE),
    };
    let instance = &portal.instance.instance_id;
    let mut accounts = state
        .store
        .list_assigned_accounts(instance, &session.user_id, page.lookahead())
        .await?;
    let more = accounts.len() > page.rows();
    accounts.truncate(page.rows());
    let csrf = csrf_field(&portal.csrf_token(&state));
    let mut sections = String::new();
    for account in &accounts {
        let sets = state
            .store
            .list_assigned_sets(
                instance,
                &session.user_id,
                &account.account_id,
                Page::first(SETS_PER_ACCOUNT),
            )
            .await?;
        let mut items = String::new();
        for set in &sets {
            let urn = agency_urn(
                &account.account_id,
                &agency_name(&set.name, &set.permission_set_id),
            );
            items.push_str(&format!(
                "<li><span class=\"set\">{set_name}</span>\
                 <form method=\"post\" action=\"{action}\" class=\"credentials\">{csrf}{acc}{urn}\
                 <button type=\"submit\" class=\"secondary\" aria-label=\"Get credentials for {set_name} in {acc_name}\">Get credentials</button></form></li>",
                set_name = escape(&set.name),
                action = escape(&format!("{}/credentials", portal.path)),
                acc = hidden("account_id", &account.account_id),
                urn = hidden("agency_urn", &urn),
                acc_name = escape(&account.name),
            ));
        }
        if items.is_empty() {
            items.push_str("<li class=\"muted\">No permission sets.</li>");
        }
        sections.push_str(&format!(
            "<section class=\"card account\" data-account-id=\"{id}\"><h2>{name}</h2>\
             <p class=\"muted\">{id}{email}</p><ul class=\"sets\">{items}</ul></section>",
            id = escape(&account.account_id),
            name = escape(&account.name),
            email = account
                .email
                .as_deref()
                .map(|e| format!(" · {}", escape(e)))
                .unwrap_or_default(),
        ));
    }
    if accounts.is_empty() {
        sections.push_str(
            "<div class=\"card\" id=\"no-accounts\"><p>You have no accounts yet. Ask your administrator to assign you one.</p></div>",
        );
    }
    if more {
        if let Some(last) = accounts.last() {
            let marker = markers.encode(&scope, last.seq);
            let next = serde_urlencoded::to_string([("after", marker)]).unwrap_or_default();
            sections.push_str(&format!(
                "<p><a href=\"{}?{}\" id=\"more-accounts\">More accounts</a></p>",
                escape(&portal.path),
                escape(&next)
            ));
        }
    }
    let body = format!(
        "<div class=\"card\"><h1>Welcome, <span id=\"user-name\">{name}</span></h1>\
         <p class=\"muted\">Your accounts and the access you have in each.</p></div>\
         {sections}\
         <p><a href=\"{devices}\" id=\"mfa-devices\">Your MFA devices</a></p>\
         <div class=\"signout\"><form method=\"post\" action=\"{logout}\" id=\"sign-out\">{csrf}\
         <button type=\"submit\" class=\"secondary\">Sign out</button></form></div>",
        name = escape(&name),
        logout = escape(&format!("{}/logout", portal.path)),
        devices = escape(&format!("{}/devices", portal.path)),
    );
    Ok(portal.finish(portal.page("Your accounts", body)))
}
