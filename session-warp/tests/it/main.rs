//! What is particular to the warp adapter; the shared behaviour is in `session-scenarios`.

use std::time::Duration;

use session_core::{
    testing::{FlakyStore, RecordingStore},
    MemoryStore, SessionConfig, SessionManager,
};
use session_warp::{Session, SessionError, Sessions};
use warp::{
    http::{Response, StatusCode},
    hyper::body::Bytes,
    Filter, Rejection, Reply,
};

fn manager<S: session_core::Store>(store: S) -> SessionManager {
    let config = SessionConfig::builder()
        .secret("warp adapter tests secret, 32 bytes!")
        .build()
        .expect("config");
    SessionManager::new(store, config)
}

fn body(response: &Response<Bytes>) -> &str {
    std::str::from_utf8(response.body()).expect("utf-8")
}

fn set_cookie(response: &Response<Bytes>) -> Option<String> {
    let value = response.headers().get("set-cookie")?.to_str().ok()?;
    value.split(';').next().map(str::to_owned)
}

async fn get<F>(app: &F, path: &str, cookie: Option<&str>) -> Response<Bytes>
where
    F: Filter<Error = Rejection> + 'static,
    F::Extract: Reply + Send,
{
    let request = warp::test::request().path(path);
    let request = match cookie {
        Some(cookie) => request.header("cookie", cookie),
        None => request,
    };
    request.reply(app).await
}

fn count(session: Session) -> Result<String, SessionError> {
    let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
    session.insert("count", count)?;
    Ok(format!("count={count}"))
}

#[tokio::test]
async fn the_session_filter_without_the_wrap_explains_the_fix() {
    let sessions = Sessions::new(manager(MemoryStore::new()));
    let app = sessions.session().map(count);
    let response = get(&app, "/", None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body(&response).contains("sessions.wrap(routes)"),
        "{response:?}"
    );

    // The filter of another `Sessions` inside this wrap is the same wiring bug.
    let other = Sessions::new(manager(MemoryStore::new()));
    let app = sessions.wrap(other.session().map(count));
    let response = get(&app, "/", None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body(&response).contains("sessions.wrap(routes)"),
        "{response:?}"
    );
    assert!(set_cookie(&response).is_none());
}

#[tokio::test]
async fn or_branches_share_one_session_and_one_load() {
    let store = RecordingStore::new(MemoryStore::new());
    let sessions = Sessions::new(manager(store.clone()));
    // The first branch loads the session, then rejects on its path; the second uses it.
    let peek = sessions
        .session()
        .and(warp::path!("peek"))
        .map(|s: Session| format!("{:?}", s.get::<u64>("count").ok().flatten()));
    let visit = warp::path!("visit").and(sessions.session()).map(count);
    let app = sessions.wrap(peek.or(visit));

    let first = get(&app, "/visit", None).await;
    assert_eq!(body(&first), "count=0");
    let cookie = set_cookie(&first).expect("cookie");
    assert_eq!(store.take_kinds(), ["create"]);

    let second = get(&app, "/visit", Some(&cookie)).await;
    assert_eq!(body(&second), "count=1");
    assert_eq!(
        store.take_kinds(),
        ["load", "save"],
        "one load for both branches"
    );
    assert_eq!(body(&get(&app, "/peek", Some(&cookie)).await), "Some(1)");
}

/// A filter that is pending once before it lets the request through, so that what follows
/// runs in a later poll (possibly on another worker thread).
fn pending_once() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::any()
        .and_then(|| async {
            tokio::task::yield_now().await;
            Ok::<_, Rejection>(())
        })
        .untuple_one()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_filters_and_handlers_keep_their_session_across_awaits() {
    let store = RecordingStore::new(MemoryStore::new());
    let sessions = Sessions::new(manager(store.clone()));
    let app = sessions.wrap(
        warp::path!("slow")
            .and(pending_once())
            .and(sessions.session())
            .and_then(|s: Session| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                tokio::task::yield_now().await;
                count(s).map_err(|_| warp::reject())
            }),
    );
    // On runtime tasks (as under warp::serve), many at once, each on its own task.
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut bodies = Vec::new();
                let mut cookie = None;
                for _ in 0..3 {
                    let response = get(&*app, "/slow", cookie.as_deref()).await;
                    cookie = cookie.or_else(|| set_cookie(&response));
                    bodies.push(body(&response).to_owned());
                }
                (bodies, cookie)
            })
        })
        .collect();
    let mut cookies = std::collections::HashSet::new();
    for task in tasks {
        let (bodies, cookie) = task.await.expect("task");
        assert_eq!(bodies, ["count=0", "count=1", "count=2"]);
        assert!(
            cookies.insert(cookie.expect("cookie")),
            "two tasks share a session"
        );
    }
}

