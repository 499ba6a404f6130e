//! Configuration: command-line flags, then `IIC_*` environment variables, then an optional TOML
//! file, then defaults — the first that gives a value wins.

use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "IIC_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "IIC_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the embedded database, the master key and the bootstrap credentials.
    #[arg(long, env = "IIC_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://<path>` or `postgres://…`; default: SQLite file `iic.db` in the data directory.
    #[arg(long, env = "IIC_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PostgreSQL schema to keep the tables in (created if missing); default: the search path.
    #[arg(long, env = "IIC_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// Region this server serves.
    #[arg(long, env = "IIC_REGION")]
    pub region: Option<String>,
    /// Log filter (tracing env-filter syntax), e.g. `info` or `iic=debug`.
    #[arg(long, env = "IIC_LOG")]
    pub log: Option<String>,
    /// `text` or `json`.
    #[arg(long, env = "IIC_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Users one identity store may hold.
    #[arg(long, env = "IIC_USERS_QUOTA")]
    pub users_quota: Option<i64>,
    /// Groups one identity store may hold.
    #[arg(long, env = "IIC_GROUPS_QUOTA")]
    pub groups_quota: Option<i64>,
    /// Stores up to this many users (groups) have SCIM filters no index answers matched over
    /// every one; larger stores refuse them as too costly.
    #[arg(long, env = "IIC_SCIM_SCAN_LIMIT")]
    pub scim_scan_limit: Option<i64>,
    /// Permission sets one instance may hold.
    #[arg(long, env = "IIC_PERMISSION_SETS_QUOTA")]
    pub permission_sets_quota: Option<i64>,
    /// Policies one permission set may carry.
    #[arg(long, env = "IIC_POLICIES_PER_SET")]
    pub policies_per_set: Option<i64>,
    /// How long assignment and provisioning requests stay in progress, in ms.
    #[arg(long, env = "IIC_ASYNC_DELAY_MS")]
    pub async_delay_ms: Option<i64>,
    /// Assignment and provisioning requests one instance may have in progress at once.
    #[arg(long, env = "IIC_MAX_REQUESTS_IN_FLIGHT")]
    pub max_requests_in_flight: Option<i64>,
    /// JSON file of extra system-defined policies and roles (same shape as the built-in ones).
    #[arg(long, env = "IIC_SYSTEM_POLICIES_FILE")]
    pub system_policies_file: Option<PathBuf>,
    /// How long account creations and closures stay in progress, in ms.
    #[arg(long, env = "IIC_ACCOUNT_CREATION_DELAY_MS")]
    pub account_creation_delay_ms: Option<i64>,
    /// Background workers running jobs (default: 2 on SQLite, 4 on PostgreSQL).
    #[arg(long, env = "IIC_WORKERS")]
    pub workers: Option<usize>,
    /// Connections served at once (default: 1024, or the file limit less a reserve if lower).
    #[arg(long, env = "IIC_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Time a client has to send a request head, in ms.
    #[arg(long, env = "IIC_HEADER_TIMEOUT_MS")]
    pub header_timeout_ms: Option<u64>,
    /// Time an idle connection is kept between requests, in ms.
    #[arg(long, env = "IIC_KEEPALIVE_TIMEOUT_MS")]
    pub keepalive_timeout_ms: Option<u64>,
    /// Time a request body may send nothing before the request is answered 408, in ms.
    #[arg(long, env = "IIC_BODY_IDLE_TIMEOUT_MS")]
    pub body_idle_timeout_ms: Option<u64>,
    /// Bytes of request bodies held at once, server-wide; beyond it requests are answered 429.
    #[arg(long, env = "IIC_BODY_BUDGET_BYTES")]
    pub body_budget_bytes: Option<usize>,
    /// Where clients and browsers reach this server (portal and verification URLs); default
    /// `http://<listen>`.
    #[arg(long, env = "IIC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Lifetime of an OIDC device code, in seconds.
    #[arg(long, env = "IIC_DEVICE_CODE_TTL_SECS")]
    pub device_code_ttl_secs: Option<i64>,
    /// Lifetime of an OIDC access token, in seconds.
    #[arg(long, env = "IIC_ACCESS_TOKEN_TTL_SECS")]
    pub access_token_ttl_secs: Option<i64>,
    /// Lifetime of an OIDC refresh token, in seconds.
    #[arg(long, env = "IIC_REFRESH_TOKEN_TTL_SECS")]
    pub refresh_token_ttl_secs: Option<i64>,
    /// Seconds a device-flow client must wait between polls.
    #[arg(long, env = "IIC_DEVICE_POLL_INTERVAL_SECS")]
    pub device_poll_interval_secs: Option<i64>,
    /// OIDC client registrations and device authorizations per minute per source address.
    #[arg(long, env = "IIC_OIDC_RATE_PER_MINUTE")]
    pub oidc_rate_per_minute: Option<u32>,
    /// Failed sign-ins of one user name within the window that lock it.
    #[arg(long, env = "IIC_SIGN_IN_MAX_FAILURES")]
    pub sign_in_max_failures: Option<i64>,
    /// Failed sign-ins from one source address within the window that lock it.
    #[arg(long, env = "IIC_SIGN_IN_MAX_FAILURES_PER_ADDRESS")]
    pub sign_in_max_failures_per_address: Option<i64>,
    /// The window failed sign-ins are counted in, in seconds.
    #[arg(long, env = "IIC_SIGN_IN_FAILURE_WINDOW_SECS")]
    pub sign_in_failure_window_secs: Option<i64>,
    /// How long a locked user name or address stays locked, in seconds.
    #[arg(long, env = "IIC_SIGN_IN_LOCKOUT_SECS")]
    pub sign_in_lockout_secs: Option<i64>,
    /// SMTP relay that mail is sent through; without one, no mail is sent.
    #[arg(long, env = "IIC_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP relay port; default: 25, 587 or 465 by `smtp_tls`.
    #[arg(long, env = "IIC_SMTP_PORT")]
    pub smtp_port: Option<i64>,
    /// Sender address of the mails.
    #[arg(long, env = "IIC_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// `none`, `starttls` (default) or `tls`.
    #[arg(long, env = "IIC_SMTP_TLS")]
    pub smtp_tls: Option<String>,
    /// User name to authenticate to the relay with.
    #[arg(long, env = "IIC_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// Password to authenticate to the relay with.
    #[arg(long, env = "IIC_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_schema: Option<String>,
    region: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    users_quota: Option<i64>,
    groups_quota: Option<i64>,
    scim_scan_limit: Option<i64>,
    account_creation_delay_ms: Option<i64>,
    system_policies_file: Option<PathBuf>,
    permission_sets_quota: Option<i64>,
    policies_per_set: Option<i64>,
    max_requests_in_flight: Option<i64>,
    async_delay_ms: Option<i64>,
    workers: Option<usize>,
    max_connections: Option<usize>,
    header_timeout_ms: Option<u64>,
    keepalive_timeout_ms: Option<u64>,
    body_idle_timeout_ms: Option<u64>,
    body_budget_bytes: Option<usize>,
    public_url: Option<String>,
    device_code_ttl_secs: Option<i64>,
    access_token_ttl_secs: Option<i64>,
    refresh_token_ttl_secs: Option<i64>,
    device_poll_interval_secs: Option<i64>,
    oidc_rate_per_minute: Option<u32>,
    sign_in_max_failures: Option<i64>,
    sign_in_max_failures_per_address: Option<i64>,
    sign_in_failure_window_secs: Option<i64>,
    sign_in_lockout_secs: Option<i64>,
    smtp: Option<crate::smtp_config::FileSmtp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_schema: Option<String>,
    pub region: String,
    pub log: String,
    pub log_json: bool,
    pub users_quota: i64,
    pub groups_quota: i64,
    pub scim_scan_limit: i64,
    pub account_creation_delay_ms: i64,
    pub system_policies_file: Option<PathBuf>,
    pub permission_sets_quota: i64,
    pub policies_per_set: i64,
    pub max_requests_in_flight: i64,
    pub async_delay_ms: i64,
    /// None: the backend's default.
    pub workers: Option<usize>,
    /// None: 1024, or the file limit less a reserve if lower.
    pub max_connections: Option<usize>,
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub body_idle_timeout: Duration,
    pub body_budget_bytes: usize,
    /// The OIDC API's public URL, lifetimes, polling interval and rate.
    pub oidc: iic_api::oidc::OidcSettings,
    /// When failed sign-ins lock a user name or a source address.
    pub sign_in: iic_api::pages::SignInSettings,
    /// None: no relay configured, mail is not sent.
    pub smtp: Option<crate::smtp_config::SmtpSettings>,
}

