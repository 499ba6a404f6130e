//! One-time secrets mailed to users: the links that set a password or verify an e-mail address,
//! and the codes of e-mail sign-in. Only a hash of each is kept. A user holds at most one live
//! link per purpose and one code: a new one replaces the old. Each is issued together with its
//! mail, in one transaction, and spent by a compare-and-set in the transaction that does what it
//! allows.

use crate::db::{Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::outbox::{queue_mail, NewMail};
use crate::sessions::{end, Ending};
use crate::{Store, StoreResult};
use iic_domain::directory::user::UserProfile;

/// What a mailed link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Choose a new password (CreateUser or ResetPwdMode with `EMAIL`, or "forgot password").
    PasswordReset,
    /// Confirm the e-mail address the link was sent to (VerifyEmail).
    VerifyEmail,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::PasswordReset => "password_reset",
            LinkPurpose::VerifyEmail => "verify_email",
        }
    }
}

/// A link to issue: what it allows, the SHA-256 of its token, until when, and the mail that
/// carries it (its recipient is the address the link is for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub purpose: LinkPurpose,
    pub token_sha256: Vec<u8>,
    pub expires_at: i64,
    pub mail: NewMail,
}

/// A live link: whom it was issued to, and the address it was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailedLink {
    pub identity_store_id: String,
    pub user_id: String,
    pub email: String,
    pub expires_at: i64,
}

impl FromRow for MailedLink {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(MailedLink {
            identity_store_id: r.get(0)?,
            user_id: r.get(1)?,
            email: r.get(2)?,
            expires_at: r.get(3)?,
        })
    }
}

/// The user whose password a link set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordSet {
    pub identity_store_id: String,
    pub user_id: String,
    /// The user name, lower-cased (what sign-in throttles are keyed by).
    pub user_name_lower: String,
    /// Sessions ended because the password changed.
    pub ended_sessions: usize,
}

/// Where a sign-in code check left the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// It matched and is spent.
    Accepted,
    /// It did not match; the code stays usable for this many more tries.
    Wrong { tries_left: i64 },
    /// No live code (none sent, expired, spent, or void after too many wrong tries).
    NoCode,
}

/// Written only for an existing user of the store; replaces the user's link of the purpose.
/// (SQLite needs the `WHERE` of the `SELECT` to read `ON CONFLICT` as the upsert's.)
static ISSUE_LINK: Sql = Sql::new(
    "INSERT INTO mailed_links (token_sha256, purpose, identity_store_id, user_id, email, created_at, expires_at)
     SELECT $1, $2, identity_store_id, user_id, $5, $6, $7 FROM users
     WHERE identity_store_id = $3 AND user_id = $4
     ON CONFLICT (user_id, purpose) DO UPDATE SET token_sha256 = excluded.token_sha256,
       email = excluded.email, created_at = excluded.created_at, expires_at = excluded.expires_at",
);
static LIVE_LINK: Sql = Sql::new(
    "SELECT identity_store_id, user_id, email, expires_at FROM mailed_links
     WHERE token_sha256 = $1 AND purpose = $2 AND expires_at > $3",
);
static SPEND_LINK: Sql = Sql::new(
    "DELETE FROM mailed_links WHERE token_sha256 = $1 AND purpose = $2 AND expires_at > $3
     RETURNING identity_store_id, user_id, email, expires_at",
);
static SET_PASSWORD: Sql = Sql::new(
    "UPDATE users SET password_hash = $3, password_must_change = FALSE, password_reset_email_owed = FALSE,
       updated_at = $4, updated_by = user_id
     WHERE identity_store_id = $1 AND user_id = $2 AND enabled
     RETURNING user_name_lower",
);
static PROFILE: Sql =
    Sql::new("SELECT profile FROM users WHERE identity_store_id = $1 AND user_id = $2 FOR UPDATE");
static SET_VERIFIED: Sql = Sql::new(
    "UPDATE users SET profile = $3, email_verified = TRUE, updated_at = $4, updated_by = user_id
     WHERE identity_store_id = $1 AND user_id = $2",
);
static SWEEP_LINKS: Sql = Sql::new(
    "DELETE FROM mailed_links WHERE token_sha256 IN
       (SELECT token_sha256 FROM mailed_links WHERE expires_at <= $1 LIMIT $2)",
);

