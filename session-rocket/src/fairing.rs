//! [`SessionFairing`]: starts each request's session and finishes it when the response is
//! ready.

use std::sync::{Arc, Mutex, PoisonError};

use rocket::{
    fairing::{Fairing, Info, Kind},
    Data, Request, Response,
};
use session_core::{RequestFacts, RequestSession, SessionManager};

use crate::{error, ErrorHandler};

/// A Rocket [`Fairing`] that gives every request a lazily loaded session and, once the
/// response is ready, saves, touches or destroys it as express-session's rules say and
/// appends the session's `Set-Cookie` header. See the [crate docs](crate) for an example.
///
/// It leaves Rocket's [`CookieJar`](rocket::http::CookieJar) alone: cookies a handler adds
/// there are sent as usual, next to the session cookie. When the store fails, the response
/// is replaced by the error response (see [`on_error`](Self::on_error)).
#[derive(Clone)]
pub struct SessionFairing {
    manager: SessionManager,
    on_error: ErrorHandler,
}

impl SessionFairing {
    /// A fairing over `manager`'s store and configuration.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager,
            on_error: Arc::new(error::default_response),
        }
    }

    /// Replaces the response sent when loading or saving the session fails. The error is
    /// logged either way. The default answers `503` (store unavailable) or `500` with the
    /// reason phrase as the only body.
    pub fn on_error(
        mut self,
        handler: impl Fn(&session_core::SessionError) -> Response<'static> + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Arc::new(handler);
        self
    }
}

impl std::fmt::Debug for SessionFairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFairing")
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

/// What the fairing keeps in each request's local cache; the [`Session`](crate::Session)
/// guard and [`SessionError`](crate::SessionError) read it.
pub(crate) struct SessionSlot {
    pub(crate) request: RequestSession,
    pub(crate) on_error: ErrorHandler,
    /// A load failure seen by the guard: the response must be the error response, whatever
    /// answered the request after the guard failed (a catcher, or a handler that took
    /// `Option<Session>`).
    load_failure: Mutex<Option<session_core::SessionError>>,
}

impl SessionSlot {
    /// Records that loading the session failed; the first failure is the one answered.
    pub(crate) fn fail(&self, failure: session_core::SessionError) {
        let mut slot = self
            .load_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(failure);
    }

    fn take_failure(&self) -> Option<session_core::SessionError> {
        self.load_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The request's slot, or `None` when the fairing is not attached.
pub(crate) fn slot<'r>(request: &'r Request<'_>) -> Option<&'r SessionSlot> {
    request.local_cache(|| None::<SessionSlot>).as_ref()
}

#[rocket::async_trait]
impl Fairing for SessionFairing {
    fn info(&self) -> Info {
        Info {
            name: "session-rocket",
            kind: Kind::Request | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _data: &mut Data<'_>) {
        let headers = request.headers();
        // Rocket serves either TLS or plain HTTP on its one listener, so its configuration
        // says how this connection arrived.
        let facts = RequestFacts::plain_http()
            .with_tls(request.rocket().config().tls_enabled())
            .with_forwarded_proto(headers.get_one("X-Forwarded-Proto").map(str::as_bytes));
        let session = if headers.contains("Cookie") {
            self.manager
                .begin(headers.get("Cookie").map(str::as_bytes), facts)
        } else {
            // Rocket's local `Client` puts a request's cookies into its `CookieJar` and sends
            // no `Cookie` header; over HTTP the jar is parsed from the header, so this only
            // serves tests. The jar holds decoded values: encode the session cookie back.
            let name = self.manager.config().cookie_name();
            let pair = request
                .cookies()
                .get(name)
                .map(|cookie| cookie.encoded().stripped().to_string());
            self.manager
                .begin(pair.as_deref().map(str::as_bytes), facts)
        };
        let slot = SessionSlot {
            request: session,
            on_error: self.on_error.clone(),
            load_failure: Mutex::new(None),
        };
        request.local_cache(move || Some(slot));
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let Some(slot) = slot(request) else {
            return;
        };
        // The guard already logged it.
        if let Some(failure) = slot.take_failure() {
            *response = (slot.on_error)(&failure);
            return;
        }
        match slot.request.finish().await {
            // Next to, not instead of, the cookies of Rocket's `CookieJar`.
            Ok(cookies) => {
                for cookie in cookies {
                    response.adjoin_raw_header("Set-Cookie", cookie);
                }
            }
            // Nothing unsaved is acknowledged: the handler's response is dropped.
            Err(failure) => {
                failure.log();
                *response = (slot.on_error)(&failure);
            }
        }
    }
}
