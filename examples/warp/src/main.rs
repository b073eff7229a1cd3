//! The reference app on warp. Run with `cargo run -p example-warp`; configured from the
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
            eprintln!("example-warp: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(settings.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("example-warp: cannot listen on {}: {error}", settings.addr);
            return ExitCode::FAILURE;
        }
    };
    let manager = match settings.session_manager().await {
        Ok(manager) => manager,
        Err(error) => {
            eprintln!("example-warp: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", settings.banner("example-warp"));
    let app = example_warp::app(manager);
    // warp's server logs connection errors itself and only returns when it stops.
    warp::serve(app).incoming(listener).run().await;
    ExitCode::SUCCESS
}
