//! Shared state of the HTTP application: the store, keys derived once at start, caches.

use crate::body::BodyGate;
use crate::caller::CallerCache;
use iic_domain::crypto::{MasterKey, Sealer};
use iic_domain::marker::MarkerCodec;
use iic_store::SharedStore;
use std::sync::Arc;

/// Keys derived from the master key once, at start.
pub struct ServerKeys {
    /// Seals secret access keys at rest.
    pub credentials: Sealer,
    /// Seals `encoded_authorization_message`.
    pub authorization: Sealer,
    pub markers: MarkerCodec,
    /// Derives the CSRF tokens of the portal's forms.
    pub csrf: [u8; 32],
    /// Seals the portal's tickets (password change, pending MFA, enrolment in progress).
    pub pages: Sealer,
    /// Seals TOTP secrets at rest (bound to their device id).
    pub totp: Sealer,
    /// Seals the bodies of queued mails (bound to their Message-ID).
    pub outbox: Sealer,
    /// Keys the hashes of the sign-in codes mailed to users.
    pub email_codes: [u8; 32],
}

impl ServerKeys {
    pub fn derive(master: &MasterKey) -> Self {
        ServerKeys {
            credentials: Sealer::new(&master.derive("iic/credentials")),
            authorization: Sealer::new(&master.derive("iic/authorization-message")),
            markers: MarkerCodec::new(*master.derive("iic/pagination-marker")),
            csrf: *master.derive("iic/portal-csrf"),
            pages: Sealer::new(&master.derive("iic/portal-tickets")),
            totp: Sealer::new(&master.derive("iic/totp-secrets")),
            outbox: Sealer::new(&master.derive("iic/outbox-bodies")),
            email_codes: *master.derive("iic/email-sign-in-codes"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of request bodies being read or handled at once, server-wide; a body that would
    /// exceed it is answered 429.
    pub body_budget_bytes: usize,
    /// How long a body may send nothing before the request is answered 408.
    pub body_idle_timeout: std::time::Duration,
    /// How far `X-Sdk-Date` may be from the server clock, in seconds.
    pub max_clock_skew_secs: i64,
    /// How long a resolved credential or account is trusted without asking the store, in ms.
    pub cache_ttl_ms: i64,
    /// Users one identity store may hold.
    pub users_quota: i64,
    /// Groups one identity store may hold.
    pub groups_quota: i64,
    /// How long an account creation stays in progress before it runs, in ms (to let clients
    /// exercise their polling the way the real service makes them).
    pub account_creation_delay_ms: i64,
    /// Permission sets one instance may hold.
    pub permission_sets_quota: i64,
    /// Policies (system-defined and custom) one permission set may carry.
    pub policies_per_set: i64,
    /// Assignment and provisioning requests one instance may have in progress at once.
    pub max_requests_in_flight: i64,
    /// How long assignment and provisioning requests stay in progress before they run, in ms.
    pub async_delay_ms: i64,
    /// The OIDC API's lifetimes, polling interval, public URL and rate limit.
    pub oidc: crate::oidc::OidcSettings,
    /// When failed sign-ins lock a user name, a source address, or a session's code entry.
    pub sign_in: crate::pages::SignInSettings,
    /// Whether an SMTP relay is configured: without one no mail is queued, and settings that
    /// depend on mail (`EMAIL_OTP`) are refused.
    pub mail_relay: bool,
    /// A SCIM filter no index answers is matched against every user (group) only in stores of
    /// at most this many; above, it is refused as too costly.
    pub scim_scan_limit: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_budget_bytes: 32 * 1024 * 1024,
            body_idle_timeout: std::time::Duration::from_secs(15),
            max_clock_skew_secs: 15 * 60,
            cache_ttl_ms: 5_000,
            users_quota: 100_000,
            groups_quota: 100_000,
            account_creation_delay_ms: 0,
            permission_sets_quota: iic_domain::permission_set::DEFAULT_SETS_QUOTA,
            policies_per_set: iic_domain::permission_set::DEFAULT_POLICIES_PER_SET,
            max_requests_in_flight: 10_000,
            async_delay_ms: 0,
            oidc: crate::oidc::OidcSettings::default(),
            sign_in: crate::pages::SignInSettings::default(),
            mail_relay: false,
            scim_scan_limit: 10_000,
        }
    }
}

/// Everything a request may need; cloned per request, so it is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: SharedStore,
    pub keys: ServerKeys,
    pub limits: Limits,
    /// The region this server serves; instances are created here.
    pub region: String,
    pub callers: CallerCache,
    /// Wakes the job workers when a job is queued.
    pub jobs: tokio::sync::Notify,
    /// System-defined policies and roles permission sets may carry.
    pub catalog: iic_domain::permission_set::Catalog,
    /// The budget and timeout of reading request bodies.
    pub body_gate: BodyGate,
    /// Per source address, the rate of OIDC client registrations and device authorizations.
    pub oidc_rate: crate::oidc::RateLimiter,
    /// Password hashing and verification, bounded to one at a time per CPU.
    pub password_work: crate::password_work::PasswordWork,
    /// The WebAuthn relying party of the public URL; None when the URL cannot be one (an IP
    /// address, or not https outside localhost).
    pub webauthn: Option<webauthn_rs::Webauthn>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// After a change that takes access away from keys: forgets this server's cached keys at once
    /// and bumps the revocation count, so every other server on the database forgets them too.
    pub async fn revoke_cached_callers(&self) {
        self.callers.clear();
        match self.store.increment_meta(crate::caller::REVOCATIONS).await {
            Ok(count) => self.callers.observe_revocations(count),
            Err(e) => {
                tracing::error!(error = %e, "could not publish a revocation; other servers forget cached keys within their cache time")
            }
        }
    }

    /// Replaces the catalogue of system-defined policies (at start, before serving).
    pub fn with_catalog(self, catalog: iic_domain::permission_set::Catalog) -> Self {
        match std::sync::Arc::try_unwrap(self.0) {
            Ok(mut shared) => {
                shared.catalog = catalog;
                AppState(Arc::new(shared))
            }
            Err(shared) => AppState(shared),
        }
    }

    pub fn new(store: SharedStore, master: &MasterKey, region: &str, limits: Limits) -> Self {
        let webauthn = match crate::pages::relying_party(&limits.oidc.public_url) {
            Ok(rp) => Some(rp),
            Err(why) => {
                tracing::warn!(public_url = %limits.oidc.public_url, "WebAuthn (security keys and passkeys) is unavailable: {why}");
                None
            }
        };
        AppState(Arc::new(Shared {
            webauthn,
            store,
            keys: ServerKeys::derive(master),
            callers: CallerCache::new(limits.cache_ttl_ms),
            body_gate: BodyGate::new(limits.body_budget_bytes, limits.body_idle_timeout),
            oidc_rate: crate::oidc::RateLimiter::new(limits.oidc.rate_per_minute),
            password_work: crate::password_work::PasswordWork::default(),
            limits,
            region: region.to_string(),
            jobs: tokio::sync::Notify::new(),
            catalog: iic_domain::permission_set::Catalog::builtin(),
        }))
    }
}
