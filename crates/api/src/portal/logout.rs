//! Logout: ends the sign-in session the access token came from, which revokes every token and
//! temporary credential issued in it, and revokes the token itself.

use super::PortalUser;
use crate::envelope::Failure;
use crate::state::AppState;
use axum::extract::State;

pub async fn logout(
    State(state): State<AppState>,
    PortalUser(user): PortalUser,
) -> Result<(), Failure> {
    let now = iic_domain::clock::now_millis();
    if let Some(session) = &user.session_id {
        let ended = state
            .store
            .end_sessions(
                &user.identity_store_id,
                &user.user_id,
                std::slice::from_ref(session),
                now,
            )
            .await?;
        if !ended.is_empty() {
            // This server forgets cached keys at once; the others follow the revocation count.
            state.callers.clear();
        }
    }
    state
        .store
        .revoke_oidc_token(&user.access_sha256, now)
        .await?;
    Ok(())
}
