//! The actix-web servers: bare, ours (memory, Redis, PostgreSQL, SQLite, cookie), and
//! actix-session (cookie, Redis).

use actix_session::{
    config::{BrowserSession, CookieContentSecurity},
    storage::{CookieSessionStore, RedisSessionStore, SessionStore},
    SessionMiddleware,
};
use actix_web::{
    body::MessageBody,
    cookie::{time, Key},
    dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse},
    web, App, HttpServer,
};
use example_common::routes;
use session_actix::{Session, SessionError};

use crate::{
    common::{self, Options, SECRET, SESSION_TTL},
    counter, WORKERS,
};

/// The servers in this file.
pub(crate) const SERVERS: &[&str] = &[
    "actix-bare",
    "actix-ours-memory",
    "actix-ours-redis",
    "actix-ours-redis-near",
    "actix-ours-postgres",
    "actix-ours-sqlite",
    "actix-ours-cookie",
    "actix-session-cookie",
    "actix-session-redis",
];

/// Runs one of [`SERVERS`] until the process is killed.
pub(crate) fn run(options: &Options) -> common::Result {
    actix_web::rt::System::new().block_on(async {
        let listener = std::net::TcpListener::bind(options.addr)?;
        let server = match options.server.as_str() {
            "actix-bare" => serve(listener, || {
                App::new().route("/", web::get().to(|| async { counter::bare() }))
            })?,
            "actix-ours-memory"
            | "actix-ours-redis"
            | "actix-ours-redis-near"
            | "actix-ours-postgres"
            | "actix-ours-sqlite"
            | "actix-ours-cookie" => {
                let manager = options.our_manager()?;
                serve(listener, move || {
                    App::new()
                        .route("/", web::get().to(ours))
                        .wrap(session_actix::SessionMiddleware::new(manager.clone()))
                })?
            }
            "actix-session-cookie" => actix_session(listener, CookieSessionStore::default)?,
            "actix-session-redis" => {
                let prefix = options.redis_prefix();
                let store = RedisSessionStore::builder(options.redis_url()?)
                    .cache_keygen(move |key| format!("{prefix}{key}"))
                    .build()
                    .await
                    .map_err(|error| error.to_string())?;
                actix_session(listener, move || store.clone())?
            }
            other => return Err(format!("not an actix server: {other}").into()),
        };
        server.await?;
        Ok(())
    })
}

async fn ours(session: Session) -> Result<String, SessionError> {
    Ok(routes::visit(&session)?.body)
}

/// The counter behind actix-session's middleware over the store that `store` makes (once per
/// worker), with its default (encrypted) cookie, our lifetime and no `Secure` (the benchmark
/// is plain HTTP).
fn actix_session<S: SessionStore + 'static>(
    listener: std::net::TcpListener,
    store: impl Fn() -> S + Send + Clone + 'static,
) -> common::Result<Server> {
    let key = Key::try_from(SECRET.as_bytes())?;
    let ttl = time::Duration::seconds(i64::try_from(SESSION_TTL.as_secs()).unwrap_or(i64::MAX));
    serve(listener, move || {
        let middleware = SessionMiddleware::builder(store(), key.clone())
            .cookie_secure(false)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(BrowserSession::default().state_ttl(ttl))
            .build();
        App::new().route("/", web::get().to(peer)).wrap(middleware)
    })
}

async fn peer(session: actix_session::Session) -> actix_web::Result<String> {
    let count = counter::next(session.get::<u64>("count")?);
    session.insert("count", count)?;
    Ok(counter::body(count))
}

/// An actix-web server of [`WORKERS`] workers running the app that `app` makes (once per
/// worker) on `listener`.
fn serve<T, B>(
    listener: std::net::TcpListener,
    app: impl Fn() -> App<T> + Send + Clone + 'static,
) -> common::Result<Server>
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    Ok(HttpServer::new(app)
        .workers(WORKERS)
        .listen(listener)?
        .run())
}
