//! [`Sessions`] and its filters: [`Sessions::session`] gives handlers the request's [`Session`],
//! and [`Sessions::wrap`] surrounds the routes so that every request's session is finished
//! when its reply is ready.

use std::{ops::Deref, sync::Arc};

use session_core::{RequestFacts, SessionManager};
use warp::{
    http::{header::COOKIE, HeaderMap, HeaderValue},
    reply::{Reply, Response},
    Filter, Rejection,
};

use crate::{
    error::{self, ErrorHandler, SessionRejection},
    registry::{Lookup, Registration, Registry},
    reply,
};

/// Sessions for a warp app: built from a [`SessionManager`], it makes the
/// [`session`](Self::session) filter for handlers and [`wrap`](Self::wrap)s the routes.
/// Build both from the same `Sessions` (or clones of it). See the [crate docs](crate) for an
/// example.
#[derive(Clone)]
pub struct Sessions {
    manager: SessionManager,
    on_error: ErrorHandler,
    registry: Arc<Registry>,
    /// Every request arrives over TLS (`warp::serve(..).tls()`).
    https: bool,
}

impl Sessions {
    /// Sessions over `manager`'s store and configuration.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager,
            on_error: Arc::new(error::default_response),
            registry: Arc::default(),
            https: false,
        }
    }

    /// Says that every request arrives over TLS (routes served with `warp::serve(..).tls()`),
    /// so that [`Secure::Auto`](session_core::Secure::Auto) makes the cookie `Secure`. warp
    /// tells its filters nothing about the connection, and the client's URI is never believed;
    /// behind a proxy that terminates TLS, use
    /// [`trust_proxy`](session_core::SessionConfigBuilder::trust_proxy) instead.
    pub fn https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// Replaces the response sent when loading or saving the session fails, or when a
    /// handler returns a [`SessionError`](crate::SessionError). The error is logged either
    /// way. The default answers `503` (store unavailable) or `500` with the status's reason
    /// phrase as the only body.
    pub fn on_error(
        mut self,
        handler: impl Fn(&session_core::SessionError) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Arc::new(handler);
        self
    }

    /// The manager the sessions come from.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }

    /// A filter that extracts the request's [`Session`], loading it on first use: routes that
    /// never use this filter cost no store I/O. Put it after the filters that select the
    /// route (path, method), so that requests for other routes do not load the session.
    ///
    /// It rejects when the store fails ([`SessionRejection::LoadFailed`], answered by the wrap
    /// with the [error response](Self::on_error): never a silent new session) and when it runs
    /// outside [`wrap`](Self::wrap) ([`SessionRejection::MissingWrap`], a `500` that explains
    /// the fix).
    pub fn session(
        &self,
    ) -> impl Filter<Extract = (Session,), Error = Rejection> + Clone + Send + Sync + 'static {
        let manager = self.manager.clone();
        let registry = self.registry.clone();
        let https = self.https;
        warp::header::headers_cloned().and_then(move |headers: HeaderMap| {
            // Looked up now, while the request's task polls this filter.
            let lookup = registry.lookup();
            let manager = manager.clone();
            async move {
                match load(lookup, &manager, &headers, https).await {
                    Ok(session) => Ok(Session(session)),
                    Err(rejection) => {
                        rejection.log();
                        Err(warp::reject::custom(rejection))
                    }
                }
            }
        })
    }

    /// Surrounds `routes` with sessions: every request gets a session slot that the
    /// [`session`](Self::session) filters inside can load, and when the reply is ready the
    /// session is saved, touched or destroyed as express-session's rules say and `Set-Cookie`
    /// is appended. A store failure, when loading or finishing, answers with the
    /// [error response](Self::on_error) instead of the reply. Other rejections pass through.
    ///
    /// Handlers return ordinary replies: no `(reply, session)` tuples. Wrap the routes once;
    /// `routes` may combine any number of filters with `.or()`, and handlers may be `async`.
    pub fn wrap<F, R>(
        &self,
        routes: F,
    ) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static
    where
        F: Filter<Extract = (R,), Error = Rejection> + Clone + Send + Sync + 'static,
        R: Reply,
    {
        let registry = self.registry.clone();
        let on_finish_error = self.on_error.clone();
        let on_rejection = self.on_error.clone();
        warp::any()
            // Runs when the request is first polled, so on the task that polls it.
            .map(move || registry.register())
            .and(routes)
            .then(move |registration: Registration, reply: R| {
                reply::finish(registration, reply, on_finish_error.clone())
            })
            .recover(move |rejection: Rejection| {
                let response = rejection
                    .find::<SessionRejection>()
                    .map(|session| session.response(&on_rejection));
                async move { response.ok_or(rejection) }
            })
            .unify()
    }
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("manager", &self.manager)
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

async fn load(
    lookup: Lookup,
    manager: &SessionManager,
    headers: &HeaderMap,
    https: bool,
) -> Result<session_core::Session, SessionRejection> {
    let slot = match lookup {
        Lookup::Found(slot) => slot,
        Lookup::Missing => return Err(SessionRejection::MissingWrap),
        Lookup::Ambiguous => return Err(SessionRejection::Ambiguous),
    };
    let request = slot.get_or_init(|| {
        // warp reports no TLS: the app says whether it serves over TLS. The core decides
        // whether to trust the proxy.
        let facts = RequestFacts::plain_http()
            .with_tls(https)
            .with_forwarded_proto(headers.get("x-forwarded-proto").map(HeaderValue::as_bytes));
        manager.begin(
            headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
            facts,
        )
    });
    request
        .session()
        .await
        .map_err(SessionRejection::LoadFailed)
}

/// The request's session, for handlers: `sessions.session().map(|session: Session| ...)`.
/// Derefs to [`session_core::Session`]; clones share the same state and can move into
/// spawned tasks.
#[derive(Debug, Clone)]
pub struct Session(pub session_core::Session);

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
