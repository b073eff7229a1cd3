//! The reference app on actix. Run with `cargo run -p example-actix`; configured from the
//! environment as `examples/README.md` says.

use std::process::ExitCode;

use actix_web::HttpServer;
use example_common::Settings;

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("example-actix: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match std::net::TcpListener::bind(settings.addr) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("example-actix: cannot listen on {}: {error}", settings.addr);
            return ExitCode::FAILURE;
        }
    };
    let manager = match settings.session_manager().await {
        Ok(manager) => manager,
        Err(error) => {
            eprintln!("example-actix: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", settings.banner("example-actix"));
    let app = move || example_actix::app(manager.clone());
    let server = match HttpServer::new(app).workers(2).listen(listener) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("example-actix: cannot listen on {}: {error}", settings.addr);
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = server.run().await {
        eprintln!("example-actix: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
