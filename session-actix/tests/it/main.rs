//! What is particular to the actix adapter; the shared behaviour is in `session-scenarios`.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    middleware::{from_fn, Next},
    test, web, App, HttpRequest, HttpResponse,
};
use session_actix::{Session, SessionError, SessionExt, SessionMiddleware, SessionRejection};
use session_core::{
    testing::{FlakyStore, RecordingStore},
    MemoryStore, SessionConfig, SessionManager, Store,
};

fn manager<S: Store>(store: S) -> SessionManager {
    let config = SessionConfig::builder()
        .secret("actix adapter tests secret, 32 bytes!")
        .build()
        .expect("config");
    SessionManager::new(store, config)
}

fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

/// The `name=value` part of the response's `Set-Cookie`, ready to send back.
fn cookie_of<B>(response: &ServiceResponse<B>) -> Option<String> {
    let value = response.headers().get(header::SET_COOKIE)?.to_str().ok()?;
    value.split(';').next().map(str::to_owned)
}

async fn body_text<B: MessageBody>(response: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(response).await.to_vec()).expect("utf-8")
}

async fn count(session: Session) -> Result<String, SessionError> {
    let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
    session.insert("count", count)?;
    Ok(format!("count={count}"))
}

#[actix_web::test]
async fn the_extractor_without_the_middleware_explains_the_fix() {
    let app = test::init_service(App::new().route("/", web::get().to(count))).await;
    let response = test::call_service(&app, get("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body_text(response).await.contains("SessionMiddleware"));
}

#[actix_web::test]
async fn session_ext_works_from_http_request() {
    let store = RecordingStore::new(MemoryStore::new());
    let app = test::init_service(
        App::new()
            .route(
                "/login",
                web::get().to(|request: HttpRequest| async move {
                    let session = request.session().await?;
                    session.insert("user", "ada").map_err(SessionError)?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body("in"))
                }),
            )
            .route(
                "/whoami",
                web::get().to(|request: HttpRequest| async move {
                    let session = request.session().await?;
                    let user = session.get::<String>("user").map_err(SessionError)?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(user.unwrap_or_default()))
                }),
            )
            .wrap(SessionMiddleware::new(manager(store.clone()))),
    )
    .await;
    let response = test::call_service(&app, get("/login").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_of(&response).expect("a new session sends its cookie");
    assert_eq!(store.take_kinds(), ["create"]);

    let request = get("/whoami")
        .insert_header((header::COOKIE, cookie))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(body_text(response).await, "ada");
}

#[actix_web::test]
async fn session_ext_without_the_middleware_is_a_missing_middleware_rejection() {
    let request = get("/").to_http_request();
    assert!(matches!(
        request.session().await,
        Err(SessionRejection::MissingMiddleware)
    ));
    let request = get("/").to_srv_request();
    assert!(matches!(
        request.session().await,
        Err(SessionRejection::MissingMiddleware)
    ));
}

/// A middleware that puts the user into a response header, reading the session from the
/// `ServiceRequest` before the handler runs.
async fn user_header(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let session = request.session().await?;
    let user = session.get::<String>("user").map_err(SessionError)?;
    let mut response = next.call(request).await?;
    let value = header::HeaderValue::from_str(&user.unwrap_or_else(|| "none".into()))?;
    response
        .headers_mut()
        .insert(header::HeaderName::from_static("x-user"), value);
    Ok(response)
}

#[actix_web::test]
async fn a_middleware_inside_the_session_middleware_reads_the_session() {
    let app = test::init_service(
        App::new()
            .route(
                "/login",
                web::get().to(|session: Session| async move {
                    session.insert("user", "ada").map_err(SessionError)?;
                    Ok::<_, SessionError>("in")
                }),
            )
            .wrap(from_fn(user_header)) // wrapped first: runs inside
            .wrap(SessionMiddleware::new(manager(MemoryStore::new()))),
    )
    .await;
    let response = test::call_service(&app, get("/login").to_request()).await;
    assert_eq!(
        response.headers().get("x-user").map(|v| v.as_bytes()),
        Some(&b"none"[..])
    );
    let cookie = cookie_of(&response).expect("cookie");
    let request = get("/login")
        .insert_header((header::COOKIE, cookie))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(
        response.headers().get("x-user").map(|v| v.as_bytes()),
        Some(&b"ada"[..])
    );
}

#[actix_web::test]
async fn a_middleware_outside_the_session_middleware_is_told_so() {
    let app = test::init_service(
        App::new()
            .route("/", web::get().to(count))
            .wrap(SessionMiddleware::new(manager(MemoryStore::new())))
            .wrap(from_fn(user_header)), // wrapped last: runs before the session exists
    )
    .await;
    // The outer middleware's error becomes the response, as a real server would send it.
    let error = test::try_call_service(&app, get("/").to_request())
        .await
        .err()
        .expect("the outer middleware fails");
    let response = error.error_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&body).contains("SessionMiddleware"));
}

