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
//! let cookies = request.finish().await?;
//! let set_cookie = cookies.first().expect("a new, modified session sends its cookie");
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
//! # Cookie mode
//!
//! [`SessionManager::in_cookie`] keeps the whole session in the cookie, with no store: nothing
//! to run, any number of servers. [`CookieFormat::Encrypted`] (the default choice) seals it
//! with XChaCha20-Poly1305; [`CookieFormat::CookieSession`] writes npm cookie-session 2.x's
//! signed format byte for byte, to share sessions with an Express app that uses it. The
//! [`Session`] API and the adapters are the same. What changes, and why:
//!
//! | | store mode | cookie mode |
//! |---|---|---|
//! | when the cookie is written | express-session's rules | cookie-session's: when the session changed (or on every response with `rolling`); never for an empty new session |
//! | logout | the record is deleted: the old cookie is dead everywhere | the cookie is cleared in this browser; a copy of it stays valid until it expires (there is nothing to delete) |
//! | log out everywhere, listing a user's sessions | yes (`user_key`) | no ([`SessionError::NeedsStore`]) |
//! | requests in flight | conditional saves, merges ([`ConflictPolicy`]) | the last response's cookie wins, as in cookie-session |
//! | size | [`SessionConfigBuilder::max_session_bytes`] (64 KiB) | the browser's 4 KB per cookie: a larger session is [`SessionError::TooLarge`] (`413`), never a dropped cookie ([`MAX_COOKIE_BYTES`]); no chunking, since a session that large belongs in a store |
//! | expiry | the store forgets idle sessions | the encrypted cookie carries its expiry and the server refuses it after; a cookie-session cookie carries none (as in Node) |
//! | secrets | sign the id | encrypt (32+ bytes each, keys derived with HKDF) or sign (keygrip) the whole session; the first writes, all read |
//! | [`Session::save`], [`Session::reload`] | write now, re-read the store | nothing to write before the response; back to what the cookie held |
//!
//! In cookie-session's format, a cookie that verified with an older key gets a new signature
//! cookie at once (as npm `cookies` does on read), written with the session cookie's
//! configured attributes (Node's writes only `path=/; httponly`, which can leave a second
//! signature cookie beside the first when a domain or path is configured); the values are
//! identical.
//!
//! Choose a store when sessions must be revocable (logout that holds against a stolen
//! cookie, "log out everywhere", an admin ending a session), when they grow past a few KB, or
//! when the client must not learn anything about them (the signed format is readable).
//! Choose cookie mode for small sessions and no infrastructure.
//!
//! # Observability
//!
//! Every store call runs in a `tracing` span (`session_store`, at `DEBUG`: store, operation,
//! outcome, duration, the first characters of the id) and is counted through the [`metrics`]
//! facade, with the session layer's own counters (sessions created, destroyed, saves by
//! outcome). Both cost next to nothing until the app installs a subscriber or a recorder.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `sessions_created_total` | counter | `mode` (`store`, `cookie`) |
//! | `sessions_destroyed_total` | counter | `reason` (`logout`, `revoked`, `absolute_timeout`) |
//! | `session_saves_total` | counter | `outcome` (`written`, `merged`, `conflict`, `ended`) |
//! | `session_store_calls_total` | counter | `store`, `op`, `outcome` |
//! | `session_store_errors_total` | counter | `store`, `op`, `kind` (`unavailable`, `timeout`, `corrupt`, ...) |
//! | `session_store_duration_seconds` | histogram | `store`, `op` |
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `test-util` | the `testing` module: a recording store, a store that fails on demand, and the store conformance suite every store runs. Not covered by semver. |

mod calendar;
mod config;
mod cookie_header;
mod cookie_mode;
mod deadline;
mod error;
mod id;
mod lineage;
mod lock;
mod manager;
mod merge;
mod owner;
mod record;
mod redact;
mod request;
mod rules;
mod session;
mod set_cookie;
mod set_cookies;
mod signing;
mod store;
mod telemetry;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use config::{
    ConfigError, ConflictPolicy, Priority, SameSite, Secure, SessionConfig, SessionConfigBuilder,
    Unset, DEFAULT_MAX_SESSION_BYTES, DEFAULT_SERIALIZE_WAIT, MIN_SECRET_LEN,
};
pub use cookie_mode::{CookieFormat, MAX_COOKIE_BYTES};
pub use error::{BoxError, SessionError, StoreError};
pub use id::{IdGenerator, InvalidId, SessionId, MAX_CUSTOM_ID_LEN, MIN_CUSTOM_ID_LEN};
pub use manager::{RequestFacts, SessionManager};
pub use owner::{FindUser, UserKey};
pub use record::{CookieData, Record, CREATED_AT_KEY, RESERVED_KEYS};
pub use redact::redact_url;
pub use request::RequestSession;
pub use session::{Session, Status};
pub use set_cookies::SetCookies;
pub use signing::{Keyring, Secret};
pub use store::{
    Created, Lifetimes, Loaded, MemoryStore, Saved, Store, StoreHandle, Version, Write,
    DEFAULT_USER_BYTES, DEFAULT_VISITOR_BYTES,
};

/// Re-exported so that stores and adapters name the same trait macro version.
pub use async_trait::async_trait;

/// Runs `handler` on a new session of a memory-store manager (a one-hour max age, sessions
/// listed under their `user`): the harness of the examples in these docs. It needs no async
/// runtime (the memory store needs none), so the examples run wherever the crate builds.
#[doc(hidden)]
pub fn doc_session<F, Fut>(handler: F)
where
    F: FnOnce(Session) -> Fut,
    Fut: std::future::Future<Output = Result<(), SessionError>>,
{
    let config = SessionConfig::builder()
        .secret("the doc examples' secret, 32 bytes!")
        .max_age(Some(std::time::Duration::from_secs(3600)))
        .user_key("user")
        .build()
        .expect("a valid configuration");
    let manager = SessionManager::new(MemoryStore::new(), config);
    block_on(async {
        let request = manager.begin([], RequestFacts::plain_http());
        let session = request.session().await.expect("a session");
        handler(session).await.expect("the example runs");
    });
}

/// Runs a future to completion on this thread, parking between polls.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::{
        sync::Arc,
        task::{Context, Poll, Wake},
        thread::{self, Thread},
    };
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(thread::current())).into();
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}
