//! The axum servers: bare, ours (memory, Redis, PostgreSQL, SQLite, cookie), and
//! tower-sessions (moka, Redis, PostgreSQL).

use axum::{http::StatusCode, routing::get, Router};
use example_common::routes;
use session_axum::{Session, SessionError, SessionLayer};
use tower_sessions::{cookie::time, Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::{
    fred::prelude::{ClientLike, Config, Pool},
    RedisStore,
};

use crate::{
    common::{self, Options, SESSION_TTL},
    counter,
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
            "axum-tower-sessions-moka" => tower_sessions(MokaStore::new(None)),
            "axum-tower-sessions-redis" => {
                // As tower-sessions-redis-store's documentation sets it up: a pool of 6.
                let pool = Pool::new(Config::from_url(options.redis_url()?)?, None, None, None, 6)?;
                pool.init().await?;
                tower_sessions(RedisStore::new(pool))
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
                tower_sessions(store)
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

/// The counter behind tower-sessions' layer over `store`, with our cookie lifetime and no
/// `Secure` (the benchmark is plain HTTP).
fn tower_sessions<S: SessionStore + Clone>(store: S) -> Router {
    let ttl = time::Duration::seconds(i64::try_from(SESSION_TTL.as_secs()).unwrap_or(i64::MAX));
    let layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(ttl));
    Router::new().route("/", get(peer)).layer(layer)
}

async fn peer(session: tower_sessions::Session) -> Result<String, StatusCode> {
    let failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let count = counter::next(session.get::<u64>("count").await.map_err(failed)?);
    session.insert("count", count).await.map_err(failed)?;
    Ok(counter::body(count))
}