#[actix_web::test]
async fn the_error_response_can_be_replaced_for_loads_and_saves() {
    let store = FlakyStore::new(MemoryStore::new());
    let middleware = SessionMiddleware::new(manager(store.clone())).on_error(|error| {
        HttpResponse::ServiceUnavailable().body(format!("try again ({})", error.status_code()))
    });
    let app =
        test::init_service(App::new().route("/", web::get().to(count)).wrap(middleware)).await;
    let first = test::call_service(&app, get("/").to_request()).await;
    let cookie = cookie_of(&first).expect("cookie");
    store.set_failing(true);

    // A new visitor: nothing to load, the save fails at the end of the request.
    let response = test::call_service(&app, get("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body_text(response).await, "try again (503)");

    // A returning visitor: the load fails in the extractor.
    let request = get("/")
        .insert_header((header::COOKIE, cookie))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body_text(response).await, "try again (503)");
}

#[actix_web::test]
async fn the_default_error_response_is_opaque() {
    let store = FlakyStore::new(MemoryStore::new());
    store.set_failing(true);
    let app = test::init_service(
        App::new()
            .route("/", web::get().to(count))
            .wrap(SessionMiddleware::new(manager(store))),
    )
    .await;
    let response = test::call_service(&app, get("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_text(response).await, "Service Unavailable");
}

#[actix_web::test]
async fn a_route_that_never_asks_costs_nothing() {
    let store = RecordingStore::new(MemoryStore::new());
    let app = test::init_service(
        App::new()
            .route("/health", web::get().to(|| async { "ok" }))
            .wrap(SessionMiddleware::new(manager(store.clone()))),
    )
    .await;
    let request = get("/health")
        .insert_header((header::COOKIE, "connect.sid=s%3Aanything.mac"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body_text(response).await, "ok");
    assert!(store.take().is_empty());
}

#[actix_web::test]
async fn a_streaming_body_passes_through_and_the_session_is_saved() {
    let store = RecordingStore::new(MemoryStore::new());
    let app = test::init_service(
        App::new()
            .route(
                "/stream",
                web::get().to(|session: Session| async move {
                    session.insert("streamed", true).map_err(SessionError)?;
                    let chunks = ["one ", "two ", "three"].map(|chunk| {
                        Ok::<_, actix_web::Error>(web::Bytes::from_static(chunk.as_bytes()))
                    });
                    Ok::<_, SessionError>(
                        HttpResponse::Ok().streaming(futures_util::stream::iter(chunks)),
                    )
                }),
            )
            .wrap(SessionMiddleware::new(manager(store.clone()))),
    )
    .await;
    let response = test::call_service(&app, get("/stream").to_request()).await;
    assert!(cookie_of(&response).is_some());
    assert_eq!(store.take_kinds(), ["create"]);
    assert_eq!(body_text(response).await, "one two three");
}

#[actix_web::test]
async fn the_middleware_can_wrap_a_single_scope() {
    let store = RecordingStore::new(MemoryStore::new());
    let app = test::init_service(
        App::new()
            .service(
                web::scope("/app")
                    .route("/", web::get().to(count))
                    .wrap(SessionMiddleware::new(manager(store.clone()))),
            )
            .route("/public", web::get().to(count)),
    )
    .await;
    let inside = test::call_service(&app, get("/app/").to_request()).await;
    assert_eq!(body_text(inside).await, "count=0");
    let outside = test::call_service(&app, get("/public").to_request()).await;
    assert_eq!(outside.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[actix_web::test]
async fn the_handles_cross_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Session>();
    send_sync::<SessionMiddleware>();
    send_sync::<SessionError>();
}

#[actix_web::test]
async fn a_session_handle_can_move_to_another_thread() {
    let store = RecordingStore::new(MemoryStore::new());
    let app = test::init_service(
        App::new()
            .route(
                "/",
                web::get().to(|session: Session| async move {
                    let handle = session.0.clone();
                    let written = std::thread::spawn(move || handle.insert("from_thread", true))
                        .join()
                        .map_err(|_| {
                            actix_web::error::ErrorInternalServerError("thread panicked")
                        })?;
                    written.map_err(SessionError)?;
                    Ok::<_, actix_web::Error>("ok")
                }),
            )
            .route(
                "/read",
                web::get().to(|session: Session| async move {
                    session
                        .get::<bool>("from_thread")
                        .map(|v| format!("{v:?}"))
                        .map_err(SessionError)
                }),
            )
            .wrap(SessionMiddleware::new(manager(store.clone()))),
    )
    .await;
    let response = test::call_service(&app, get("/").to_request()).await;
    let cookie = cookie_of(&response).expect("cookie");
    let request = get("/read")
        .insert_header((header::COOKIE, cookie))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(body_text(response).await, "Some(true)");
}
