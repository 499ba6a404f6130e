//! The user portal API (`IdentityCenterPortalAPIClient`): a signed-in user, holding an OIDC
//! access token in the `access-token` header, lists the accounts and agencies they are assigned,
//! takes temporary credentials for one, and logs out.

mod accounts;
pub mod credentials;
mod logout;
mod token;

use crate::operation::{Op, Routes, Service};

pub use token::PortalUser;

/// Portal lists: `limit` 1–2000, 200 by default.
const MAX_PAGE: i64 = 2000;
const DEFAULT_PAGE: i64 = 200;

pub fn routes() -> Routes {
    Routes::new(Service::Portal)
        .add(
            Op::get("ListAccounts", "/v1/assigned-accounts").access_token(),
            accounts::list_accounts,
        )
        .add(
            Op::get("ListAccountAgencies", "/v1/assigned-agencies").access_token(),
            accounts::list_agencies,
        )
        .add(
            Op::get("GetAgencyCredentials", "/v1/credentials").access_token(),
            credentials::get,
        )
        .add(
            Op::post("Logout", "/v1/logout").no_body().access_token(),
            logout::logout,
        )
}
