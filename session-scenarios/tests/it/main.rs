//! The scenario suite against every adapter's reference app, over real HTTP.

use session_core::SessionManager;
use session_scenarios::TestServer;

fn start_axum(manager: SessionManager) -> TestServer {
    TestServer::on_tokio(move |listener| async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        ::axum::serve(listener, example_axum::app(manager))
            .await
            .expect("axum server");
    })
}

mod axum {
    session_scenarios::scenario_tests!(super::start_axum);
}

/// actix runs its own runtime: the server gets a dedicated thread with its own `System`, and
/// stopping it waits for that thread.
fn start_actix(manager: SessionManager) -> TestServer {
    let (listener, addr) = session_scenarios::bind_loopback();
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || example_actix::app(manager.clone()))
                .workers(2)
                .disable_signals()
                .listen(listener)
                .expect("actix listener")
                .run();
            let _ = handle_tx.send(server.handle());
            server.await.expect("actix server");
        });
    });
    let handle = handle_rx.recv().expect("actix server handle");
    TestServer::new(addr, move || {
        // The stop command is sent on the call; the thread ends once the server has stopped.
        drop(handle.stop(false));
        let _ = thread.join();
    })
}

mod actix {
    session_scenarios::scenario_tests!(super::start_actix);
}

/// Rocket 0.5 binds its own listener at launch: the server asks for port `0` on a dedicated
/// thread and runtime, and a liftoff fairing reports the bound address (Rocket writes it back
/// into its configuration) and the `Shutdown` handle once the socket accepts connections.
fn start_rocket(manager: SessionManager) -> TestServer {
    use ::rocket::fairing::AdHoc;

    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test server runtime");
        runtime.block_on(async move {
            let app = example_rocket::app(manager, std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            // No signal handlers and no grace period: many servers share the process.
            let figment = app
                .figment()
                .clone()
                .merge(("shutdown.ctrlc", false))
                .merge(("shutdown.signals", Vec::<String>::new()))
                .merge(("shutdown.grace", 0))
                .merge(("shutdown.mercy", 0));
            let failed = ready_tx.clone();
            let app = app.configure(figment).attach(AdHoc::on_liftoff(
                "scenario server address",
                move |rocket| {
                    Box::pin(async move {
                        let config = rocket.config();
                        let addr = std::net::SocketAddr::new(config.address, config.port);
                        let _ = ready_tx.send(Ok((addr, rocket.shutdown())));
                    })
                },
            ));
            if let Err(error) = app.launch().await {
                let _ = failed.send(Err(error.to_string()));
            }
        });
        runtime.shutdown_background();
    });
    let (addr, shutdown) = ready_rx
        .recv()
        .expect("rocket server thread")
        .expect("rocket launch");
    TestServer::new(addr, move || {
        shutdown.notify();
        let _ = thread.join();
    })
}

mod rocket {
    session_scenarios::scenario_tests!(super::start_rocket);
}

/// warp serves on a tokio listener made from the std one; each connection gets its own task.
fn start_warp(manager: SessionManager) -> TestServer {
    TestServer::on_tokio(move |listener| async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        ::warp::serve(example_warp::app(manager))
            .incoming(listener)
            .run()
            .await;
    })
}

mod warp {
    session_scenarios::scenario_tests!(super::start_warp);
}
