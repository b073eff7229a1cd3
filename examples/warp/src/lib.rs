//! The reference app (`examples/README.md`) as a warp filter.

use example_common::routes::{self, Reply};
use serde::Deserialize;
use session_core::SessionManager;
use session_warp::{Session, SessionError, Sessions};
use warp::{http::StatusCode, reply::Response, Filter, Rejection, Reply as _};

/// The reference app's routes, wrapped by [`Sessions`] over `manager`.
pub fn app(
    manager: SessionManager,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    let sessions = Sessions::new(manager).on_error(|error| plain(routes::error_reply(error)));
    let session = sessions.session();
    let visit = warp::path::end()
        .and(session.clone())
        .map(|s: Session| reply(routes::visit(&s)));
    let peek = warp::path!("peek")
        .and(warp::query::<KeyQuery>())
        .and(session.clone())
        .map(|query: KeyQuery, s: Session| reply(routes::peek(&s, query.key.as_deref())));
    let bump = warp::path!("bump")
        .and(warp::query::<KeyQuery>())
        .and(session.clone())
        .map(|query: KeyQuery, s: Session| reply(routes::bump(&s, query.key.as_deref())));
    let login = warp::path!("login")
        .and(warp::query::<LoginQuery>())
        .and(session.clone())
        .then(|query: LoginQuery, s: Session| async move {
            reply(routes::login(&s, query.user.as_deref()).await)
        });
    let whoami = warp::path!("whoami")
        .and(session.clone())
        .map(|s: Session| reply(routes::whoami(&s)));
    let logout = warp::path!("logout")
        .and(session.clone())
        .then(|s: Session| async move { reply(routes::logout(&s).await) });
    let logout_everywhere = warp::path!("logout-everywhere")
        .and(session.clone())
        .then(|s: Session| async move { reply(routes::logout_everywhere(&s).await) });
    let remember = warp::path!("remember")
        .and(session.clone())
        .map(|s: Session| reply(routes::remember(&s)));
    let max_age = warp::path!("max-age")
        .and(warp::query::<MaxAgeQuery>())
        .and(session.clone())
        .map(|query: MaxAgeQuery, s: Session| reply(routes::set_max_age(&s, query.ms)));
    let unset = warp::path!("unset")
        .and(session)
        .map(|s: Session| reply(routes::unset(&s)));
    let health = warp::path!("health").map(|| "ok");
    let routes = warp::get().and(
        visit
            .or(peek)
            .unify()
            .or(bump)
            .unify()
            .or(login)
            .unify()
            .or(whoami)
            .unify()
            .or(logout)
            .unify()
            .or(logout_everywhere)
            .unify()
            .or(remember)
            .unify()
            .or(max_age)
            .unify()
            .or(unset)
            .unify()
            .or(health),
    );
    sessions.wrap(routes)
}

#[derive(Deserialize)]
struct LoginQuery {
    user: Option<String>,
}

#[derive(Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

#[derive(Deserialize)]
struct MaxAgeQuery {
    ms: Option<u64>,
}

fn reply(result: Result<Reply, session_core::SessionError>) -> Response {
    match result {
        Ok(reply) => plain(reply),
        Err(error) => SessionError(error).into_response(),
    }
}

fn plain(Reply { status, body }: Reply) -> Response {
    warp::reply::with_status(body, StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .into_response()
}
