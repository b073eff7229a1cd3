//! session-sql against real databases: the store conformance suite on PostgreSQL (the server of
//! `DATABASE_URL`, in a schema of each test's own) and on SQLite (a file and `:memory:`),
//! connect-pg-simple's rows and rules, pruning, and fault tests against a private PostgreSQL
//! cluster that the tests start, kill, pause and restart.
//!
//! Without `DATABASE_URL` (or without the PostgreSQL binaries for the private-cluster tests)
//! each PostgreSQL test prints a notice and passes, unless `SESSION_REQUIRE_SERVICES=1`.

#[cfg(feature = "postgres")]
mod faults;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "postgres")]
mod support;
