//! The one place where database failures become [`StoreError`]s, and the errors of building a
//! store.
//!
//! | failure | [`StoreError`] | adapter answers |
//! |---|---|---|
//! | no connection could be made within the acquire timeout (server down, refusing, unreachable) | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | I/O or TLS error, connection closed mid-statement, pool closed | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | PostgreSQL `08xxx` (connection exception), `53xxx` (insufficient resources, e.g. too many connections), `57P01`–`57P05` (shutdown, crash recovery, cannot connect now, idle session timeout), `25006` (read-only: a standby after a failover), `40001`/`40P01` (serialization failure, deadlock) | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | SQLite `SQLITE_CANTOPEN` (the file cannot be opened) | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | every pooled connection busy for the whole acquire timeout (pool exhausted) | [`Timeout`](StoreError::Timeout) | `503` |
//! | no answer within the configured timeout; PostgreSQL `57014` (`statement_timeout`) and `55P03` (`lock_timeout`); SQLite `SQLITE_BUSY` / `SQLITE_LOCKED` after the busy timeout | [`Timeout`](StoreError::Timeout) | `503` |
//! | a stored `sess` that is not a session, a column that does not decode | [`Corrupt`](StoreError::Corrupt) | `500` |
//! | anything else (a missing table, permissions, a disk full, protocol errors) | [`Backend`](StoreError::Backend) | `500` |

#![cfg_attr(
    not(any(feature = "postgres", feature = "sqlite")),
    allow(
        dead_code,
        reason = "with no database feature there is nothing to classify"
    )
)]

use std::time::Duration;

use session_core::StoreError;

/// Why a store could not be built. Building never touches the network or the file, so a
/// database that is down is not one of these: it is a [`StoreError::Unavailable`] from the
/// calls, until it is back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The connection URL or path does not parse.
    #[error("invalid database URL")]
    Url(#[source] sqlx::Error),
    /// The URL's scheme is not `postgres` or `postgresql`.
    #[error("unsupported database URL scheme {0:?}: expected postgres:// or postgresql://")]
    UnsupportedScheme(String),
    /// A schema, table or time zone name is empty or holds a NUL character.
    #[error("invalid {what} name {name:?}")]
    Name {
        /// Which name (`schema`, `table`, `owner table`, `time zone`).
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// The call timeout must be longer than zero.
    #[error("the call timeout must be longer than zero")]
    ZeroTimeout,
    /// The pool must allow at least one connection.
    #[error("the pool must allow at least one connection")]
    ZeroConnections,
    /// The prune interval must be longer than zero (leave it unset for no pruning task).
    #[error("the prune interval must be longer than zero")]
    ZeroPruneInterval,
    /// [`build`](crate::PostgresStoreBuilder::build) was called outside a tokio runtime, which
    /// the pool (and the pruning task) need.
    #[error("a session-sql store must be built inside a tokio runtime")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
}

impl BuildError {
    /// The checks both builders make of the settings they share: a call timeout, a pool size
    /// and an optional prune interval, none of them zero.
    pub(crate) fn check_limits(
        timeout: Duration,
        max_connections: u32,
        prune_interval: Option<Duration>,
    ) -> Result<(), Self> {
        if timeout.is_zero() {
            return Err(Self::ZeroTimeout);
        }
        if max_connections == 0 {
            return Err(Self::ZeroConnections);
        }
        if prune_interval.is_some_and(|interval| interval.is_zero()) {
            return Err(Self::ZeroPruneInterval);
        }
        Ok(())
    }
}

/// The pool could not hand out a connection within the acquire timeout while it had room for
/// more: no new connection could be made. Kept as the source of [`StoreError::Unavailable`].
#[derive(Debug, thiserror::Error)]
#[error("no connection to the database could be made within {0:?}")]
pub struct NoConnection(pub Duration);

/// What the pool looked like when a call failed: enough to tell an outage from exhaustion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// The configured bound on every call.
    pub(crate) timeout: Duration,
    /// How long a call waits for a pooled connection.
    pub(crate) acquire_timeout: Duration,
    /// Whether every connection the pool may open is open (and so busy, when none was free).
    pub(crate) pool_full: bool,
    /// Which database answered: [`sqlx::Database::NAME`].
    pub(crate) database: &'static str,
}