impl Config {
    pub fn resolve(args: &ServeArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen = args
            .listen
            .clone()
            .or(file.listen.clone())
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let oidc = oidc_settings(args, &file, &listen)?;
        let sign_in = sign_in_settings(args, &file)?;
        let smtp = crate::smtp_config::resolve(
            crate::smtp_config::GivenSmtp {
                host: args.smtp_host.as_deref(),
                port: args.smtp_port,
                from: args.smtp_from.as_deref(),
                tls: args.smtp_tls.as_deref(),
                username: args.smtp_username.as_deref(),
                password: args.smtp_password.as_deref(),
            },
            file.smtp.as_ref(),
        )?;
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./iic-data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("iic.db").display()));
        let log_format = args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let log_json = match log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(format!("log_format must be text or json, not {other:?}")),
        };
        let region = args
            .region
            .clone()
            .or(file.region)
            .unwrap_or_else(|| "cn-north-4".into());
        iic_domain::validate::simple_id("region", &region, 64).map_err(|e| e.message)?;
        let users_quota = args.users_quota.or(file.users_quota).unwrap_or(100_000);
        let groups_quota = args.groups_quota.or(file.groups_quota).unwrap_or(100_000);
        let scim_scan_limit = args
            .scim_scan_limit
            .or(file.scim_scan_limit)
            .unwrap_or(10_000);
        let account_creation_delay_ms = args
            .account_creation_delay_ms
            .or(file.account_creation_delay_ms)
            .unwrap_or(0);
        if !(0..=3_600_000).contains(&account_creation_delay_ms) {
            return Err("account_creation_delay_ms must be between 0 and 3600000".into());
        }
        let permission_sets_quota = args
            .permission_sets_quota
            .or(file.permission_sets_quota)
            .unwrap_or(iic_domain::permission_set::DEFAULT_SETS_QUOTA);
        let policies_per_set = args
            .policies_per_set
            .or(file.policies_per_set)
            .unwrap_or(iic_domain::permission_set::DEFAULT_POLICIES_PER_SET);
        let async_delay_ms = args.async_delay_ms.or(file.async_delay_ms).unwrap_or(0);
        if !(0..=3_600_000).contains(&async_delay_ms) {
            return Err("async_delay_ms must be between 0 and 3600000".into());
        }
        let max_requests_in_flight = args
            .max_requests_in_flight
            .or(file.max_requests_in_flight)
            .unwrap_or(10_000);
        let workers = args.workers.or(file.workers);
        if workers.is_some_and(|w| !(1..=64).contains(&w)) {
            return Err("workers must be between 1 and 64".into());
        }
        for (name, v) in [
            ("users_quota", users_quota),
            ("groups_quota", groups_quota),
            ("scim_scan_limit", scim_scan_limit),
            ("permission_sets_quota", permission_sets_quota),
            ("policies_per_set", policies_per_set),
            ("max_requests_in_flight", max_requests_in_flight),
        ] {
            if !(1..=100_000_000).contains(&v) {
                return Err(format!("{name} must be between 1 and 100000000, not {v}"));
            }
        }
        let max_connections = args.max_connections.or(file.max_connections);
        if max_connections.is_some_and(|n| !(1..=1_000_000).contains(&n)) {
            return Err("max_connections must be between 1 and 1000000".into());
        }
        let millis = |name: &str, given: Option<u64>, default: u64, max: u64| {
            let ms = given.unwrap_or(default);
            if (100..=max).contains(&ms) {
                Ok(Duration::from_millis(ms))
            } else {
                Err(format!("{name} must be between 100 and {max}, not {ms}"))
            }
        };
        let header_timeout = millis(
            "header_timeout_ms",
            args.header_timeout_ms.or(file.header_timeout_ms),
            10_000,
            300_000,
        )?;
        let keepalive_timeout = millis(
            "keepalive_timeout_ms",
            args.keepalive_timeout_ms.or(file.keepalive_timeout_ms),
            60_000,
            3_600_000,
        )?;
        let body_idle_timeout = millis(
            "body_idle_timeout_ms",
            args.body_idle_timeout_ms.or(file.body_idle_timeout_ms),
            15_000,
            300_000,
        )?;
        let body_budget_bytes = args
            .body_budget_bytes
            .or(file.body_budget_bytes)
            .unwrap_or(32 * 1024 * 1024);
        if !(1024 * 1024..=1 << 32).contains(&body_budget_bytes) {
            return Err("body_budget_bytes must be between 1048576 and 4294967296".into());
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            database_schema: args.database_schema.clone().or(file.database_schema),
            region,
            log: args
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info".into()),
            log_json,
            users_quota,
            groups_quota,
            scim_scan_limit,
            account_creation_delay_ms,
            system_policies_file: args
                .system_policies_file
                .clone()
                .or(file.system_policies_file),
            permission_sets_quota,
            policies_per_set,
            max_requests_in_flight,
            async_delay_ms,
            workers,
            max_connections,
            header_timeout,
            keepalive_timeout,
            body_idle_timeout,
            body_budget_bytes,
            oidc,
            sign_in,
            smtp,
        })
    }
}

