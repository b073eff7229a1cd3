//! What is particular to the Rocket adapter; the shared behaviour is in `session-scenarios`.

use std::{
    io::Cursor,
    sync::{Arc, Mutex},
};

use rocket::{
    config::LogLevel,
    get,
    http::{ContentType, Cookie, CookieJar, Header, Status},
    local::asynchronous::{Client, LocalResponse},
    routes, Build, Response, Rocket,
};
use session_core::{
    testing::{FlakyStore, RecordingStore},
    MemoryStore, SessionConfig, SessionManager,
};
use session_rocket::{Session, SessionError, SessionFairing};

const SECRET: &str = "rocket adapter tests secret, 32 bytes!";

fn manager<S: session_core::Store>(store: S) -> SessionManager {
    let config = SessionConfig::builder()
        .secret(SECRET)
        .build()
        .expect("config");
    SessionManager::new(store, config)
}

/// A quiet Rocket with the test routes.
fn rocket() -> Rocket<Build> {
    let config = rocket::Config {
        log_level: LogLevel::Off,
        ..rocket::Config::debug_default()
    };
    rocket::custom(config).mount(
        "/",
        routes![count, peek, with_theme, reserved, optional, health],
    )
}

async fn local_client(rocket: Rocket<Build>) -> Client {
    Client::untracked(rocket).await.expect("valid rocket")
}

#[get("/")]
fn count(session: Session) -> Result<String, SessionError> {
    let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
    session.insert("count", count)?;
    Ok(format!("count={count}"))
}

#[get("/peek")]
fn peek(session: Session, jar: &CookieJar<'_>) -> String {
    let theme = jar.get("theme").map(|c| c.value().to_owned());
    format!("new={} theme={theme:?}", session.is_new())
}

/// Sets a cookie through Rocket's own jar and writes the session.
#[get("/theme")]
fn with_theme(session: Session, jar: &CookieJar<'_>) -> Result<&'static str, SessionError> {
    jar.add(("theme", "dark"));
    session.insert("theme_set", true)?;
    Ok("ok")
}

/// A handler error returned with `?`.
#[get("/reserved")]
fn reserved(session: Session) -> Result<&'static str, SessionError> {
    session.insert("cookie", 1)?;
    Ok("unreachable")
}

/// A handler that would rather carry on without a session.
#[get("/optional")]
fn optional(session: Option<Session>) -> &'static str {
    if session.is_some() {
        "session"
    } else {
        "no session"
    }
}

#[get("/health")]
fn health() -> &'static str {
    "ok"
}

fn set_cookies<'a>(response: &'a LocalResponse<'_>) -> Vec<&'a str> {
    response.headers().get("Set-Cookie").collect()
}

fn session_cookie(response: &LocalResponse<'_>) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("connect.sid="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// Captures what the adapter logs while a test runs on the current thread.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned()
    }
}

#[tokio::test]
async fn the_guard_without_the_fairing_is_a_500_that_logs_the_fix() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let client = local_client(rocket()).await;
    let response = client.get("/").dispatch().await;
    assert_eq!(response.status(), Status::InternalServerError);
    assert!(set_cookies(&response).is_empty());
    assert!(
        log.text().contains("SessionFairing::new(manager)"),
        "log: {}",
        log.text()
    );
}

#[tokio::test]
async fn cookies_of_rockets_jar_go_out_beside_the_session_cookie() {
    let client =
        local_client(rocket().attach(SessionFairing::new(manager(MemoryStore::new())))).await;
    let response = client.get("/theme").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies.iter().any(|c| c.starts_with("theme=dark")),
        "{cookies:?}"
    );
    let session = session_cookie(&response).expect("session cookie");

    // Both come back (the local client sends them through Rocket's jar, not a `Cookie`
    // header); each side reads its own.
    let response = client
        .get("/peek")
        .cookie(("theme", "dark"))
        .cookie(Cookie::parse_encoded(session).expect("cookie"))
        .dispatch()
        .await;
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        response.into_string().await.as_deref(),
        Some(r#"new=false theme=Some("dark")"#)
    );
}

