//! The Rocket servers: bare and ours (memory, Redis, PostgreSQL, SQLite, cookie).

use example_common::routes;
use rocket::{config::LogLevel, figment::Figment, get, routes, Build, Rocket};
use session_rocket::{Session, SessionError, SessionFairing};

use crate::{
    common::{self, Options},
    counter, WORKERS,
};

/// The servers in this file.
pub(crate) const SERVERS: &[&str] = &[
    "rocket-bare",
    "rocket-ours-memory",
    "rocket-ours-redis",
    "rocket-ours-redis-near",
    "rocket-ours-postgres",
    "rocket-ours-sqlite",
    "rocket-ours-cookie",
];

/// Runs one of [`SERVERS`] until the process is killed. Rocket's `workers` setting only sizes
/// the runtime that `rocket::execute` builds; we build the same runtime ourselves and set it
/// too, so that Rocket's configuration says what runs.
pub(crate) fn run(options: &Options) -> common::Result {
    common::tokio_runtime()?.block_on(async {
        let figment = Figment::from(rocket::Config::release_default())
            .merge(("address", options.addr.ip()))
            .merge(("port", options.addr.port()))
            .merge(("workers", WORKERS))
            .merge(("log_level", LogLevel::Off))
            .merge(("cli_colors", false));
        let app: Rocket<Build> = match options.server.as_str() {
            "rocket-bare" => rocket::custom(figment).mount("/", routes![bare]),
            "rocket-ours-memory"
            | "rocket-ours-redis"
            | "rocket-ours-redis-near"
            | "rocket-ours-postgres"
            | "rocket-ours-sqlite"
            | "rocket-ours-cookie" => rocket::custom(figment)
                .mount("/", routes![ours])
                .attach(SessionFairing::new(options.our_manager()?)),
            other => return Err(format!("not a rocket server: {other}").into()),
        };
        app.launch().await?;
        Ok(())
    })
}

#[get("/")]
fn bare() -> String {
    counter::bare()
}

#[get("/")]
fn ours(session: Session) -> Result<String, SessionError> {
    Ok(routes::visit(&session)?.body)
}
