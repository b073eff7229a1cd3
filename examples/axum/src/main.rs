//! The reference app on axum. Run with `cargo run -p example-axum`; configured from the
//! environment as `examples/README.md` says.

use std::process::ExitCode;

use example_common::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("example-axum: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(settings.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("example-axum: cannot listen on {}: {error}", settings.addr);
            return ExitCode::FAILURE;
        }
    };
    let manager = match settings.session_manager().await {
        Ok(manager) => manager,
        Err(error) => {
            eprintln!("example-axum: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", settings.banner("example-axum"));
    let app = example_axum::app(manager);
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("example-axum: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