#[tokio::test]
async fn a_tracked_local_client_keeps_its_session() {
    let rocket = rocket().attach(SessionFairing::new(manager(MemoryStore::new())));
    let client = Client::tracked(rocket).await.expect("valid rocket");
    for expected in ["count=0", "count=1", "count=2"] {
        let response = client.get("/").dispatch().await;
        assert_eq!(response.into_string().await.as_deref(), Some(expected));
    }
}

#[tokio::test]
async fn a_failed_load_answers_the_opaque_error_not_rockets_catcher() {
    let store = FlakyStore::new(MemoryStore::new());
    let client = local_client(rocket().attach(SessionFairing::new(manager(store.clone())))).await;
    let session = session_cookie(&client.get("/").dispatch().await).expect("cookie");
    store.set_failing(true);
    for path in ["/", "/optional"] {
        let response = client
            .get(path)
            .header(Header::new("Cookie", session.clone()))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::ServiceUnavailable, "{path}");
        assert_eq!(response.content_type(), Some(ContentType::Plain));
        assert!(set_cookies(&response).is_empty());
        assert_eq!(
            response.into_string().await.as_deref(),
            Some("Service Unavailable")
        );
    }
}

#[tokio::test]
async fn a_failed_save_drops_the_handlers_response_and_its_cookies() {
    let store = FlakyStore::new(MemoryStore::new());
    store.set_failing(true);
    let client = local_client(rocket().attach(SessionFairing::new(manager(store)))).await;
    let response = client.get("/theme").dispatch().await;
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert!(set_cookies(&response).is_empty(), "nothing is acknowledged");
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("Service Unavailable")
    );
}

#[tokio::test]
async fn the_error_response_can_be_replaced() {
    let store = FlakyStore::new(MemoryStore::new());
    let fairing = SessionFairing::new(manager(store.clone())).on_error(|error| {
        let body = format!("try again ({})", error.status_code());
        Response::build()
            .status(Status::ServiceUnavailable)
            .sized_body(body.len(), Cursor::new(body))
            .finalize()
    });
    let client = local_client(rocket().attach(fairing)).await;
    let session = session_cookie(&client.get("/").dispatch().await).expect("cookie");
    store.set_failing(true);

    let on_load = client
        .get("/")
        .header(Header::new("Cookie", session))
        .dispatch()
        .await;
    assert_eq!(on_load.status(), Status::ServiceUnavailable);
    assert_eq!(
        on_load.into_string().await.as_deref(),
        Some("try again (503)")
    );

    let on_save = client.get("/").dispatch().await;
    assert_eq!(on_save.status(), Status::ServiceUnavailable);
    assert!(set_cookies(&on_save).is_empty());
    assert_eq!(
        on_save.into_string().await.as_deref(),
        Some("try again (503)")
    );
}

#[tokio::test]
async fn a_handler_error_is_opaque_and_uses_the_hook() {
    let client =
        local_client(rocket().attach(SessionFairing::new(manager(MemoryStore::new())))).await;
    let response = client.get("/reserved").dispatch().await;
    assert_eq!(response.status(), Status::InternalServerError);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("Internal Server Error")
    );

    let hooked = SessionFairing::new(manager(MemoryStore::new()))
        .on_error(|_| Response::build().status(Status::ImATeapot).finalize());
    let hooked = local_client(rocket().attach(hooked)).await;
    let response = hooked.get("/reserved").dispatch().await;
    assert_eq!(response.status(), Status::ImATeapot);
}

#[tokio::test]
async fn a_route_without_the_guard_costs_nothing() {
    let store = RecordingStore::new(MemoryStore::new());
    let client = local_client(rocket().attach(SessionFairing::new(manager(store.clone())))).await;
    let session = session_cookie(&client.get("/").dispatch().await).expect("cookie");
    store.take();
    let response = client
        .get("/health")
        .header(Header::new("Cookie", session))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert!(set_cookies(&response).is_empty());
    assert!(store.take().is_empty());
}
