//! A signed-in portal user for the portal benchmark. The sign-in pages are a browser's; the
//! benchmark instead writes what they would — a session and an approved device grant, redeemed
//! once for an access token — into the server's SQLite database through the store.

use iic_domain::oidc::{hash_secret, new_client_id, new_secret, new_user_code, DeviceState};
use iic_domain::session::{issue, Origin};
use iic_store::{DeviceDecision, DeviceGrant, NewTokens, OidcClient, PollOutcome};
use std::path::Path;

/// Who signs in, in which instance.
pub struct PortalUser<'a> {
    pub instance_id: &'a str,
    pub identity_store_id: &'a str,
    pub user_id: &'a str,
}

/// Signs `user` in through the store of the database at `db` and returns a live access token.
pub async fn access_token(db: &Path, user: &PortalUser<'_>) -> Result<String, String> {
    let store = iic_store::open(&format!("sqlite://{}", db.display()))
        .await
        .map_err(|e| e.to_string())?;
    let now = iic_domain::clock::now_millis();
    let e = |e: iic_store::StoreError| e.to_string();
    let session = issue(
        user.identity_store_id,
        user.user_id,
        now,
        8 * 3_600,
        Origin::default(),
    )
    .session;
    let session_id = store
        .create_session(&session)
        .await
        .map_err(e)?
        .ok_or("the user cannot sign in")?;
    let client = OidcClient {
        client_id: new_client_id(),
        secret_sha256: hash_secret(&new_secret()),
        name: "iic-bench".into(),
        client_type: "public".into(),
        scopes: vec!["openid".into()],
        grant_types: vec![iic_domain::oidc::DEVICE_CODE_GRANT.into()],
        issued_at: now,
        expires_at: now + 86_400_000,
    };
    store.register_oidc_client(&client).await.map_err(e)?;
    let device_code = new_secret();
    let grant = DeviceGrant {
        device_code_sha256: hash_secret(&device_code),
        user_code: new_user_code(),
        client_id: client.client_id.clone(),
        instance_id: user.instance_id.into(),
        identity_store_id: user.identity_store_id.into(),
        scopes: client.scopes.clone(),
        state: DeviceState::Pending,
        interval_secs: 5,
        last_poll_at: None,
        expires_at: now + 600_000,
        forget_at: now + 1_200_000,
        user_id: None,
        session_id: None,
        created_at: now,
    };
    store.start_device_grant(&grant).await.map_err(e)?;
    let approve = DeviceDecision::Approve {
        user_id: user.user_id.into(),
        session_id,
    };
    store
        .decide_device_grant(&grant.user_code, &approve, now)
        .await
        .map_err(e)?
        .ok_or("the device grant was not pending")?;
    let access = new_secret();
    let tokens = NewTokens {
        access_sha256: hash_secret(&access),
        refresh_sha256: hash_secret(&new_secret()),
        access_expires_at: now + 8 * 3_600_000,
        refresh_expires_at: now + 86_400_000,
    };
    match store
        .poll_device_grant(&grant.device_code_sha256, &client.client_id, now, &tokens)
        .await
        .map_err(e)?
    {
        PollOutcome::Issued(_) => Ok(access),
        other => Err(format!("the device grant was not redeemed: {other:?}")),
    }
}