#[tokio::test]
async fn a_route_that_never_asks_costs_nothing() {
    let store = RecordingStore::new(MemoryStore::new());
    let sessions = Sessions::new(manager(store.clone()));
    let visit = warp::path!("visit").and(sessions.session()).map(count);
    let app = sessions.wrap(visit.or(warp::path!("health").map(|| "ok")));
    let cookie = set_cookie(&get(&app, "/visit", None).await).expect("cookie");
    store.take();
    for cookie in [None, Some(cookie.as_str())] {
        let response = get(&app, "/health", cookie).await;
        assert_eq!(body(&response), "ok");
        assert!(set_cookie(&response).is_none());
    }
    assert!(store.take().is_empty(), "no store call for /health");
}

#[tokio::test]
async fn other_rejections_pass_through() {
    let sessions = Sessions::new(manager(MemoryStore::new()));
    let app = sessions.wrap(warp::path!("visit").and(sessions.session()).map(count));
    assert_eq!(
        get(&app, "/nowhere", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_failing_load_answers_the_error_response_never_a_new_session() {
    let store = FlakyStore::new(MemoryStore::new());
    let sessions = Sessions::new(manager(store.clone()));
    let app = sessions.wrap(warp::path!("visit").and(sessions.session()).map(count));
    let cookie = set_cookie(&get(&app, "/visit", None).await).expect("cookie");

    store.set_failing(true);
    let response = get(&app, "/visit", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(&response), "Service Unavailable");
    assert!(set_cookie(&response).is_none());

    let custom = sessions.clone().on_error(|error| {
        warp::reply::with_status(
            format!("try again ({})", error.status_code()),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .into_response()
    });
    let app = custom.wrap(warp::path!("visit").and(custom.session()).map(count));
    let response = get(&app, "/visit", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(&response), "try again (503)");
}

#[tokio::test]
async fn a_handler_session_error_gets_the_error_response() {
    let sessions = Sessions::new(manager(MemoryStore::new())).on_error(|error| {
        warp::reply::with_status(
            format!("custom {}", error.status_code()),
            StatusCode::IM_A_TEAPOT,
        )
        .into_response()
    });
    // `cookie` is a reserved key: the insert fails and the handler returns the error.
    let reserved = |s: Session| -> Result<&'static str, SessionError> {
        s.insert("cookie", 1)?;
        Ok("unreachable")
    };
    let wrapped = sessions.wrap(sessions.session().map(reserved));
    let response = get(&wrapped, "/", None).await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(body(&response), "custom 500");

    // Without the wrap's hook, the default opaque response.
    let response = warp::test::request()
        .reply(
            &warp::any()
                .map(|| SessionError(session_core::SessionError::ReservedKey("cookie".into()))),
        )
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body(&response), "Internal Server Error");
}

#[tokio::test]
async fn two_requests_polled_by_one_task_are_refused_never_mixed() {
    let store = RecordingStore::new(MemoryStore::new());
    let sessions = Sessions::new(manager(store.clone()));
    let app = sessions.wrap(warp::path!("slow").and(sessions.session()).and_then(
        |s: Session| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            count(s).map_err(|_| warp::reject())
        },
    ));
    let first = get(&app, "/slow", None).await;
    let cookie = set_cookie(&first).expect("cookie");
    // Both requests in flight in this one task: the second cannot be told apart.
    let (mine, stranger) =
        tokio::join!(get(&app, "/slow", Some(&cookie)), get(&app, "/slow", None));
    assert_eq!(
        body(&mine),
        "count=1",
        "the first request keeps its own session"
    );
    assert_eq!(stranger.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body(&stranger).contains("one task"), "{stranger:?}");
    assert!(set_cookie(&stranger).is_none());
    // Once both ended, the task serves requests again.
    assert_eq!(body(&get(&app, "/slow", Some(&cookie)).await), "count=2");
}

#[tokio::test]
async fn a_failing_save_replaces_the_reply() {
    let store = FlakyStore::new(MemoryStore::new());
    store.set_failing(true);
    let sessions = Sessions::new(manager(store));
    // A new session needs no load; the store fails when it is saved.
    let app = sessions.wrap(sessions.session().map(count));
    let response = get(&app, "/", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(&response), "Service Unavailable");
    assert!(set_cookie(&response).is_none());
}

#[test]
fn the_wrapped_app_can_be_served() {
    fn assert_servable<F>(_: &F)
    where
        F: Filter<Extract = (warp::reply::Response,), Error = Rejection>
            + Clone
            + Send
            + Sync
            + 'static,
    {
    }
    let sessions = Sessions::new(manager(MemoryStore::new()));
    assert_servable(&sessions.wrap(sessions.session().map(count)));
}

#[tokio::test]
async fn https_is_what_the_app_says_never_what_the_client_claims() {
    for (https, secure) in [(false, false), (true, true)] {
        let sessions = Sessions::new(manager(MemoryStore::new())).https(https);
        let app = sessions.wrap(sessions.session().map(count));
        let response = warp::test::request()
            .path("https://example.com/")
            .reply(&app)
            .await;
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("a cookie")
            .to_owned();
        assert_eq!(
            cookie.contains("; Secure"),
            secure,
            "https({https}): {cookie}"
        );
    }
}
