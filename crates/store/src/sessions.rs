//! Browser sign-in sessions of identity store users.
//!
//! A session is ended (its `ended_at` set), never deleted, by a sign-out, `BatchDeleteSessions`,
//! or the user being disabled or deleted; [`Store::sweep_sessions`] deletes ended and expired
//! rows later. Every way of ending sessions goes through [`end`], which also revokes the OIDC
//! tokens and the temporary credentials issued under them, in the same transaction. A user holds at most
//! [`MAX_LIVE_SESSIONS`] open sessions: a sign-in beyond them ends the oldest.

use crate::access_control;
use crate::db::{to_json, Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::{Page, Store, StoreError, StoreResult};
use iic_domain::access_control::PrincipalTags;
use iic_domain::directory::user::UserProfile;
use iic_domain::session::{parse_cookie, Session, MAX_LIVE_SESSIONS};

macro_rules! session_columns {
    () => {
        "seq, session_id, identity_store_id, user_id, secret_sha256, created_at, not_valid_after, ip_address, user_agent, ended_at, mfa_present, principal_tags"
    };
}

/// The profile of an enabled user (whose attributes the principal tags come from), locking the
/// user against a concurrent disable or delete until the session is written, so that a session
/// is never left live for a user who is gone.
static USER_ENABLED: Sql = Sql::new(
    "SELECT profile FROM users WHERE identity_store_id = $1 AND user_id = $2 AND enabled FOR SHARE",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO sessions (session_id, identity_store_id, user_id, secret_sha256, created_at, not_valid_after, ip_address, user_agent, mfa_present, principal_tags)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
);
static LIVE: Sql = Sql::new(concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE session_id = $1 AND ended_at IS NULL AND not_valid_after > $2"
));
static PAGE: Sql = Sql::new(concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE identity_store_id = $1 AND user_id = $2 AND seq > $3
       AND ended_at IS NULL AND not_valid_after > $5 ORDER BY seq LIMIT $4"
));
static END_SOME: Sql = Sql::new(
    "UPDATE sessions SET ended_at = $4
     WHERE identity_store_id = $1 AND user_id = $2 AND session_id = ANY($3) AND ended_at IS NULL
     RETURNING session_id",
);
static END_ALL: Sql = Sql::new(
    "UPDATE sessions SET ended_at = $3
     WHERE identity_store_id = $1 AND user_id = $2 AND ended_at IS NULL
     RETURNING session_id",
);
/// Ends the user's open sessions older than the newest `$3`.
static END_BEYOND: Sql = Sql::new(
    "UPDATE sessions SET ended_at = $4
     WHERE identity_store_id = $1 AND user_id = $2 AND ended_at IS NULL
       AND seq <= (SELECT seq FROM sessions
                   WHERE identity_store_id = $1 AND user_id = $2 AND ended_at IS NULL
                   ORDER BY seq DESC LIMIT 1 OFFSET $3)
     RETURNING session_id",
);
static SWEEP_EXPIRED: Sql = Sql::new(
    "DELETE FROM sessions WHERE seq IN
       (SELECT seq FROM sessions WHERE not_valid_after <= $1 LIMIT $2)",
);
static SWEEP_ENDED: Sql = Sql::new(
    "DELETE FROM sessions WHERE seq IN
       (SELECT seq FROM sessions WHERE ended_at <= $1 LIMIT $2)",
);

impl FromRow for Session {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Session {
            seq: r.get(0)?,
            session_id: r.get(1)?,
            identity_store_id: r.get(2)?,
            user_id: r.get(3)?,
            secret_sha256: r.get(4)?,
            created_at: r.get(5)?,
            not_valid_after: r.get(6)?,
            ip_address: r.get(7)?,
            user_agent: r.get(8)?,
            ended_at: r.get(9)?,
            mfa_present: r.get(10)?,
            principal_tags: r.json(11)?,
        })
    }
}

/// Which sessions of a user to end.
pub(crate) enum Ending<'a> {
    All,
    Some(&'a [String]),
    /// All but the newest this many.
    Beyond(i64),
}

/// Ends the user's live sessions named by `which`, with the OIDC tokens issued under them, in
/// the caller's transaction; returns the ended ids.
pub(crate) async fn end(
    db: &mut Db<'_>,
    identity_store_id: &str,
    user_id: &str,
    which: Ending<'_>,
    now: i64,
) -> StoreResult<Vec<String>> {
    let ended: Vec<String> = match which {
        Ending::All => {
            db.query(&END_ALL, &[&identity_store_id, &user_id, &now])
                .await?
        }
        Ending::Some(ids) => {
            db.query(
                &END_SOME,
                &[&identity_store_id, &user_id, &TextList(ids), &now],
            )
            .await?
        }
        Ending::Beyond(keep) => {
            db.query(&END_BEYOND, &[&identity_store_id, &user_id, &keep, &now])
                .await?
        }
    };
    // A session's end is the end of its tokens and of the credentials issued in it, in the
    // same transaction.
    crate::oidc::tokens::revoke_in_sessions(db, &ended, now).await?;
    crate::temporary_credentials::revoke_in_sessions(db, &ended, now).await?;
    Ok(ended)
}

