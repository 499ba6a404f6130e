//! The mails a directory owes its users: a link to choose a password (a new user's, one an
//! administrator reset, or one the user forgot), a link to confirm an e-mail address, and the
//! one-time sign-in codes. Each secret is issued together with its mail, in one transaction;
//! the mail goes to the user's primary address and says who sent it, what to do, and when its
//! link expires. Without a relay nothing is queued. Tokens and codes are never logged.

use crate::state::AppState;
use iic_domain::directory::user::User;
use iic_domain::mailed_secret;
use iic_store::{LinkPurpose, NewLink, NewMail, StoreResult};

/// The tracing target of the mails queued for users (never with their secrets).
pub const MAIL_LOG: &str = "iic::mail";

/// A link an administrator's CreateUser or ResetPwdMode mailed lasts a day.
pub const ADMIN_RESET_TTL_MS: i64 = 24 * 3_600_000;
/// A link the user asked for on the "forgot password" page lasts an hour.
pub const FORGOT_RESET_TTL_MS: i64 = 3_600_000;
/// A verification link lasts a day.
pub const VERIFY_TTL_MS: i64 = 24 * 3_600_000;

/// Why a password link is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordLink {
    /// CreateUser with `password_mode` `EMAIL`.
    NewUser,
    /// ResetPwdMode with `mode` `EMAIL`.
    AdminReset,
    /// The user asked on the "forgot password" page.
    Forgotten,
}

impl PasswordLink {
    fn ttl_ms(self) -> i64 {
        match self {
            PasswordLink::NewUser | PasswordLink::AdminReset => ADMIN_RESET_TTL_MS,
            PasswordLink::Forgotten => FORGOT_RESET_TTL_MS,
        }
    }
}

/// What became of a mail owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Queued,
    /// No SMTP relay is configured: nothing was queued.
    NoRelay,
    /// The user has no e-mail address.
    NoAddress,
    /// The user is gone.
    NoUser,
}

/// The user's primary e-mail address (the first one when none is marked primary).
pub fn primary_email(user: &User) -> Option<&str> {
    let emails = &user.profile.emails;
    emails
        .iter()
        .find(|e| e.primary)
        .or(emails.first())
        .map(|e| e.value.as_str())
        .filter(|v| !v.is_empty())
}

/// The portal of the user's identity store, as the mails name it.
pub fn portal_of(state: &AppState, identity_store_id: &str) -> String {
    crate::pages::portal_url(&state.limits.oidc.public_url, identity_store_id)
}

/// A Message-ID as the outbox keeps it: 32 random hex digits `@iic`.
pub fn message_id() -> String {
    format!("{}@iic", iic_domain::ids::hex32())
}

/// Logs that a mail owed is not sent because no relay is configured.
pub fn warn_no_relay(what: &str, identity_store_id: &str, user_id: &str) {
    tracing::warn!(target: MAIL_LOG, identity_store_id, user_id, "no SMTP relay configured (IIC_SMTP_HOST): mail is not sent ({what})");
}

fn hours(ms: i64) -> String {
    match ms / 3_600_000 {
        1 => "1 hour".into(),
        h => format!("{h} hours"),
    }
}

fn password_mail(why: PasswordLink, user: &User, portal: &str, link: &str, to: &str) -> NewMail {
    let (subject, opening, ignore) = match why {
        PasswordLink::NewUser => (
            "Set your password for IAM Identity Center",
            "A user was created for you in the IAM Identity Center at the address below. Choose a password to sign in.",
            "If you did not expect this mail, ignore it: nothing happens until the link is used.",
        ),
        PasswordLink::AdminReset => (
            "Reset your password for IAM Identity Center",
            "An administrator asked for your password to be reset. Choose a new password to sign in.",
            "If you did not expect this mail, ignore it: your password stays as it is until the link is used.",
        ),
        PasswordLink::Forgotten => (
            "Reset your password for IAM Identity Center",
            "Someone asked to reset your password on the sign-in page (\"Forgot your password?\").",
            "If you did not ask for this, ignore this mail: your password stays as it is.",
        ),
    };
    let body = format!(
        "Hello {name},\n\n\
         {opening}\n\n\
         Your user name: {user_name}\n\n\
         Open this link to choose your password. It works once and expires in {ttl}:\n\n\
         {link}\n\n\
         {ignore}\n\n\
         -- \n\
         IAM Identity Center at {portal}\n",
        name = user.profile.display_name,
        user_name = user.profile.user_name,
        ttl = hours(why.ttl_ms()),
    );
    NewMail {
        message_id: message_id(),
        recipient: to.to_string(),
        subject: subject.into(),
        body,
    }
}

