//! The SSO configuration of an instance: how users authenticate (the MFA part) and how long a
//! browser sign-in lasts (the session part). Every catalogued field is validated here; the
//! session part is enforced by the sign-in, the MFA part by the MFA issue.

use crate::ApiError;
use serde::{Deserialize, Serialize};

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Shortest `max_authentication_age`: 15 minutes.
pub const MIN_AUTHENTICATION_AGE: i64 = 15 * MINUTE;
/// Longest `max_authentication_age`: 90 days.
pub const MAX_AUTHENTICATION_AGE: i64 = 90 * DAY;
/// `max_authentication_age` of an instance that never set one: 8 hours.
pub const DEFAULT_AUTHENTICATION_AGE: &str = "PT8H";

pub const MFA_MODES: &[&str] = &["CONTEXT_AWARE", "DISABLED", "ALWAYS_ON"];
pub const NO_MFA_SIGNIN_BEHAVIORS: &[&str] =
    &["ALLOWED_WITH_ENROLLMENT", "ALLOWED", "EMAIL_OTP", "BLOCKED"];
pub const NO_PASSWORD_SIGNIN_BEHAVIORS: &[&str] = &["BLOCKED", "EMAIL_OTP"];
pub const MFA_TYPES: &[&str] = &["TOTP", "WEBAUTHN", "WEBAUTHN_SECURITY_KEY"];

/// The whole configuration as stored and as `GetSsoConfiguration` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoConfiguration {
    pub mfa_mode: String,
    pub no_mfa_signin_behavior: String,
    pub no_password_signin_behavior: String,
    pub allowed_mfa_types: Vec<String>,
    pub session_configuration: SessionConfiguration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfiguration {
    pub max_authentication_age: String,
}

impl Default for SsoConfiguration {
    /// An instance that never set a configuration: no MFA prompt yet (users enrol when it is
    /// turned on), both device kinds allowed, no sign-in without a password, 8-hour sessions.
    fn default() -> Self {
        SsoConfiguration {
            mfa_mode: "DISABLED".into(),
            no_mfa_signin_behavior: "ALLOWED_WITH_ENROLLMENT".into(),
            no_password_signin_behavior: "BLOCKED".into(),
            allowed_mfa_types: vec!["TOTP".into(), "WEBAUTHN_SECURITY_KEY".into()],
            session_configuration: SessionConfiguration {
                max_authentication_age: DEFAULT_AUTHENTICATION_AGE.into(),
            },
        }
    }
}

impl SsoConfiguration {
    /// How long a browser sign-in lasts, in seconds. A stored value always parses; were it not
    /// to, the default applies.
    pub fn max_authentication_age_secs(&self) -> i64 {
        parse_duration(&self.session_configuration.max_authentication_age).unwrap_or(8 * HOUR)
    }
}

/// The part of the configuration an update replaces (`configuration_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigurationType {
    /// The MFA fields.
    AppAuthentication,
    /// `session_configuration`.
    Session,
}

impl ConfigurationType {
    pub fn parse(v: &str) -> Result<Self, ApiError> {
        match v {
            "APP_AUTHENTICATION_CONFIGURATION" => Ok(ConfigurationType::AppAuthentication),
            "SESSION" => Ok(ConfigurationType::Session),
            _ => Err(not_one_of(
                "configuration_type",
                v,
                &["APP_AUTHENTICATION_CONFIGURATION", "SESSION"],
            )),
        }
    }
}

/// `sso_configuration` of an update: every field optional, as the SDK sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoConfigurationUpdate {
    #[serde(default)]
    pub mfa_mode: Option<String>,
    #[serde(default)]
    pub no_mfa_signin_behavior: Option<String>,
    #[serde(default)]
    pub no_password_signin_behavior: Option<String>,
    #[serde(default)]
    pub allowed_mfa_types: Option<Vec<String>>,
    #[serde(default)]
    pub session_configuration: Option<SessionConfigurationUpdate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfigurationUpdate {
    pub max_authentication_age: String,
}

