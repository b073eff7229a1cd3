//! In-process requests for a profiler: `bench-requests SCENARIO [N]` sends `N`
//! (default 10 000) `GET /` through the axum router, with no network, so that an instruction
//! profile shows the session layer's own cost:
//!
//! ```text
//! cargo build --release -p session-bench --bin bench-requests
//! valgrind --tool=callgrind target/release/bench-requests returning 10000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>
//! ```
//!
//! `bare` is the router without sessions, sent what a returning visitor sends (a cookie of the
//! same size, with no session behind it) and answering the first visit's body, computed per
//! request, as the bare servers of `cargo xtask bench http` do; `bare-new` the same without a
//! cookie. `new` is a request without a cookie (creates and stores a session), `returning`
//! one with a valid cookie (loads, increments and saves it): the scenarios of
//! `cargo xtask bench http`, minus the sockets. The returning visitor's id is fixed
//! (`RETURNING_ID`), so that its count is the same on every run. The session layer's cost is
//! `returning` over `bare`, and `new` over `bare-new`. The `cookie-` scenarios are the same in
//! cookie mode (`CookieFormat::Encrypted`, no store), as the `-ours-cookie` servers run.
//! The `tower-` scenarios are the same visits through tower-sessions' layer over its moka
//! store, configured as `axum-tower-sessions-moka` is, measured over `bare-tower` (a cookie
//! of the size of tower-sessions' own) and `bare-new`: the peer's cost in the same harness.

use std::{process::ExitCode, sync::Arc, time::Duration};

use axum::{body::Body, http::Request, routing::get, Router};
use example_common::routes;
use session_axum::{Session, SessionError, SessionLayer};
use session_core::{CookieFormat, IdGenerator, MemoryStore, SessionConfig, SessionManager};
use tower::ServiceExt;
use tower_sessions_moka_store::MokaStore;

/// The visit counter's steps and tower-sessions' layer, shared with `bench-server`.
#[path = "bench-server/counter.rs"]
mod counter;
#[path = "bench-server/tower_axum.rs"]
mod tower_axum;

const DEFAULT_REQUESTS: usize = 10_000;
const USAGE: &str = "usage: bench-requests bare|bare-new|bare-tower|new|returning|\
                     cookie-new|cookie-returning|tower-new|tower-returning [N]";
const SCENARIOS: [&str; 9] = [
    "bare",
    "bare-new",
    "bare-tower",
    "new",
    "returning",
    "cookie-new",
    "cookie-returning",
    "tower-new",
    "tower-returning",
];

/// What the bare router is sent as a returning visitor's cookie: as long as ours, with no
/// session behind it (as `cargo xtask bench http` sends its bare servers).
const BARE_COOKIE: &str =
    "connect.sid=s%3A00000000000000000000000000000000.0000000000000000000000000000000000000000000";

/// What the bare router is sent in place of tower-sessions' cookie (`id=` and 22 characters).
const BARE_TOWER_COOKIE: &str = "id=0000000000000000000000";

/// The cookie `bench-server`'s servers set: signed, with a 30-minute `Max-Age`.
const SECRET: &str = "bench secret, at least thirty-two bytes long";

/// The returning visitor's session id, always the same so that the count is too: a random
/// id's MAC holds a varying number of `+` and `/`, each escaped in the cookie, which moves
/// the count by a few hundred instructions from run to run. This one's MAC holds one, as
/// the typical MAC does (43 base64 characters, 2 in 64 of them escaped).
const RETURNING_ID: &str = "returningVisitorOfTheBench000004";
const SESSION_TTL: Duration = Duration::from_secs(30 * 60);

async fn visit(session: Session) -> Result<String, SessionError> {
    Ok(routes::visit(&session)?.body)
}

/// Our layer for `scenario` (the memory store, or cookie mode), serving the visit counter.
fn our_router(scenario: &str) -> Router {
    let mut config = SessionConfig::builder()
        .secret(SECRET)
        .max_age(Some(SESSION_TTL));
    if scenario == "returning" {
        config = config.id_generator(IdGenerator::Custom(Arc::new(|| RETURNING_ID.to_owned())));
    }
    let config = config.build().expect("a valid configuration");
    let manager = if scenario.starts_with("cookie-") {
        SessionManager::in_cookie(CookieFormat::Encrypted, config).expect("cookie mode")
    } else {
        SessionManager::new(MemoryStore::new(), config)
    };
    Router::new()
        .route("/", get(visit))
        .layer(SessionLayer::new(manager))
}

fn request(cookie: Option<&str>) -> Request<Body> {
    let builder = Request::get("/");
    let builder = match cookie {
        Some(cookie) => builder.header("cookie", cookie),
        None => builder,
    };
    builder.body(Body::empty()).expect("a valid request")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (scenario, count) = match args.as_slice() {
        [scenario] => (scenario.as_str(), Ok(DEFAULT_REQUESTS)),
        [scenario, n] => (scenario.as_str(), n.parse().map_err(|_| ())),
        _ => ("", Err(())),
    };
    let (Ok(count), true) = (count, SCENARIOS.contains(&scenario)) else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sessions = if scenario.starts_with("tower-") {
        tower_axum::router(MokaStore::new(None), SESSION_TTL)
    } else {
        our_router(scenario)
    };
    let bare: Router = Router::new().route("/", get(|| async { counter::bare() }));
    runtime.block_on(async {
        let first = sessions
            .clone()
            .oneshot(request(None))
            .await
            .expect("response");
        let cookie_pair = first.headers()["set-cookie"]
            .to_str()
            .expect("ASCII")
            .split(';')
            .next()
            .expect("name=value")
            .to_owned();
        let app = if scenario.starts_with("bare") {
            &bare
        } else {
            &sessions
        };
        let cookie = match scenario {
            "bare" => Some(BARE_COOKIE),
            "bare-tower" => Some(BARE_TOWER_COOKIE),
            _ if scenario.ends_with("new") => None,
            _ => Some(cookie_pair.as_str()),
        };
        for _ in 0..count {
            let response = app
                .clone()
                .oneshot(request(cookie))
                .await
                .expect("response");
            assert!(response.status().is_success(), "{}", response.status());
        }
    });
    ExitCode::SUCCESS
}
