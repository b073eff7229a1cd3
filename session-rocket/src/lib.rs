//! Rocket adapter for [`session_core`]: express-session's model in a Rocket 0.5 app.
//!
//! Attach [`SessionFairing`] to the Rocket and take [`Session`] as a request guard. The
//! session is loaded the first time a guard asks for it, so routes that never do cost no
//! store I/O. When the response is ready, the fairing saves, touches or destroys as
//! express-session's rules say and adds the session's `Set-Cookie` header beside whatever
//! Rocket's [`CookieJar`](rocket::http::CookieJar) sends; a store failure becomes an opaque
//! `503`/`500` response (see [`SessionFairing::on_error`]).
//!
//! ```no_run
//! use rocket::{get, routes};
//! use session_core::{MemoryStore, SessionConfig, SessionManager};
//! use session_rocket::{Session, SessionError, SessionFairing};
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
//! rocket::build()
//!     .mount("/", routes![count])
//!     .attach(SessionFairing::new(manager))
//!     .launch()
//!     .await?;
//! # Ok(()) }
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
