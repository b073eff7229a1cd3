//! warp adapter for [`session_core`]: express-session's model in a warp app.
//!
//! Build a [`Sessions`] from a [`SessionManager`], take the
//! request's [`Session`] with the [`Sessions::session`] filter, and [`Sessions::wrap`] the
//! routes. Handlers return ordinary replies, not `(reply, session)` tuples: the wrap saves,
//! touches or destroys the session as express-session's rules say and appends `Set-Cookie`
//! once the reply is ready. The session is loaded the first time a filter asks for it, so
//! routes that never do cost no store I/O. The cookie name comes from the
//! [`SessionConfig`] at run time. A store failure becomes an
//! opaque `503`/`500` response (see [`Sessions::on_error`]).
//!
//! ```
//! use session_warp::{MemoryStore, Session, SessionConfig, SessionError, SessionManager, Sessions};
//! use warp::Filter;
//!
//! fn count(session: Session) -> Result<String, SessionError> {
//!     let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
//!     session.insert("count", count)?;
//!     Ok(format!("count={count}"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
//! let sessions = Sessions::new(SessionManager::new(MemoryStore::new(), config));
//! let routes = warp::path::end()
//!     .and(sessions.session())
//!     .map(count)
//!     .or(warp::path("health").map(|| "ok"));
//! let app = sessions.wrap(routes);
//!
//! // A first visit gets a session and its cookie ...
//! let response = warp::test::request().path("/").reply(&app).await;
//! let cookie = response.headers()["set-cookie"].to_str()?.split(';').next().unwrap_or_default().to_owned();
//! // ... and the browser sends it back.
//! let response = warp::test::request().path("/").header("cookie", cookie).reply(&app).await;
//! assert_eq!(response.body(), "count=1");
//! // In a server: warp::serve(app).incoming(tokio::net::TcpListener::bind(..).await?).run().await;
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```
//!
//! A handler that returns `Result<_, SessionError>` can use `?` on session calls: the error
//! becomes the same opaque response.
//!
//! # How the session reaches the filters
//!
//! warp 0.4 gives filters no way to attach data to a request, so the wrap registers each
//! request's session under the tokio task that polls it, and the session filter finds it
//! there. warp's server polls each request on its own task, so this needs nothing from you;
//! if you drive the wrapped filter yourself, poll one request at a time per task (two at once
//! make the session filters refuse with a `500` rather than guess).

mod error;
mod filters;
mod registry;
mod reply;

pub use error::{ErrorHandler, SessionError, SessionRejection};
pub use filters::{Session, Sessions};

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
