//! Browser sign-in sessions of a user: listing them and ending them (`BatchDeleteSessions`).

use super::owned_store;
use super::users::existing_user;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::{JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::{clock, ApiError};
use iic_store::{Page, Session};
use serde::{Deserialize, Serialize};

/// Rows read from the store per round; the catalogue pages nothing, so all are listed.
const READ_BATCH: i64 = 100;
/// Ids one `BatchDeleteSessions` may name.
const MAX_IDS: usize = 100;

/// A session as `ListSessions` shows it (`UserSessionDto`).
#[derive(Serialize)]
pub struct SessionView {
    session_id: String,
    user_id: String,
    creation_time: i64,
    session_not_valid_after: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
}

impl From<Session> for SessionView {
    fn from(s: Session) -> Self {
        SessionView {
            session_id: s.session_id,
            user_id: s.user_id,
            creation_time: s.created_at,
            session_not_valid_after: s.not_valid_after,
            ip_address: s.ip_address,
            user_agent: s.user_agent,
        }
    }
}

#[derive(Serialize)]
pub struct ListSessionsResponse {
    session_list: Vec<SessionView>,
}

/// The user's live sessions, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<Json<ListSessionsResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let user = existing_user(&state, &store, &user_id).await?;
    let now = clock::now_millis();
    let mut sessions = Vec::new();
    let mut page = Page::first(READ_BATCH);
    loop {
        let rows = state
            .store
            .list_sessions(&store.identity_store_id, &user.user_id, now, page)
            .await?;
        let last = rows.last().map(|s| s.seq);
        let full = rows.len() as i64 == READ_BATCH;
        sessions.extend(rows.into_iter().map(SessionView::from));
        match last {
            Some(seq) if full => page = Page::after(seq, READ_BATCH),
            _ => break,
        }
    }
    Ok(Json(ListSessionsResponse {
        session_list: sessions,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchDeleteBody {
    session_ids: Vec<String>,
}

/// Ends the named sessions of the user. Ids that name no live session of this user (unknown,
/// already ended, another user's) are passed over: the catalogue gives this operation no 404,
/// and a session that is already over is as ended as the caller wants it.
pub async fn batch_delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<BatchDeleteBody>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let user = existing_user(&state, &store, &user_id).await?;
    validate_ids(&body.session_ids)?;
    state
        .store
        .end_sessions(
            &store.identity_store_id,
            &user.user_id,
            &body.session_ids,
            clock::now_millis(),
        )
        .await?;
    // Temporary credentials issued in those sessions are gone: this server forgets cached keys
    // at once, the others when they see the revocation count move.
    state.callers.clear();
    Ok(())
}

/// 1 to [`MAX_IDS`] ids, each `^[a-zA-Z0-9-]{1,64}$`.
fn validate_ids(ids: &[String]) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::bad_request(format!(
            "session_ids must hold between 1 and {MAX_IDS} items"
        )));
    }
    for id in ids {
        iic_domain::validate::simple_id("session_ids", id, 64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bounded_and_shaped() {
        assert!(validate_ids(&["a".repeat(32)]).is_ok());
        for bad in [
            vec![],
            vec!["x".to_string(); MAX_IDS + 1],
            vec!["a b".into()],
            vec![String::new()],
        ] {
            let e = validate_ids(&bad).expect_err("refused");
            assert!(e.message.contains("session_ids"), "{}", e.message);
        }
    }
}
