//! Reaching the session from a request: the [`Session`] extractor for handlers and the
//! [`SessionExt`] trait for code that holds an [`HttpRequest`] or a [`ServiceRequest`].

use std::{future::Future, ops::Deref, pin::Pin};

use actix_web::{
    dev::{Payload, ServiceRequest},
    FromRequest, HttpMessage, HttpRequest,
};

use crate::{middleware::SessionSlot, SessionRejection};

/// The request's session, for handlers: `async fn handler(session: Session)`. Derefs to
/// [`session_core::Session`].
///
/// Unlike actix-session's `Rc<RefCell<..>>` session, the handle is `Send + Sync`; clones
/// share the same state, so it can move into a spawned task or a blocking thread. Whatever
/// the clone writes before the handler's response is ready is saved with the request.
///
/// ```
/// use actix_web::{rt::task::spawn_blocking, test, web, App, HttpResponse};
/// use session_actix::{Session, SessionMiddleware};
/// use session_core::{MemoryStore, SessionConfig, SessionManager};
///
/// async fn audit(session: Session) -> HttpResponse {
///     let handle = session.0.clone(); // a `session_core::Session`: `Send + Sync + 'static`
///     match spawn_blocking(move || handle.insert("audited", true)).await {
///         Ok(Ok(())) => HttpResponse::Ok().body("audited"),
///         _ => HttpResponse::InternalServerError().finish(),
///     }
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let config = SessionConfig::builder()
///     .secret("a secret of at least thirty-two bytes!")
///     .save_uninitialized(false) // only a session with data is saved and sent
///     .build()?;
/// let manager = SessionManager::new(MemoryStore::new(), config);
/// let app = test::init_service(
///     App::new()
///         .route("/audit", web::get().to(audit))
///         .wrap(SessionMiddleware::new(manager)),
/// )
/// .await;
/// let request = test::TestRequest::get().uri("/audit").to_request();
/// let response = test::call_service(&app, request).await;
/// assert!(response.status().is_success());
/// assert!(response.headers().contains_key("set-cookie"), "the write made in the task is saved");
/// # Ok::<_, session_core::ConfigError>(())
/// # })?;
/// # Ok::<_, session_core::ConfigError>(())
/// ```
///
/// Without [`SessionMiddleware`](crate::SessionMiddleware) around the route, extraction fails
/// with a `500` whose body says how to fix the wiring ([`SessionRejection::MissingMiddleware`]).
#[derive(Debug, Clone)]
pub struct Session(pub session_core::Session);

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<Session> for session_core::Session {
    fn from(session: Session) -> Self {
        session.0
    }
}

impl FromRequest for Session {
    type Error = SessionRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(load(slot(&request.extensions())))
    }
}

/// Session access for the request types that actix code holds: [`HttpRequest`] in handlers
/// and extractors, [`ServiceRequest`] in middleware.
///
/// The session is loaded on first use, so access is `async`; the returned future borrows
/// nothing from the request, so a middleware can take it before passing the request on.
///
/// ```
/// use actix_web::{HttpRequest, HttpResponse};
/// use session_actix::SessionExt;
///
/// async fn whoami(request: HttpRequest) -> actix_web::Result<HttpResponse> {
///     let session = request.session().await?;
///     let user: Option<String> = session.get("user").map_err(session_actix::SessionError)?;
///     Ok(HttpResponse::Ok().body(user.unwrap_or_default()))
/// }
/// ```
///
/// A middleware that reads the session must run *inside*
/// [`SessionMiddleware`](crate::SessionMiddleware): `.wrap()` it *before* the session
/// middleware (see the [crate docs](crate#middleware-order)).
pub trait SessionExt: sealed::Sealed {
    /// The request's session, loaded from the store on the first call of the request.
    /// Fails with [`SessionRejection::MissingMiddleware`] when the request has not passed
    /// through [`SessionMiddleware`](crate::SessionMiddleware), and with
    /// [`SessionRejection::LoadFailed`] when the store fails.
    fn session(&self) -> impl Future<Output = Result<Session, SessionRejection>> + Send + 'static;
}

impl SessionExt for HttpRequest {
    fn session(&self) -> impl Future<Output = Result<Session, SessionRejection>> + Send + 'static {
        load(slot(&self.extensions()))
    }
}

impl SessionExt for ServiceRequest {
    fn session(&self) -> impl Future<Output = Result<Session, SessionRejection>> + Send + 'static {
        load(slot(&self.extensions()))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for actix_web::HttpRequest {}
    impl Sealed for actix_web::dev::ServiceRequest {}
}

fn slot(extensions: &actix_web::dev::Extensions) -> Option<SessionSlot> {
    extensions.get::<SessionSlot>().cloned()
}

async fn load(slot: Option<SessionSlot>) -> Result<Session, SessionRejection> {
    let slot = slot.ok_or(SessionRejection::MissingMiddleware)?;
    match slot.request.session().await {
        Ok(session) => Ok(Session(session)),
        Err(failure) => {
            failure.log();
            Err(SessionRejection::LoadFailed {
                error: failure,
                on_error: slot.on_error,
            })
        }
    }
}