impl Store {
    /// Stores a new session of an enabled user and returns its id, ending the user's oldest
    /// sessions beyond [`MAX_LIVE_SESSIONS`]; None when the user does not exist or is disabled.
    /// The session's principal tags are resolved here, in the same transaction, from the
    /// attributes for access control of the identity store's instance and the user's profile
    /// as they are now; the `principal_tags` of `session` are not read.
    pub async fn create_session(&self, session: &Session) -> StoreResult<Option<String>> {
        const OP: &str = "create_session";
        let s = session.clone();
        self.write(OP, async move |db| {
            let profile: Option<String> = db
                .query_opt(&USER_ENABLED, &[&s.identity_store_id, &s.user_id])
                .await?;
            let Some(profile) = profile else {
                return Ok(None);
            };
            let tags = match access_control::of_identity_store(db, &s.identity_store_id).await? {
                Some(configuration) => {
                    let user: UserProfile =
                        serde_json::from_str(&profile).map_err(|e| StoreError::backend(OP, e))?;
                    configuration.resolve(&user)
                }
                None => PrincipalTags::new(),
            };
            let tags = to_json(OP, &tags)?;
            db.execute(
                &INSERT,
                &[
                    &s.session_id,
                    &s.identity_store_id,
                    &s.user_id,
                    &s.secret_sha256,
                    &s.created_at,
                    &s.not_valid_after,
                    &s.ip_address,
                    &s.user_agent,
                    &s.mfa_present,
                    &tags,
                ],
            )
            .await?;
            let (store, user) = (&s.identity_store_id, &s.user_id);
            end(
                db,
                store,
                user,
                Ending::Beyond(MAX_LIVE_SESSIONS),
                s.created_at,
            )
            .await?;
            Ok(Some(s.session_id))
        })
        .await
    }

    /// The live session a browser's cookie names, when its secret matches (compared in
    /// constant time); None for any cookie that is malformed, unknown, ended, expired or wrong.
    pub async fn session_for_cookie(&self, cookie: &str, now: i64) -> StoreResult<Option<Session>> {
        let Some((id, secret)) = parse_cookie(cookie) else {
            return Ok(None);
        };
        let (id, secret) = (id.to_string(), secret.to_string());
        let found = self.live_session(&id, now).await?;
        Ok(found.filter(|s| s.secret_matches(&secret)))
    }

    /// The session `session_id` when it is neither ended nor expired at `now`.
    pub async fn live_session(&self, session_id: &str, now: i64) -> StoreResult<Option<Session>> {
        let id = session_id.to_string();
        self.read("live_session", async move |db| {
            db.query_opt(&LIVE, &[&id, &now]).await
        })
        .await
    }

    /// Keyset page of a user's live sessions at `now`, oldest first. It reads only that user's
    /// rows (index `sessions_user_seq`), whatever the size of the table.
    pub async fn list_sessions(
        &self,
        identity_store_id: &str,
        user_id: &str,
        now: i64,
        page: Page,
    ) -> StoreResult<Vec<Session>> {
        let (store, user) = (identity_store_id.to_string(), user_id.to_string());
        self.read("list_sessions", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            db.query(&PAGE, &[&store, &user, &after, &limit, &now])
                .await
        })
        .await
    }

    /// Ends the user's sessions among `session_ids`, in one transaction; returns the ids that
    /// were live and are now ended (ids of other users' sessions are never touched).
    pub async fn end_sessions(
        &self,
        identity_store_id: &str,
        user_id: &str,
        session_ids: &[String],
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let (store, user, ids) = (
            identity_store_id.to_string(),
            user_id.to_string(),
            session_ids.to_vec(),
        );
        self.write("end_sessions", async move |db| {
            end(db, &store, &user, Ending::Some(&ids), now).await
        })
        .await
    }

    /// Ends every live session of the user; returns their ids.
    pub async fn end_user_sessions(
        &self,
        identity_store_id: &str,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let (store, user) = (identity_store_id.to_string(), user_id.to_string());
        self.write("end_user_sessions", async move |db| {
            end(db, &store, &user, Ending::All, now).await
        })
        .await
    }

    /// Deletes up to `batch` expired and up to `batch` ended sessions (as of `now`); returns how
    /// many rows went. The background sweep calls it until it returns less than it may.
    pub async fn sweep_sessions(&self, now: i64, batch: i64) -> StoreResult<u64> {
        self.write("sweep_sessions", async move |db| {
            let expired = db.execute(&SWEEP_EXPIRED, &[&now, &batch]).await?;
            let ended = db.execute(&SWEEP_ENDED, &[&now, &batch]).await?;
            Ok(expired + ended)
        })
        .await
    }
}