fn sign_in_settings(
    args: &ServeArgs,
    file: &FileConfig,
) -> Result<iic_api::pages::SignInSettings, String> {
    let defaults = iic_api::pages::SignInSettings::default();
    let bounded = |name: &str, given: Option<i64>, default: i64, max: i64| {
        let v = given.unwrap_or(default);
        if (1..=max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{name} must be between 1 and {max}, not {v}"))
        }
    };
    let window_ms = 1000
        * bounded(
            "sign_in_failure_window_secs",
            args.sign_in_failure_window_secs
                .or(file.sign_in_failure_window_secs),
            defaults.user.window_ms / 1000,
            86_400,
        )?;
    let lock_ms = 1000
        * bounded(
            "sign_in_lockout_secs",
            args.sign_in_lockout_secs.or(file.sign_in_lockout_secs),
            defaults.user.lock_ms / 1000,
            86_400,
        )?;
    let policy = |max_failures| iic_domain::sign_in::ThrottlePolicy {
        max_failures,
        window_ms,
        lock_ms,
    };
    Ok(iic_api::pages::SignInSettings {
        user: policy(bounded(
            "sign_in_max_failures",
            args.sign_in_max_failures.or(file.sign_in_max_failures),
            defaults.user.max_failures,
            1_000,
        )?),
        address: policy(bounded(
            "sign_in_max_failures_per_address",
            args.sign_in_max_failures_per_address
                .or(file.sign_in_max_failures_per_address),
            defaults.address.max_failures,
            100_000,
        )?),
        device_entry: defaults.device_entry,
    })
}