fn verification_mail(user: &User, portal: &str, link: &str, to: &str) -> NewMail {
    let body = format!(
        "Hello {name},\n\n\
         An administrator asked to confirm that this address, {to}, belongs to the user {user_name} \
         of the IAM Identity Center at the address below.\n\n\
         Open this link and confirm. It works once and expires in {ttl}:\n\n\
         {link}\n\n\
         If you did not expect this mail, ignore it: nothing changes until the link is used.\n\n\
         -- \n\
         IAM Identity Center at {portal}\n",
        name = user.profile.display_name,
        user_name = user.profile.user_name,
        ttl = hours(VERIFY_TTL_MS),
    );
    NewMail {
        message_id: message_id(),
        recipient: to.to_string(),
        subject: "Confirm your e-mail address for IAM Identity Center".into(),
        body,
    }
}

/// The mail carrying a sign-in code.
pub fn code_mail(user: &User, portal: &str, code: &str, ttl_minutes: i64, to: &str) -> NewMail {
    let body = format!(
        "Hello {name},\n\n\
         Your sign-in code for the IAM Identity Center at the address below is:\n\n\
         {code}\n\n\
         Enter it on the sign-in page. It works once and expires in {ttl_minutes} minutes.\n\n\
         If you are not signing in right now, ignore this mail; someone may know your password, \
         so consider changing it.\n\n\
         -- \n\
         IAM Identity Center at {portal}\n",
        name = user.profile.display_name,
    );
    NewMail {
        message_id: message_id(),
        recipient: to.to_string(),
        subject: "Your sign-in code for IAM Identity Center".into(),
        body,
    }
}

/// `mail` with its body sealed for the outbox: it carries a link or a code, which must not lie in
/// the database in clear until it is sent.
pub fn sealed(state: &AppState, mut mail: NewMail) -> NewMail {
    mail.body = iic_domain::mail_body::seal(&state.keys.outbox, &mail.message_id, &mail.body);
    mail
}

/// A new password link for the user and the mail carrying it, ready to issue; what became of
/// the mail instead when the user has no address or no relay is configured (logged).
pub fn password_link(state: &AppState, user: &User, why: PasswordLink) -> Result<NewLink, Sent> {
    let to = primary_email(user).ok_or(Sent::NoAddress)?;
    if !state.limits.mail_relay {
        warn_no_relay("password link", &user.identity_store_id, &user.user_id);
        return Err(Sent::NoRelay);
    }
    let portal = portal_of(state, &user.identity_store_id);
    let token = mailed_secret::link_token();
    let link = format!("{portal}/reset-password?token={token}");
    Ok(NewLink {
        purpose: LinkPurpose::PasswordReset,
        token_sha256: mailed_secret::link_token_hash(&token).to_vec(),
        expires_at: iic_domain::clock::now_millis() + why.ttl_ms(),
        mail: sealed(state, password_mail(why, user, &portal, &link, to)),
    })
}

/// Logs a link issued (never its token).
pub fn log_issued(user: &User, link: &NewLink) {
    tracing::info!(target: MAIL_LOG, identity_store_id = %user.identity_store_id, user_id = %user.user_id, message_id = %link.mail.message_id, purpose = ?link.purpose, "link mailed");
}

async fn issue(state: &AppState, user: &User, link: NewLink) -> StoreResult<Sent> {
    let now = iic_domain::clock::now_millis();
    let issued = state
        .store
        .issue_mailed_link(&user.identity_store_id, &user.user_id, &link, now)
        .await?;
    if !issued {
        return Ok(Sent::NoUser);
    }
    log_issued(user, &link);
    Ok(Sent::Queued)
}

/// Issues a password link for the user (replacing any earlier one) and queues its mail.
pub async fn send_password_link(
    state: &AppState,
    user: &User,
    why: PasswordLink,
) -> StoreResult<Sent> {
    match password_link(state, user, why) {
        Ok(link) => issue(state, user, link).await,
        Err(sent) => Ok(sent),
    }
}

/// Issues a verification link for the user's primary address (replacing any earlier one) and
/// queues its mail.
pub async fn send_verification_link(state: &AppState, user: &User) -> StoreResult<Sent> {
    let Some(to) = primary_email(user) else {
        return Ok(Sent::NoAddress);
    };
    if !state.limits.mail_relay {
        warn_no_relay("verification link", &user.identity_store_id, &user.user_id);
        return Ok(Sent::NoRelay);
    }
    let portal = portal_of(state, &user.identity_store_id);
    let token = mailed_secret::link_token();
    let link = format!("{portal}/verify-email?token={token}");
    let link = NewLink {
        purpose: LinkPurpose::VerifyEmail,
        token_sha256: mailed_secret::link_token_hash(&token).to_vec(),
        expires_at: iic_domain::clock::now_millis() + VERIFY_TTL_MS,
        mail: sealed(state, verification_mail(user, &portal, &link, to)),
    };
    issue(state, user, link).await
}
