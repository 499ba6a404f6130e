//! `iic-bench compare`: measures the bare reference server and signed `GET /v1/instances` on a
//! real `iic serve`, in the same run on the same machine, and prints both and their ratio.

use clap::Parser;
use iic_bench::directory::{CreateAssignments, CreateUsers, WalkUsers};
use iic_bench::oidc::{self, PollPending, StartDevices};
use iic_bench::sign_in::{self, Csrf, SignIns};
use iic_bench::{build_request, exchange, one_shot, run, Credentials, Repeat, Report, Target};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "The benchmark of iic")]
struct Cli {
    #[command(subcommand)]
    command: Option<Mode>,
    #[command(flatten)]
    args: Args,
}

#[derive(clap::Subcommand)]
enum Mode {
    /// Signed ListInstances against a bare axum server (the default).
    Compare,
    /// CreateUser rate and ListUsers page latency at 1,000 and at `--users` users.
    Directory {
        #[arg(long, default_value_t = 100_000)]
        users: usize,
    },
    /// Account assignments: `--users` x `--accounts` created through the API, timed until every
    /// one is SUCCEEDED, then DescribeAccountAssignmentCreationStatus throughput.
    Assignments {
        #[arg(long, default_value_t = 100)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        accounts: usize,
        /// `postgres://…` to run the server on PostgreSQL (a fresh schema is used).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// CreateToken polls answered `authorization_pending`, round-robin over `--device-codes`
    /// pending device authorizations (poll interval 1 s).
    DevicePolls {
        #[arg(long, default_value_t = 40_000)]
        device_codes: usize,
    },
    /// Password sign-ins through the portal's sign-in form, round-robin over `--users` users
    /// (each created with a one-time password and given its own through the change form).
    SignIns {
        #[arg(long, default_value_t = 64)]
        users: usize,
    },
    /// The portal: ListAccounts with an access token, and signed ListInstances with temporary
    /// credentials from GetAgencyCredentials (of a set with the read-only system policy) against
    /// the same call with permanent keys.
    Portal,
    /// Policy enforcement: signed ListInstances with temporary credentials of a set carrying
    /// `--policies` operator-catalogue policies of `--statements` statements each (only the last
    /// statement allows it), alternately with the permanent keys, over `--rounds` rounds.
    Policies {
        #[arg(long, default_value_t = 20)]
        policies: usize,
        #[arg(long, default_value_t = 20)]
        statements: usize,
        #[arg(long, default_value_t = 4)]
        rounds: usize,
    },
    /// SCIM: user creation rate through a provisioning tenant, `filter=userName eq` latency at
    /// 1,000 and at `--users` users, and one PATCH adding `--members` members to a group.
    Scim {
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        #[arg(long, default_value_t = 5_000)]
        members: usize,
    },
}

#[derive(clap::Args)]
struct Args {
    /// The iic binary (default: `iic` beside this program).
    #[arg(long)]
    iic_bin: Option<PathBuf>,
    /// The reference server (default: `iic-bench-hello` beside this program).
    #[arg(long)]
    hello_bin: Option<PathBuf>,
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    #[arg(long, default_value_t = 64)]
    connections: usize,
}

fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn free_addr() -> Result<SocketAddr, String> {
    for port in 18000..20000 {
        if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            return l.local_addr().map_err(|e| e.to_string());
        }
    }
    Err("no free port in 18000-19999".into())
}

/// A child process stopped with SIGTERM (then killed) when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_ready(addr: SocketAddr, path: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let req = build_request(
            &Target::Plain { path: path.into() },
            &addr.to_string(),
            "GET",
            b"",
        );
        if let Ok((200, _)) = one_shot(addr, req).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{addr}{path} did not answer 200 within 30 s"))
}

fn print(r: &Report) {
    println!(
        "{:<34} {:>10.0} req/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  errors {}",
        r.label,
        r.rps,
        r.p50_us as f64 / 1000.0,
        r.p90_us as f64 / 1000.0,
        r.p99_us as f64 / 1000.0,
        r.max_us as f64 / 1000.0,
        r.errors
    );
}

async fn compare(args: Args) -> Result<(), String> {
    let hello_bin = args
        .hello_bin
        .clone()
        .unwrap_or_else(|| sibling("iic-bench-hello"));
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let (warmup, duration) = (
        Duration::from_secs(args.warmup_secs),
        Duration::from_secs(args.duration_secs),
    );
    println!(
        "{} connections, {} s warm-up, {} s measured, client and server on this machine",
        args.connections, args.warmup_secs, args.duration_secs
    );

    let hello = {
        let addr = free_addr()?;
        let _server = Server(
            Command::new(&hello_bin)
                .arg(addr.to_string())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("start {}: {e}", hello_bin.display()))?,
        );
        wait_ready(addr, "/").await?;
        run(
            "bare axum hello (GET /)",
            addr,
            Arc::new(Repeat(Target::Plain { path: "/".into() })),
            args.connections,
            warmup,
            duration,
        )
        .await?
    };
    print(&hello);

    let signed = {
        let iic = Iic::start(&iic_bin).await?;
        let target = Target::Signed {
            path: "/v1/instances".into(),
            query: "limit=100".into(),
            creds: iic.creds.clone(),
        };
        run(
            "iic signed GET /v1/instances",
            iic.addr,
            Arc::new(Repeat(target)),
            args.connections,
            warmup,
            duration,
        )
        .await?
    };
    print(&signed);

    let ratio = 100.0 * signed.rps / hello.rps.max(1.0);
    println!("ratio: {ratio:.1} %");
    println!(
        "{}",
        serde_json::json!({ "hello": hello, "iic_list_instances": signed, "ratio_percent": ratio })
    );
    let error_share = signed.errors as f64 / signed.requests.max(1) as f64;
    if error_share > 0.01 {
        return Err(format!(
            "{} of {} signed requests failed",
            signed.errors, signed.requests
        ));
    }
    Ok(())
}

