//! A Redis [`Store`](session_core::Store) for session-core that writes exactly what
//! connect-redis writes, so a Rust service and an Express app (`express-session` +
//! `connect-redis`) can share live sessions in one Redis.
//!
//! | operation | what [`RedisStore`] sends | connect-redis 9/10 |
//! |---|---|---|
//! | key | prefix (default `sess:`) + session id | the same |
//! | value | `JSON.stringify(session)`: a `cookie` object (`originalMaxAge`, ISO `expires`, `httpOnly`, `path`, ...) then the app's keys, verbatim ([`Record::to_json`](session_core::Record::to_json)), and nothing else | the same |
//! | version of a record | the SHA-1 of the stored bytes, computed by the store; stored nowhere | (none) |
//! | load | `GET key` | `GET key` |
//! | load of a request | `GET key` and `PTTL key`, written to the socket together (one round trip) | `GET key` |
//! | end of a read-only request | `EXPIRE key ttl` for the session's own lifetime, skipped while the TTL the load read is within [`touch_after`](RedisStoreBuilder::touch_after) (60 s, at most a tenth of the lifetime) of that lifetime | `EXPIRE key ttl` |
//! | create | `SET key value NX EX ttl`: atomic, two new sessions never share an id | `SET key value EX ttl` |
//! | save | `EVALSHA <save> 1 key <sha1 of the value read> value ttl`: a script that writes `SET key value EX ttl` only if the key still holds the bytes the request read, in one round trip; `EVAL` of the script when Redis answers `NOSCRIPT` | `SET key value EX ttl` |
//! | touch | `EXPIRE key ttl` only: the stored `cookie.expires` goes stale, the Redis TTL is the truth | the same |
//! | destroy | `DEL key` | the same |
//! | a create, save or touch that names a user | first, in the same round trip: `EVAL <index> 1 users:sess:<user> <deadline ms> <id> <now ms>` (`ZADD`, `ZREMRANGEBYSCORE` of the expired, `PEXPIREAT` the last deadline) | (none) |
//! | sessions of a user | `ZRANGEBYSCORE users:sess:<user> <now ms> +inf` | (none) |
//! | with a [`NearCache`] | `HELLO 3`, `CLIENT TRACKING on BCAST PREFIX <prefix> NOLOOP` and a probe script on each new connection; a load that the cache holds sends nothing | (none) |
//!
//! `ttl = ceil((expires_at - now) / 1000 ms)`, as connect-redis computes it, and at least 1.
//!
//! # Conditional saves, shared with Express
//!
//! A save writes only over the very record the request loaded, so that a write by another
//! request, or by an Express app on the same Redis, is never overwritten unseen, and a session
//! that a logout deleted is never written back. The Express side knows nothing of versions and
//! writes plain JSON, so the version of a record is the SHA-1 of its stored bytes: the save
//! script compares it with `redis.sha1hex` of what the key holds now and answers
//! [`Saved::Written`](session_core::Saved::Written), [`Saved::Gone`](session_core::Saved::Gone)
//! (nothing is there) or [`Saved::Changed`](session_core::Saved::Changed) with the current
//! record, for the session layer to merge into. The stored value stays byte for byte what
//! connect-redis writes.
//!
//! # Sessions of a user
//!
//! For "log out everywhere" ([`Store::sessions_of`](session_core::Store::sessions_of)) each
//! user has a sorted set of session ids scored by deadline, under its own prefix (by default
//! `users:` + the session prefix, [`RedisStoreBuilder::user_index_prefix`]), so that
//! connect-redis's `SCAN prefix*` never meets one. Every write or touch that names the user
//! updates it in the same round trip, ahead of the session command, so a listing never misses
//! a session once it is written; entries drop out as their deadline passes and the set expires
//! with its last session. Sessions that only an Express app writes are not listed.
//!
//! Every script reads and writes the one key it declares, so the store runs on Redis Cluster,
//! where a session key and an index key hash to different slots. There the index entry is
//! awaited before the session command (two round trips for a write that names a user), since
//! two nodes keep no order between them.
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
//! # A near cache
//!
//! [`RedisStoreBuilder::near_cache`] keeps sessions in the process, so that a returning
//! visitor's load costs no round trip and a counting request one (its save). Redis's client
//! tracking keeps it coherent: the store's connection asks Redis to push an invalidation for
//! every change of a session key by anyone else, and a reply fills the cache only if no
//! invalidation of its key came in between. A hit can still be behind another process's write
//! by the time its invalidation takes to arrive (and, in rare races listed under
//! [`NearCache`], by at most its `max_age`); the save that follows it is conditional, so that
//! write is merged, never overwritten. Off by default; it needs the store's own client on one
//! server or Sentinel.
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
//! so service resumes when Redis is back. A create or save that reported a write is in Redis;
//! a command cut off by an outage is reported as an error, never replayed on the next
//! connection. An error is not a promise that nothing was written, though: a save that timed
//! out (a paused or overloaded server) may still run once Redis answers, so a `503` can hide
//! a write that landed — what holds is that no write is acknowledged unless it landed. The
//! mapping of client errors is in [`error`]. `cargo xtask soak` kills, pauses and slows a
//! Redis under load and checks every acknowledged write afterwards.
//!
//! # Why fred
//!
//! The store runs on [fred](https://docs.rs/fred): one client type covers a single server,
//! Redis Cluster and Sentinel from a URL scheme (`redis://`, `redis-cluster://`,
//! `redis-sentinel://`, and `rediss...` for TLS), with a multiplexed, pipelined connection,
//! a reconnection policy that also applies to the very first connection (so the app starts
//! while Redis is down), and per-command options (the store bounds each call with one timer
//! of its own and turns fred's per-command timer off). redis-rs offers the same building blocks
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
mod command;
pub mod error;
mod index;
mod near_cache;
mod save;
mod script;
mod store;
mod stored;
mod time;
mod touch_after;
mod tracking;

pub use builder::{
    RedisStoreBuilder, DEFAULT_CONNECT_WAIT, DEFAULT_MAX_RECONNECT_DELAY, DEFAULT_PREFIX,
    DEFAULT_TIMEOUT, DEFAULT_USER_INDEX_LEAD,
};
pub use error::BuildError;
pub use near_cache::NearCache;

/// The Redis client this crate runs on, re-exported so that an app that hands its own
/// client or pool to [`RedisStore::from_client`] / [`RedisStore::from_pool`] names the same
/// version.
pub use fred;
pub use store::RedisStore;
