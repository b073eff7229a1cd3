//! The errors a session can report: what a store says ([`StoreError`]) and what a handler or an
//! adapter sees ([`SessionError`]).

use std::{error::Error as StdError, time::Duration};

/// A boxed error kept as the [`source`](StdError::source) of a store or session error.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure reported by a [`Store`](crate::Store).
///
/// The variants say what kind of failure it was, so that an adapter can answer
/// `503 Service Unavailable` to an outage and `500` to a broken record; the cause is kept
/// as [`source`](StdError::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached (connection refused, dropped, not yet connected).
    #[error("session store unavailable")]
    Unavailable(#[source] BoxError),
    /// The backend did not answer within the configured time.
    #[error("session store did not answer within {0:?}")]
    Timeout(Duration),
    /// A stored record could not be decoded.
    #[error("stored session record is corrupt")]
    Corrupt(#[source] BoxError),
    /// A record could not be encoded for storage.
    #[error("session record could not be encoded")]
    Encode(#[source] BoxError),
    /// Any other failure of the backend.
    #[error("session store failed")]
    Backend(#[source] BoxError),
    /// The record is larger than the store can keep (a bounded memory store's whole budget);
    /// nothing was written.
    #[error("session record of {size} bytes exceeds the store's limit of {limit}")]
    TooLarge {
        /// What the record would cost, in bytes.
        size: u64,
        /// What the store allows.
        limit: u64,
    },
}

impl StoreError {
    /// Wraps a cause as [`StoreError::Unavailable`].
    pub fn unavailable(cause: impl Into<BoxError>) -> Self {
        Self::Unavailable(cause.into())
    }

    /// Wraps a cause as [`StoreError::Corrupt`].
    pub fn corrupt(cause: impl Into<BoxError>) -> Self {
        Self::Corrupt(cause.into())
    }

    /// Wraps a cause as [`StoreError::Backend`].
    pub fn backend(cause: impl Into<BoxError>) -> Self {
        Self::Backend(cause.into())
    }

    /// Whether this failure is an outage that may pass (unreachable or slow backend).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Timeout(_))
    }
}

/// A failure of a session operation, as a handler or an adapter sees it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed; the request cannot be served with a trustworthy session.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value could not be converted to or from JSON.
    #[error("session value could not be converted")]
    Value(#[source] serde_json::Error),
    /// The key is reserved by the session format (`cookie`, `id`, `save`, ...) and cannot hold
    /// application data.
    #[error("`{0}` is a reserved session key")]
    ReservedKey(String),
    /// The session was destroyed earlier in this request; call
    /// [`Session::regenerate`](crate::Session::regenerate) to start a new one.
    #[error("the session was destroyed")]
    Destroyed,
    /// [`Session::reload`](crate::Session::reload) found no record for this session.
    #[error("the session no longer exists in the store")]
    Missing,
    /// The operating system's random number generator failed.
    #[error("could not generate a session id")]
    IdGeneration(#[source] BoxError),
    /// The id generator kept returning ids that the store already holds.
    #[error("could not find a free session id after {0} attempts")]
    IdCollision(u32),
    /// Another request changed the same key of the session since this one loaded it, and
    /// the configuration says to refuse rather than overwrite
    /// ([`ConflictPolicy::Reject`](crate::ConflictPolicy::Reject)). Nothing was written.
    #[error("another request changed session key `{0}` meanwhile")]
    Conflict(String),
    /// The session ended while this request was running (a logout, a `regenerate()` or a
    /// revoke in another request, or its expiry), so an explicit
    /// [`Session::save`](crate::Session::save) had nothing to write to. Nothing was written.
    #[error("the session ended while this request was running")]
    Ended,
    /// Other requests kept changing the session while this one tried to save its changes,
    /// more times than a save retries. Nothing of this request was written.
    #[error("the session kept changing under {0} attempts to save")]
    Contended(u32),
    /// [`SessionManager::revoke_sessions_of`](crate::SessionManager::revoke_sessions_of) or
    /// [`Session::log_out_everywhere`](crate::Session::log_out_everywhere) needs to know where
    /// a session's user is: configure
    /// [`SessionConfigBuilder::user_key`](crate::SessionConfigBuilder::user_key).
    #[error("no user key is configured, so sessions cannot be listed by user")]
    NoUserKey,
    /// The session is larger than the configured limit
    /// ([`SessionConfigBuilder::max_session_bytes`](crate::SessionConfigBuilder::max_session_bytes));
    /// nothing was written.
    #[error("the session is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The session's size as stored (its JSON), in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The session could not be written into its cookie (cookie mode).
    #[error("the session could not be written into its cookie")]
    Cookie(#[source] BoxError),
    /// The operation needs a store, and the session lives in its cookie (cookie mode):
    /// listing or revoking a user's sessions, for example.
    #[error("{0} needs a session store; cookie mode has none")]
    NeedsStore(&'static str),
    /// The session's other requests kept it longer than the configured wait
    /// ([`SessionConfigBuilder::serialize_requests`](crate::SessionConfigBuilder::serialize_requests)).
    #[error("the session stayed busy with other requests for {0:?}")]
    Busy(Duration),
}

impl SessionError {
    /// The HTTP status an adapter answers with when this error ends a request:
    /// `503` when the store is unavailable or slow or the session stayed busy, `409` when a
    /// save met a conflicting change or an ended session, `413` when the session is too large
    /// to store, `501` when the operation needs a store and the session lives in its cookie,
    /// `500` otherwise.
    ///
    /// ```
    /// use session_core::{SessionError, StoreError};
    /// use std::time::Duration;
    /// assert_eq!(SessionError::from(StoreError::Timeout(Duration::from_secs(1))).status_code(), 503);
    /// assert_eq!(SessionError::Conflict("count".into()).status_code(), 409);
    /// assert_eq!(SessionError::Missing.status_code(), 500);
    /// ```
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Store(store) if store.is_unavailable() => 503,
            Self::Busy(_) | Self::Contended(_) => 503,
            Self::Conflict(_) | Self::Ended => 409,
            Self::TooLarge { .. } | Self::Store(StoreError::TooLarge { .. }) => 413,
            Self::NeedsStore(_) => 501,
            _ => 500,
        }
    }

    /// The reason phrase of [`status_code`](Self::status_code): the whole body of the opaque
    /// error response every adapter sends by default.
    ///
    /// ```
    /// use session_core::SessionError;
    /// assert_eq!(SessionError::Missing.reason_phrase(), "Internal Server Error");
    /// ```
    pub fn reason_phrase(&self) -> &'static str {
        match self.status_code() {
            503 => "Service Unavailable",
            409 => "Conflict",
            413 => "Payload Too Large",
            501 => "Not Implemented",
            _ => "Internal Server Error",
        }
    }

    /// Logs the error and its cause with `tracing`: the one place where the details that the
    /// opaque response leaves out are recorded.
    pub fn log(&self) {
        tracing::error!(error = %self, cause = ?StdError::source(self), "session operation failed");
    }
}