/// A running `iic serve` on a fresh data directory, with the service started.
struct Iic {
    addr: SocketAddr,
    creds: Arc<Credentials>,
    identity_store_id: String,
    instance_id: String,
    _server: Server,
    _data: tempfile::TempDir,
}

impl Iic {
    async fn start(bin: &Path) -> Result<Iic, String> {
        Self::start_with(bin, &[]).await
    }

    async fn start_with(bin: &Path, env: &[(&str, String)]) -> Result<Iic, String> {
        let data = tempfile::tempdir().map_err(|e| e.to_string())?;
        let addr = free_addr()?;
        // IIC_BENCH_SERVER_LOG=<file> keeps the server's log, for looking into errors.
        let log = match std::env::var_os("IIC_BENCH_SERVER_LOG") {
            Some(path) => Stdio::from(
                std::fs::File::create(&path)
                    .map_err(|e| format!("{}: {e}", path.to_string_lossy()))?,
            ),
            None => Stdio::null(),
        };
        let server = Server(
            Command::new(bin)
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .arg("serve")
                .env("IIC_LISTEN", addr.to_string())
                .env("IIC_DATA_DIR", data.path())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("start {}: {e}", bin.display()))?,
        );
        wait_ready(addr, "/healthz").await?;
        let creds = Arc::new(read_credentials(data.path())?);
        let host = addr.to_string();
        let start = Target::Signed {
            path: "/v1/service/start".into(),
            query: String::new(),
            creds: creds.clone(),
        };
        let (status, body) = one_shot(addr, build_request(&start, &host, "POST", b"")).await?;
        if status != 200 {
            return Err(format!(
                "StartIdentityCenter answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let list = Target::Signed {
            path: "/v1/instances".into(),
            query: String::new(),
            creds: creds.clone(),
        };
        let (_, body) = one_shot(addr, build_request(&list, &host, "GET", b"")).await?;
        let listed: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("ListInstances: {e}"))?;
        let identity_store_id = listed["instances"][0]["identity_store_id"]
            .as_str()
            .ok_or("ListInstances returned no instance")?
            .to_string();
        let instance_id = listed["instances"][0]["instance_id"]
            .as_str()
            .ok_or("ListInstances returned no instance")?
            .to_string();
        Ok(Iic {
            addr,
            creds,
            identity_store_id,
            instance_id,
            _server: server,
            _data: data,
        })
    }
}

async fn directory(args: Args, users: usize) -> Result<(), String> {
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let iic = Iic::start(&iic_bin).await?;
    let duration = Duration::from_secs(args.duration_secs);
    let warmup = Duration::from_secs(args.warmup_secs);
    let create = |first: usize, count: usize| {
        Arc::new(CreateUsers::new(
            iic.creds.clone(),
            &iic.identity_store_id,
            first,
            count,
        ))
    };
    let walk = Arc::new(WalkUsers {
        creds: iic.creds.clone(),
        identity_store_id: iic.identity_store_id.clone(),
    });
    let small = users.min(1_000);
    println!(
        "{} connections; CreateUser with password_mode EMAIL; ListUsers pages of 100",
        args.connections
    );
    let mut reports = Vec::new();
    let r = run(
        &format!("CreateUser, 0 -> {small} users"),
        iic.addr,
        create(0, small),
        args.connections,
        Duration::ZERO,
        Duration::from_secs(600),
    )
    .await?;
    print(&r);
    reports.push(r);
    let walk_small = run(
        &format!("ListUsers page walk at {small} users"),
        iic.addr,
        walk.clone(),
        args.connections,
        warmup,
        duration,
    )
    .await?;
    print(&walk_small);
    let mut walk_large = None;
    if users > small {
        let r = run(
            &format!("CreateUser, {small} -> {users} users"),
            iic.addr,
            create(small, users - small),
            args.connections,
            Duration::ZERO,
            Duration::from_secs(1_800),
        )
        .await?;
        print(&r);
        reports.push(r);
        let w = run(
            &format!("ListUsers page walk at {users} users"),
            iic.addr,
            walk,
            args.connections,
            warmup,
            duration,
        )
        .await?;
        print(&w);
        println!(
            "page latency at {users} vs {small} users: p50 x{:.2}, p99 x{:.2}",
            w.p50_us as f64 / walk_small.p50_us.max(1) as f64,
            w.p99_us as f64 / walk_small.p99_us.max(1) as f64
        );
        walk_large = Some(w);
    }
    println!(
        "{}",
        serde_json::json!({ "create": reports, "walk_small": walk_small, "walk_large": walk_large })
    );
    let failed: u64 = reports.iter().map(|r| r.errors).sum::<u64>()
        + walk_small.errors
        + walk_large.as_ref().map_or(0, |w| w.errors);
    if failed > 0 {
        return Err(format!("{failed} requests failed"));
    }
    Ok(())
}

