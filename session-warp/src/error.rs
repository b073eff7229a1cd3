//! How session failures become HTTP responses: one place, opaque bodies.

use std::sync::Arc;

use warp::{
    http::StatusCode,
    reply::{Reply, Response},
};

/// Builds the response sent when a session operation fails.
pub type ErrorHandler = Arc<dyn Fn(&session_core::SessionError) -> Response + Send + Sync>;

/// The default response: the error's status (`503` when the store is unavailable, `500`
/// otherwise) with the status's reason phrase as the only body. Details go to the log.
pub(crate) fn default_response(error: &session_core::SessionError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    warp::reply::with_status(error.reason_phrase(), status).into_response()
}

/// A [`session_core::SessionError`] that a handler can return with `?` (as the error of a
/// `Result` reply); it answers with the same opaque response as [`Sessions`](crate::Sessions)'
/// default, or with its [`on_error`](crate::Sessions::on_error) response inside
/// [`Sessions::wrap`](crate::Sessions::wrap).
#[derive(Debug)]
pub struct SessionError(pub session_core::SessionError);

/// Marks a response made from a handler's [`SessionError`], so that the wrap can replace it
/// with the configured error response.
#[derive(Clone)]
pub(crate) struct HandlerFailure(pub(crate) Arc<session_core::SessionError>);

impl From<session_core::SessionError> for SessionError {
    fn from(error: session_core::SessionError) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Reply for SessionError {
    fn into_response(self) -> Response {
        self.0.log();
        let mut response = default_response(&self.0);
        response
            .extensions_mut()
            .insert(HandlerFailure(Arc::new(self.0)));
        response
    }
}

/// Why the [`Sessions::session`](crate::Sessions::session) filter rejected a request.
///
/// Inside [`Sessions::wrap`](crate::Sessions::wrap) these never reach warp's default
/// rejection handling: the wrap answers them itself.
#[non_exhaustive]
pub enum SessionRejection {
    /// The filter runs outside [`Sessions::wrap`](crate::Sessions::wrap) of the same
    /// [`Sessions`](crate::Sessions): a wiring bug, answered with `500` and a message that
    /// says how to fix it.
    MissingWrap,
    /// Two requests wrapped by the same [`Sessions`](crate::Sessions) were in flight in one
    /// task (or the same routes were wrapped twice), so the filter cannot tell whose session
    /// to give; answered with `500` rather than risking the wrong session.
    Ambiguous,
    /// The store failed while loading; answered with the configured error response.
    LoadFailed(session_core::SessionError),
}

const MISSING_WRAP: &str = "session_warp: Sessions::session() used outside Sessions::wrap: \
                            wrap the routes with `sessions.wrap(routes)`, using the same \
                            Sessions (or a clone) for both";

const AMBIGUOUS: &str = "session_warp: two requests wrapped by the same Sessions are in flight \
                         in one task, or the routes are wrapped twice: serve each request on its \
                         own task (as warp::serve does) and wrap the routes once";

impl std::fmt::Debug for SessionRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // warp's default rejection handler prints this in the body of its 500, so the wiring
        // bugs explain themselves; a load failure never gets there (the wrap answers it).
        match self {
            Self::MissingWrap => f.write_str(MISSING_WRAP),
            Self::Ambiguous => f.write_str(AMBIGUOUS),
            Self::LoadFailed(error) => f.debug_tuple("LoadFailed").field(error).finish(),
        }
    }
}

impl warp::reject::Reject for SessionRejection {}

impl SessionRejection {
    /// Logs why the filter rejects; called once, where the rejection is made.
    pub(crate) fn log(&self) {
        match self {
            Self::LoadFailed(error) => error.log(),
            Self::MissingWrap => tracing::error!("{MISSING_WRAP}"),
            Self::Ambiguous => tracing::error!("{AMBIGUOUS}"),
        }
    }

    /// The response the wrap sends for this rejection.
    pub(crate) fn response(&self, on_error: &ErrorHandler) -> Response {
        let wiring_bug = match self {
            Self::LoadFailed(error) => return on_error(error),
            Self::MissingWrap => MISSING_WRAP,
            Self::Ambiguous => AMBIGUOUS,
        };
        warp::reply::with_status(wiring_bug, StatusCode::INTERNAL_SERVER_ERROR).into_response()
    }
}