static ISSUE_CODE: Sql = Sql::new(
    "INSERT INTO email_codes (user_id, identity_store_id, code_hash, failures, created_at, expires_at)
     SELECT user_id, identity_store_id, $3, 0, $4, $5 FROM users
     WHERE identity_store_id = $1 AND user_id = $2
     ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, failures = 0,
       created_at = excluded.created_at, expires_at = excluded.expires_at",
);
static LIVE_CODE: Sql = Sql::new(
    "SELECT code_hash, failures FROM email_codes
     WHERE identity_store_id = $1 AND user_id = $2 AND expires_at > $3 FOR UPDATE",
);
static DROP_CODE: Sql =
    Sql::new("DELETE FROM email_codes WHERE identity_store_id = $1 AND user_id = $2");
static COUNT_WRONG: Sql = Sql::new(
    "UPDATE email_codes SET failures = failures + 1 WHERE identity_store_id = $1 AND user_id = $2",
);
static SWEEP_CODES: Sql = Sql::new(
    "DELETE FROM email_codes WHERE user_id IN
       (SELECT user_id FROM email_codes WHERE expires_at <= $1 LIMIT $2)",
);

struct LiveCode {
    hash: Vec<u8>,
    failures: i64,
}

impl FromRow for LiveCode {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(LiveCode {
            hash: r.get(0)?,
            failures: r.get(1)?,
        })
    }
}

struct Profile(UserProfile);

impl FromRow for Profile {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Profile(r.json(0)?))
    }
}

