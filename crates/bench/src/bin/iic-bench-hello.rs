//! The bare reference server: axum answering `GET /` with "hello", nothing else.

use axum::routing::get;
use axum::Router;

fn main() -> Result<(), String> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".to_string());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| format!("bind {listen}: {e}"))?;
            let app = Router::new().route("/", get(|| async { "hello" }));
            axum::serve(listener, app).await.map_err(|e| e.to_string())
        })
}

/// The same allocator as `iic`, so that the ratio compares servers, not allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
