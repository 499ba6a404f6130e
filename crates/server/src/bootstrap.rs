//! First start: the master key, the organization with its management account, project and root
//! credential, and the bootstrap credentials file. Later starts reuse what exists.

use iic_api::ServerKeys;
use iic_domain::crypto::MasterKey;
use iic_domain::organizations::{AccountStatus, JoinMethod};
use iic_domain::{clock, ids};
use iic_store::{Account, BootstrapPlan, Credential, Organization, Project, Root, SharedStore};
use serde::Serialize;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const MASTER_KEY_FILE: &str = "master.key";
pub const CREDENTIALS_FILE: &str = "bootstrap-credentials.json";

/// `IIC_MASTER_KEY` (64 hex) when set, else `<data dir>/master.key`, created on first use.
pub fn load_master_key(data_dir: &Path) -> Result<MasterKey, String> {
    if let Ok(hex) = std::env::var("IIC_MASTER_KEY") {
        return MasterKey::from_hex(&hex)
            .ok_or_else(|| "IIC_MASTER_KEY must be 64 hexadecimal characters".to_string());
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_hex(&text)
            .ok_or_else(|| format!("{} does not hold a 64-hex-character key", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let key = MasterKey::generate();
            write_private(&path, key.to_hex().as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Refuses a master key other than the one the data was sealed with.
pub async fn check_master_key(store: &SharedStore, key: &MasterKey) -> Result<(), String> {
    let stored = store
        .put_meta_if_absent("master_key_check", &key.check_value())
        .await
        .map_err(|e| e.to_string())?;
    if stored != key.check_value() {
        return Err(
            "the master key does not match the one this database was created with \
                    (set IIC_MASTER_KEY to the key of the first server, or restore master.key)"
                .into(),
        );
    }
    Ok(())
}

/// The content of `bootstrap-credentials.json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RootCredentials {
    pub access_key: String,
    pub secret_key: String,
    pub account_id: String,
    pub project_id: String,
    pub region: String,
}

fn sealed(keys: &ServerKeys, account_id: &str, ak: &str, sk: &str) -> Credential {
    Credential {
        access_key: ak.to_string(),
        account_id: account_id.to_string(),
        secret_sealed: keys.credentials.seal(sk.as_bytes(), ak.as_bytes()),
        security_token_sha256: None,
        expires_at: None,
        created_at: clock::now_millis(),
    }
}

fn validate_env_keys(ak: &str, sk: &str) -> Result<(), String> {
    if ak.is_empty() || ak.len() > 128 || !ak.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("IIC_BOOTSTRAP_ACCESS_KEY must be 1-128 letters and digits".into());
    }
    if sk.is_empty() || sk.len() > 256 || !sk.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("IIC_BOOTSTRAP_SECRET_KEY must be 1-256 printable characters".into());
    }
    Ok(())
}

/// Creates the organization on first start, or finds it; makes sure the configured bootstrap
/// keys (if any) work; returns the root credentials to publish.
pub async fn bootstrap(
    store: &SharedStore,
    keys: &ServerKeys,
    region: &str,
    env_keys: Option<(String, String)>,
) -> Result<RootCredentials, String> {
    if let Some((ak, sk)) = &env_keys {
        validate_env_keys(ak, sk)?;
    }
    let (ak, sk) = env_keys
        .clone()
        .unwrap_or_else(|| (ids::access_key(), ids::secret_key()));
    let now = clock::now_millis();
    let account_id = ids::hex32();
    let organization_id = ids::organization_id();
    let root_id = iic_domain::organizations::root_id();
    let plan = BootstrapPlan {
        organization: Organization {
            id: organization_id.clone(),
            management_account_id: account_id.clone(),
            created_at: now,
        },
        root: Root {
            id: root_id.clone(),
            organization_id: organization_id.clone(),
            name: "root".into(),
            created_at: now,
        },
        account: Account {
            id: account_id.clone(),
            name: "management".into(),
            organization_id: Some(organization_id),
            created_at: now,
            join_method: JoinMethod::Created,
            status: AccountStatus::Active,
            parent_id: Some(root_id),
            joined_at: now,
            ..Default::default()
        },
        project: Project {
            id: ids::hex32(),
            account_id: account_id.clone(),
            region: region.to_string(),
        },
        credential: sealed(keys, &account_id, &ak, &sk),
    };
    let done = store.bootstrap(&plan).await.map_err(|e| e.to_string())?;
    let account_id = done.account.id.clone();

    let (access_key, secret_key) = match env_keys {
        Some((ak, sk)) if !done.created_now => {
            ensure_credential(store, keys, &account_id, &ak, &sk).await?;
            (ak, sk)
        }
        Some(pair) => pair,
        None if done.created_now => (ak, sk),
        None => {
            let cred = store
                .get_credential(&done.root_access_key)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the root credential of the organization was deleted")?;
            let sk = keys
                .credentials
                .open(&cred.secret_sealed, cred.access_key.as_bytes())
                .ok_or("the root secret key cannot be opened with this master key")?;
            (
                cred.access_key,
                String::from_utf8(sk.to_vec()).map_err(|_| "the root secret key is not UTF-8")?,
            )
        }
    };
    Ok(RootCredentials {
        access_key,
        secret_key,
        account_id,
        project_id: done.project.id,
        region: region.to_string(),
    })
}

/// Makes `ak`/`sk` a credential of the management account, replacing a stale secret.
async fn ensure_credential(
    store: &SharedStore,
    keys: &ServerKeys,
    account_id: &str,
    ak: &str,
    sk: &str,
) -> Result<(), String> {
    if let Some(existing) = store.get_credential(ak).await.map_err(|e| e.to_string())? {
        if existing.account_id != account_id {
            return Err(format!(
                "IIC_BOOTSTRAP_ACCESS_KEY {ak} belongs to another account"
            ));
        }
        let same = keys
            .credentials
            .open(&existing.secret_sealed, ak.as_bytes())
            .is_some_and(|old| iic_domain::crypto::ct_eq(&old, sk.as_bytes()));
        if same {
            return Ok(());
        }
        store
            .delete_credential(ak)
            .await
            .map_err(|e| e.to_string())?;
    }
    store
        .insert_credential(&sealed(keys, account_id, ak, sk))
        .await
        .map_err(|e| e.to_string())
}

fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(content)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

pub fn write_credentials_file(data_dir: &Path, creds: &RootCredentials) -> Result<(), String> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let path = data_dir.join(CREDENTIALS_FILE);
    let json = serde_json::to_vec_pretty(creds).map_err(|e| e.to_string())?;
    write_private(&path, &json).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