/// Records `link` for the user and queues its mail, within the caller's transaction; false
/// (nothing written) when the store holds no such user.
pub(crate) async fn issue_link(
    db: &mut Db<'_>,
    identity_store_id: &str,
    user_id: &str,
    link: &NewLink,
    now: i64,
) -> StoreResult<bool> {
    let n = db
        .execute(
            &ISSUE_LINK,
            &[
                &link.token_sha256,
                &link.purpose.as_str(),
                &identity_store_id,
                &user_id,
                &link.mail.recipient,
                &now,
                &link.expires_at,
            ],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    queue_mail(db, &link.mail, now).await?;
    Ok(true)
}

async fn spend_link(
    db: &mut Db<'_>,
    token_sha256: &[u8],
    purpose: LinkPurpose,
    now: i64,
) -> StoreResult<Option<MailedLink>> {
    db.query_opt(&SPEND_LINK, &[&token_sha256, &purpose.as_str(), &now])
        .await
}

impl Store {
    /// Records a link for the user, replacing the user's earlier link of the same purpose, and
    /// queues its mail, together; false (nothing written) when the store holds no such user.
    pub async fn issue_mailed_link(
        &self,
        identity_store_id: &str,
        user_id: &str,
        link: &NewLink,
        now: i64,
    ) -> StoreResult<bool> {
        let (store, user, link) = (
            identity_store_id.to_string(),
            user_id.to_string(),
            link.clone(),
        );
        self.write("issue_mailed_link", async move |db| {
            issue_link(db, &store, &user, &link, now).await
        })
        .await
    }

    /// The live link of `purpose` with this token hash; None when unknown, spent, replaced or
    /// expired.
    pub async fn mailed_link(
        &self,
        token_sha256: &[u8],
        purpose: LinkPurpose,
        now: i64,
    ) -> StoreResult<Option<MailedLink>> {
        let hash = token_sha256.to_vec();
        self.read("mailed_link", async move |db| {
            db.query_opt(&LIVE_LINK, &[&hash, &purpose.as_str(), &now])
                .await
        })
        .await
    }

    /// Spends a live password-reset link and sets the password it was issued for, in one
    /// transaction: the password is no longer one to change, no reset mail is owed any more,
    /// and the user's sessions end (with their tokens and credentials). None, and nothing
    /// changed, when the link is not live or its user is gone or disabled.
    pub async fn reset_password_by_link(
        &self,
        token_sha256: &[u8],
        new_hash: &str,
        now: i64,
    ) -> StoreResult<Option<PasswordSet>> {
        let (hash, new_hash) = (token_sha256.to_vec(), new_hash.to_string());
        self.write("reset_password_by_link", async move |db| {
            let Some(link) = spend_link(db, &hash, LinkPurpose::PasswordReset, now).await? else {
                return Ok(None);
            };
            let (store, user) = (&link.identity_store_id, &link.user_id);
            let name: Option<String> = db
                .query_opt(&SET_PASSWORD, &[store, user, &new_hash, &now])
                .await?;
            let Some(user_name_lower) = name else {
                // Disabled: the link stays for after the user is enabled again.
                db.discard();
                return Ok(None);
            };
            let ended = end(db, store, user, Ending::All, now).await?;
            Ok(Some(PasswordSet {
                identity_store_id: link.identity_store_id,
                user_id: link.user_id,
                user_name_lower,
                ended_sessions: ended.len(),
            }))
        })
        .await
    }

    /// Spends a live verification link and marks the user's e-mail verified, in one
    /// transaction, when the address it was sent to is still the user's primary one. The link
    /// is spent either way; None when it was not live (or the user is gone), Some(false) when
    /// the address changed since.
    pub async fn verify_email_by_link(
        &self,
        token_sha256: &[u8],
        now: i64,
    ) -> StoreResult<Option<(MailedLink, bool)>> {
        const OP: &str = "verify_email_by_link";
        let hash = token_sha256.to_vec();
        self.write(OP, async move |db| {
            let Some(link) = spend_link(db, &hash, LinkPurpose::VerifyEmail, now).await? else {
                return Ok(None);
            };
            let (store, user) = (&link.identity_store_id, &link.user_id);
            let Some(Profile(mut profile)) = db.query_opt(&PROFILE, &[store, user]).await? else {
                return Ok(None);
            };
            if profile.primary_email_lower() != Some(link.email.to_lowercase()) {
                return Ok(Some((link, false)));
            }
            for e in &mut profile.emails {
                e.verification_status = Some("VERIFIED".into());
            }
            let json = crate::db::to_json(OP, &profile)?;
            db.execute(&SET_VERIFIED, &[store, user, &json, &now])
                .await?;
            Ok(Some((link, true)))
        })
        .await
    }

    /// Deletes up to `limit` expired links; returns how many.
    pub async fn sweep_mailed_links(&self, now: i64, limit: i64) -> StoreResult<u64> {
        self.write_one("sweep_mailed_links", async move |db| {
            db.execute(&SWEEP_LINKS, &[&now, &limit]).await
        })
        .await
    }

    /// Records a sign-in code for the user by its keyed hash, replacing any earlier one, and
    /// queues its mail, together; false (nothing written) when the store holds no such user.
    pub async fn issue_email_code(
        &self,
        identity_store_id: &str,
        user_id: &str,
        code_hash: &[u8],
        expires_at: i64,
        mail: &NewMail,
        now: i64,
    ) -> StoreResult<bool> {
        let (store, user, hash, mail) = (
            identity_store_id.to_string(),
            user_id.to_string(),
            code_hash.to_vec(),
            mail.clone(),
        );
        self.write("issue_email_code", async move |db| {
            let n = db
                .execute(&ISSUE_CODE, &[&store, &user, &hash, &now, &expires_at])
                .await?;
            if n == 0 {
                return Ok(false);
            }
            queue_mail(db, &mail, now).await?;
            Ok(true)
        })
        .await
    }

    /// Checks a candidate against the user's live code, comparing the hashes in constant
    /// time. A match spends the code; a wrong one counts, and the `max_failures`-th wrong one
    /// voids the code.
    pub async fn check_email_code(
        &self,
        identity_store_id: &str,
        user_id: &str,
        candidate_hash: &[u8],
        max_failures: i64,
        now: i64,
    ) -> StoreResult<CodeCheck> {
        let (store, user, candidate) = (
            identity_store_id.to_string(),
            user_id.to_string(),
            candidate_hash.to_vec(),
        );
        self.write("check_email_code", async move |db| {
            let Some(live) = db
                .query_opt::<LiveCode>(&LIVE_CODE, &[&store, &user, &now])
                .await?
            else {
                return Ok(CodeCheck::NoCode);
            };
            if iic_domain::crypto::ct_eq(&live.hash, &candidate) {
                db.execute(&DROP_CODE, &[&store, &user]).await?;
                return Ok(CodeCheck::Accepted);
            }
            let failures = live.failures + 1;
            if failures >= max_failures {
                db.execute(&DROP_CODE, &[&store, &user]).await?;
            } else {
                db.execute(&COUNT_WRONG, &[&store, &user]).await?;
            }
            Ok(CodeCheck::Wrong {
                tries_left: (max_failures - failures).max(0),
            })
        })
        .await
    }

    /// Deletes up to `limit` expired sign-in codes; returns how many.
    pub async fn sweep_email_codes(&self, now: i64, limit: i64) -> StoreResult<u64> {
        self.write_one("sweep_email_codes", async move |db| {
            db.execute(&SWEEP_CODES, &[&now, &limit]).await
        })
        .await
    }
}