impl SsoConfigurationUpdate {
    /// The first field this update sets to `EMAIL_OTP` (sign-in by a mailed code), by its full
    /// name: such a setting needs a mail relay.
    pub fn email_otp_field(&self) -> Option<&'static str> {
        let is_otp = |v: &Option<String>| v.as_deref() == Some("EMAIL_OTP");
        if is_otp(&self.no_mfa_signin_behavior) {
            Some("sso_configuration.no_mfa_signin_behavior")
        } else if is_otp(&self.no_password_signin_behavior) {
            Some("sso_configuration.no_password_signin_behavior")
        } else {
            None
        }
    }

    /// Checks every field sent, then replaces the part `kind` names in `current`; fields of
    /// the other part are checked but left as stored. The named part must be present.
    pub fn apply(
        &self,
        current: &SsoConfiguration,
        kind: ConfigurationType,
    ) -> Result<SsoConfiguration, ApiError> {
        const F: &str = "sso_configuration";
        if let Some(v) = &self.mfa_mode {
            one_of(&format!("{F}.mfa_mode"), v, MFA_MODES)?;
        }
        if let Some(v) = &self.no_mfa_signin_behavior {
            one_of(
                &format!("{F}.no_mfa_signin_behavior"),
                v,
                NO_MFA_SIGNIN_BEHAVIORS,
            )?;
        }
        if let Some(v) = &self.no_password_signin_behavior {
            one_of(
                &format!("{F}.no_password_signin_behavior"),
                v,
                NO_PASSWORD_SIGNIN_BEHAVIORS,
            )?;
        }
        if let Some(types) = &self.allowed_mfa_types {
            validate_mfa_types(&format!("{F}.allowed_mfa_types"), types)?;
        }
        if let Some(s) = &self.session_configuration {
            validate_authentication_age(
                &format!("{F}.session_configuration.max_authentication_age"),
                &s.max_authentication_age,
            )?;
        }
        let mut next = current.clone();
        match kind {
            ConfigurationType::Session => {
                let s = self.session_configuration.as_ref().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{F}.session_configuration is required when configuration_type is SESSION"
                    ))
                })?;
                next.session_configuration.max_authentication_age =
                    s.max_authentication_age.clone();
            }
            ConfigurationType::AppAuthentication => {
                let mut any = false;
                let mut take = |slot: &mut String, v: &Option<String>| {
                    if let Some(v) = v {
                        *slot = v.clone();
                        any = true;
                    }
                };
                take(&mut next.mfa_mode, &self.mfa_mode);
                take(
                    &mut next.no_mfa_signin_behavior,
                    &self.no_mfa_signin_behavior,
                );
                take(
                    &mut next.no_password_signin_behavior,
                    &self.no_password_signin_behavior,
                );
                if let Some(types) = &self.allowed_mfa_types {
                    next.allowed_mfa_types = types.clone();
                    any = true;
                }
                if !any {
                    return Err(ApiError::bad_request(format!(
                        "{F} must hold at least one of mfa_mode, no_mfa_signin_behavior, no_password_signin_behavior and allowed_mfa_types when configuration_type is APP_AUTHENTICATION_CONFIGURATION"
                    )));
                }
            }
        }
        Ok(next)
    }
}

fn not_one_of(field: &str, v: &str, allowed: &[&str]) -> ApiError {
    ApiError::bad_request(format!("{field} {v} is not one of {}", allowed.join(", ")))
}

fn one_of(field: &str, v: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(not_one_of(field, v, allowed))
    }
}

/// 1 or 2 distinct MFA types.
fn validate_mfa_types(field: &str, types: &[String]) -> Result<(), ApiError> {
    if types.is_empty() || types.len() > 2 {
        return Err(ApiError::bad_request(format!(
            "{field} must hold 1 or 2 items"
        )));
    }
    for t in types {
        one_of(field, t, MFA_TYPES)?;
    }
    if types.len() == 2 && types[0] == types[1] {
        return Err(ApiError::bad_request(format!(
            "{field} must not name {} twice",
            types[0]
        )));
    }
    Ok(())
}

/// An ISO-8601 duration from [`MIN_AUTHENTICATION_AGE`] to [`MAX_AUTHENTICATION_AGE`].
pub fn validate_authentication_age(field: &str, v: &str) -> Result<(), ApiError> {
    crate::validate::length(field, v, 1, 64)?;
    match parse_duration(v) {
        Some(s) if (MIN_AUTHENTICATION_AGE..=MAX_AUTHENTICATION_AGE).contains(&s) => Ok(()),
        Some(_) => Err(ApiError::bad_request(format!(
            "{field} must be between PT15M and P90D"
        ))),
        None => Err(ApiError::bad_request(format!(
            "{field} {v} is not an ISO-8601 duration such as PT8H or P1DT12H"
        ))),
    }
}

