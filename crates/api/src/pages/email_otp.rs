//! One-time sign-in codes sent by mail (MFA `EMAIL_OTP`): six digits from the operating
//! system's CSPRNG, valid for ten minutes and once, kept only as a keyed hash. A new code
//! replaces the user's previous one; the fifth wrong try voids a code; at most five codes are
//! mailed to a user in fifteen minutes.

use super::browser::PageError;
use crate::state::AppState;
use crate::user_mail::{self, MAIL_LOG};
use iic_domain::mailed_secret::{sign_in_code, sign_in_code_hash};
use iic_domain::sign_in::ThrottlePolicy;
use iic_store::CodeCheck;

/// How long a code stays valid.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Wrong tries after which a code is void.
pub const MAX_WRONG_TRIES: i64 = 5;
/// Codes mailed to one user: 5 in 15 minutes, then none for 15 minutes. Each new code brings
/// fresh tries, so without this bound a caller who knows the password could guess on and on.
pub const SENDS: ThrottlePolicy = ThrottlePolicy {
    max_failures: 5,
    window_ms: 15 * 60_000,
    lock_ms: 15 * 60_000,
};

fn send_key(identity_store_id: &str, user_id: &str) -> String {
    format!("email-code:{identity_store_id}:{user_id}")
}

/// What asking for a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMail {
    Queued,
    /// The user is gone or has no address, or no relay is configured.
    Impossible,
    /// The user was sent [`SENDS`] codes in its window already.
    TooMany,
}

/// Mails a fresh sign-in code to the user's primary address, replacing any earlier code
/// (refusals are logged).
pub async fn send_code(
    state: &AppState,
    identity_store_id: &str,
    user_id: &str,
) -> Result<CodeMail, PageError> {
    let Some(user) = state.store.get_user(identity_store_id, user_id).await? else {
        return Ok(CodeMail::Impossible);
    };
    let Some(to) = user_mail::primary_email(&user) else {
        return Ok(CodeMail::Impossible);
    };
    if !state.limits.mail_relay {
        user_mail::warn_no_relay("sign-in code", identity_store_id, user_id);
        return Ok(CodeMail::Impossible);
    }
    let now = iic_domain::clock::now_millis();
    let key = send_key(identity_store_id, user_id);
    if let Some(until) = state
        .store
        .sign_in_locked_until(std::slice::from_ref(&key), now)
        .await?
    {
        tracing::warn!(target: MAIL_LOG, identity_store_id, user_id, locked_until = until, "sign-in code not mailed: too many codes asked for");
        return Ok(CodeMail::TooMany);
    }
    state.store.record_sign_in_failure(&key, SENDS, now).await?;
    let code = sign_in_code();
    let portal = user_mail::portal_of(state, identity_store_id);
    let mail = user_mail::sealed(
        state,
        user_mail::code_mail(&user, &portal, &code, CODE_TTL_MINUTES, to),
    );
    let hash = sign_in_code_hash(&state.keys.email_codes, identity_store_id, user_id, &code);
    let sent = state
        .store
        .issue_email_code(
            identity_store_id,
            user_id,
            &hash,
            now + CODE_TTL_MINUTES * 60_000,
            &mail,
            now,
        )
        .await?;
    if !sent {
        return Ok(CodeMail::Impossible);
    }
    tracing::info!(target: MAIL_LOG, identity_store_id, user_id, message_id = %mail.message_id, "sign-in code mailed");
    Ok(CodeMail::Queued)
}

/// Whether `code` is the user's live sign-in code; a match spends it. Anything that is not six
/// digits is refused without counting as a try.
pub async fn verify_code(
    state: &AppState,
    identity_store_id: &str,
    user_id: &str,
    code: &str,
) -> Result<bool, PageError> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let hash = sign_in_code_hash(&state.keys.email_codes, identity_store_id, user_id, code);
    let now = iic_domain::clock::now_millis();
    let check = state
        .store
        .check_email_code(identity_store_id, user_id, &hash, MAX_WRONG_TRIES, now)
        .await?;
    match check {
        CodeCheck::Accepted => Ok(true),
        CodeCheck::Wrong { tries_left } => {
            tracing::warn!(target: MAIL_LOG, identity_store_id, user_id, tries_left, "wrong sign-in code");
            Ok(false)
        }
        CodeCheck::NoCode => Ok(false),
    }
}
