//! [`SessionMiddleware`]: the actix [`Transform`] that gives each request its session, and
//! [`SessionService`], the per-request work it does.

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    sync::Arc,
};

use actix_web::{
    body::{BoxBody, EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{HeaderValue, COOKIE, SET_COOKIE},
    HttpMessage, HttpResponse,
};
use session_core::{RequestFacts, RequestSession, SessionManager};

use crate::{error, ErrorHandler};

/// What the middleware puts into each request's extensions; the [`Session`](crate::Session)
/// extractor and [`SessionExt`](crate::SessionExt) read it.
#[derive(Clone)]
pub(crate) struct SessionSlot {
    pub(crate) request: RequestSession,
    pub(crate) on_error: ErrorHandler,
}

/// An actix-web middleware that gives every request a lazily loaded session and finishes it
/// (save, touch or destroy, then `Set-Cookie`) when the handler's response is ready.
/// See the [crate docs](crate) for an example and for where to put it among other
/// middleware.
///
/// It is `Send + Sync + Clone`: build it once and clone it into the `HttpServer::new`
/// closure, or build it inside the closure from a cloned [`SessionManager`]; either way all
/// workers share one store and configuration.
///
/// If the wrapped service fails with an error instead of a response (a middleware inside
/// this one returned `Err`), the session is not finished: nothing is saved and no cookie is
/// sent, as for any request that was not acknowledged. Handler errors are responses in
/// actix, so they are finished normally.
#[derive(Clone)]
pub struct SessionMiddleware {
    manager: SessionManager,
    on_error: ErrorHandler,
}

impl SessionMiddleware {
    /// A middleware over `manager`'s store and configuration.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager,
            on_error: Arc::new(error::default_response),
        }
    }

    /// Replaces the response sent when loading or saving the session fails. The error is
    /// logged either way. The default answers `503` (store unavailable) or `500` with the
    /// reason phrase as the only body.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use session_actix::SessionMiddleware;
    /// use session_core::{MemoryStore, SessionConfig, SessionManager};
    ///
    /// let config = SessionConfig::builder()
    ///     .secret("a secret of at least thirty-two bytes!")
    ///     .build()?;
    /// let middleware = SessionMiddleware::new(SessionManager::new(MemoryStore::new(), config))
    ///     .on_error(|error| {
    ///         HttpResponse::ServiceUnavailable()
    ///             .insert_header(("Retry-After", "5"))
    ///             .body(format!("please try again ({})", error.status_code()))
    ///     });
    /// # drop(middleware);
    /// # Ok::<_, session_core::ConfigError>(())
    /// ```
    pub fn on_error(
        mut self,
        handler: impl Fn(&session_core::SessionError) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Arc::new(handler);
        self
    }
}

impl std::fmt::Debug for SessionMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
    S::Future: 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = S::Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service,
            middleware: self.clone(),
        }))
    }
}

/// The service made by [`SessionMiddleware`] around the wrapped app, scope or resource.
pub struct SessionService<S> {
    service: S,
    middleware: SessionMiddleware,
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("middleware", &self.middleware)
            .finish_non_exhaustive()
    }
}

/// The response future of [`SessionService`]. Like every actix future it need not be
/// `Send`; the session it carries is `Send` regardless.
pub type ResponseFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B, BoxBody>>, E>>>>;

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
    S::Future: 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<B, S::Error>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let headers = request.headers();
        let facts = RequestFacts::plain_http()
            .with_tls(request.app_config().secure())
            .with_forwarded_proto(headers.get("x-forwarded-proto").map(HeaderValue::as_bytes));
        let session = self
            .middleware
            .manager
            .begin(headers.get_all(COOKIE).map(HeaderValue::as_bytes), facts);
        let on_error = self.middleware.on_error.clone();
        request.extensions_mut().insert(SessionSlot {
            request: session.clone(),
            on_error: on_error.clone(),
        });

        let response = self.service.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(finish(&session, response, &on_error).await)
        })
    }
}

/// Saves, touches or destroys as the rules say, then appends `Set-Cookie`; on failure the
/// handler's response is replaced by the error response (nothing unsaved is acknowledged).
///
/// This runs when the response head is ready, before a streaming body is polled: writes made
/// while the body streams are not saved.
async fn finish<B>(
    session: &RequestSession,
    response: ServiceResponse<B>,
    on_error: &ErrorHandler,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    // A handler's `SessionError` (logged when it became a response) gets the same answer as
    // the middleware's own failures.
    let replacement = response
        .response()
        .error()
        .and_then(|error| error.as_error::<crate::SessionError>())
        .map(|error| on_error(&error.0));
    let cookies = match session.finish().await {
        Ok(cookies) => cookies,
        Err(failure) => {
            failure.log();
            return response
                .into_response(on_error(&failure))
                .map_into_right_body();
        }
    };
    let mut response = match replacement {
        Some(replacement) => response.into_response(replacement).map_into_right_body(),
        None => response.map_into_left_body(),
    };
    for cookie in cookies {
        // Names, paths and domains are validated by the config and values are
        // percent-encoded or base64, so the header is always valid.
        if let Ok(value) = HeaderValue::try_from(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}