/// Seconds of an ISO-8601 duration of the catalogued form `[-]P[nY][nM][nD|nW][T[nH][nM]]`
/// (a year counts 365 days, a month 30). None when malformed; negative when signed so.
pub fn parse_duration(v: &str) -> Option<i64> {
    let (sign, rest) = match v.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, v),
    };
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    if time.is_some_and(str::is_empty) || (date.is_empty() && time.is_none()) {
        return None;
    }
    let date_units: &[(&[char], i64)] =
        &[(&['Y'], 365 * DAY), (&['M'], 30 * DAY), (&['D', 'W'], 0)];
    let mut total = sum_units(date, date_units, |unit| match unit {
        'W' => 7 * DAY,
        _ => DAY,
    })?;
    if let Some(t) = time {
        let time_units: &[(&[char], i64)] = &[(&['H'], HOUR), (&['M'], MINUTE)];
        total = total.checked_add(sum_units(t, time_units, |_| 0)?)?;
    }
    Some(sign * total)
}

/// Sums `<digits><unit>` groups whose units come in the order of `units`, each at most once.
/// A unit listed with a weight of 0 takes its weight from `weight_of`.
fn sum_units(part: &str, units: &[(&[char], i64)], weight_of: impl Fn(char) -> i64) -> Option<i64> {
    let mut total: i64 = 0;
    let mut next = 0usize;
    let mut num = String::new();
    for c in part.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let idx = next + units[next..].iter().position(|(u, _)| u.contains(&c))?;
        if num.is_empty() {
            return None;
        }
        let weight = match units[idx].1 {
            0 => weight_of(c),
            w => w,
        };
        total = total.checked_add(num.parse::<i64>().ok()?.checked_mul(weight)?)?;
        num.clear();
        next = idx + 1;
    }
    num.is_empty().then_some(total)
}

