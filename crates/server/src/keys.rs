//! `iic keys`: create, list and delete access keys of an account, directly on the database the
//! server is configured with. A running server sees a new key at once (unknown keys are always
//! looked up) and stops accepting a deleted one within its credential cache time (5 s).

use crate::bootstrap;
use crate::config::Config;
use clap::Subcommand;
use iic_api::ServerKeys;
use iic_domain::{clock, ids, organizations::iso8601};
use iic_store::Credential;
use serde_json::json;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create an access key for an account; prints the secret key once.
    Create {
        #[arg(long)]
        account: String,
    },
    /// List the access keys of an account (never their secrets).
    List {
        #[arg(long)]
        account: String,
    },
    /// Delete an access key.
    Delete { access_key: String },
}

pub async fn run(config: &Config, command: KeysCommand) -> Result<(), String> {
    let master = bootstrap::load_master_key(&config.data_dir)?;
    let store = iic_store::open_in_schema(&config.database_url, config.database_schema.as_deref())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    bootstrap::check_master_key(&store, &master).await?;
    let keys = ServerKeys::derive(&master);
    match command {
        KeysCommand::Create { account } => {
            store
                .get_account(&account)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no account {account}"))?;
            let (ak, sk) = (ids::access_key(), ids::secret_key());
            store
                .insert_credential(&Credential {
                    access_key: ak.clone(),
                    account_id: account.clone(),
                    secret_sealed: keys.credentials.seal(sk.as_bytes(), ak.as_bytes()),
                    security_token_sha256: None,
                    expires_at: None,
                    created_at: clock::now_millis(),
                })
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{}",
                json!({ "access_key": ak, "secret_key": sk, "account_id": account })
            );
        }
        KeysCommand::List { account } => {
            let creds = store
                .list_credentials(&account)
                .await
                .map_err(|e| e.to_string())?;
            let list: Vec<_> = creds
                .iter()
                .map(|c| {
                    json!({
                        "access_key": c.access_key,
                        "account_id": c.account_id,
                        "created_at": iso8601(c.created_at),
                        "temporary": c.security_token_sha256.is_some(),
                    })
                })
                .collect();
            println!("{}", json!(list));
        }
        KeysCommand::Delete { access_key } => {
            if !store
                .delete_credential(&access_key)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no access key {access_key}"));
            }
            // Running servers drop their cached copy of the key on seeing the count move.
            store
                .increment_meta(iic_api::caller::REVOCATIONS)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", json!({ "deleted": access_key }));
        }
    }
    Ok(())
}
