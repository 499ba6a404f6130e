//! The `iic` binary.

mod access_log;
mod bootstrap;
mod config;
mod connection_io;
mod connections;
mod file_limit;
mod http_server;
mod job_failure;
mod keys;
mod log_writer;
mod mail_outbox;
mod mail_send;
mod oidc_sweep;
mod policy_simulate;
mod response_watch;
mod serve;
mod session_sweep;
mod smtp_config;
mod worker;

use clap::{Parser, Subcommand};

/// The request path allocates and frees many small buffers across worker threads; mimalloc's
/// per-thread free lists measured markedly cheaper there than glibc's allocator (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use config::{Config, ServeArgs};

#[derive(Parser)]
#[command(
    name = "iic",
    version,
    about = "A self-hosted, wire-compatible IAM Identity Center"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage access keys of accounts, on the configured database (the server may be running).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Print the operations this server routes, as JSON: name, API, method, path, body limit.
    Operations,
    /// Send one test mail through the configured SMTP relay, to check its settings.
    SendTestMail {
        /// The recipient.
        to: String,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Policy tools that need no server.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Decode an `encoded_authorization_message` from a 403 answer of this server.
    DecodeAuthorizationMessage {
        /// The message, as the error body carried it.
        message: String,
        #[command(flatten)]
        args: ServeArgs,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Say whether policies allow an action, and which statement decides (exit status 0 when
    /// allowed, 3 when denied).
    Simulate(policy_simulate::SimulateArgs),
}

/// Logs go to stderr in batches (see `log_writer`); the returned guard writes the rest at exit.
/// The access log has its own formatter (see `access_log`); `IIC_LOG` filters both.
fn init_logging(config: &Config) -> log_writer::FlushGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = log_writer::BatchedStderr::start();
    let general = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer.clone());
    let general = if config.log_json {
        general.json().boxed()
    } else {
        general.boxed()
    };
    let not_access = tracing_subscriber::filter::filter_fn(|m| m.target() != access_log::TARGET);
    tracing_subscriber::registry()
        .with(filter)
        .with(general.with_filter(not_access))
        .with(access_log::AccessLog::new(writer, config.log_json))
        .init();
    guard
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => Config::resolve(&args).and_then(|config| {
            let _log_guard = init_logging(&config);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the runtime: {e}"))?
                .block_on(serve::run(config))
        }),
        Command::Keys { command, args } => Config::resolve(&args).and_then(|config| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the runtime: {e}"))?
                .block_on(keys::run(&config, command))
        }),
        Command::Operations => serde_json::to_string_pretty(&iic_api::operations())
            .map(|json| println!("{json}"))
            .map_err(|e| e.to_string()),
        Command::SendTestMail { to, args } => Config::resolve(&args).and_then(|config| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the runtime: {e}"))?
                .block_on(mail_send::send_test(&config, &to))
        }),
        Command::Policy {
            command: PolicyCommand::Simulate(args),
        } => match policy_simulate::run(&args) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::from(3),
            Err(e) => Err(e),
        },
        Command::DecodeAuthorizationMessage { message, args } => {
            Config::resolve(&args).and_then(|config| decode(&config, &message))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iic: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn decode(config: &Config, message: &str) -> Result<(), String> {
    let master = bootstrap::load_master_key(&config.data_dir)?;
    let keys = iic_api::ServerKeys::derive(&master);
    let ctx = iic_domain::authz::decode(&keys.authorization, message).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&ctx).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
