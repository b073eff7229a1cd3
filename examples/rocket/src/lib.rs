//! The reference app (`examples/README.md`) as a [`Rocket`].

use std::net::SocketAddr;

use example_common::routes::{self, Reply};
use rocket::{
    catch, catchers, config::LogLevel, figment::providers::Serialized, get, http::Status, routes,
    Build, Request, Rocket,
};
use session_core::SessionManager;
use session_rocket::{Session, SessionError, SessionFairing};

/// The reference app's routes behind a [`SessionFairing`] over `manager`, to be served on
/// `addr` (port `0` picks a free port). Rocket's own logging is off, and error statuses
/// that Rocket answers itself (an unknown route, ...) get a plain-text reason phrase instead
/// of its HTML pages. Other settings still come from `Rocket.toml` and `ROCKET_*` variables.
///
/// The app uses no private cookies and Rocket's `secrets` feature stays off, so a release
/// build starts without a `secret_key`.
pub fn app(manager: SessionManager, addr: SocketAddr) -> Rocket<Build> {
    // `HOST` and `PORT` win over `ROCKET_ADDRESS` and `ROCKET_PORT`; `ROCKET_LOG_LEVEL` can
    // turn Rocket's log back on.
    let figment = rocket::Config::figment()
        .merge(Serialized::default("log_level", LogLevel::Off))
        .merge(Serialized::default("cli_colors", false))
        .merge(("address", addr.ip()))
        .merge(("port", addr.port()));
    rocket::custom(figment)
        .mount(
            "/",
            routes![
                visit,
                peek,
                bump,
                login,
                whoami,
                logout,
                logout_everywhere,
                remember,
                max_age,
                unset,
                health
            ],
        )
        .register("/", catchers![plain])
        .attach(SessionFairing::new(manager).on_error(error_response))
}

/// A route's answer: the reply, or the fairing's opaque error response.
type Answer = Result<(Status, String), SessionError>;

fn reply(result: Result<Reply, session_core::SessionError>) -> Answer {
    let Reply { status, body } = result?;
    Ok((Status::from_code(status).unwrap_or(Status::Ok), body))
}

#[get("/")]
fn visit(session: Session) -> Answer {
    reply(routes::visit(&session))
}

#[get("/peek?<key>")]
fn peek(session: Session, key: Option<&str>) -> Answer {
    reply(routes::peek(&session, key))
}

#[get("/bump?<key>")]
fn bump(session: Session, key: Option<&str>) -> Answer {
    reply(routes::bump(&session, key))
}

#[get("/login?<user>")]
async fn login(session: Session, user: Option<&str>) -> Answer {
    reply(routes::login(&session, user).await)
}

#[get("/whoami")]
fn whoami(session: Session) -> Answer {
    reply(routes::whoami(&session))
}

#[get("/logout")]
async fn logout(session: Session) -> Answer {
    reply(routes::logout(&session).await)
}

#[get("/logout-everywhere")]
async fn logout_everywhere(session: Session) -> Answer {
    reply(routes::logout_everywhere(&session).await)
}

#[get("/remember")]
fn remember(session: Session) -> Answer {
    reply(routes::remember(&session))
}

/// `ms` is taken as text so that a value that is not a number is a `400`, not a
/// browser-session cookie (Rocket's `Option<u64>` would read both as absent).
#[get("/max-age?<ms>")]
fn max_age(session: Session, ms: Option<&str>) -> Answer {
    let ms = match ms.map(str::parse::<u64>).transpose() {
        Ok(ms) => ms,
        Err(_) => return Ok((Status::BadRequest, "invalid ms".to_owned())),
    };
    reply(routes::set_max_age(&session, ms))
}

#[get("/unset")]
fn unset(session: Session) -> Answer {
    reply(routes::unset(&session))
}

#[get("/health")]
fn health() -> &'static str {
    "ok"
}

/// The app's answer to a failed session operation ([`routes::error_reply`]).
fn error_response(error: &session_core::SessionError) -> rocket::Response<'static> {
    let Reply { status, body } = routes::error_reply(error);
    rocket::Response::build()
        .status(Status::from_code(status).unwrap_or(Status::InternalServerError))
        .header(rocket::http::ContentType::Plain)
        .sized_body(body.len(), std::io::Cursor::new(body))
        .finalize()
}

/// Every status Rocket answers itself, as plain text.
#[catch(default)]
fn plain(status: Status, _request: &Request<'_>) -> (Status, &'static str) {
    (status, status.reason_lossy())
}
