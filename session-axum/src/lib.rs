//! axum (tower) adapter for [`session_core`]: express-session's model in an axum app.
//!
//! Add [`SessionLayer`] to the router and take [`Session`] as an extractor. The session is
//! loaded the first time a handler asks for it, so routes that never do cost no store I/O.
//! The layer saves, touches or destroys as express-session's rules say and appends the
//! `Set-Cookie` header before the response leaves; a store failure becomes an opaque
//! `503`/`500` response (see [`SessionLayer::on_error`]).
//!
//! ```
//! use axum::{body::Body, http::Request, routing::get, Router};
//! use session_axum::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionManager};
//! use tower::ServiceExt as _;
//!
//! async fn count(session: Session) -> Result<String, SessionError> {
//!     let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
//!     session.insert("count", count)?;
//!     Ok(format!("count={count}"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
//! let app = Router::new()
//!     .route("/", get(count))
//!     .layer(SessionLayer::new(SessionManager::new(MemoryStore::new(), config)));
//!
//! // A first visit gets a session and its cookie ...
//! let response = app.clone().oneshot(Request::get("/").body(Body::empty())?).await?;
//! let cookie = response.headers()["set-cookie"].to_str()?.split(';').next().unwrap_or_default().to_owned();
//! assert!(cookie.starts_with("connect.sid=s%3A"));
//! // ... and the browser sends it back.
//! let again = Request::get("/").header("cookie", cookie).body(Body::empty())?;
//! let response = app.oneshot(again).await?;
//! let body = axum::body::to_bytes(response.into_body(), 1024).await?;
//! assert_eq!(&body[..], b"count=1");
//! // In a server: axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```
//!
//! A handler that returns `Result<_, SessionError>` can use `?` on session calls: the error
//! converts into the same opaque response.
//!
//! Whether a request is HTTPS (for [`Secure::Auto`]) comes from
//! the server, never from the client's URI: [`SessionLayer::https`] for a router served only
//! over TLS, the [`Https`] request extension for one served over both, and
//! [`trust_proxy`](session_core::SessionConfigBuilder::trust_proxy) behind a proxy.

mod error;
mod extract;
mod layer;
mod service;

pub use error::{ErrorHandler, SessionError};
pub use extract::{Session, SessionRejection};
pub use layer::{Https, SessionLayer};
pub use service::{ResponseFuture, SessionService};

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
