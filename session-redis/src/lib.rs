//! A Redis [`Store`](session_core::Store) for session-core that writes exactly what
//! connect-redis writes, so a Rust service and an Express app (`express-session` +
//! `connect-redis`) can share live sessions in one Redis.
//!
//! | aspect | what [`RedisStore`] does (same as connect-redis 9/10) |
//! |---|---|
//! | key | prefix (default `sess:`) + session id |
//! | value | `JSON.stringify(session)`: a `cookie` object (`originalMaxAge`, ISO `expires`, `httpOnly`, `path`, ...) then the app's keys, verbatim ([`Record::to_json`](session_core::Record::to_json)) |
//! | save | `SET key value EX ttl`, `ttl = ceil((expires - now) / 1000 ms)`; a ttl `<= 0` is `DEL key` |
//! | create | `SET key value NX EX ttl`: atomic, two new sessions never share an id |
//! | touch | `EXPIRE key ttl` only: the stored `cookie.expires` goes stale, the Redis TTL is the truth |
//! | load of a read-only request | `GETEX key EX ttl`: the load and the touch in one command (connect-redis sends `GET`, then `EXPIRE`); Redis 6.2 or later, else `GET` and `EXPIRE` |
//! | destroy | `DEL key` |
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use session_core::{SessionConfig, SessionManager};
//! use session_redis::RedisStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379")
//!     .prefix("sess:") // what connect-redis uses; must match a sharing Express app
//!     .timeout(Duration::from_secs(2))
//!     .build()?; // returns at once; connects (and reconnects) in the background
//! let config = SessionConfig::builder()
//!     .secret("the secret the Express app signs with, 32+ bytes")
//!     .build()?;
//! let manager = SessionManager::new(store, config);
//! // Hand `manager` to an adapter: session_axum::SessionLayer::new(manager), ...
//! # drop(manager); Ok(()) }
//! ```
//!
//! # When Redis misbehaves
//!
//! The app starts while Redis is down: [`RedisStoreBuilder::build`] never waits for the
//! network. Every call is bounded by the timeout (2 s by default). While there is no
//! connection, calls fail after a short [`connect_wait`](RedisStoreBuilder::connect_wait)
//! with [`StoreError::Unavailable`](session_core::StoreError::Unavailable); a server that
//! does not answer in time gives [`StoreError::Timeout`](session_core::StoreError::Timeout).
//! Adapters answer both with `503`, never with a silent new session. The client reconnects by
//! itself (exponential back-off up to [`max_reconnect_delay`](RedisStoreBuilder::max_reconnect_delay)),
//! so service resumes when Redis is back. A write that returned `Ok` is in Redis. The mapping
//! of client errors is in [`error`].
//!
//! # Why fred
//!
//! The store runs on [fred](https://docs.rs/fred): one client type covers a single server,
//! Redis Cluster and Sentinel from a URL scheme (`redis://`, `redis-cluster://`,
//! `redis-sentinel://`, and `rediss...` for TLS), with a multiplexed, pipelined connection,
//! a reconnection policy that also applies to the very first connection (so the app starts
//! while Redis is down), and per-command timeouts. redis-rs offers the same building blocks
//! spread over several connection types (a lazy `ConnectionManager` for one server,
//! `cluster-async`, a sentinel client without automatic reconnection), and its current 1.x
//! line needs Rust 1.88, above this workspace's 1.85. fred is MIT-licensed and is what
//! tower-sessions' Redis store uses too.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `tls-rustls` | `rediss://` URLs with rustls (ring provider) and the platform's root certificates |
//! | `tls-native` | `rediss://` URLs with the platform's TLS library (OpenSSL on Linux) |
//!
//! Cluster and Sentinel need no feature.

mod builder;
pub mod error;
mod store;

pub use builder::{
    RedisStoreBuilder, DEFAULT_CONNECT_WAIT, DEFAULT_MAX_RECONNECT_DELAY, DEFAULT_PREFIX,
    DEFAULT_TIMEOUT,
};
pub use error::BuildError;
pub use store::RedisStore;
