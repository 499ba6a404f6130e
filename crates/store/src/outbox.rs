//! Mails owed to someone: queued in the database, handed to the relay by one sender at a time.
//! A claim pushes `send_after` past a lease, so a sender that dies leaves the mail due again.

use crate::db::{Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Store, StoreResult};

/// A mail to queue. `message_id` is fixed now so that every attempt carries the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// A mail claimed for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub seq: i64,
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Where a queued mail is: `pending` (not yet taken by the relay), `sent` or `refused`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailState {
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

const PENDING: &str = "pending";
const SENT: &str = "sent";
const REFUSED: &str = "refused";

static INSERT: Sql = Sql::new(
    "INSERT INTO outbox (message_id, recipient, subject, body, state, attempts, send_after, created_at)
     VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
);
static CLAIM: Sql = Sql::new(
    "UPDATE outbox SET send_after = $2, attempts = attempts + 1
     WHERE seq IN (SELECT seq FROM outbox WHERE state = $4 AND send_after <= $1
                   ORDER BY send_after, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING seq, message_id, recipient, subject, body, attempts",
);
static RETRY: Sql =
    Sql::new("UPDATE outbox SET send_after = $2, last_error = $3 WHERE seq = $1 AND state = $4");
/// A sent mail's body (it may hold a one-time link) is not kept.
static SENT_: Sql = Sql::new(
    "UPDATE outbox SET state = $2, finished_at = $3, body = '', last_error = NULL WHERE seq = $1",
);
static REFUSE: Sql = Sql::new(
    "UPDATE outbox SET state = $2, finished_at = $3, body = '', last_error = $4 WHERE seq = $1",
);
static STATE: Sql =
    Sql::new("SELECT state, attempts, last_error FROM outbox WHERE message_id = $1");

impl FromRow for MailState {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(MailState {
            state: r.get(0)?,
            attempts: r.get(1)?,
            last_error: r.get(2)?,
        })
    }
}

impl FromRow for QueuedMail {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(QueuedMail {
            seq: r.get(0)?,
            message_id: r.get(1)?,
            recipient: r.get(2)?,
            subject: r.get(3)?,
            body: r.get(4)?,
            attempts: r.get(5)?,
        })
    }
}

/// Queues `mail` within the caller's transaction, so that it is owed exactly when what owes it
/// is committed.
pub(crate) async fn queue_mail(db: &mut Db<'_>, mail: &NewMail, now: i64) -> StoreResult<()> {
    db.execute(
        &INSERT,
        &[
            &mail.message_id,
            &mail.recipient,
            &mail.subject,
            &mail.body,
            &PENDING,
            &now,
        ],
    )
    .await?;
    Ok(())
}

impl Store {
    /// Queues one mail on its own.
    pub async fn queue_mail(&self, mail: &NewMail, now: i64) -> StoreResult<()> {
        let mail = mail.clone();
        self.write_one("queue_mail", async move |db| {
            queue_mail(db, &mail, now).await
        })
        .await
    }

    /// Claims up to `limit` due mails, oldest first; none is due again before `now + lease_ms`.
    pub async fn claim_mails(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        self.write("claim_mails", async move |db| {
            let mut mails: Vec<QueuedMail> = db
                .query(&CLAIM, &[&now, &(now + lease_ms), &limit, &PENDING])
                .await?;
            mails.sort_by_key(|m| m.seq);
            Ok(mails)
        })
        .await
    }

    /// The relay did not take the mail; it is due again at `send_after`.
    pub async fn retry_mail(&self, seq: i64, send_after: i64, reason: &str) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write_one("retry_mail", async move |db| {
            db.execute(&RETRY, &[&seq, &send_after, &reason, &PENDING])
                .await?;
            Ok(())
        })
        .await
    }

    /// The relay took the mail.
    pub async fn mail_sent(&self, seq: i64, now: i64) -> StoreResult<()> {
        self.write_one("mail_sent", async move |db| {
            db.execute(&SENT_, &[&seq, &SENT, &now]).await?;
            Ok(())
        })
        .await
    }

    /// The relay refused the mail for good (a 5xx reply).
    pub async fn mail_refused(&self, seq: i64, now: i64, reason: &str) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write_one("mail_refused", async move |db| {
            db.execute(&REFUSE, &[&seq, &REFUSED, &now, &reason])
                .await?;
            Ok(())
        })
        .await
    }

    pub async fn mail_state(&self, message_id: &str) -> StoreResult<Option<MailState>> {
        let id = message_id.to_string();
        self.read("mail_state", async move |db| {
            db.query_opt(&STATE, &[&id]).await
        })
        .await
    }
}
