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
}

impl SessionLayer {
    /// A layer over `manager`'s store and configuration.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager,
            on_error: Arc::new(error::default_response),
        }
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
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.clone())
    }
}
