//! Hands one mail to the configured SMTP relay.

use crate::smtp_config::{SmtpSettings, SmtpTls};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// One mail as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Without angle brackets; fixed when the mail is queued so that a resend carries it again.
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Why a mail was not accepted. `permanent`: the relay refused it with a 5xx reply, so sending it
/// again cannot succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub permanent: bool,
    pub reason: String,
}

pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Relay {
    pub fn new(settings: &SmtpSettings) -> Result<Relay, String> {
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("smtp from: {e}"))?;
        let host = settings.host.as_str();
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("smtp relay {host}: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("smtp relay {host}: {e}"))?,
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Relay {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), SendFailure> {
        let message = build_message(&self.from, mail)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendFailure {
                permanent: e.is_permanent(),
                reason: e.to_string(),
            })
    }
}

/// `iic send-test-mail`: one mail with a fresh Message-ID, reported on stdout.
pub async fn send_test(config: &crate::config::Config, to: &str) -> Result<(), String> {
    let settings = config
        .smtp
        .as_ref()
        .ok_or("no SMTP relay configured (IIC_SMTP_HOST): mail is not sent")?;
    let mail = OutgoingMail {
        message_id: format!("{}@iic", iic_domain::ids::hex32()),
        to: to.to_string(),
        subject: "iic test mail".into(),
        body: "This mail checks the SMTP settings of an iic server.\n".into(),
    };
    Relay::new(settings)?.send(&mail).await.map_err(|f| {
        let kind = if f.permanent {
            "refused"
        } else {
            "not delivered"
        };
        format!("{kind}: {}", f.reason)
    })?;
    println!("sent to {to} with Message-ID <{}>", mail.message_id);
    Ok(())
}

fn build_message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, SendFailure> {
    let refused = |reason: String| SendFailure {
        permanent: true,
        reason,
    };
    let to = mail
        .to
        .parse::<Mailbox>()
        .map_err(|e| refused(format!("recipient: {e}")))?;
    Message::builder()
        .message_id(Some(format!("<{}>", mail.message_id)))
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| refused(format!("message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str) -> OutgoingMail {
        OutgoingMail {
            message_id: "0123abcd@iic".into(),
            to: to.into(),
            subject: "Set your password".into(),
            body: "Open the link.".into(),
        }
    }

    #[test]
    fn the_message_carries_the_queued_message_id() {
        let from: Mailbox = "iic@example.test".parse().expect("from");
        let message = build_message(&from, &mail("alice@example.test")).expect("message");
        let text = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(text.contains("Message-ID: <0123abcd@iic>"), "{text}");
        assert!(text.contains("To: alice@example.test"), "{text}");
    }

    #[test]
    fn a_bad_recipient_is_a_permanent_failure() {
        let from: Mailbox = "iic@example.test".parse().expect("from");
        let failure = build_message(&from, &mail("not an address")).expect_err("refused");
        assert!(failure.permanent);
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_a_transient_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let relay = Relay::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            from: "iic@example.test".into(),
            tls: SmtpTls::None,
            username: None,
            password: None,
        })
        .expect("relay");
        let failure = relay
            .send(&mail("alice@example.test"))
            .await
            .expect_err("nobody listens");
        assert!(!failure.permanent, "{failure:?}");
    }
}