/// A signed request on a fresh connection; the parsed JSON answer (an error for non-2xx).
async fn call(
    iic: &Iic,
    method: &str,
    path: &str,
    query: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let target = Target::Signed {
        path: path.into(),
        query: query.into(),
        creds: iic.creds.clone(),
    };
    let raw = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let (status, answer) = one_shot(
        iic.addr,
        build_request(&target, &iic.addr.to_string(), method, &raw),
    )
    .await?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    if answer.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&answer).map_err(|e| format!("{path}: {e}"))
}

async fn assignments(
    args: Args,
    users: usize,
    accounts: usize,
    database_url: Option<String>,
) -> Result<(), String> {
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let mut env = Vec::new();
    if let Some(url) = &database_url {
        env.push(("IIC_DATABASE_URL", url.clone()));
        env.push((
            "IIC_DATABASE_SCHEMA",
            format!("iic_bench_{}", std::process::id()),
        ));
    }
    let schema = format!("iic_bench_{}", std::process::id());
    let iic = Iic::start_with(&iic_bin, &env).await?;
    let outcome = assignments_on(&iic, &args, users, accounts, database_url.is_some()).await;
    drop(iic);
    if let Some(url) = &database_url {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .map_err(|e| e.to_string())?;
    }
    outcome
}

async fn assignments_on(
    iic: &Iic,
    args: &Args,
    users: usize,
    accounts: usize,
    on_postgres: bool,
) -> Result<(), String> {
    let backend = if on_postgres { "PostgreSQL" } else { "SQLite" };
    // The world: users, member accounts, one permission set.
    let create_users = Arc::new(CreateUsers::new(
        iic.creds.clone(),
        &iic.identity_store_id,
        0,
        users,
    ));
    run(
        "setup: users",
        iic.addr,
        create_users,
        16,
        Duration::ZERO,
        Duration::from_secs(300),
    )
    .await?;
    let mut user_ids = Vec::new();
    let mut marker = String::new();
    loop {
        let q = if marker.is_empty() {
            "limit=100".to_string()
        } else {
            format!("limit=100&marker={marker}")
        };
        let page = call(
            iic,
            "GET",
            &format!("/v1/identity-stores/{}/users", iic.identity_store_id),
            &q,
            &serde_json::Value::Null,
        )
        .await;
        // The identity store is signed with the project id: fall back to a project-signed call.
        let page = match page {
            Ok(p) => p,
            Err(_) => {
                let target = Target::SignedProject {
                    path: format!("/v1/identity-stores/{}/users", iic.identity_store_id),
                    query: q.clone(),
                    creds: iic.creds.clone(),
                };
                let (_, b) = one_shot(
                    iic.addr,
                    build_request(&target, &iic.addr.to_string(), "GET", b""),
                )
                .await?;
                serde_json::from_slice(&b).map_err(|e| e.to_string())?
            }
        };
        for u in page["users"].as_array().cloned().unwrap_or_default() {
            user_ids.push(u["user_id"].as_str().unwrap_or_default().to_string());
        }
        match page["page_info"]["next_marker"].as_str() {
            Some(m) => marker = m.to_string(),
            None => break,
        }
    }
    for i in 0..accounts {
        call(
            iic,
            "POST",
            "/v1/organizations/accounts",
            "",
            &serde_json::json!({ "name": format!("bench-account-{i:04}") }),
        )
        .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let account_ids = loop {
        let listed = call(
            iic,
            "GET",
            "/v1/organizations/accounts",
            "limit=2000",
            &serde_json::Value::Null,
        )
        .await?;
        let ids: Vec<String> = listed["accounts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|a| {
                a["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("bench-account-"))
            })
            .map(|a| a["id"].as_str().unwrap_or_default().to_string())
            .collect();
        if ids.len() == accounts {
            break ids;
        }
        if Instant::now() > deadline {
            return Err("member accounts were not created in time".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let set = call(
        iic,
        "POST",
        &format!("/v1/instances/{}/permission-sets", iic.instance_id),
        "",
        &serde_json::json!({ "name": "BenchSet" }),
    )
    .await?;
    let set_id = set["permission_set"]["permission_set_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let total = user_ids.len() * account_ids.len();
    println!(
        "{backend}: {} users x {} accounts = {total} assignments, {} connections",
        user_ids.len(),
        account_ids.len(),
        args.connections
    );
    let workload = Arc::new(CreateAssignments {
        creds: iic.creds.clone(),
        instance_id: iic.instance_id.clone(),
        permission_set_id: set_id,
        users: user_ids,
        accounts: account_ids,
        next_index: std::sync::atomic::AtomicUsize::new(0),
    });
    let started = Instant::now();
    let submit = run(
        "CreateAccountAssignment",
        iic.addr,
        workload,
        args.connections,
        Duration::ZERO,
        Duration::from_secs(600),
    )
    .await?;
    print(&submit);
    let statuses = format!(
        "/v1/instances/{}/account-assignments/creation-statuses",
        iic.instance_id
    );
    loop {
        let pending = call(
            iic,
            "GET",
            &statuses,
            "limit=1&status=IN_PROGRESS",
            &serde_json::Value::Null,
        )
        .await?;
        if pending["account_assignments_creation_status"]
            .as_array()
            .is_none_or(|a| a.is_empty())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err("assignments still in progress after 600 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_done = started.elapsed();
    let failed = call(
        iic,
        "GET",
        &statuses,
        "limit=100&status=FAILED",
        &serde_json::Value::Null,
    )
    .await?;
    let failed_count = failed["account_assignments_creation_status"]
        .as_array()
        .map_or(0, Vec::len);
    let succeeded_sample = call(
        iic,
        "GET",
        &statuses,
        "limit=1&status=SUCCEEDED",
        &serde_json::Value::Null,
    )
    .await?;
    let request_id = succeeded_sample["account_assignments_creation_status"][0]["request_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!(
        "all {total} SUCCEEDED {:.2} s after the first request ({failed_count} FAILED)",
        all_done.as_secs_f64()
    );
    let describe = Target::Signed {
        path: format!(
            "/v1/instances/{}/account-assignments/creation-status/{request_id}",
            iic.instance_id
        ),
        query: String::new(),
        creds: iic.creds.clone(),
    };
    let d = run(
        "DescribeAccountAssignmentCreationStatus",
        iic.addr,
        Arc::new(Repeat(describe)),
        args.connections,
        Duration::from_secs(args.warmup_secs),
        Duration::from_secs(args.duration_secs),
    )
    .await?;
    print(&d);
    println!(
        "{}",
        serde_json::json!({ "backend": backend, "assignments": total, "all_succeeded_seconds": all_done.as_secs_f64(), "failed": failed_count, "submit": submit, "describe": d })
    );
    if failed_count > 0 || submit.errors > 0 {
        return Err("some assignments failed".into());
    }
    Ok(())
}

async fn device_polls(args: Args, device_codes: usize) -> Result<(), String> {
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let env = [
        ("IIC_OIDC_RATE_PER_MINUTE", "1000000".to_string()),
        ("IIC_DEVICE_POLL_INTERVAL_SECS", "1".to_string()),
    ];
    let iic = Iic::start_with(&iic_bin, &env).await?;
    let host = iic.addr.to_string();
    let (status, body) = one_shot(iic.addr, oidc::register_request(&host)).await?;
    let registered: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("RegisterClient {status}: {e}"))?;
    let info = &registered["client_info"];
    let client = oidc::Client {
        id: info["client_id"].as_str().unwrap_or_default().to_string(),
        secret: info["client_secret"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let starts = Arc::new(StartDevices {
        client: client.clone(),
        start_url: format!("http://{host}/{}/portal", iic.identity_store_id),
        count: device_codes,
        next_index: Default::default(),
        codes: Default::default(),
    });
    let started = run(
        "StartDeviceAuthorization",
        iic.addr,
        starts.clone(),
        args.connections,
        Duration::ZERO,
        Duration::from_secs(600),
    )
    .await?;
    print(&started);
    let codes = std::mem::take(&mut *starts.codes.lock().map_err(|e| e.to_string())?);
    if codes.len() != device_codes {
        return Err(format!(
            "{} device authorizations of {device_codes} answered a device code",
            codes.len()
        ));
    }
    println!(
        "{} connections; CreateToken round-robin over {device_codes} pending device codes",
        args.connections
    );
    let polls = Arc::new(PollPending {
        client,
        codes,
        next_index: Default::default(),
        slow_downs: Default::default(),
    });
    let r = run(
        "CreateToken authorization_pending",
        iic.addr,
        polls.clone(),
        args.connections,
        Duration::from_secs(args.warmup_secs),
        Duration::from_secs(args.duration_secs),
    )
    .await?;
    print(&r);
    let slow_downs = polls.slow_downs.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({ "start": started, "poll": r, "slow_down": slow_downs })
    );
    if r.errors > 0 || started.errors > 0 {
        return Err(format!(
            "{} polls not answered authorization_pending ({slow_downs} slow_down)",
            r.errors
        ));
    }
    Ok(())
}

/// A user with a one-time password, given `password` through the change form.
async fn user_with_password(
    iic: &Iic,
    portal: &str,
    csrf: &Csrf,
    name: &str,
    password: &str,
) -> Result<(), String> {
    let host = iic.addr.to_string();
    let create = Target::SignedProject {
        path: format!("/v1/identity-stores/{}/users", iic.identity_store_id),
        query: String::new(),
        creds: iic.creds.clone(),
    };
    let body = serde_json::json!({
        "user_name": name,
        "display_name": name,
        "password_mode": "OTP",
        "name": { "family_name": "User", "given_name": name },
        "emails": [{ "value": format!("{name}@example.com"), "type": "work", "primary": true }],
    })
    .to_string();
    let (status, answer) = one_shot(
        iic.addr,
        build_request(&create, &host, "POST", body.as_bytes()),
    )
    .await?;
    let created: serde_json::Value = serde_json::from_slice(&answer)
        .map_err(|e| format!("CreateUser answered {status}: {e}"))?;
    let one_time = created["password"]
        .as_str()
        .ok_or(format!("CreateUser answered {status} without a password"))?;
    let csrf_cookie = format!("iic_csrf={}", csrf.cookie);
    let form = sign_in::form_body(&[
        ("csrf_token", &csrf.token),
        ("username", name),
        ("password", one_time),
    ]);
    let login = sign_in::post_form(&host, &format!("{portal}/login"), &csrf_cookie, form);
    let (status, headers, _) = exchange(iic.addr, login).await?;
    let ticket = sign_in::set_cookie(&headers, "iic_password_change").ok_or(format!(
        "sign-in with the one-time password answered {status}"
    ))?;
    let form = sign_in::form_body(&[
        ("csrf_token", &csrf.token),
        ("new_password", password),
        ("confirm_password", password),
    ]);
    let cookies = format!("{csrf_cookie}; iic_password_change={ticket}");
    let change = sign_in::post_form(&host, &format!("{portal}/password"), &cookies, form);
    let (status, headers, _) = exchange(iic.addr, change).await?;
    if sign_in::set_cookie(&headers, "iic_session").is_none() {
        return Err(format!("the password change answered {status}"));
    }
    Ok(())
}

async fn sign_ins(args: Args, users: usize) -> Result<(), String> {
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let iic = Iic::start(&iic_bin).await?;
    let portal = format!("/{}/portal", iic.identity_store_id);
    let host = iic.addr.to_string();
    let page = Target::Plain {
        path: format!("{portal}/login"),
    };
    let (status, headers, body) =
        exchange(iic.addr, build_request(&page, &host, "GET", b"")).await?;
    let csrf = Csrf {
        cookie: sign_in::set_cookie(&headers, "iic_csrf")
            .ok_or(format!("the sign-in page ({status}) set no CSRF cookie"))?,
        token: sign_in::csrf_token(&String::from_utf8_lossy(&body))
            .ok_or("the sign-in page has no csrf_token field")?,
    };
    let password = "Bench-Sign-In-2026!";
    let mut accounts = Vec::with_capacity(users);
    for i in 0..users {
        let name = format!("bench.signin.{i:04}");
        user_with_password(&iic, &portal, &csrf, &name, password).await?;
        accounts.push((name, password.to_string()));
    }
    println!(
        "{} connections; sign-in form (user name and password), round-robin over {users} users",
        args.connections
    );
    let r = run(
        "password sign-in (303 with a session)",
        iic.addr,
        Arc::new(SignIns {
            login_path: format!("{portal}/login"),
            csrf,
            users: accounts,
            next_index: Default::default(),
        }),
        args.connections,
        Duration::from_secs(args.warmup_secs),
        Duration::from_secs(args.duration_secs),
    )
    .await?;
    print(&r);
    println!("{}", serde_json::json!({ "sign_in": r }));
    if r.errors > 0 {
        return Err(format!("{} sign-ins did not start a session", r.errors));
    }
    Ok(())
}

fn read_credentials(dir: &Path) -> Result<Credentials, String> {
    let path = dir.join("bootstrap-credentials.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Credentials::parse(&text)
}

/// A portal GET with the access token on a fresh connection; the parsed JSON answer.
async fn portal_get(
    iic: &Iic,
    path: &str,
    query: &str,
    token: &str,
) -> Result<serde_json::Value, String> {
    let target = Target::Portal {
        path: path.into(),
        query: query.into(),
        token: token.into(),
    };
    let (status, answer) = one_shot(
        iic.addr,
        build_request(&target, &iic.addr.to_string(), "GET", b""),
    )
    .await?;
    if status != 200 {
        return Err(format!(
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    serde_json::from_slice(&answer).map_err(|e| format!("{path}: {e}"))
}

/// The built-in read-only system policy: allows ListInstances and its dependent action.
const READ_ONLY_POLICY: &str = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a51";

/// A portal user signed in with temporary credentials of one permission set.
struct PortalSession {
    token: String,
    temporary: Arc<Credentials>,
}

/// Creates a user and a permission set (`PT2H`) with the system policies `attached`, assigns
/// the set to the user in the management account (which provisions it), signs the user in and
/// takes temporary credentials with GetAgencyCredentials.
async fn portal_session(iic: &Iic, attached: &[String]) -> Result<PortalSession, String> {
    let (sid, iid, account) = (
        iic.identity_store_id.clone(),
        iic.instance_id.clone(),
        iic.creds.account_id.clone(),
    );
    let user = serde_json::json!({
        "user_name": "bench.portal", "display_name": "Bench Portal", "password_mode": "EMAIL",
        "name": {"family_name": "Portal", "given_name": "Bench"},
        "emails": [{"value": "bench.portal@example.com", "type": "work", "primary": true}],
    });
    let uid = call(
        iic,
        "POST",
        &format!("/v1/identity-stores/{sid}/users"),
        "",
        &user,
    )
    .await?["user_id"]
        .as_str()
        .ok_or("CreateUser returned no user_id")?
        .to_string();
    let set = serde_json::json!({"name": "BenchAdmin", "session_duration": "PT2H"});
    let ps = call(
        iic,
        "POST",
        &format!("/v1/instances/{iid}/permission-sets"),
        "",
        &set,
    )
    .await?["permission_set"]["permission_set_id"]
        .as_str()
        .ok_or("CreatePermissionSet returned no id")?
        .to_string();
    for policy in attached {
        call(
            iic,
            "POST",
            &format!("/v1/instances/{iid}/permission-sets/{ps}/attach-managed-policy"),
            "",
            &serde_json::json!({ "managed_policy_id": policy }),
        )
        .await?;
    }
    let assignment = serde_json::json!({"permission_set_id": ps, "principal_type": "USER",
        "principal_id": uid, "target_type": "ACCOUNT", "target_id": account});
    call(
        iic,
        "POST",
        &format!("/v1/instances/{iid}/account-assignments/create"),
        "",
        &assignment,
    )
    .await?;
    let token = iic_bench::portal::access_token(
        &iic._data.path().join("iic.db"),
        &iic_bench::portal::PortalUser {
            instance_id: &iid,
            identity_store_id: &sid,
            user_id: &uid,
        },
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let urn = loop {
        let agencies = portal_get(
            iic,
            "/v1/assigned-agencies",
            &format!("account_id={account}"),
            &token,
        )
        .await?;
        if let Some(urn) = agencies["agency_list"][0]["agency_urn"].as_str() {
            break urn.to_string();
        }
        if Instant::now() > deadline {
            return Err("the assignment did not complete within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let query = format!(
        "target_account_id={account}&agency_urn={}",
        urn.replace(':', "%3A")
    );
    let got = portal_get(iic, "/v1/credentials", &query, &token).await?;
    let c = &got["agency_credentials"];
    let field = |name: &str| {
        c[name]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("GetAgencyCredentials returned no {name}"))
    };
    let temporary = Arc::new(Credentials {
        access_key: field("access_key_id")?,
        secret_key: field("secret_access_key")?,
        security_token: Some(field("session_token")?),
        ..(*iic.creds).clone()
    });
    Ok(PortalSession { token, temporary })
}

/// The benchmark's signed request: `GET /v1/instances?limit=100`.
fn list_instances(creds: Arc<Credentials>) -> Arc<Repeat> {
    Arc::new(Repeat(Target::Signed {
        path: "/v1/instances".into(),
        query: "limit=100".into(),
        creds,
    }))
}

/// One signed ListInstances with `creds`; an error unless it answers 200.
async fn expect_listed(iic: &Iic, creds: &Arc<Credentials>, who: &str) -> Result<(), String> {
    let target = Target::Signed {
        path: "/v1/instances".into(),
        query: "limit=100".into(),
        creds: creds.clone(),
    };
    let (status, body) = one_shot(
        iic.addr,
        build_request(&target, &iic.addr.to_string(), "GET", b""),
    )
    .await?;
    if status != 200 {
        return Err(format!(
            "ListInstances with {who} answered {status}, not 200: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(())
}

/// Signed ListInstances with the permanent keys and with `temporary`, alternately over `rounds`
/// rounds: odd rounds permanent first, even rounds temporary first (permanent, temporary,
/// temporary, permanent, …), so that a drift in the machine's speed weighs on both alike.
/// Returns the permanent and temporary reports, one per round each.
async fn alternate(
    iic: &Iic,
    temporary: &Arc<Credentials>,
    args: &Args,
    rounds: usize,
) -> Result<(Vec<Report>, Vec<Report>), String> {
    let (warmup, duration) = (
        Duration::from_secs(args.warmup_secs),
        Duration::from_secs(args.duration_secs),
    );
    let mut permanent = Vec::new();
    let mut temp = Vec::new();
    for round in 1..=rounds {
        let temporary_first = round % 2 == 0;
        for is_temporary in [temporary_first, !temporary_first] {
            let (label, creds) = if is_temporary {
                ("temporary credentials", temporary.clone())
            } else {
                ("permanent keys", iic.creds.clone())
            };
            let r = run(
                &format!("ListInstances, {label} ({round})"),
                iic.addr,
                list_instances(creds),
                args.connections,
                warmup,
                duration,
            )
            .await?;
            print(&r);
            if is_temporary {
                temp.push(r)
            } else {
                permanent.push(r)
            }
        }
    }
    Ok((permanent, temp))
}

fn mean_rate(rs: &[Report]) -> f64 {
    rs.iter().map(|r| r.rps).sum::<f64>() / rs.len().max(1) as f64
}

fn errors(rs: &[Report]) -> u64 {
    rs.iter().map(|r| r.errors).sum()
}

async fn portal(args: Args) -> Result<(), String> {
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let iic = Iic::start(&iic_bin).await?;
    let session = portal_session(&iic, &[READ_ONLY_POLICY.to_string()]).await?;
    expect_listed(&iic, &session.temporary, "temporary credentials").await?;
    println!(
        "{} connections, {} s warm-up, {} s measured, client and server on this machine",
        args.connections, args.warmup_secs, args.duration_secs
    );
    let list_accounts = run(
        "portal ListAccounts (access token)",
        iic.addr,
        Arc::new(Repeat(Target::Portal {
            path: "/v1/assigned-accounts".into(),
            query: String::new(),
            token: session.token.clone(),
        })),
        args.connections,
        Duration::from_secs(args.warmup_secs),
        Duration::from_secs(args.duration_secs),
    )
    .await?;
    print(&list_accounts);
    let (permanent, temp) = alternate(&iic, &session.temporary, &args, 2).await?;
    let ratio = 100.0 * mean_rate(&temp) / mean_rate(&permanent).max(1.0);
    println!("temporary / permanent: {ratio:.1} %");
    println!(
        "{}",
        serde_json::json!({ "list_accounts": list_accounts, "permanent": permanent,
                            "temporary": temp, "ratio_percent": ratio })
    );
    let failed = list_accounts.errors + errors(&permanent) + errors(&temp);
    if failed > 0 {
        return Err(format!("{failed} requests failed"));
    }
    Ok(())
}

/// Policy enforcement: the permission set carries `policies` operator-catalogue policies of
/// `statements` statements each, only the very last of which allows the request.
async fn policies(
    args: Args,
    policies: usize,
    statements: usize,
    rounds: usize,
) -> Result<(), String> {
    if policies == 0 || statements == 0 {
        return Err("--policies and --statements must be at least 1".into());
    }
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("bench-policies.json");
    let catalogue = iic_bench::policies::catalogue(policies, statements);
    std::fs::write(&file, catalogue.to_string()).map_err(|e| format!("{}: {e}", file.display()))?;
    let env = [
        ("IIC_SYSTEM_POLICIES_FILE", file.display().to_string()),
        ("IIC_POLICIES_PER_SET", policies.max(20).to_string()),
    ];
    let iic = Iic::start_with(&iic_bin, &env).await?;
    let attached: Vec<String> = (0..policies).map(iic_bench::policies::policy_id).collect();
    let session = portal_session(&iic, &attached).await?;
    expect_listed(&iic, &iic.creds, "the permanent keys").await?;
    expect_listed(&iic, &session.temporary, "temporary credentials").await?;
    println!(
        "permission set with {policies} policies of {statements} statements; the last statement \
         of the last policy allows {} and {}",
        iic_bench::policies::ACTIONS[0],
        iic_bench::policies::ACTIONS[1]
    );
    println!(
        "{} connections, {} s warm-up, {} s measured per side and round, {rounds} rounds, \
         client and server on this machine",
        args.connections, args.warmup_secs, args.duration_secs
    );
    let (permanent, temp) = alternate(&iic, &session.temporary, &args, rounds).await?;
    for (i, (p, t)) in permanent.iter().zip(&temp).enumerate() {
        println!(
            "round {}: permanent {:.0} req/s, temporary {:.0} req/s, {:.1} %",
            i + 1,
            p.rps,
            t.rps,
            100.0 * t.rps / p.rps.max(1.0)
        );
    }
    let ratio = 100.0 * mean_rate(&temp) / mean_rate(&permanent).max(1.0);
    println!(
        "mean: permanent {:.0} req/s, temporary {:.0} req/s; temporary / permanent: {ratio:.1} %",
        mean_rate(&permanent),
        mean_rate(&temp)
    );
    println!(
        "{}",
        serde_json::json!({ "policies": policies, "statements": statements,
                            "permanent": permanent, "temporary": temp, "ratio_percent": ratio })
    );
    let failed = errors(&permanent) + errors(&temp);
    if failed > 0 {
        return Err(format!(
            "{failed} requests failed (a temporary-credential request refused is one)"
        ));
    }
    Ok(())
}

/// A request signed like the identity store client; the parsed JSON answer.
async fn call_store(iic: &Iic, method: &str, path: &str) -> Result<serde_json::Value, String> {
    let target = Target::SignedProject {
        path: path.into(),
        query: String::new(),
        creds: iic.creds.clone(),
    };
    let req = build_request(&target, &iic.addr.to_string(), method, b"");
    let (status, answer) = one_shot(iic.addr, req).await?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    serde_json::from_slice(&answer).map_err(|e| format!("{path}: {e}"))
}

async fn scim(args: Args, users: usize, members: usize) -> Result<(), String> {
    use iic_bench::scim::{CreateUsers as ScimCreate, FindByUserName};
    let iic_bin = args.iic_bin.clone().unwrap_or_else(|| sibling("iic"));
    let iic = Iic::start(&iic_bin).await?;
    let store = &iic.identity_store_id;
    let tenant = call_store(
        &iic,
        "POST",
        &format!("/v1/identity-stores/{store}/provision-tenant"),
    )
    .await?;
    let tenant_id = tenant["tenant_id"]
        .as_str()
        .ok_or("no tenant_id")?
        .to_string();
    let token = call_store(
        &iic,
        "POST",
        &format!("/v1/identity-stores/{store}/tenant/{tenant_id}/bearer-token"),
    )
    .await?;
    let token = token["token"].as_str().ok_or("no token")?.to_string();
    let base = format!("/{tenant_id}/scim/v2");
    let duration = Duration::from_secs(args.duration_secs);
    let warmup = Duration::from_secs(args.warmup_secs);
    let small = users.min(1_000);
    let keep = members.min(users);
    let create =
        |first: usize, count: usize| Arc::new(ScimCreate::new(&base, &token, first, count, keep));
    let find = |n: usize| {
        Arc::new(FindByUserName {
            base: base.clone(),
            token: token.clone(),
            users: n,
            next_index: AtomicUsize::new(0),
        })
    };
    println!(
        "{} connections; SCIM POST /Users; GET /Users?filter=userName eq",
        args.connections
    );
    let first = create(0, small);
    let mut reports = vec![
        run(
            &format!("SCIM CreateUser, 0 -> {small} users"),
            iic.addr,
            first.clone(),
            args.connections,
            Duration::ZERO,
            Duration::from_secs(600),
        )
        .await?,
    ];
    print(&reports[0]);
    let mut ids = first.ids.lock().clone();
    let find_small = run(
        &format!("userName eq at {small} users"),
        iic.addr,
        find(small),
        args.connections,
        warmup,
        duration,
    )
    .await?;
    print(&find_small);
    let mut find_large = None;
    if users > small {
        let rest = create(small, users - small);
        let r = run(
            &format!("SCIM CreateUser, {small} -> {users} users"),
            iic.addr,
            rest.clone(),
            args.connections,
            Duration::ZERO,
            Duration::from_secs(1_800),
        )
        .await?;
        print(&r);
        reports.push(r);
        ids.extend(rest.ids.lock().iter().cloned());
        let f = run(
            &format!("userName eq at {users} users"),
            iic.addr,
            find(users),
            args.connections,
            warmup,
            duration,
        )
        .await?;
        print(&f);
        println!(
            "lookup latency at {users} vs {small} users: p50 x{:.2}, p99 x{:.2}",
            f.p50_us as f64 / find_small.p50_us.max(1) as f64,
            f.p99_us as f64 / find_small.p99_us.max(1) as f64
        );
        find_large = Some(f);
    }
    ids.truncate(members);
    let group = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "bench group",
    });
    let host = iic.addr.to_string();
    let scim_target = |path: String| Target::Scim {
        path,
        query: String::new(),
        token: token.clone(),
    };
    let (status, created) = one_shot(
        iic.addr,
        build_request(
            &scim_target(format!("{base}/Groups")),
            &host,
            "POST",
            group.to_string().as_bytes(),
        ),
    )
    .await?;
    if status != 201 {
        return Err(format!(
            "CreateGroup answered {status}: {}",
            String::from_utf8_lossy(&created)
        ));
    }
    let created: serde_json::Value = serde_json::from_slice(&created).map_err(|e| e.to_string())?;
    let group_id = created["id"].as_str().ok_or("no group id")?.to_string();
    let values: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({ "value": id }))
        .collect();
    let patch = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "add", "path": "members", "value": values }],
    });
    let started = Instant::now();
    let (status, answer) = one_shot(
        iic.addr,
        build_request(
            &scim_target(format!("{base}/Groups/{group_id}")),
            &host,
            "PATCH",
            patch.to_string().as_bytes(),
        ),
    )
    .await?;
    let patch_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status != 204 {
        return Err(format!(
            "PatchGroup answered {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    let (_, read) = one_shot(
        iic.addr,
        build_request(
            &scim_target(format!("{base}/Groups/{group_id}")),
            &host,
            "GET",
            b"",
        ),
    )
    .await?;
    let read: serde_json::Value = serde_json::from_slice(&read).map_err(|e| e.to_string())?;
    let held = read["members"].as_array().map_or(0, Vec::len);
    println!(
        "PATCH adding {} members to one group: {patch_ms:.0} ms; the group then holds {held}",
        ids.len()
    );
    if held != ids.len() {
        return Err(format!(
            "the group holds {held} members, {} were added",
            ids.len()
        ));
    }
    println!(
        "{}",
        serde_json::json!({ "create": reports, "find_small": find_small, "find_large": find_large, "patch_members": ids.len(), "patch_ms": patch_ms })
    );
    let failed: u64 = reports.iter().map(|r| r.errors).sum::<u64>()
        + find_small.errors
        + find_large.as_ref().map_or(0, |f| f.errors);
    if failed > 0 {
        return Err(format!("{failed} requests failed"));
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iic-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        None | Some(Mode::Compare) => rt.block_on(compare(cli.args)),
        Some(Mode::Directory { users }) => rt.block_on(directory(cli.args, users)),
        Some(Mode::Assignments {
            users,
            accounts,
            database_url,
        }) => rt.block_on(assignments(cli.args, users, accounts, database_url)),
        Some(Mode::DevicePolls { device_codes }) => {
            rt.block_on(device_polls(cli.args, device_codes))
        }
        Some(Mode::SignIns { users }) => rt.block_on(sign_ins(cli.args, users)),
        Some(Mode::Portal) => rt.block_on(portal(cli.args)),
        Some(Mode::Policies {
            policies: count,
            statements,
            rounds,
        }) => rt.block_on(policies(cli.args, count, statements, rounds)),
        Some(Mode::Scim { users, members }) => rt.block_on(scim(cli.args, users, members)),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iic-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
