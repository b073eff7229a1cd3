//! Framework-neutral sessions with express-session's model and wire format.
//!
//! A session is a signed id in a cookie (`connect.sid=s%3A<id>.<mac>`, byte for byte what
//! express-session writes) and a record in a server-side [`Store`]. This crate owns
//! everything that is not a web framework: the [`Session`] handle, the [`Store`] trait and
//! the in-memory [`MemoryStore`], the validated [`SessionConfig`], cookie signing with secret
//! rotation ([`Keyring`]) and the per-request rules that decide when to save, touch, send the
//! cookie or destroy. Adapters (`session-axum`, ...) only move headers in and out.
//!
//! # Example
//!
//! ```
//! use session_core::{MemoryStore, RequestFacts, SessionConfig, SessionManager};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::builder()
//!     .secret("a secret of at least thirty-two bytes!")
//!     .max_age(Some(Duration::from_secs(30 * 60)))
//!     .build()?;
//! let manager = SessionManager::new(MemoryStore::new(), config);
//!
//! // First request: no cookie. The handler counts a visit.
//! let request = manager.begin([], RequestFacts::plain_http());
//! let session = request.session().await?;
//! session.insert("count", 0)?;
//! let set_cookie = request.finish().await?.expect("a new, modified session sends its cookie");
//!
//! // Second request: the browser sends the cookie back.
//! let cookie = set_cookie.split(';').next().unwrap_or_default();
//! let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
//! let session = request.session().await?;
//! assert_eq!(session.get::<u32>("count")?, Some(0));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
//! ```
//!
//! # Concurrent requests, logout and session lifetime
//!
//! Two requests of one session may run at once (a page and its API calls, several tabs). Every
//! save is conditional on the record the request loaded ([`Store::save`] with a [`Version`]):
//!
//! - a session ended by another request (a logout, [`Session::regenerate`] at login, a revoke)
//!   is never written back; the late request writes nothing and sends no cookie;
//! - changes to different keys both persist: the late request's own changes are merged into
//!   the current record; for a key both changed, [`ConflictPolicy`] decides (the last writer
//!   wins by default, as in express-session, or the late save fails with a `409`);
//! - [`SessionConfigBuilder::serialize_requests`] makes the requests of one session take turns
//!   within a process, for strict read-modify-write;
//! - [`SessionConfigBuilder::absolute_timeout`] ends a session a fixed time after its creation,
//!   however active it is;
//! - with [`SessionConfigBuilder::user_key`], the store lists each user's sessions, and
//!   [`SessionManager::revoke_sessions_of`] or [`Session::log_out_everywhere`] ends them all.
//!
//! ```
//! use session_core::{ConflictPolicy, MemoryStore, SessionConfig, SessionManager};
//! use std::time::Duration;
//!
//! let config = SessionConfig::builder()
//!     .secret("a secret of at least thirty-two bytes!")
//!     .conflicts(ConflictPolicy::Reject)                    // 409 rather than overwrite
//!     .absolute_timeout(Some(Duration::from_secs(12 * 3600))) // over after 12 h, whatever
//!     .user_key("user")                                     // for "log out everywhere"
//!     .build()?;
//! let manager = SessionManager::new(MemoryStore::new(), config);
//! # let _ = manager;
//! # Ok::<_, session_core::ConfigError>(())
//! ```
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `test-util` | the `testing` module: a recording store, a store that fails on demand, and the store conformance suite every store runs. Not covered by semver. |

mod config;
mod cookie_header;
mod deadline;
mod error;
mod id;
mod lock;
mod manager;
mod merge;
mod owner;
mod record;
mod request;
mod rules;
mod session;
mod set_cookie;
mod signing;
mod store;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use config::{
    ConfigError, ConflictPolicy, Priority, SameSite, Secure, SessionConfig, SessionConfigBuilder,
    Unset, DEFAULT_SERIALIZE_WAIT, MIN_SECRET_LEN,
};
pub use error::{BoxError, SessionError, StoreError};
pub use id::{IdGenerator, SessionId};
pub use manager::{RequestFacts, SessionManager};
pub use owner::{FindUser, UserKey};
pub use record::{CookieData, Record, CREATED_AT_KEY, RESERVED_KEYS};
pub use request::RequestSession;
pub use session::Session;
pub use signing::{Keyring, Secret};
pub use store::{Created, Lifetimes, Loaded, MemoryStore, Saved, Store, Version, Write};

/// Re-exported so that stores and adapters name the same trait macro version.
pub use async_trait::async_trait;
