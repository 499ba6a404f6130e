//! Delivers the outbox: claims due mails, opens their sealed bodies and hands them to the relay,
//! one at a time. A mail the
//! relay does not take is tried again 5 s later, then 10 s, 20 s and every 30 s, until the relay
//! takes it or refuses it for good (a 5xx reply).

use crate::mail_send::{OutgoingMail, Relay};
use iic_api::AppState;
use iic_domain::crypto::Sealer;
use iic_domain::mail_body;
use iic_store::{QueuedMail, Store};
use std::time::Duration;

/// How often the outbox is looked at.
const POLL: Duration = Duration::from_secs(1);
/// A claimed mail is due again after this long if its sender died: longer than one attempt can
/// take (the relay's 30 s timeout).
const LEASE_MS: i64 = 90_000;
/// Mails claimed at once.
const BATCH: i64 = 10;

/// The wait before the next attempt, after `attempts` failed ones.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 4) - 1;
    (5_000_i64 << doublings).min(30_000)
}

pub async fn run(state: AppState, relay: Relay) {
    let store = &state.store;
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        let now = iic_domain::clock::now_millis();
        let mails = match store.claim_mails(now, LEASE_MS, BATCH).await {
            Ok(mails) => mails,
            Err(e) => {
                tracing::warn!(error = %e, "claiming mails failed");
                continue;
            }
        };
        for mail in mails {
            deliver(store, &state.keys.outbox, &relay, mail).await;
        }
    }
}

async fn deliver(store: &Store, sealer: &Sealer, relay: &Relay, mail: QueuedMail) {
    let Some(body) = mail_body::open(sealer, &mail.message_id, &mail.body) else {
        // Queued under another master key, or not by this server: it cannot be read, ever.
        tracing::error!(message_id = %mail.message_id, "a queued mail's body does not open with this server's key; it is not sent");
        let now = iic_domain::clock::now_millis();
        if let Err(e) = store
            .mail_refused(
                mail.seq,
                now,
                "the body does not open with this server's key",
            )
            .await
        {
            tracing::warn!(message_id = %mail.message_id, error = %e, "recording a mail's delivery failed");
        }
        return;
    };
    let outgoing = OutgoingMail {
        message_id: mail.message_id.clone(),
        to: mail.recipient.clone(),
        subject: mail.subject.clone(),
        body,
    };
    let result = relay.send(&outgoing).await;
    let now = iic_domain::clock::now_millis();
    let recorded = match result {
        Ok(()) => {
            tracing::info!(message_id = %mail.message_id, attempts = mail.attempts, "mail sent");
            store.mail_sent(mail.seq, now).await
        }
        Err(failure) if failure.permanent => {
            tracing::warn!(
                message_id = %mail.message_id,
                reason = %failure.reason,
                "the relay refused a mail; it is not sent again"
            );
            store.mail_refused(mail.seq, now, &failure.reason).await
        }
        Err(failure) => {
            let delay = retry_delay_ms(mail.attempts);
            tracing::info!(
                message_id = %mail.message_id,
                attempts = mail.attempts,
                retry_in_ms = delay,
                reason = %failure.reason,
                "mail not delivered yet"
            );
            store
                .retry_mail(mail.seq, now + delay, &failure.reason)
                .await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(message_id = %mail.message_id, error = %e, "recording a mail's delivery failed");
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay_ms;

    #[test]
    fn retries_start_at_5_s_and_double_up_to_30_s() {
        let delays: Vec<i64> = (1..=7).map(retry_delay_ms).collect();
        assert_eq!(
            delays,
            [5_000, 10_000, 20_000, 30_000, 30_000, 30_000, 30_000]
        );
    }
}
