//! The SMTP relay settings (`IIC_SMTP_*`, or `[smtp]` in the TOML file).

use serde::Deserialize;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

impl SmtpTls {
    fn parse(text: &str) -> Result<SmtpTls, String> {
        match text {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            other => Err(format!(
                "smtp tls must be none, starttls or tls, not {other:?}"
            )),
        }
    }

    fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `[smtp]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSmtp {
    host: Option<String>,
    port: Option<i64>,
    from: Option<String>,
    tls: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// The values given on the command line or in the environment.
#[derive(Debug, Default)]
pub struct GivenSmtp<'a> {
    pub host: Option<&'a str>,
    pub port: Option<i64>,
    pub from: Option<&'a str>,
    pub tls: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// None when no relay host is configured: mail is then not sent.
pub fn resolve(
    given: GivenSmtp<'_>,
    file: Option<&FileSmtp>,
) -> Result<Option<SmtpSettings>, String> {
    let empty = FileSmtp::default();
    let file = file.unwrap_or(&empty);
    let pick = |a: Option<&str>, b: &Option<String>| {
        a.map(str::to_string)
            .or_else(|| b.clone())
            .filter(|v| !v.is_empty())
    };
    let Some(host) = pick(given.host, &file.host) else {
        return Ok(None);
    };
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("smtp host {host:?} is not a host name"));
    }
    let tls = match pick(given.tls, &file.tls) {
        Some(text) => SmtpTls::parse(&text)?,
        None => SmtpTls::StartTls,
    };
    let port = match given.port.or(file.port) {
        Some(p) => u16::try_from(p)
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| format!("smtp port must be between 1 and 65535, not {p}"))?,
        None => tls.default_port(),
    };
    let from = pick(given.from, &file.from)
        .ok_or("smtp from (IIC_SMTP_FROM) is required when an SMTP host is set")?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(format!("smtp from {from:?} is not a mail address"));
    }
    let username = pick(given.username, &file.username);
    let password = pick(given.password, &file.password);
    if username.is_some() != password.is_some() {
        return Err("smtp username and password must be given together".into());
    }
    Ok(Some(SmtpSettings {
        host,
        port,
        from,
        tls,
        username,
        password,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(host: &str, from: &str) -> GivenSmtp<'static> {
        GivenSmtp {
            host: Some(Box::leak(host.to_string().into_boxed_str())),
            from: Some(Box::leak(from.to_string().into_boxed_str())),
            ..Default::default()
        }
    }

    #[test]
    fn no_host_means_no_mail() {
        assert_eq!(resolve(GivenSmtp::default(), None), Ok(None));
    }

    #[test]
    fn defaults_follow_the_tls_mode() {
        let s = resolve(given("mail.example.test", "iic@example.test"), None)
            .expect("resolve")
            .expect("some");
        assert_eq!((s.tls, s.port), (SmtpTls::StartTls, 587));
        let s = resolve(
            GivenSmtp {
                tls: Some("tls"),
                ..given("mail.example.test", "iic@example.test")
            },
            None,
        )
        .expect("resolve")
        .expect("some");
        assert_eq!((s.tls, s.port), (SmtpTls::Tls, 465));
    }

    #[test]
    fn bad_values_are_refused() {
        for (bad, word) in [
            (
                GivenSmtp {
                    port: Some(0),
                    ..given("h", "a@b.test")
                },
                "port",
            ),
            (
                GivenSmtp {
                    port: Some(65_536),
                    ..given("h", "a@b.test")
                },
                "port",
            ),
            (
                GivenSmtp {
                    tls: Some("ssl"),
                    ..given("h", "a@b.test")
                },
                "tls",
            ),
            (given("h", "not an address"), "from"),
            (
                GivenSmtp {
                    username: Some("u"),
                    ..given("h", "a@b.test")
                },
                "password",
            ),
        ] {
            let err = resolve(bad, None).expect_err(word);
            assert!(err.contains(word), "{err}");
        }
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let s = resolve(
            GivenSmtp {
                username: Some("u"),
                password: Some("hunter2"),
                ..given("h", "a@b.test")
            },
            None,
        )
        .expect("resolve")
        .expect("some");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
