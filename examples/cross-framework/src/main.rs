//! One process, two frameworks, one session store. Run with
//! `cargo run -p example-cross-framework`.
//!
//! The reference app (`examples/README.md`) is served by axum on `PORT` (default 3000) and by
//! actix-web on `SECOND_PORT` (default `PORT + 1`), both over the same `SessionManager`, so
//! the same store and configuration: a session started on one port continues on the other.
//! Every other variable is read as `examples/README.md` says.

use std::{net::SocketAddr, process::ExitCode};

use example_common::Settings;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("example-cross-framework: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let second_addr = second_addr(&settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let manager = runtime
        .block_on(settings.session_manager())
        .map_err(|e| e.to_string())?;

    // actix-web runs its own runtime, on its own thread, over a clone of the same manager.
    let actix_listener = std::net::TcpListener::bind(second_addr)
        .map_err(|e| format!("cannot listen on {second_addr}: {e}"))?;
    let actix_manager = manager.clone();
    let actix = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server =
                actix_web::HttpServer::new(move || example_actix::app(actix_manager.clone()))
                    .workers(1)
                    // The process's signals belong to the main thread: Ctrl-C stops axum,
                    // and returning from `main` ends the actix-web thread with it.
                    .disable_signals()
                    .listen(actix_listener)?;
            server.run().await
        })
    });

    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
        println!("{}", settings.banner("example-cross-framework (axum)"));
        println!("example-cross-framework (actix-web): listening on http://{second_addr}");
        axum::serve(listener, example_axum::app(manager))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| e.to_string())
    })?;
    if actix.is_finished() {
        // The actix-web server only ends on its own when it failed.
        actix
            .join()
            .map_err(|_| "the actix-web thread panicked".to_owned())?
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `SECOND_PORT`, or the port after `PORT`, on the same host.
fn second_addr(settings: &Settings) -> Result<SocketAddr, String> {
    let port = match std::env::var("SECOND_PORT") {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("SECOND_PORT={text:?} is invalid: expected a port number"))?,
        Err(_) => settings
            .addr
            .port()
            .checked_add(1)
            .ok_or("PORT leaves no room for SECOND_PORT")?,
    };
    Ok(SocketAddr::new(settings.addr.ip(), port))
}
