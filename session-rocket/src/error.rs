//! How session failures become Rocket responses: one place, opaque bodies.

use std::{io::Cursor, sync::Arc};

use rocket::{
    http::{ContentType, Status},
    response::{self, Responder},
    Request, Response,
};

use crate::fairing;

/// Builds the response sent when a session operation fails. See
/// [`SessionFairing::on_error`](crate::SessionFairing::on_error).
pub type ErrorHandler = Arc<dyn Fn(&session_core::SessionError) -> Response<'static> + Send + Sync>;

/// The default response: the error's status (`503` when the store is unavailable, `500`
/// otherwise) with the status's reason phrase as the only, `text/plain`, body. Details go to
/// the log.
pub(crate) fn default_response(error: &session_core::SessionError) -> Response<'static> {
    let status = Status::from_code(error.status_code()).unwrap_or(Status::InternalServerError);
    let reason = error.reason_phrase();
    Response::build()
        .status(status)
        .header(ContentType::Plain)
        .sized_body(reason.len(), Cursor::new(reason))
        .finalize()
}

/// The response for `error` in this request: the fairing's [`ErrorHandler`], or the default
/// when the fairing is not attached.
pub(crate) fn response_for(
    request: &Request<'_>,
    error: &session_core::SessionError,
) -> Response<'static> {
    match fairing::slot(request) {
        Some(slot) => (slot.on_error)(error),
        None => default_response(error),
    }
}

/// A [`session_core::SessionError`] that a handler can return with `?`: it answers with the
/// fairing's error response (by default the opaque `503`/`500`) and logs the details.
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

impl<'r> Responder<'r, 'static> for SessionError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        self.0.log();
        Ok(response_for(request, &self.0))
    }
}