/// The shortest ISO-8601 text of a non-negative number of seconds in whole minutes
/// (`PT8H`, `P1DT2H30M`, `P90D`).
pub fn format_duration(secs: i64) -> String {
    let (days, rest) = (secs / DAY, secs % DAY);
    let (hours, minutes) = (rest / HOUR, (rest % HOUR) / MINUTE);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 || hours == 0 {
            out.push_str(&format!("{minutes}M"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_names_the_field_that_asks_for_email_codes() {
        let update = |json: &str| -> SsoConfigurationUpdate {
            serde_json::from_str(json).unwrap_or_default()
        };
        assert_eq!(
            update(r#"{"mfa_mode":"ALWAYS_ON"}"#).email_otp_field(),
            None
        );
        assert_eq!(
            update(
                r#"{"no_mfa_signin_behavior":"BLOCKED","no_password_signin_behavior":"EMAIL_OTP"}"#
            )
            .email_otp_field(),
            Some("sso_configuration.no_password_signin_behavior")
        );
        assert_eq!(
            update(r#"{"no_mfa_signin_behavior":"EMAIL_OTP"}"#).email_otp_field(),
            Some("sso_configuration.no_mfa_signin_behavior")
        );
    }

    #[test]
    fn durations_of_the_catalogued_form() {
        assert_eq!(parse_duration("PT8H"), Some(8 * HOUR));
        assert_eq!(parse_duration("PT15M"), Some(15 * MINUTE));
        assert_eq!(parse_duration("P90D"), Some(90 * DAY));
        assert_eq!(parse_duration("P1W"), Some(7 * DAY));
        assert_eq!(
            parse_duration("P1DT2H30M"),
            Some(DAY + 2 * HOUR + 30 * MINUTE)
        );
        assert_eq!(parse_duration("P3M"), Some(90 * DAY));
        assert_eq!(parse_duration("P1Y"), Some(365 * DAY));
        assert_eq!(parse_duration("P1M2DT1M"), Some(32 * DAY + MINUTE));
        assert_eq!(parse_duration("-PT1H"), Some(-HOUR));
        for bad in [
            "", "P", "PT", "P1DT", "8H", "PT8", "PT1H1H", "PT1M1H", "P1D1Y", "P1W1D", "PT30S",
            "P1.5D", "pt8h", "PTH", "P-1D", " PT8H",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        for (secs, text) in [
            (8 * HOUR, "PT8H"),
            (15 * MINUTE, "PT15M"),
            (90 * DAY, "P90D"),
            (DAY + 2 * HOUR + 30 * MINUTE, "P1DT2H30M"),
            (0, "PT0M"),
        ] {
            assert_eq!(format_duration(secs), text);
            assert_eq!(parse_duration(text), Some(secs));
        }
        assert_eq!(
            format_duration(DEFAULT_AUTHENTICATION_AGE_SECS),
            DEFAULT_AUTHENTICATION_AGE
        );
    }

    const DEFAULT_AUTHENTICATION_AGE_SECS: i64 = 8 * HOUR;

    #[test]
    fn bounds_name_the_field() {
        let f = "sso_configuration.session_configuration.max_authentication_age";
        assert!(validate_authentication_age(f, "PT15M").is_ok());
        assert!(validate_authentication_age(f, "P90D").is_ok());
        assert!(validate_authentication_age(f, "P2M30D").is_ok());
        for (bad, says) in [
            ("PT14M", "between PT15M and P90D"),
            ("P90DT1M", "between PT15M and P90D"),
            ("P1Y", "between PT15M and P90D"),
            ("-PT1H", "between PT15M and P90D"),
            ("eight hours", "not an ISO-8601 duration"),
        ] {
            let e = validate_authentication_age(f, bad).expect_err(bad);
            assert_eq!(e.status, 400);
            assert!(
                e.message.contains(f) && e.message.contains(says),
                "{}",
                e.message
            );
        }
    }

    fn update(json: &str) -> SsoConfigurationUpdate {
        serde_json::from_str(json).expect("parses")
    }

    #[test]
    fn an_update_replaces_only_the_part_it_names() {
        let base = SsoConfiguration::default();
        assert_eq!(base.max_authentication_age_secs(), 8 * HOUR);
        let u = update(
            r#"{"mfa_mode":"ALWAYS_ON","allowed_mfa_types":["WEBAUTHN"],"session_configuration":{"max_authentication_age":"P7D"}}"#,
        );
        let s = u.apply(&base, ConfigurationType::Session).expect("session");
        assert_eq!(s.session_configuration.max_authentication_age, "P7D");
        assert_eq!(s.mfa_mode, "DISABLED", "the MFA part is left as stored");
        let a = u
            .apply(&base, ConfigurationType::AppAuthentication)
            .expect("mfa");
        assert_eq!(a.mfa_mode, "ALWAYS_ON");
        assert_eq!(a.allowed_mfa_types, vec!["WEBAUTHN".to_string()]);
        assert_eq!(a.no_password_signin_behavior, "BLOCKED");
        assert_eq!(a.session_configuration, base.session_configuration);
    }

    #[test]
    fn every_field_is_checked_whatever_the_part() {
        let base = SsoConfiguration::default();
        for (json, field) in [
            (
                r#"{"mfa_mode":"SOMETIMES","session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.mfa_mode",
            ),
            (
                r#"{"no_mfa_signin_behavior":"x","session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.no_mfa_signin_behavior",
            ),
            (
                r#"{"no_password_signin_behavior":"ALLOWED","session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.no_password_signin_behavior",
            ),
            (
                r#"{"allowed_mfa_types":[],"session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.allowed_mfa_types",
            ),
            (
                r#"{"allowed_mfa_types":["TOTP","WEBAUTHN","WEBAUTHN_SECURITY_KEY"],"session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.allowed_mfa_types",
            ),
            (
                r#"{"allowed_mfa_types":["TOTP","TOTP"],"session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.allowed_mfa_types",
            ),
            (
                r#"{"allowed_mfa_types":["SMS"],"session_configuration":{"max_authentication_age":"PT1H"}}"#,
                "sso_configuration.allowed_mfa_types",
            ),
            (
                r#"{"mfa_mode":"ALWAYS_ON","session_configuration":{"max_authentication_age":"PT1M"}}"#,
                "max_authentication_age",
            ),
            (
                r#"{"mfa_mode":"ALWAYS_ON"}"#,
                "sso_configuration.session_configuration",
            ),
        ] {
            let e = update(json)
                .apply(&base, ConfigurationType::Session)
                .expect_err(json);
            assert!(e.message.contains(field), "{json}: {}", e.message);
        }
        let e = update(r#"{"session_configuration":{"max_authentication_age":"PT1H"}}"#)
            .apply(&base, ConfigurationType::AppAuthentication)
            .expect_err("no MFA field");
        assert!(e.message.contains("configuration_type"), "{}", e.message);
        let e = ConfigurationType::parse("ALL").expect_err("enum");
        assert!(e.message.contains("configuration_type"));
    }
}
