//! The warp servers: bare and ours (memory, Redis, PostgreSQL, SQLite, cookie).

use example_common::routes;
use session_warp::{Session, SessionError, Sessions};
use warp::Filter;

use crate::{
    common::{self, Options},
    counter,
};

/// The servers in this file.
pub(crate) const SERVERS: &[&str] = &[
    "warp-bare",
    "warp-ours-memory",
    "warp-ours-redis",
    "warp-ours-redis-near",
    "warp-ours-postgres",
    "warp-ours-sqlite",
    "warp-ours-cookie",
];

/// Runs one of [`SERVERS`] until the process is killed.
pub(crate) fn run(options: &Options) -> common::Result {
    common::tokio_runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        match options.server.as_str() {
            "warp-bare" => {
                let app = warp::get().and(warp::path::end()).map(counter::bare);
                warp::serve(app).incoming(listener).run().await;
            }
            "warp-ours-memory"
            | "warp-ours-redis"
            | "warp-ours-redis-near"
            | "warp-ours-postgres"
            | "warp-ours-sqlite"
            | "warp-ours-cookie" => {
                let sessions = Sessions::new(options.our_manager()?);
                let app = warp::get()
                    .and(warp::path::end())
                    .and(sessions.session())
                    .map(ours);
                warp::serve(sessions.wrap(app))
                    .incoming(listener)
                    .run()
                    .await;
            }
            other => return Err(format!("not a warp server: {other}").into()),
        }
        Ok(())
    })
}

fn ours(session: Session) -> Result<String, SessionError> {
    Ok(routes::visit(&session)?.body)
}
