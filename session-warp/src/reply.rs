//! Finishing a wrapped request: the session's end-of-request work and its `Set-Cookie`.

use warp::{
    http::{header::SET_COOKIE, HeaderValue},
    reply::{Reply, Response},
};

use crate::{
    error::{ErrorHandler, HandlerFailure},
    registry::Registration,
};

/// Turns the handler's reply into the response: a handler's
/// [`SessionError`](crate::SessionError) becomes the configured error response; then the
/// session is saved, touched or destroyed as the rules say and `Set-Cookie` is appended. When
/// that fails, the error response replaces the reply (nothing unsaved is acknowledged).
pub(crate) async fn finish<R: Reply>(
    registration: Registration,
    reply: R,
    on_error: ErrorHandler,
) -> Response {
    let mut response = reply.into_response();
    if let Some(HandlerFailure(failure)) = response.extensions_mut().remove::<HandlerFailure>() {
        // Logged when the handler's error became a reply.
        response = on_error(&failure);
    }
    let Some(request) = registration.request() else {
        // No filter asked for the session: nothing to do, nothing was loaded.
        return response;
    };
    match request.finish().await {
        Ok(cookies) => {
            for cookie in cookies {
                // Names, paths and domains are validated by the config and values are
                // percent-encoded or base64, so the header is always valid.
                if let Ok(value) = HeaderValue::try_from(cookie) {
                    response.headers_mut().append(SET_COOKIE, value);
                }
            }
            response
        }
        Err(failure) => {
            failure.log();
            on_error(&failure)
        }
    }
}
