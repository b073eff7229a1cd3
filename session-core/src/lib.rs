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
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `test-util` | the `testing` module: a recording store, a store that fails on demand, and the store conformance suite every store runs. Not covered by semver. |

mod config;
mod cookie_header;
mod error;
mod id;
mod manager;
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
    ConfigError, Priority, SameSite, Secure, SessionConfig, SessionConfigBuilder, Unset,
    MIN_SECRET_LEN,
};
pub use error::{BoxError, SessionError, StoreError};
pub use id::{IdGenerator, SessionId};
pub use manager::{RequestFacts, SessionManager};
pub use record::{CookieData, Record, RESERVED_KEYS};
pub use request::RequestSession;
pub use session::Session;
pub use signing::{Keyring, Secret};
pub use store::{Created, Lifetimes, Loaded, MemoryStore, Store};

/// Re-exported so that stores and adapters name the same trait macro version.
pub use async_trait::async_trait;
