//! The axum servers: bare, ours (memory, Redis, PostgreSQL, SQLite, cookie), and
//! tower-sessions (moka, Redis, PostgreSQL).

use axum::{routing::get, Router};
use example_common::routes;
use session_axum::{Session, SessionError, SessionLayer};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::{
    fred::prelude::{ClientLike, Config, Pool},
    RedisStore,
};

use crate::{
    common::{self, Options, SESSION_TTL},
    counter, tower_axum,
};

/// The servers in this file.
pub(crate) const SERVERS: &[&str] = &[
    "axum-bare",
    "axum-ours-memory",
    "axum-ours-memory-unbounded",
    "axum-ours-redis",
    "axum-ours-redis-near",
    "axum-ours-postgres",
    "axum-ours-sqlite",
    "axum-ours-cookie",
    "axum-tower-sessions-moka",
    "axum-tower-sessions-redis",
    "axum-tower-sessions-postgres",
];

/// Runs one of [`SERVERS`] until the process is killed.
pub(crate) fn run(options: &Options) -> common::Result {
    common::tokio_runtime()?.block_on(async {
        let app = match options.server.as_str() {
            "axum-bare" => Router::new().route("/", get(|| async { counter::bare() })),
            "axum-ours-memory"
            | "axum-ours-memory-unbounded"
            | "axum-ours-redis"
            | "axum-ours-redis-near"
            | "axum-ours-postgres"
            | "axum-ours-sqlite"
            | "axum-ours-cookie" => Router::new()
                .route("/", get(ours))
                .layer(SessionLayer::new(options.our_manager()?)),
            "axum-tower-sessions-moka" => tower_axum::router(MokaStore::new(None), SESSION_TTL),
            "axum-tower-sessions-redis" => {
                // As tower-sessions-redis-store's documentation sets it up: a pool of 6.
                let pool = Pool::new(Config::from_url(options.redis_url()?)?, None, None, None, 6)?;
                pool.init().await?;
                tower_axum::router(RedisStore::new(pool), SESSION_TTL)
            }
            "axum-tower-sessions-postgres" => {
                // As tower-sessions-sqlx-store's documentation sets it up: sqlx's default pool
                // (10 connections), its own table, `migrate()`.
                let (url, schema) = options.postgres()?;
                let pool = sqlx::PgPool::connect(url).await?;
                let store = tower_sessions_sqlx_store::PostgresStore::new(pool)
                    .with_schema_name(schema)?
                    .with_table_name(options.pg_table())?;
                store.migrate().await?;
                tower_axum::router(store, SESSION_TTL)
            }
            other => return Err(format!("not an axum server: {other}").into()),
        };
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}

async fn ours(session: Session) -> Result<String, SessionError> {
    Ok(routes::visit(&session)?.body)
}
