//! `iic serve`: open the store, bootstrap, serve until SIGTERM/SIGINT, finishing in-flight
//! requests before exiting.

use crate::bootstrap;
use crate::config::Config;
use crate::connections::ConnectionLimits;
use iic_api::{AppState, Limits};

pub async fn run(config: Config) -> Result<(), String> {
    let master = bootstrap::load_master_key(&config.data_dir)?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;
    let store = iic_store::open_in_schema(&config.database_url, config.database_schema.as_deref())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    bootstrap::check_master_key(&store, &master).await?;
    let limits = Limits {
        users_quota: config.users_quota,
        groups_quota: config.groups_quota,
        scim_scan_limit: config.scim_scan_limit,
        account_creation_delay_ms: config.account_creation_delay_ms,
        permission_sets_quota: config.permission_sets_quota,
        policies_per_set: config.policies_per_set,
        max_requests_in_flight: config.max_requests_in_flight,
        async_delay_ms: config.async_delay_ms,
        body_budget_bytes: config.body_budget_bytes,
        body_idle_timeout: config.body_idle_timeout,
        oidc: config.oidc.clone(),
        sign_in: config.sign_in,
        mail_relay: config.smtp.is_some(),
        ..Limits::default()
    };
    let mut catalog = iic_domain::permission_set::Catalog::builtin();
    if let Some(path) = &config.system_policies_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        catalog.extend(
            iic_domain::permission_set::Catalog::from_json(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        );
    }
    let state = AppState::new(store.clone(), &master, &config.region, limits).with_catalog(catalog);
    let env_keys = match (
        std::env::var("IIC_BOOTSTRAP_ACCESS_KEY").ok(),
        std::env::var("IIC_BOOTSTRAP_SECRET_KEY").ok(),
    ) {
        (Some(ak), Some(sk)) => Some((ak, sk)),
        (None, None) => None,
        _ => {
            return Err(
                "IIC_BOOTSTRAP_ACCESS_KEY and IIC_BOOTSTRAP_SECRET_KEY must be set together".into(),
            )
        }
    };
    let root = bootstrap::bootstrap(&store, &state.keys, &config.region, env_keys).await?;
    bootstrap::write_credentials_file(&config.data_dir, &root)?;

    let files = crate::file_limit::raise();
    let connection_limits = ConnectionLimits {
        max_connections: config
            .max_connections
            .unwrap_or_else(|| crate::file_limit::default_max_connections(files)),
        header_timeout: config.header_timeout,
        keepalive_timeout: config.keepalive_timeout,
    };
    let listener = listen(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    tracing::info!(
        listen = %local,
        backend = store.backend_name(),
        region = %config.region,
        account_id = %root.account_id,
        access_key = %root.access_key,
        max_connections = connection_limits.max_connections,
        open_files_limit = files,
        "iic is serving"
    );
    // SQLite has one writer, so more workers only queue; PostgreSQL runs jobs side by side.
    let default_workers = if store.backend_name() == "postgres" {
        4
    } else {
        2
    };
    let worker_count = config.workers.unwrap_or(default_workers);
    let mut workers = crate::worker::spawn(state.clone(), worker_count);
    workers.push(tokio::spawn(watch_revocations(state.clone())));
    workers.push(tokio::spawn(crate::session_sweep::run(state.clone())));
    workers.push(tokio::spawn(crate::oidc_sweep::run(state.clone())));
    match &config.smtp {
        Some(smtp) => {
            let relay = crate::mail_send::Relay::new(smtp)?;
            tracing::info!(
                host = %smtp.host,
                port = smtp.port,
                tls = ?smtp.tls,
                "mail goes through this SMTP relay"
            );
            workers.push(tokio::spawn(crate::mail_outbox::run(state.clone(), relay)));
        }
        None => tracing::warn!(
            "no SMTP relay configured (IIC_SMTP_HOST): mail is not sent (docs/mail.md)"
        ),
    }
    crate::http_server::serve(
        listener,
        iic_api::router(state),
        connection_limits,
        shutdown_signal(),
    )
    .await;
    for w in workers {
        w.abort();
    }
    tracing::info!("iic stopped");
    Ok(())
}

/// Connections the kernel may hold completed but not yet accepted (it caps this at
/// `net.core.somaxconn`, as Go's listeners ask for). A burst of connections larger than the queue
/// makes the kernel drop handshakes, and every client caught then, well-behaved or not, waits a
/// second for its retry; tokio's default of 1,024 is passed by a few thousand idle connections
/// opened at once.
const LISTEN_BACKLOG: u32 = 65_535;

/// Binds `address` (host:port) with [`LISTEN_BACKLOG`].
async fn listen(address: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(address).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As tokio's own bind does: a restarted server may take its port back at once.
        socket.set_reuseaddr(true)?;
        match socket
            .bind(addr)
            .and_then(|()| socket.listen(LISTEN_BACKLOG))
        {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// How often the revocation count is read: the longest a key deleted elsewhere (by `iic keys
/// delete`, or by another server) stays usable here, instead of the credential cache time.
const REVOCATION_POLL: std::time::Duration = std::time::Duration::from_millis(250);

async fn watch_revocations(state: AppState) {
    let mut tick = tokio::time::interval(REVOCATION_POLL);
    loop {
        tick.tick().await;
        match state.store.get_meta(iic_api::caller::REVOCATIONS).await {
            Ok(value) => state
                .callers
                .observe_revocations(value.and_then(|v| v.parse().ok()).unwrap_or(0)),
            Err(e) => tracing::warn!(error = %e, "reading the revocation count failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
