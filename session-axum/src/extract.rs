//! [`Session`]: the axum extractor.

use std::ops::Deref;

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};

use crate::service::SessionSlot;

/// The request's session, for handlers: `async fn handler(session: Session)`. Derefs to
/// [`session_core::Session`]; clones share the same state and can move into spawned tasks.
#[derive(Debug, Clone)]
pub struct Session(pub session_core::Session);

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Why the [`Session`] extractor failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionRejection {
    /// The route is not wrapped in [`SessionLayer`](crate::SessionLayer): a wiring bug,
    /// answered with `500` and a message that says so.
    MissingLayer,
    /// The store failed while loading; holds the configured error response.
    LoadFailed(Response),
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            Self::MissingLayer => {
                tracing::error!("Session extractor used on a route without SessionLayer");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Session extractor used without SessionLayer: add \
                     `.layer(session_axum::SessionLayer::new(manager))` to the router",
                )
                    .into_response()
            }
            Self::LoadFailed(response) => response,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .ok_or(SessionRejection::MissingLayer)?;
        match slot.request.session().await {
            Ok(session) => Ok(Self(session)),
            Err(failure) => {
                failure.log();
                Err(SessionRejection::LoadFailed((slot.on_error)(&failure)))
            }
        }
    }
}
