//! What every server shares: its options, its runtime, and our session manager.

use std::{net::SocketAddr, time::Duration};

use session_core::{CookieFormat, MemoryStore, SessionConfig, SessionManager};
use session_redis::{NearCache, RedisStore};
use session_sql::{PostgresStore, SqliteStore};

use crate::WORKERS;

/// What a server returns when it cannot start or stops with an error.
pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Signs the cookies of every server that signs (a benchmark secret, not a real one).
pub(crate) const SECRET: &str = "session-bench secret: sixty-four bytes for actix-session's Key!!";

/// Every server's session lifetime: the reference app's default `MAX_AGE_MS`, 30 minutes.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(30 * 60);

/// The command line.
#[derive(Debug)]
pub(crate) struct Options {
    /// Which server (`--server`).
    pub(crate) server: String,
    /// Where to listen: `127.0.0.1` and `--port`.
    pub(crate) addr: SocketAddr,
    /// `--redis-url`, required by the Redis-backed servers.
    redis_url: Option<String>,
    /// `--database-url`, required by the PostgreSQL-backed servers.
    database_url: Option<String>,
    /// `--pg-schema`: the schema of this run's tables (it must exist).
    pg_schema: Option<String>,
    /// `--sqlite-path`: the SQLite-backed servers' file.
    sqlite_path: Option<String>,
}

impl Options {
    /// Reads `--server NAME --port P [--redis-url URL] [--database-url URL --pg-schema S]
    /// [--sqlite-path PATH]`.
    pub(crate) fn parse(args: &[String]) -> std::result::Result<Self, String> {
        let mut server = None;
        let mut port = None;
        let (mut redis_url, mut database_url, mut pg_schema, mut sqlite_path) =
            (None, None, None, None);
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .clone();
            match flag.as_str() {
                "--server" => server = Some(value),
                "--port" => {
                    port = Some(
                        value
                            .parse::<u16>()
                            .map_err(|_| format!("--port {value:?} is not a port number"))?,
                    );
                }
                "--redis-url" => redis_url = Some(value),
                "--database-url" => database_url = Some(value),
                "--pg-schema" => pg_schema = Some(value),
                "--sqlite-path" => sqlite_path = Some(value),
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(Self {
            server: server.ok_or("--server is required")?,
            addr: SocketAddr::from(([127, 0, 0, 1], port.ok_or("--port is required")?)),
            redis_url,
            database_url,
            pg_schema,
            sqlite_path,
        })
    }

    /// The PostgreSQL URL and schema, which a PostgreSQL-backed server cannot do without.
    pub(crate) fn postgres(&self) -> Result<(&str, &str)> {
        match (&self.database_url, &self.pg_schema) {
            (Some(url), Some(schema)) => Ok((url, schema)),
            _ => Err(format!("{} needs --database-url and --pg-schema", self.server).into()),
        }
    }

    /// A table of this server's own in the run's schema.
    pub(crate) fn pg_table(&self) -> String {
        format!("bench_{}", self.server.replace('-', "_"))
    }

    /// The Redis URL, which a Redis-backed server cannot do without.
    pub(crate) fn redis_url(&self) -> Result<&str> {
        self.redis_url
            .as_deref()
            .ok_or_else(|| format!("{} needs --redis-url", self.server).into())
    }

    /// A key prefix of this server's own, so that runs never see each other's sessions.
    pub(crate) fn redis_prefix(&self) -> String {
        format!("bench:{}:{}:", self.server, std::process::id())
    }

    /// Our session manager with the reference app's defaults (30-minute cookies,
    /// `saveUninitialized`, no `resave`, no `rolling`), over Redis, PostgreSQL or SQLite when
    /// the server's name ends in `-redis`, `-postgres` or `-sqlite` (`-redis-near`: Redis with
    /// a near cache), in cookie mode (the
    /// encrypted format, no store) when it ends in `-cookie`, else over the memory store: with
    /// its default bounds, or none when the name ends in `-memory-unbounded` (as the peers'
    /// moka store runs, for a like-for-like comparison). Call it inside the runtime.
    pub(crate) fn our_manager(&self) -> Result<SessionManager> {
        let config = SessionConfig::builder()
            .secret(SECRET)
            .max_age(Some(SESSION_TTL))
            .build()?;
        Ok(if self.server.ends_with("-cookie") {
            SessionManager::in_cookie(CookieFormat::Encrypted, config)?
        } else if self.server.ends_with("-redis") || self.server.ends_with("-redis-near") {
            let mut store = RedisStore::builder(self.redis_url()?).prefix(self.redis_prefix());
            if self.server.ends_with("-near") {
                store = store.near_cache(NearCache::new());
            }
            SessionManager::new(store.build()?, config)
        } else if self.server.ends_with("-postgres") {
            let (url, schema) = self.postgres()?;
            let store = PostgresStore::builder(url)
                .schema(schema)
                .table(self.pg_table())
                .build()?;
            SessionManager::new(store, config)
        } else if self.server.ends_with("-sqlite") {
            let path = self.sqlite_path.clone().unwrap_or_else(|| {
                let file = format!("bench-{}-{}.db", self.server, std::process::id());
                std::env::temp_dir()
                    .join(file)
                    .to_string_lossy()
                    .into_owned()
            });
            SessionManager::new(SqliteStore::builder(path).build()?, config)
        } else if self.server.ends_with("-memory-unbounded") {
            SessionManager::new(MemoryStore::unbounded(), config)
        } else {
            SessionManager::new(MemoryStore::new(), config)
        })
    }
}

/// The runtime of the tokio-based servers (axum, warp, Rocket): [`WORKERS`] worker threads.
pub(crate) fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()?)
}

/// `bench-server --pg-admin create|drop --database-url URL --pg-schema NAME`: makes or drops
/// (with everything in it) the schema of one benchmark run.
pub(crate) fn pg_admin(args: &[String]) -> Result {
    let value = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|at| args.get(at + 1))
            .ok_or_else(|| format!("--pg-admin needs {flag}"))
    };
    let (action, url, schema) = (
        value("--pg-admin")?,
        value("--database-url")?,
        value("--pg-schema")?,
    );
    let statement = match action.as_str() {
        "create" => format!("CREATE SCHEMA \"{}\"", schema.replace('"', "\"\"")),
        "drop" => format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            schema.replace('"', "\"\"")
        ),
        other => return Err(format!("--pg-admin {other}: expected create or drop").into()),
    };
    tokio_runtime()?.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        sqlx::query(&statement).execute(&pool).await?;
        pool.close().await;
        Ok(())
    })
}
