//! How session failures become HTTP responses: one place, opaque bodies.

use std::sync::Arc;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Builds the response sent when a session operation fails.
pub type ErrorHandler = Arc<dyn Fn(&session_core::SessionError) -> Response + Send + Sync>;

/// The default response: the error's status (`503` when the store is unavailable, `500`
/// otherwise) with the status's reason phrase as the only body. Details go to the log.
pub(crate) fn default_response(error: &session_core::SessionError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, error.reason_phrase()).into_response()
}

/// A [`session_core::SessionError`] that a handler can return with `?`. Its response is
/// replaced by the layer's [`on_error`](crate::SessionLayer::on_error) response, so a
/// handler's session error and the layer's own answer the same way (outside a
/// [`SessionLayer`](crate::SessionLayer), the default opaque response).
#[derive(Debug)]
pub struct SessionError(pub session_core::SessionError);

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

/// Marks a response made from a handler's [`SessionError`], so that the layer can replace it
/// with its error response.
#[derive(Clone)]
pub(crate) struct HandlerFailure(pub(crate) Arc<session_core::SessionError>);

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        self.0.log();
        let mut response = default_response(&self.0);
        response
            .extensions_mut()
            .insert(HandlerFailure(Arc::new(self.0)));
        response
    }
}
