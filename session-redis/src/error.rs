//! The one place where Redis client failures become [`StoreError`]s, and the errors of
//! building a [`RedisStore`](crate::RedisStore).
//!
//! | client failure | [`StoreError`] | adapter answers |
//! |---|---|---|
//! | no connection (never connected, dropped, reconnecting) | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | I/O, connection closed mid-command, no connection to route to, cluster or sentinel routing, backpressure, TLS | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | server busy or failing over (`LOADING`, `BUSY`, `MASTERDOWN`, `READONLY`, `TRYAGAIN`, `CLUSTERDOWN`) | [`Unavailable`](StoreError::Unavailable) | `503` |
//! | no answer within the configured timeout | [`Timeout`](StoreError::Timeout) | `503` |
//! | a stored value that is not UTF-8 or not a session | [`Corrupt`](StoreError::Corrupt) | `500` |
//! | anything else (protocol, auth, unexpected replies) | [`Backend`](StoreError::Backend) | `500` |

use std::time::Duration;

use fred::error::{Error as ClientError, ErrorKind};
use session_core::StoreError;

/// Why a [`RedisStore`](crate::RedisStore) could not be built. Building never touches the
/// network, so Redis being down is not one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The URL does not parse as a Redis URL.
    #[error("invalid Redis URL")]
    Url(#[source] ClientError),
    /// The URL's scheme is not one of `redis`, `rediss`, `redis-cluster`, `rediss-cluster`,
    /// `redis-sentinel`, `rediss-sentinel`, `redis+unix` (or their `valkey` spellings).
    #[error("unsupported Redis URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// A `rediss...` URL asks for TLS, but neither the `tls-rustls` nor the `tls-native`
    /// feature of session-redis is enabled.
    #[error("a rediss:// URL needs the `tls-rustls` or `tls-native` feature of session-redis")]
    TlsNotEnabled,
    /// The client could not be set up from the configuration.
    #[error("the Redis client could not be configured")]
    Client(#[source] ClientError),
    /// The session key prefix and the user-index prefix overlap (one starts with the other,
    /// or the session prefix is empty), so connect-redis's scans of `prefix*` could meet a
    /// user's index; set [`user_index_prefix`](crate::RedisStoreBuilder::user_index_prefix)
    /// to a prefix of its own.
    #[error("the user-index prefix {user_index_prefix:?} overlaps the session prefix {prefix:?}")]
    OverlappingPrefixes {
        /// The session key prefix.
        prefix: String,
        /// The user-index prefix.
        user_index_prefix: String,
    },
    /// The call timeout must be longer than zero.
    #[error("the Redis call timeout must be longer than zero")]
    ZeroTimeout,
    /// [`build`](crate::RedisStoreBuilder::build) was called outside a tokio runtime, which the
    /// client's background connection task needs.
    #[error("a RedisStore must be built inside a tokio runtime")]
    NoRuntime(#[source] tokio::runtime::TryCurrentError),
    /// A [near cache](crate::NearCache) was asked of a store on the app's client or pool; it
    /// needs the store's own client, which it switches to RESP3 and tracks.
    #[error("a near cache needs the store's own client (RedisStore::builder with a URL)")]
    NearCacheNeedsOwnClient,
    /// A [near cache](crate::NearCache) was asked of a store on Redis Cluster, where tracking
    /// by prefix would have to be set up on every node; it runs on one server or Sentinel.
    #[error("a near cache runs on one Redis server or Sentinel, not on Redis Cluster")]
    NearCacheOnCluster,
}

/// The store has no connection to Redis right now; the client keeps reconnecting in the
/// background. Kept as the source of [`StoreError::Unavailable`].
#[derive(Debug, thiserror::Error)]
#[error("not connected to Redis (reconnecting in the background)")]
pub struct NotConnected {
    /// The last connection error the client reported, if any.
    #[source]
    pub last_error: Option<ClientError>,
}

/// Server error replies that mean "not now" rather than "never".
const TRANSIENT_REPLIES: &[&str] = &[
    "LOADING",
    "BUSY",
    "MASTERDOWN",
    "READONLY",
    "TRYAGAIN",
    "CLUSTERDOWN",
    // `min-replicas-to-write`: the master refuses writes while its replicas lag.
    "NOREPLICAS",
];

/// What fred reports, as `ErrorKind::Unknown`, when it has no usable connection for a command.
const CLIENT_CONNECTION_FAILURES: &[&str] = &[
    "Failed to route command.",
    "Too many failed write attempts.",
    "Missing expected connection.",
    "Client is not initialized.",
    "Failed to send command to router.",
];

/// Maps a client failure to the store error an adapter understands. `timeout` is the
/// configured call timeout, reported by [`StoreError::Timeout`].
pub(crate) fn map(error: ClientError, timeout: Duration) -> StoreError {
    match error.kind() {
        ErrorKind::Timeout => StoreError::Timeout(timeout),
        ErrorKind::IO
        | ErrorKind::Canceled
        | ErrorKind::Cluster
        | ErrorKind::Sentinel
        | ErrorKind::Routing
        | ErrorKind::Backpressure => StoreError::unavailable(error),
        #[cfg(any(feature = "tls-rustls", feature = "tls-native"))]
        ErrorKind::Tls => StoreError::unavailable(error),
        _ if is_transient_reply(error.details())
            || CLIENT_CONNECTION_FAILURES.contains(&error.details()) =>
        {
            StoreError::unavailable(error)
        }
        _ => StoreError::backend(error),
    }
}

fn is_transient_reply(details: &str) -> bool {
    let first_word = details.split_whitespace().next().unwrap_or_default();
    TRANSIENT_REPLIES.contains(&first_word)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_millis(500);

    #[test]
    fn outages_are_unavailable_and_slowness_is_a_timeout() {
        let unavailable = [
            ClientError::new(ErrorKind::IO, "Connection reset by peer"),
            ClientError::new(ErrorKind::Canceled, "Connection closed unexpectedly."),
            ClientError::new(ErrorKind::Cluster, "slots moved"),
            ClientError::new(ErrorKind::Unknown, "LOADING Redis is loading the dataset"),
            ClientError::new(
                ErrorKind::Unknown,
                "READONLY You can't write against a replica.",
            ),
            ClientError::new(
                ErrorKind::Unknown,
                "NOREPLICAS Not enough good replicas to write.",
            ),
        ];
        for error in unavailable {
            assert!(
                matches!(map(error, T), StoreError::Unavailable(_)),
                "should be unavailable"
            );
        }
        assert!(matches!(
            map(ClientError::new(ErrorKind::Timeout, "Request timed out."), T),
            StoreError::Timeout(t) if t == T
        ));
    }

    #[test]
    fn other_failures_are_backend_errors_with_their_cause() {
        let error = map(ClientError::new(ErrorKind::Protocol, "bad frame"), T);
        assert!(matches!(error, StoreError::Backend(_)));
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.contains("bad frame")));
        assert!(matches!(
            map(
                ClientError::new(ErrorKind::Unknown, "WRONGTYPE Operation"),
                T
            ),
            StoreError::Backend(_)
        ));
    }
}
