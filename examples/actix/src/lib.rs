//! The reference app (`examples/README.md`) as an actix-web [`App`].

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::StatusCode,
    web, App, HttpResponse,
};
use example_common::routes::{self, Reply};
use serde::Deserialize;
use session_actix::{Session, SessionError, SessionMiddleware};
use session_core::SessionManager;

/// The reference app's routes behind a [`SessionMiddleware`] over `manager`. Call it once per
/// worker, inside `HttpServer::new`, with a clone of one manager.
pub fn app(
    manager: SessionManager,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .route(
            "/",
            web::get().to(|s: Session| async move { reply(routes::visit(&s)) }),
        )
        .route("/peek", web::get().to(peek))
        .route("/bump", web::get().to(bump))
        .route("/login", web::get().to(login))
        .route(
            "/whoami",
            web::get().to(|s: Session| async move { reply(routes::whoami(&s)) }),
        )
        .route(
            "/logout",
            web::get().to(|s: Session| async move { reply(routes::logout(&s).await) }),
        )
        .route(
            "/logout-everywhere",
            web::get().to(|s: Session| async move { reply(routes::logout_everywhere(&s).await) }),
        )
        .route(
            "/remember",
            web::get().to(|s: Session| async move { reply(routes::remember(&s)) }),
        )
        .route("/max-age", web::get().to(max_age))
        .route(
            "/unset",
            web::get().to(|s: Session| async move { reply(routes::unset(&s)) }),
        )
        .route("/health", web::get().to(|| async { "ok" }))
        .wrap(SessionMiddleware::new(manager).on_error(|error| plain(routes::error_reply(error))))
}

#[derive(Deserialize)]
struct LoginQuery {
    user: Option<String>,
}

async fn login(session: Session, query: web::Query<LoginQuery>) -> HttpResponse {
    reply(routes::login(&session, query.user.as_deref()).await)
}

#[derive(Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

async fn peek(session: Session, query: web::Query<KeyQuery>) -> HttpResponse {
    reply(routes::peek(&session, query.key.as_deref()))
}

async fn bump(session: Session, query: web::Query<KeyQuery>) -> HttpResponse {
    reply(routes::bump(&session, query.key.as_deref()))
}

#[derive(Deserialize)]
struct MaxAgeQuery {
    ms: Option<u64>,
}

async fn max_age(session: Session, query: web::Query<MaxAgeQuery>) -> HttpResponse {
    reply(routes::set_max_age(&session, query.ms))
}

fn reply(result: Result<Reply, session_core::SessionError>) -> HttpResponse {
    match result {
        Ok(reply) => plain(reply),
        // Carries the error, so the middleware answers with its `on_error` response.
        Err(error) => HttpResponse::from_error(SessionError(error)),
    }
}

fn plain(Reply { status, body }: Reply) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
