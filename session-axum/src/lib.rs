//! axum (tower) adapter for [`session_core`]: express-session's model in an axum app.
//!
//! Add [`SessionLayer`] to the router and take [`Session`] as an extractor. The session is
//! loaded the first time a handler asks for it, so routes that never do cost no store I/O.
//! The layer saves, touches or destroys as express-session's rules say and appends the
//! `Set-Cookie` header before the response leaves; a store failure becomes an opaque
//! `503`/`500` response (see [`SessionLayer::on_error`]).
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use session_axum::{Session, SessionLayer};
//! use session_core::{MemoryStore, SessionConfig, SessionManager};
//!
//! async fn count(session: Session) -> Result<String, session_axum::SessionError> {
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
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! A handler that returns `Result<_, SessionError>` can use `?` on session calls: the error
//! converts into the same opaque response.
//!
//! Whether a request is HTTPS (for [`Secure::Auto`](session_core::Secure::Auto)) comes from
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