/// PostgreSQL SQLSTATEs (and classes) that mean "not now" rather than "never".
const PG_TRANSIENT: &[&str] = &[
    "25006", "40001", "40P01", "57P01", "57P02", "57P03", "57P04", "57P05",
];
/// PostgreSQL SQLSTATEs of a statement cancelled by one of its timeouts.
const PG_TIMEOUTS: &[&str] = &["57014", "55P03"];
/// SQLite primary result codes (the low byte of the extended code) of a database that stayed
/// locked through the busy timeout: `SQLITE_BUSY`, `SQLITE_LOCKED`.
const SQLITE_BUSY_CODES: &[i64] = &[5, 6];
/// `SQLITE_CANTOPEN`.
const SQLITE_CANTOPEN: i64 = 14;

/// Maps a database failure to the store error an adapter understands.
pub(crate) fn map(error: sqlx::Error, context: Context) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut if context.pool_full => StoreError::Timeout(context.timeout),
        sqlx::Error::PoolTimedOut => StoreError::unavailable(NoConnection(context.acquire_timeout)),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::unavailable(error),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::corrupt(error),
        sqlx::Error::Database(ref database) => {
            let code = database.code().map(|code| code.into_owned());
            let classify = if context.database == "SQLite" {
                classify_sqlite
            } else {
                classify_sqlstate
            };
            match code.as_deref().map(classify) {
                Some(Class::Unavailable) => StoreError::unavailable(error),
                Some(Class::Timeout) => StoreError::Timeout(context.timeout),
                _ => StoreError::backend(error),
            }
        }
        _ => StoreError::backend(error),
    }
}

/// What a database error code says.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    Unavailable,
    Timeout,
    Other,
}

/// Classifies a SQLite extended result code (a number).
fn classify_sqlite(code: &str) -> Class {
    let primary = code.parse::<i64>().map_or(-1, |code| code & 0xff);
    if SQLITE_BUSY_CODES.contains(&primary) {
        Class::Timeout
    } else if primary == SQLITE_CANTOPEN {
        Class::Unavailable
    } else {
        Class::Other
    }
}

/// Classifies a PostgreSQL SQLSTATE.
fn classify_sqlstate(code: &str) -> Class {
    if PG_TIMEOUTS.contains(&code) {
        Class::Timeout
    } else if code.starts_with("08") || code.starts_with("53") || PG_TRANSIENT.contains(&code) {
        Class::Unavailable
    } else {
        Class::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: Context = Context {
        timeout: Duration::from_millis(500),
        acquire_timeout: Duration::from_millis(400),
        pool_full: false,
        database: "PostgreSQL",
    };

    #[test]
    fn sqlstates_and_sqlite_codes_are_classified() {
        for code in [
            "08006", "08001", "53300", "57P01", "57P03", "25006", "40001",
        ] {
            assert_eq!(classify_sqlstate(code), Class::Unavailable, "{code}");
        }
        for code in ["57014", "55P03"] {
            assert_eq!(classify_sqlstate(code), Class::Timeout, "{code}");
        }
        for code in ["42P01", "42501", "23505", "22P02"] {
            assert_eq!(classify_sqlstate(code), Class::Other, "{code}");
        }
        for code in ["5", "517", "6", "262"] {
            assert_eq!(classify_sqlite(code), Class::Timeout, "{code}");
        }
        assert_eq!(classify_sqlite("14"), Class::Unavailable);
        for code in ["1", "13", "11", "2067"] {
            assert_eq!(classify_sqlite(code), Class::Other, "{code}");
        }
    }

    #[test]
    fn an_exhausted_pool_is_slow_and_an_unreachable_server_is_unavailable() {
        let full = Context {
            pool_full: true,
            ..CONTEXT
        };
        assert!(matches!(
            map(sqlx::Error::PoolTimedOut, full),
            StoreError::Timeout(t) if t == CONTEXT.timeout
        ));
        let down = map(sqlx::Error::PoolTimedOut, CONTEXT);
        assert!(matches!(down, StoreError::Unavailable(_)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            map(sqlx::Error::Io(refused), CONTEXT),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map(sqlx::Error::PoolClosed, CONTEXT),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn other_failures_keep_their_cause() {
        let error = map(sqlx::Error::Protocol("bad frame".into()), CONTEXT);
        assert!(matches!(error, StoreError::Backend(_)));
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.contains("bad frame")), "{error:?}");
        assert!(matches!(
            map(sqlx::Error::Decode("not text".into()), CONTEXT),
            StoreError::Corrupt(_)
        ));
    }
}
