//! [`SessionLayer`]: wraps a router or service with sessions.

use std::sync::Arc;

use axum::response::Response;
use session_core::SessionManager;
use tower_layer::Layer;

use crate::{error, ErrorHandler, SessionService};

/// A tower [`Layer`] that gives every request a lazily loaded session and finishes it when
/// the response is ready. See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct SessionLayer {
    pub(crate) manager: SessionManager,
    pub(crate) on_error: ErrorHandler,
    /// Every request through this layer arrived over TLS.
    pub(crate) https: bool,
}

/// A request extension that says the request arrived over TLS, as the server knows it (the
/// client's URI is never believed: hyper leaves its scheme empty for HTTP/1.1, and a client
/// can send an absolute-form `https://` URI over plain HTTP). Under
/// [`Secure::Auto`](session_core::Secure::Auto) it makes the cookie `Secure`.
///
/// A server that terminates TLS in process and serves plain HTTP too (two listeners, one
/// router) adds it to the TLS side's requests, for example with axum's `Extension` layer on
/// the router served over TLS:
///
/// ```
/// use axum::{routing::get, Extension, Router};
/// use session_axum::{Https, SessionLayer};
/// # fn demo(manager: session_core::SessionManager) {
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hi" }))
///     .layer(SessionLayer::new(manager));
/// let over_tls = app.clone().layer(Extension(Https)); // serve this one with axum-server + rustls
/// let over_http = app;                                 // and this one on the plain port
/// # let _ = (over_tls, over_http); }
/// ```
///
/// A router that is only ever served over TLS says so once with
/// [`SessionLayer::https`]. Behind a proxy that terminates TLS, use
/// [`trust_proxy`](session_core::SessionConfigBuilder::trust_proxy) instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Https;

impl SessionLayer {
    /// A layer over `manager`'s store and configuration.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager,
            on_error: Arc::new(error::default_response),
            https: false,
        }
    }

    /// Says that every request through this layer arrives over TLS (a router served only by
    /// axum-server's `bind_rustls`, or by a tokio-rustls accept loop), so that
    /// [`Secure::Auto`](session_core::Secure::Auto) makes the cookie `Secure`. For a router
    /// served over both, mark the TLS side's requests with the [`Https`] extension instead.
    pub fn https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// Replaces the response sent when loading or saving the session fails. The error is
    /// logged either way. The default answers `503` (store unavailable) or `500` with no
    /// detail in the body.
    pub fn on_error(
        mut self,
        handler: impl Fn(&session_core::SessionError) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Arc::new(handler);
        self
    }
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("manager", &self.manager)
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.clone())
    }
}
