//! actix-web adapter for [`session_core`]: express-session's model in an actix-web app.
//!
//! Wrap the app (or a scope, or a resource) in [`SessionMiddleware`] and take [`Session`] as
//! an extractor. The session is loaded the first time a handler asks for it, so routes that
//! never do cost no store I/O. When the handler's response is ready the middleware saves,
//! touches or destroys as express-session's rules say and appends the `Set-Cookie` header;
//! a store failure becomes an opaque `503`/`500` response (see
//! [`SessionMiddleware::on_error`]).
//!
//! ```
//! use actix_web::{test, web, App};
//! use session_actix::{MemoryStore, Session, SessionConfig, SessionError, SessionManager, SessionMiddleware};
//!
//! async fn count(session: Session) -> Result<String, SessionError> {
//!     let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
//!     session.insert("count", count)?;
//!     Ok(format!("count={count}"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
//! // One manager for every worker: the store and the configuration are shared. In a server,
//! // build the App inside `HttpServer::new(move || ...)` with a clone of it.
//! let manager = SessionManager::new(MemoryStore::new(), config);
//! let app = test::init_service(
//!     App::new()
//!         .route("/", web::get().to(count))
//!         .wrap(SessionMiddleware::new(manager.clone())),
//! )
//! .await;
//!
//! // A first visit gets a session and its cookie ...
//! let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! let cookie = response.headers().get("set-cookie").ok_or("no cookie")?.to_str()?;
//! let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
//! // ... and the browser sends it back.
//! let again = test::TestRequest::get().uri("/").insert_header(("cookie", cookie)).to_request();
//! let body = test::call_and_read_body(&app, again).await;
//! assert_eq!(&body[..], b"count=1");
//! # Ok(()) }
//! # actix_web::rt::System::new().block_on(run()).unwrap();
//! ```
//!
//! A handler that returns `Result<_, SessionError>` can use `?` on session calls: the error
//! converts into the same opaque response. [`SessionExt`] reaches the session from an
//! [`HttpRequest`](actix_web::HttpRequest) or a [`ServiceRequest`](actix_web::dev::ServiceRequest).
//!
//! # Middleware order
//!
//! actix runs `.wrap()`s in reverse order: the middleware wrapped *last* is the outermost and
//! sees the request *first*. A middleware that reads the session (authentication, auditing)
//! must run inside [`SessionMiddleware`], so wrap it *before* the session middleware:
//!
//! ```text
//! App::new()
//!     .wrap(RequireLogin)                        // runs second: can call `request.session()`
//!     .wrap(SessionMiddleware::new(manager))     // runs first: puts the session in the request
//!     .wrap(Logger::default())                   // outermost: logs the final response
//! ```
//!
//! Code that runs outside it gets [`SessionRejection::MissingMiddleware`] (a `500` that says
//! how to fix the wiring), never a silent empty session.
//!
//! # Threads and streaming bodies
//!
//! [`Session`] derefs to [`session_core::Session`], an `Arc` that is `Send + Sync`: unlike
//! actix-session's, it can move into `tokio::spawn`, `spawn_blocking` or any library that
//! needs `Send` (see the example on [`Session`]). The middleware finishes the session when
//! the handler's response *head* is ready, before a streaming body is polled; the body
//! passes through untouched. A streaming body may read a clone of the session, but its
//! writes come too late to be saved: make them in the handler.
//!
//! # Features
//!
//! This crate has no features of its own; it needs actix-web 4 with its default runtime.

mod error;
mod extract;
mod middleware;

pub use error::{ErrorHandler, SessionError, SessionRejection};
pub use extract::{Session, SessionExt};
pub use middleware::{ResponseFuture, SessionMiddleware, SessionService};

// One dependency line is enough: the core's types, and the stores behind this crate's
// features (`redis`, `postgres`, `sqlite`).
pub use session_core::{
    self, ConfigError, ConflictPolicy, CookieFormat, MemoryStore, Priority, RequestFacts, SameSite,
    Secure, SessionConfig, SessionConfigBuilder, SessionManager, Status, Store, StoreError, Unset,
    UserKey,
};
/// The Redis store (feature `redis`), shared with Express's connect-redis.
#[cfg(feature = "redis")]
pub use session_redis as redis;
/// The SQL stores (features `postgres`, `sqlite`), PostgreSQL shared with connect-pg-simple.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use session_sql as sql;
