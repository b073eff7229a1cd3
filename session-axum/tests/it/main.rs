//! What is particular to the axum adapter; the shared behaviour is in `session-scenarios`.

use axum::{
    body::Body,
    http::{Request, StatusCode},
    response::IntoResponse,
    routing::get,
    Router,
};
use session_axum::{Session, SessionLayer};
use session_core::{
    testing::{FlakyStore, RecordingStore},
    MemoryStore, SessionConfig, SessionManager,
};
use tower::ServiceExt;

fn manager<S: session_core::Store>(store: S) -> SessionManager {
    let config = SessionConfig::builder()
        .secret("axum adapter tests secret, 32 bytes!")
        .build()
        .expect("config");
    SessionManager::new(store, config)
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

fn get_request(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_extractor_without_the_layer_explains_the_fix() {
    let app = Router::new().route("/", get(|_: Session| async { "unreachable" }));
    let response = app.oneshot(get_request("/")).await.expect("response");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body_text(response).await.contains("SessionLayer"));
}

#[tokio::test]
async fn the_error_response_can_be_replaced() {
    let store = FlakyStore::new(MemoryStore::new());
    store.set_failing(true);
    let layer = SessionLayer::new(manager(store)).on_error(|error| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("try again ({})", error.status_code()),
        )
            .into_response()
    });
    let app = Router::new()
        .route(
            "/",
            get(|s: Session| async move { s.insert("a", 1).map(|()| "ok").unwrap_or("no") }),
        )
        .layer(layer);
    let response = app.oneshot(get_request("/")).await.expect("response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(body_text(response).await, "try again (503)");
}

#[tokio::test]
async fn responses_of_any_body_type_pass_through_unchanged() {
    let store = RecordingStore::new(MemoryStore::new());
    let service = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(axum::http::Response::new(String::from(
            "plain string body",
        )))
    });
    let service = tower::Layer::layer(&SessionLayer::new(manager(store.clone())), service);
    let response = service.oneshot(get_request("/")).await.expect("response");
    assert_eq!(body_text(response).await, "plain string body");
    assert!(
        store.take().is_empty(),
        "a service that never asks costs no store call"
    );
}

#[tokio::test]
async fn a_session_handle_can_move_into_a_spawned_task() {
    let app = Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                let handle = session.0.clone();
                tokio::spawn(async move { handle.insert("from_task", true) })
                    .await
                    .expect("task")
                    .map(|()| "ok")
                    .unwrap_or("failed")
            }),
        )
        .layer(SessionLayer::new(manager(MemoryStore::new())));
    let response = app.oneshot(get_request("/")).await.expect("response");
    assert!(
        response.headers().get("set-cookie").is_some(),
        "the task's write is saved"
    );
}

/// The `Set-Cookie` a first visit to `/` gets through `app`.
async fn first_cookie(app: Router, request: Request<Body>) -> String {
    let response = app.oneshot(request).await.expect("response");
    response
        .headers()
        .get("set-cookie")
        .expect("a cookie")
        .to_str()
        .expect("text")
        .to_owned()
}

fn counting_app(layer: SessionLayer) -> Router {
    Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                session.insert("n", 1).expect("insert");
                "ok"
            }),
        )
        .layer(layer)
}

#[tokio::test]
async fn https_comes_from_the_server_never_from_the_clients_uri() {
    let layer = || SessionLayer::new(manager(MemoryStore::new()));
    // A plain-HTTP client claiming HTTPS with an absolute-form URI.
    let claimed = first_cookie(counting_app(layer()), get_request("https://example.com/")).await;
    assert!(!claimed.contains("Secure"), "{claimed}");
    // A router served only over TLS says so.
    let tls_only = first_cookie(counting_app(layer().https(true)), get_request("/")).await;
    assert!(tls_only.contains("; Secure"), "{tls_only}");
    // A TLS listener marks its requests.
    let marked = counting_app(layer()).layer(axum::Extension(session_axum::Https));
    let marked = first_cookie(marked, get_request("/")).await;
    assert!(marked.contains("; Secure"), "{marked}");
}
