//! [`Session`]: the Rocket request guard.

use std::ops::Deref;

use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};

use crate::fairing;

/// The request's session, for handlers: `fn handler(session: Session)`. Derefs to
/// [`session_core::Session`]; clones share the same state and can move into spawned tasks.
///
/// The session is loaded the first time a guard asks for it in a request. When the store
/// fails, the guard fails and the request is answered with the
/// [`SessionFairing`](crate::SessionFairing)'s error response (by default an opaque `503` or
/// `500`), never with a new, empty session.
#[derive(Debug, Clone)]
pub struct Session(pub session_core::Session);

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Why the [`Session`] guard failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionRejection {
    /// The [`SessionFairing`](crate::SessionFairing) is not attached: a wiring bug, answered
    /// with `500` and logged with the fix.
    MissingFairing,
    /// The store failed while loading; the fairing answers with its error response.
    LoadFailed,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session {
    type Error = SessionRejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(slot) = fairing::slot(request) else {
            tracing::error!(
                "Session guard used without SessionFairing: attach \
                 `session_rocket::SessionFairing::new(manager)` to the Rocket"
            );
            return Outcome::Error((
                Status::InternalServerError,
                SessionRejection::MissingFairing,
            ));
        };
        match slot.request.session().await {
            Ok(session) => Outcome::Success(Self(session)),
            Err(failure) => {
                failure.log();
                let status =
                    Status::from_code(failure.status_code()).unwrap_or(Status::InternalServerError);
                slot.fail(failure);
                Outcome::Error((status, SessionRejection::LoadFailed))
            }
        }
    }
}
