//! The reference app on axum. Run with `cargo run -p example-axum`; configured from the
//! environment as `examples/README.md` says (with `TLS_CERT` and `TLS_KEY`, over HTTPS).

mod tls;

use std::process::ExitCode;

use example_common::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("example-axum: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the environment and serves until the server fails.
async fn serve() -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let tls = tls::Tls::from_env()?;
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    let manager = settings
        .session_manager()
        .await
        .map_err(|e| e.to_string())?;
    let app = example_axum::app(manager);
    let banner = settings.banner("example-axum");
    match tls {
        None => {
            println!("{banner}");
            axum::serve(listener, app).await.map_err(|e| e.to_string())
        }
        Some(tls) => {
            println!("{}", banner.replacen("http://", "https://", 1));
            tls.serve(listener, app).await
        }
    }
}
