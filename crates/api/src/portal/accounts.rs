//! ListAccounts and ListAccountAgencies: what the user is assigned, directly or through a group.

use super::{PortalUser, DEFAULT_PAGE, MAX_PAGE};
use crate::envelope::Failure;
use crate::extract::QueryParams;
use crate::paging::{self, PageInfo};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use iic_domain::portal::{agency_name, agency_urn};
use iic_domain::validate::simple_id;
use iic_domain::ApiError;
use serde::Serialize;

#[derive(Serialize)]
pub struct AccountInfo {
    account_id: String,
    account_name: String,
    email_address: Option<String>,
}

#[derive(Serialize)]
pub struct ListAccountsResponse {
    account_list: Vec<AccountInfo>,
    page_info: PageInfo,
}

pub async fn list_accounts(
    State(state): State<AppState>,
    PortalUser(user): PortalUser,
    query: QueryParams,
) -> Result<Json<ListAccountsResponse>, Failure> {
    let scope = format!("portal-accounts:{}", user.user_id);
    let markers = &state.keys.markers;
    let page = paging::page_with_default(&query, markers, &scope, MAX_PAGE, DEFAULT_PAGE)?;
    let rows = state
        .store
        .list_assigned_accounts(&user.instance_id, &user.user_id, page.lookahead())
        .await?;
    let (rows, page_info) = paging::finish(rows, page, markers, &scope, |a| a.seq);
    let account_list = rows
        .into_iter()
        .map(|a| AccountInfo {
            account_id: a.account_id,
            account_name: a.name,
            email_address: a.email,
        })
        .collect();
    Ok(Json(ListAccountsResponse {
        account_list,
        page_info,
    }))
}

#[derive(Serialize)]
pub struct AgencyInfo {
    account_id: String,
    agency_name: String,
    permission_set_name: String,
    agency_urn: String,
    description: Option<String>,
}

#[derive(Serialize)]
pub struct ListAccountAgenciesResponse {
    agency_list: Vec<AgencyInfo>,
    page_info: PageInfo,
}

/// One agency per permission set the user holds on the account; none for an account they are
/// not assigned to.
pub async fn list_agencies(
    State(state): State<AppState>,
    PortalUser(user): PortalUser,
    query: QueryParams,
) -> Result<Json<ListAccountAgenciesResponse>, Failure> {
    let account = query
        .get("account_id")
        .ok_or_else(|| ApiError::bad_request("account_id is required"))?
        .to_string();
    simple_id("account_id", &account, 64)?;
    let scope = format!("portal-agencies:{}:{account}", user.user_id);
    let markers = &state.keys.markers;
    let page = paging::page_with_default(&query, markers, &scope, MAX_PAGE, DEFAULT_PAGE)?;
    let rows = state
        .store
        .list_assigned_sets(&user.instance_id, &user.user_id, &account, page.lookahead())
        .await?;
    let (rows, page_info) = paging::finish(rows, page, markers, &scope, |s| s.seq);
    let agency_list = rows
        .into_iter()
        .map(|s| {
            let name = agency_name(&s.name, &s.permission_set_id);
            AgencyInfo {
                agency_urn: agency_urn(&account, &name),
                account_id: account.clone(),
                agency_name: name,
                permission_set_name: s.name,
                description: s.description,
            }
        })
        .collect();
    Ok(Json(ListAccountAgenciesResponse {
        agency_list,
        page_info,
    }))
}
