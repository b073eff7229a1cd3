//! SQL [`Store`](session_core::Store)s for session-core: [`PostgresStore`], which shares
//! connect-pg-simple's table with an Express app (`express-session` + `connect-pg-simple`)
//! so both serve the same live sessions, and [`SqliteStore`] for embedded deployments.
//!
//! | aspect | [`PostgresStore`] (same as connect-pg-simple 10) | [`SqliteStore`] |
//! |---|---|---|
//! | table | `session(sid varchar primary key, sess json, expire timestamp(6))` + `IDX_session_expire` | `session(sid text primary key, sess text, expire integer /* ms */, version integer)` |
//! | value | the session JSON of [`Record::to_json`](session_core::Record::to_json), verbatim | the same |
//! | expiry | `expire = to_timestamp(ceil(expires / 1 s))`, computed in SQL; rows with `expire >= now` only | milliseconds; rows with `expire > now` only |
//! | version of a record | SHA-256 of the stored `sess` text, computed by PostgreSQL | a random 64-bit number per write |
//! | round trips | one statement per load, create, save, touch, delete, and per read-only request's load + touch | one statement; a save, and a create or touch that moves a user's listing, one `BEGIN IMMEDIATE` transaction |
//! | each user's sessions | table `session_owner(owner, sid, expire)`, ours alone, written in the same statement | the same, in the same transaction |
//! | pruning | [`delete_expired`](PostgresStore::delete_expired), or a task every [`prune_interval`](PostgresStoreBuilder::prune_interval) (off by default) | the same |
//!
//!
#![cfg_attr(
    feature = "postgres",
    doc = r##"
# PostgreSQL, shared with Express

```no_run
use session_core::{SessionConfig, SessionManager};
use session_sql::PostgresStore;

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
let store = PostgresStore::builder("postgres://app@127.0.0.1/app")
    .table("session") // connect-pg-simple's `tableName`; must match the Express app
    .build()?; // returns at once; connects on demand, creates the tables on first use
let config = SessionConfig::builder()
    .secret("the secret the Express app signs with, 32+ bytes")
    .build()?;
let manager = SessionManager::new(store, config);
// Hand `manager` to an adapter: session_axum::SessionLayer::new(manager), ...
# drop(manager); Ok(()) }
```

The tables, as [`PostgresStore::migrate`] creates them (the first, exactly as
connect-pg-simple's `table.sql`):

```sql
CREATE TABLE "session" (
  "sid" varchar NOT NULL COLLATE "default",
  "sess" json NOT NULL,
  "expire" timestamp(6) NOT NULL
);
ALTER TABLE "session" ADD CONSTRAINT "session_pkey" PRIMARY KEY ("sid") NOT DEFERRABLE INITIALLY IMMEDIATE;
CREATE INDEX "IDX_session_expire" ON "session" ("expire");

CREATE TABLE IF NOT EXISTS "session_owner" (
  "owner" text NOT NULL, "sid" varchar NOT NULL, "expire" timestamp(6) NOT NULL,
  PRIMARY KEY ("owner", "sid")
);
CREATE INDEX IF NOT EXISTS "IDX_session_owner_sid" ON "session_owner" ("sid");
```

"##
)]
#![cfg_attr(
    feature = "sqlite",
    doc = r##"
# SQLite, embedded

```
use session_core::{SessionConfig, SessionManager};
use session_sql::SqliteStore;

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
let store = SqliteStore::builder(":memory:") // or a file path: "/var/lib/app/sessions.db"
    .build()?;
store.migrate().await?; // optional: the first call creates the tables anyway
let config = SessionConfig::builder()
    .secret("a secret of at least thirty-two bytes!")
    .build()?;
let manager = SessionManager::new(store, config);
# drop(manager); Ok(()) }
# tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
```

"##
)]
#![doc = r##"
# When the database misbehaves

Building a store never waits for the database: an app starts while PostgreSQL is down.
Every call is bounded by the timeout (2 s by default); PostgreSQL's `statement_timeout` on
the store's connections is 90 % of it, so a statement stuck on the server is cancelled
there (the bound also covers the wait for a connection, so a call that timed out may still
have written; the conditional save keeps that safe). A database that cannot
be reached gives [`StoreError::Unavailable`](session_core::StoreError::Unavailable), a slow
one or an exhausted pool [`StoreError::Timeout`](session_core::StoreError::Timeout); adapters answer
both with `503`, never with a silent new session. Connections are remade on demand, so
service resumes by itself when the server is back. The mapping is in [`error`].

# Features

| feature | default | what it adds |
|---|---|---|
| `postgres` | yes | [`PostgresStore`] |
| `sqlite` | yes | [`SqliteStore`] (SQLite is compiled in: nothing to install) |
"##]

#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod call;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod clock;
pub mod error;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod names;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::BuildError;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresStoreBuilder, DEFAULT_MAX_CONNECTIONS};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteStoreBuilder, DEFAULT_SQLITE_CONNECTIONS};

/// The default sessions table: connect-pg-simple's `tableName`.
pub const DEFAULT_TABLE: &str = "session";
/// The default bound on every store call.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
