//! Temporary credentials from the portal home: issued for the signed-in session, shown once as
//! shell `export` lines and as an SDK snippet.

use super::browser::{PageError, PostedForm};
use super::html::{error_notice, escape};
use crate::portal::credentials::{issue, Holder, Refused};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub async fn submit(
    State(state): State<AppState>,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let Some(session) = portal.session(&state).await? else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    let account = form.get("account_id").unwrap_or_default();
    let urn = form.get("agency_urn").unwrap_or_default();
    let holder = Holder {
        user_id: session.user_id,
        identity_store_id: session.identity_store_id,
        instance_id: portal.instance.instance_id.clone(),
        session_id: session.session_id,
    };
    let creds = match issue(&state, holder, account, urn).await {
        Ok(c) => c,
        Err(Refused::Store(e)) => return Err(e.into()),
        Err(Refused::Api(e)) => {
            let body = format!(
                "<div class=\"card\"><h1>No credentials</h1>{}<p><a href=\"{}\">Back to your accounts</a></p></div>",
                error_notice(&e.message),
                escape(&portal.path)
            );
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::FORBIDDEN);
            return Ok(portal.finish(portal.page("No credentials", body).with_status(status)));
        }
    };
    let expires = iic_domain::clock::format_iso8601_secs(creds.expiration);
    let exports = format!(
        "export HUAWEICLOUD_SDK_AK={ak}\nexport HUAWEICLOUD_SDK_SK={sk}\nexport HUAWEICLOUD_SDK_SECURITY_TOKEN={token}",
        ak = creds.access_key_id,
        sk = creds.secret_access_key,
        token = creds.session_token,
    );
    let sdk = format!(
        "from huaweicloudsdkcore.auth.credentials import GlobalCredentials\n\n\
         credentials = GlobalCredentials(\"{ak}\", \"{sk}\", \"{account}\") \\\n    .with_security_token(\"{token}\")",
        ak = creds.access_key_id,
        sk = creds.secret_access_key,
        account = account,
        token = creds.session_token,
    );
    let body = format!(
        "<div class=\"card\"><h1>Temporary credentials</h1>\
         <p>For account <strong>{account}</strong>, agency <code>{urn}</code>. They expire at \
         <time id=\"expiration\" datetime=\"{expires}\">{expires}</time>. Shown once: copy them now.</p>\
         <h2>Shell</h2><pre id=\"export\">{exports}</pre>\
         <h2>Python SDK</h2><pre id=\"sdk\">{sdk}</pre>\
         <p><a href=\"{home}\">Back to your accounts</a></p></div>",
        account = escape(account),
        urn = escape(urn),
        expires = escape(&expires),
        exports = escape(&exports),
        sdk = escape(&sdk),
        home = escape(&portal.path),
    );
    Ok(portal.finish(portal.page("Temporary credentials", body)))
}
