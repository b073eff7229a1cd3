//! Rocket adapter for [`session_core`]: express-session's model in a Rocket 0.5 app.
//!
//! Attach [`SessionFairing`] to the Rocket and take [`Session`] as a request guard. The
//! session is loaded the first time a guard asks for it, so routes that never do cost no
//! store I/O. When the response is ready, the fairing saves, touches or destroys as
//! express-session's rules say and adds the session's `Set-Cookie` header beside whatever
//! Rocket's [`CookieJar`](rocket::http::CookieJar) sends; a store failure becomes an opaque
//! `503`/`500` response (see [`SessionFairing::on_error`]).
//!
//! ```
//! use rocket::{get, local::asynchronous::Client, routes};
//! use session_rocket::{MemoryStore, Session, SessionConfig, SessionError, SessionFairing, SessionManager};
//!
//! #[get("/")]
//! fn count(session: Session) -> Result<String, SessionError> {
//!     let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
//!     session.insert("count", count)?;
//!     Ok(format!("count={count}"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::builder().secret("a secret of at least thirty-two bytes!").build()?;
//! let manager = SessionManager::new(MemoryStore::new(), config);
//! let rocket = rocket::build()
//!     .mount("/", routes![count])
//!     .attach(SessionFairing::new(manager));
//! // In a server: rocket.launch().await?;
//!
//! // A first visit gets a session and its cookie ...
//! let client = Client::untracked(rocket).await?;
//! let response = client.get("/").dispatch().await;
//! let cookie = response.headers().get_one("Set-Cookie").unwrap_or_default();
//! let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
//! // ... and the browser sends it back.
//! let cookie = rocket::http::Header::new("Cookie", cookie);
//! let response = client.get("/").header(cookie).dispatch().await;
//! assert_eq!(response.into_string().await.as_deref(), Some("count=1"));
//! # Ok(()) }
//! # rocket::async_test(async { run().await.unwrap() });
//! ```
//!
//! A handler that returns `Result<_, SessionError>` can use `?` on session calls: the error
//! becomes the same opaque response as the fairing's.
//!
//! The adapter needs none of Rocket's optional features; in particular it does not use
//! private cookies, so Rocket's `secrets` feature (and its `secret_key`) can stay off.

mod error;
mod fairing;
mod guard;

pub use error::{ErrorHandler, SessionError};
pub use fairing::SessionFairing;
pub use guard::{Session, SessionRejection};

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
