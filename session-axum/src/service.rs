//! [`SessionService`]: the per-request work of [`SessionLayer`](crate::SessionLayer).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{body::Body, response::Response};
use http::{
    header::{COOKIE, SET_COOKIE},
    HeaderValue, Request,
};
use session_core::{RequestFacts, RequestSession};
use tower_service::Service;

use crate::{error::HandlerFailure, ErrorHandler, Https, SessionLayer};

/// The extension the layer puts into each request; the [`Session`](crate::Session) extractor
/// reads it. Middleware can read it too, to reach the session outside a handler.
#[derive(Clone)]
pub(crate) struct SessionSlot {
    pub(crate) request: RequestSession,
    pub(crate) on_error: ErrorHandler,
}

/// The response future of [`SessionService`].
pub type ResponseFuture<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

/// The service made by [`SessionLayer`].
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, layer: SessionLayer) -> Self {
        Self { inner, layer }
    }
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let headers = request.headers();
        // What the server knows, never the URI the client sent.
        let tls = self.layer.https || request.extensions().get::<Https>().is_some();
        let facts = RequestFacts::plain_http()
            .with_tls(tls)
            .with_forwarded_proto(headers.get("x-forwarded-proto").map(HeaderValue::as_bytes));
        let session = self.layer.manager.begin(
            headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
            facts,
        );
        let on_error = self.layer.on_error.clone();
        request.extensions_mut().insert(SessionSlot {
            request: session.clone(),
            on_error: on_error.clone(),
        });

        // The clone that was made ready is the one to call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(request).await?;
            Ok(finish(&session, response, &on_error).await)
        })
    }
}

/// Saves, touches or destroys as the rules say, then adds `Set-Cookie`; on failure the
/// handler's response is replaced by the error response (nothing unsaved is acknowledged).
async fn finish<B>(
    session: &RequestSession,
    response: Response<B>,
    on_error: &ErrorHandler,
) -> Response
where
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let mut response = response.map(Body::new);
    if let Some(HandlerFailure(failure)) = response.extensions_mut().remove::<HandlerFailure>() {
        // Logged when the handler's error became a response.
        response = on_error(&failure);
    }
    match session.finish().await {
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
