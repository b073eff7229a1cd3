//! The reference app (`examples/README.md`) as an axum [`Router`].

use axum::{
    extract::Query,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use example_common::routes::{self, Reply};
use serde::Deserialize;
use session_axum::{Session, SessionError, SessionLayer};
use session_core::SessionManager;

/// The reference app's routes behind a [`SessionLayer`] over `manager`.
pub fn app(manager: SessionManager) -> Router {
    Router::new()
        .route(
            "/",
            get(|s: Session| async move { reply(routes::visit(&s)) }),
        )
        .route("/peek", get(peek))
        .route("/bump", get(bump))
        .route("/login", get(login))
        .route(
            "/whoami",
            get(|s: Session| async move { reply(routes::whoami(&s)) }),
        )
        .route(
            "/logout",
            get(|s: Session| async move { reply(routes::logout(&s).await) }),
        )
        .route(
            "/logout-everywhere",
            get(|s: Session| async move { reply(routes::logout_everywhere(&s).await) }),
        )
        .route(
            "/remember",
            get(|s: Session| async move { reply(routes::remember(&s)) }),
        )
        .route("/max-age", get(max_age))
        .route(
            "/unset",
            get(|s: Session| async move { reply(routes::unset(&s)) }),
        )
        .route("/health", get(|| async { "ok" }))
        .layer(SessionLayer::new(manager).on_error(|error| plain(routes::error_reply(error))))
}

#[derive(Deserialize)]
struct LoginQuery {
    user: Option<String>,
}

async fn login(session: Session, Query(query): Query<LoginQuery>) -> Response {
    reply(routes::login(&session, query.user.as_deref()).await)
}

#[derive(Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

async fn peek(session: Session, Query(query): Query<KeyQuery>) -> Response {
    reply(routes::peek(&session, query.key.as_deref()))
}

async fn bump(session: Session, Query(query): Query<KeyQuery>) -> Response {
    reply(routes::bump(&session, query.key.as_deref()))
}

#[derive(Deserialize)]
struct MaxAgeQuery {
    ms: Option<u64>,
}

async fn max_age(session: Session, Query(query): Query<MaxAgeQuery>) -> Response {
    reply(routes::set_max_age(&session, query.ms))
}

fn reply(result: Result<Reply, session_core::SessionError>) -> Response {
    match result {
        Ok(reply) => plain(reply),
        Err(error) => SessionError(error).into_response(),
    }
}

fn plain(Reply { status, body }: Reply) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response()
}
