//! How session failures become HTTP responses: the one place where [`session_core`] errors
//! meet actix's [`ResponseError`], always with an opaque body.

use std::{fmt, sync::Arc};

use actix_web::{http::StatusCode, HttpResponse, ResponseError};

/// Builds the response sent when loading or saving the session fails; set it with
/// [`SessionMiddleware::on_error`](crate::SessionMiddleware::on_error).
///
/// It is `Send + Sync` so that one middleware value can be built outside
/// `HttpServer::new` and cloned into every worker.
pub type ErrorHandler = Arc<dyn Fn(&session_core::SessionError) -> HttpResponse + Send + Sync>;

/// The status for `error`: `503` when the store is unavailable or slow, `500` otherwise
/// (decided by [`session_core::SessionError::status_code`]).
fn status(error: &session_core::SessionError) -> StatusCode {
    StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The default response: the error's status with the status's reason phrase as the only
/// body. Details go to the log, never to the client.
pub(crate) fn default_response(error: &session_core::SessionError) -> HttpResponse {
    let status = status(error);
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(error.reason_phrase())
}

/// A [`session_core::SessionError`] that a handler can return with `?`; it answers with the
/// same opaque response as the middleware's default (`503` or `500`, reason phrase as body)
/// and logs the details.
///
/// ```
/// use session_actix::{Session, SessionError};
///
/// async fn visit(session: Session) -> Result<String, SessionError> {
///     let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
///     session.insert("count", count)?;
///     Ok(format!("count={count}"))
/// }
/// ```
///
/// The middleware then replaces that response with its
/// [`on_error`](crate::SessionMiddleware::on_error) response, so a handler's session error
/// and the middleware's own answer the same way. That works when the error reaches actix as
/// an error: returned as `Err`, or turned into a response with `HttpResponse::from_error`
/// (not with `error_response()`, which drops it).
#[derive(Debug)]
pub struct SessionError(pub session_core::SessionError);

impl From<session_core::SessionError> for SessionError {
    fn from(error: session_core::SessionError) -> Self {
        Self(error)
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        status(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        default_response(&self.0)
    }
}

/// Why the [`Session`](crate::Session) extractor or
/// [`SessionExt::session`](crate::SessionExt::session) failed. It converts into
/// [`actix_web::Error`], so handlers can use `?` on it.
#[non_exhaustive]
pub enum SessionRejection {
    /// The request did not pass through [`SessionMiddleware`](crate::SessionMiddleware):
    /// a wiring bug (the middleware is missing, or it wraps less than the route, or the
    /// caller is a middleware that runs before it). Answered with `500` and a message that
    /// says how to fix it.
    MissingMiddleware,
    /// The store failed while loading the session; answered with the middleware's
    /// [error response](crate::SessionMiddleware::on_error).
    LoadFailed {
        /// What failed.
        error: session_core::SessionError,
        /// The middleware's error response builder.
        on_error: ErrorHandler,
    },
}

/// The body of the `500` sent when the middleware is missing. It names no secret and no
/// request data, only the fix.
const MISSING_MIDDLEWARE: &str = "Session used without SessionMiddleware: wrap the app, scope or \
     resource with `.wrap(session_actix::SessionMiddleware::new(manager))`";

impl fmt::Debug for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingMiddleware => f.write_str("MissingMiddleware"),
            Self::LoadFailed { error, .. } => f
                .debug_struct("LoadFailed")
                .field("error", error)
                .finish_non_exhaustive(),
        }
    }
}

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingMiddleware => f.write_str("session middleware is missing"),
            Self::LoadFailed { error, .. } => write!(f, "session could not be loaded: {error}"),
        }
    }
}

impl std::error::Error for SessionRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MissingMiddleware => None,
            Self::LoadFailed { error, .. } => Some(error),
        }
    }
}

impl ResponseError for SessionRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingMiddleware => StatusCode::INTERNAL_SERVER_ERROR,
            Self::LoadFailed { error, .. } => status(error),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::MissingMiddleware => {
                tracing::error!("Session requested on a route without SessionMiddleware");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body(MISSING_MIDDLEWARE)
            }
            // Logged where it failed; the hook only shapes the response.
            Self::LoadFailed { error, on_error } => on_error(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::body::MessageBody;
    use session_core::StoreError;

    use super::*;

    fn body(response: HttpResponse) -> String {
        let bytes = response.into_body().try_into_bytes().expect("sized body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn an_unavailable_store_is_a_503_with_only_the_reason_phrase() {
        let error = SessionError(StoreError::unavailable("connection refused to 10.0.0.7").into());
        assert_eq!(error.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body(response), "Service Unavailable");
    }

    #[test]
    fn a_timeout_is_a_503_and_anything_else_a_500() {
        let timeout = SessionError(StoreError::Timeout(Duration::from_secs(2)).into());
        assert_eq!(timeout.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let corrupt = SessionError(StoreError::corrupt("bad json at byte 3").into());
        let response = corrupt.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body(response), "Internal Server Error");
        let reserved = SessionError(session_core::SessionError::ReservedKey("cookie".into()));
        assert_eq!(body(reserved.error_response()), "Internal Server Error");
    }

    #[test]
    fn the_cause_is_kept_as_source() {
        let error = SessionError(session_core::SessionError::Missing);
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn a_load_failure_answers_with_the_configured_response() {
        let rejection = SessionRejection::LoadFailed {
            error: StoreError::unavailable("down").into(),
            on_error: Arc::new(|_| HttpResponse::ImATeapot().body("custom")),
        };
        assert_eq!(rejection.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(body(response), "custom");
    }
}
