//! A queued mail's body at rest: it may carry a one-time link or a sign-in code, so the outbox
//! keeps it sealed (AES-GCM under a key derived from the master key, bound to the mail's
//! Message-ID) until the delivery worker opens it to hand it to the relay.

use crate::crypto::{to_hex, Sealer};

/// `body` sealed for the outbox row of `message_id`, as text.
pub fn seal(sealer: &Sealer, message_id: &str, body: &str) -> String {
    to_hex(&sealer.seal(body.as_bytes(), message_id.as_bytes()))
}

/// The body of the outbox row of `message_id`; None when it was not sealed by this key for
/// that mail.
pub fn open(sealer: &Sealer, message_id: &str, stored: &str) -> Option<String> {
    let sealed = hex::decode(stored).ok()?;
    let plain = sealer.open(&sealed, message_id.as_bytes())?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_opens_only_for_its_mail_and_is_not_kept_in_clear() {
        let sealer = Sealer::new(&[7u8; 32]);
        let body = "Set your password: https://iic.example/d-1/portal/reset-password?token=abc";
        let stored = seal(&sealer, "m-1@iic", body);
        assert!(!stored.contains("token=abc"));
        assert_eq!(open(&sealer, "m-1@iic", &stored).as_deref(), Some(body));
        assert_eq!(
            open(&sealer, "m-2@iic", &stored),
            None,
            "bound to its Message-ID"
        );
        assert_eq!(open(&Sealer::new(&[8u8; 32]), "m-1@iic", &stored), None);
        assert_eq!(
            open(&sealer, "m-1@iic", body),
            None,
            "a clear body is not accepted"
        );
    }
}
