//! What every server shares: its options, its runtime, and our session manager.

use std::{net::SocketAddr, time::Duration};

use session_core::{MemoryStore, SessionConfig, SessionManager};
use session_redis::RedisStore;

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
}

impl Options {
    /// Reads `--server NAME --port P [--redis-url URL]`.
    pub(crate) fn parse(args: &[String]) -> std::result::Result<Self, String> {
        let mut server = None;
        let mut port = None;
        let mut redis_url = None;
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
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(Self {
            server: server.ok_or("--server is required")?,
            addr: SocketAddr::from(([127, 0, 0, 1], port.ok_or("--port is required")?)),
            redis_url,
        })
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
    /// `saveUninitialized`, no `resave`, no `rolling`), over Redis when the server's name ends
    /// in `-redis`, else over the memory store. With Redis, call it inside the runtime.
    pub(crate) fn our_manager(&self) -> Result<SessionManager> {
        let config = SessionConfig::builder()
            .secret(SECRET)
            .max_age(Some(SESSION_TTL))
            .build()?;
        Ok(if self.server.ends_with("-redis") {
            let store = RedisStore::builder(self.redis_url()?)
                .prefix(self.redis_prefix())
                .build()?;
            SessionManager::new(store, config)
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