fn oidc_settings(
    args: &ServeArgs,
    file: &FileConfig,
    listen: &str,
) -> Result<iic_api::oidc::OidcSettings, String> {
    let defaults = iic_api::oidc::OidcSettings::default();
    let public_url = args
        .public_url
        .clone()
        .or(file.public_url.clone())
        .unwrap_or_else(|| format!("http://{listen}"));
    let public_url = public_url.trim_end_matches('/').to_string();
    let scheme_ok = public_url.starts_with("http://") || public_url.starts_with("https://");
    if !scheme_ok
        || public_url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "public_url must be an http:// or https:// URL, not {public_url:?}"
        ));
    }
    let secs = |name: &str, given: Option<i64>, default: i64, max: i64| {
        let v = given.unwrap_or(default);
        if (1..=max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{name} must be between 1 and {max}, not {v}"))
        }
    };
    let rate = args
        .oidc_rate_per_minute
        .or(file.oidc_rate_per_minute)
        .unwrap_or(defaults.rate_per_minute);
    if !(1..=1_000_000).contains(&rate) {
        return Err(format!(
            "oidc_rate_per_minute must be between 1 and 1000000, not {rate}"
        ));
    }
    Ok(iic_api::oidc::OidcSettings {
        public_url,
        device_code_ttl_secs: secs(
            "device_code_ttl_secs",
            args.device_code_ttl_secs.or(file.device_code_ttl_secs),
            defaults.device_code_ttl_secs,
            86_400,
        )?,
        access_token_ttl_secs: secs(
            "access_token_ttl_secs",
            args.access_token_ttl_secs.or(file.access_token_ttl_secs),
            defaults.access_token_ttl_secs,
            30 * 86_400,
        )?,
        refresh_token_ttl_secs: secs(
            "refresh_token_ttl_secs",
            args.refresh_token_ttl_secs.or(file.refresh_token_ttl_secs),
            defaults.refresh_token_ttl_secs,
            365 * 86_400,
        )?,
        poll_interval_secs: secs(
            "device_poll_interval_secs",
            args.device_poll_interval_secs
                .or(file.device_poll_interval_secs),
            defaults.poll_interval_secs,
            60,
        )?,
        rate_per_minute: rate,
        ..defaults
    })
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_without_anything() {
        let c = Config::resolve(&ServeArgs::default()).expect("defaults");
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./iic-data"));
        assert_eq!(c.database_url, "sqlite://./iic-data/iic.db");
        assert_eq!(c.region, "cn-north-4");
        assert!(!c.log_json);
        assert_eq!((c.users_quota, c.groups_quota), (100_000, 100_000));
        assert_eq!(c.max_connections, None);
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert_eq!(c.keepalive_timeout, Duration::from_secs(60));
        assert_eq!(c.body_idle_timeout, Duration::from_secs(15));
        assert_eq!(c.body_budget_bytes, 32 * 1024 * 1024);
        assert_eq!(c.oidc.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.oidc.device_code_ttl_secs, 600);
        assert_eq!(c.oidc.poll_interval_secs, 5);
    }

    #[test]
    fn oidc_settings_follow_listen_and_are_checked() {
        let c = Config::resolve(&ServeArgs {
            listen: Some("127.0.0.1:9001".into()),
            device_code_ttl_secs: Some(2),
            device_poll_interval_secs: Some(1),
            ..Default::default()
        })
        .expect("resolve");
        assert_eq!(c.oidc.public_url, "http://127.0.0.1:9001");
        assert_eq!(
            (c.oidc.device_code_ttl_secs, c.oidc.poll_interval_secs),
            (2, 1)
        );
        let c = Config::resolve(&ServeArgs {
            public_url: Some("https://sso.example.test/".into()),
            ..Default::default()
        })
        .expect("resolve");
        assert_eq!(c.oidc.public_url, "https://sso.example.test");
        for bad in [
            ServeArgs {
                public_url: Some("sso.example.test".into()),
                ..Default::default()
            },
            ServeArgs {
                device_poll_interval_secs: Some(0),
                ..Default::default()
            },
            ServeArgs {
                access_token_ttl_secs: Some(-1),
                ..Default::default()
            },
        ] {
            assert!(Config::resolve(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_and_timeouts_are_checked() {
        let err = Config::resolve(&ServeArgs {
            header_timeout_ms: Some(5),
            ..Default::default()
        })
        .expect_err("too short");
        assert!(err.contains("header_timeout_ms"), "{err}");
        let err = Config::resolve(&ServeArgs {
            max_connections: Some(0),
            ..Default::default()
        })
        .expect_err("no connections");
        assert!(err.contains("max_connections"), "{err}");
        let c = Config::resolve(&ServeArgs {
            body_idle_timeout_ms: Some(2_000),
            max_connections: Some(10),
            ..Default::default()
        })
        .expect("set");
        assert_eq!(c.body_idle_timeout, Duration::from_secs(2));
        assert_eq!(c.max_connections, Some(10));
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("iic.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\nregion = \"cn-south-1\"\ndata_dir = \"/var/lib/iic\"\n",
        )
        .expect("write");
        let args = ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:9100".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args).expect("resolve");
        assert_eq!(c.listen, "127.0.0.1:9100");
        assert_eq!(c.region, "cn-south-1");
        assert_eq!(c.database_url, "sqlite:///var/lib/iic/iic.db");
    }

    #[test]
    fn bad_file_and_bad_values_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("iic.toml");
        std::fs::write(&path, "listen_on = 1\n").expect("write");
        let err = Config::resolve(&ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .expect_err("unknown key");
        assert!(err.contains("listen_on"), "{err}");
        let err = Config::resolve(&ServeArgs {
            log_format: Some("xml".into()),
            ..Default::default()
        })
        .expect_err("bad format");
        assert!(err.contains("log_format"));
        assert!(Config::resolve(&ServeArgs {
            region: Some("cn north".into()),
            ..Default::default()
        })
        .is_err());
        let err = Config::resolve(&ServeArgs {
            workers: Some(0),
            ..Default::default()
        })
        .expect_err("no workers");
        assert!(err.contains("workers"), "{err}");
    }

    #[test]
    fn smtp_comes_from_flags_or_the_smtp_table() {
        assert_eq!(
            Config::resolve(&ServeArgs::default())
                .expect("defaults")
                .smtp,
            None
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("iic.toml");
        std::fs::write(
            &path,
            "[smtp]\nhost = \"mail.example.test\"\nport = 2525\nfrom = \"iic@example.test\"\ntls = \"none\"\n",
        )
        .expect("write");
        let c = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            smtp_port: Some(25),
            ..Default::default()
        })
        .expect("resolve");
        let smtp = c.smtp.expect("smtp");
        assert_eq!((smtp.host.as_str(), smtp.port), ("mail.example.test", 25));
        assert_eq!(smtp.tls, crate::smtp_config::SmtpTls::None);
        std::fs::write(&path, "[smtp]\nhost = \"h\"\nsender = \"x\"\n").expect("write");
        let err = Config::resolve(&ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .expect_err("unknown key");
        assert!(err.contains("sender"), "{err}");
    }

    #[test]
    fn workers_default_to_the_backend_unless_set() {
        let c = Config::resolve(&ServeArgs::default()).expect("defaults");
        assert_eq!(c.workers, None);
        let c = Config::resolve(&ServeArgs {
            workers: Some(6),
            ..Default::default()
        })
        .expect("six");
        assert_eq!(c.workers, Some(6));
    }
}
