//! Who is calling: an access key resolved to its secret and its account, cached briefly so that a
//! signed request needs no store round trip to authenticate.

use crate::agency::{Agency, CompiledPolicies};
use iic_domain::crypto::Sealer;
use iic_domain::organizations::AccountStatus;
use iic_domain::permission_set::Catalog;
use iic_store::{Project, SharedStore, StoreError};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Why a key could not be resolved (besides not existing).
#[derive(Debug)]
pub enum ResolveError {
    Store(StoreError),
    /// The stored secret does not open with this server's master key.
    Unsealable(String),
}

impl From<StoreError> for ResolveError {
    fn from(e: StoreError) -> Self {
        ResolveError::Store(e)
    }
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Store(e) => e.fmt(f),
            ResolveError::Unsealable(key) => write!(
                f,
                "the secret of access key {key} cannot be opened with this master key"
            ),
        }
    }
}

/// The account behind a credential, with what authorization needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub id: String,
    pub name: String,
    pub organization_id: Option<String>,
    /// True when this account is the management account of its organization.
    pub is_management: bool,
    /// True when the account was closed; its keys no longer authenticate.
    pub closed: bool,
    pub projects: Vec<Project>,
}

/// A usable access key: its signing key (memory only) and its account.
pub struct ResolvedKey {
    pub access_key: Arc<str>,
    pub signing_key: iic_domain::signing::SigningKey,
    pub account: Arc<AccountInfo>,
    pub security_token_sha256: Option<Vec<u8>>,
    /// Unix ms; only temporary keys expire.
    pub expires_at: Option<i64>,
    /// What the policies of a temporary key see of it; None for a permanent key.
    pub agency: Option<Arc<Agency>>,
    fetched_at: i64,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("access_key", &self.access_key)
            .field("account", &self.account.id)
            .finish_non_exhaustive()
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub access_key: Arc<str>,
    pub account: Arc<AccountInfo>,
    pub temporary: bool,
    /// The agency a temporary key acts under; its policies decide what the key may do.
    pub agency: Option<Arc<Agency>>,
}

pub struct CallerCache {
    ttl_ms: i64,
    keys: RwLock<HashMap<String, Arc<ResolvedKey>>>,
    /// The last revocation count read from the store (see [`REVOCATIONS`]).
    revocations_seen: AtomicI64,
    compiled: CompiledPolicies,
}

/// The meta counter that every change taking access away from a cached key bumps (a key deleted,
/// an account removed or closed, an organization created or deleted). Each server reads it a few
/// times a second and drops its cache when it moved, so such a change reaches every server sharing
/// the database well before a cached entry would expire.
pub const REVOCATIONS: &str = iic_store::REVOCATIONS;

const MAX_CACHED_KEYS: usize = 100_000;

impl CallerCache {
    pub fn new(ttl_ms: i64) -> Self {
        CallerCache {
            ttl_ms,
            keys: RwLock::new(HashMap::new()),
            revocations_seen: AtomicI64::new(0),
            compiled: CompiledPolicies::default(),
        }
    }

    /// Forgets everything, so the next request reads the store (after a change made here).
    pub fn clear(&self) {
        self.keys.write().clear();
    }

    /// Takes the store's revocation count; forgets everything when it moved since last time.
    pub fn observe_revocations(&self, count: i64) {
        if self.revocations_seen.swap(count, Ordering::AcqRel) != count {
            self.clear();
        }
    }

    /// The key and its account, or None when no such access key exists.
    pub async fn resolve(
        &self,
        store: &SharedStore,
        sealer: &Sealer,
        catalog: &Catalog,
        access_key: &str,
    ) -> Result<Option<Arc<ResolvedKey>>, ResolveError> {
        let now = iic_domain::clock::now_millis();
        if let Some(hit) = self.keys.read().get(access_key) {
            if now - hit.fetched_at < self.ttl_ms {
                return Ok(Some(hit.clone()));
            }
        }
        let Some(cred) = store.get_credential(access_key).await? else {
            self.keys.write().remove(access_key);
            return Ok(None);
        };
        let secret = sealer
            .open(&cred.secret_sealed, cred.access_key.as_bytes())
            .ok_or_else(|| ResolveError::Unsealable(access_key.to_string()))?;
        let Some(account) = store.get_account(&cred.account_id).await? else {
            return Ok(None);
        };
        let is_management = match &account.organization_id {
            Some(org) => store
                .get_organization(org)
                .await?
                .is_some_and(|o| o.management_account_id == account.id),
            None => false,
        };
        let projects = store.list_projects(&account.id).await?;
        let agency = match cred.security_token_sha256 {
            None => None,
            Some(_) => Some(Arc::new(
                match store.agency_of_credential(&cred.access_key).await? {
                    Some(record) => self.compiled.agency(record, &account.name, catalog),
                    None => Agency::none(),
                },
            )),
        };
        let resolved = Arc::new(ResolvedKey {
            access_key: Arc::from(cred.access_key.as_str()),
            signing_key: iic_domain::signing::SigningKey::new(&secret),
            account: Arc::new(AccountInfo {
                closed: account.status == AccountStatus::Suspended,
                id: account.id,
                name: account.name,
                organization_id: account.organization_id,
                is_management,
                projects,
            }),
            security_token_sha256: cred.security_token_sha256.and_then(|h| hex::decode(h).ok()),
            expires_at: cred.expires_at,
            agency,
            fetched_at: now,
        });
        let mut map = self.keys.write();
        if map.len() >= MAX_CACHED_KEYS {
            map.retain(|_, v| now - v.fetched_at < self.ttl_ms);
        }
        map.insert(access_key.to_string(), resolved.clone());
        Ok(Some(resolved))
    }
}
