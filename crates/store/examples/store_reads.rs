//! Times point reads through the store on a fresh SQLite database: `N` rounds (default 200,000)
//! of one instance look-up and one account look-up. Run under
//! `valgrind --tool=callgrind` (with a small `N`) to count the instructions a read costs; see
//! docs/performance.md.

use iic_domain::instance::Instance;
use iic_store::{Account, BootstrapPlan, Credential, Organization, Project, Root};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: u32 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir()?;
    let store = iic_store::open(&format!("sqlite://{}", dir.path().join("s.db").display())).await?;
    store
        .bootstrap(&BootstrapPlan {
            organization: Organization {
                id: "o-1".into(),
                management_account_id: "a".into(),
                created_at: 1,
            },
            root: Root {
                id: "r-1".into(),
                organization_id: "o-1".into(),
                name: "root".into(),
                created_at: 1,
            },
            account: Account {
                id: "a".into(),
                name: "management".into(),
                organization_id: Some("o-1".into()),
                ..Default::default()
            },
            project: Project {
                id: "p".into(),
                account_id: "a".into(),
                region: "r".into(),
            },
            credential: Credential {
                access_key: "AK".into(),
                account_id: "a".into(),
                secret_sealed: vec![1],
                security_token_sha256: None,
                expires_at: None,
                created_at: 1,
            },
        })
        .await?;
    let instance = Instance {
        seq: 0,
        instance_id: "ins-1111222233334444".into(),
        identity_store_id: "d-5555666677".into(),
        organization_id: "o-1".into(),
        region: "r".into(),
        alias: None,
        created_at: 1,
    };
    store.create_instance_if_absent(&instance).await?;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        store.get_instance(&instance.instance_id).await?;
        store.get_account("a").await?;
    }
    let reads = 2 * u64::from(rounds);
    println!(
        "{reads} reads, {:.0} ns per read",
        started.elapsed().as_nanos() as f64 / reads as f64
    );
    Ok(())
}
