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
