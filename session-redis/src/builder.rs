//! [`RedisStoreBuilder`]: a [`RedisStore`] from a URL, key prefixes and a timeout.

use std::{sync::Arc, time::Duration};

use fred::{
    prelude::{Builder, Client, ClientLike, Config, EventInterface, Pool, ReconnectPolicy},
    types::{config::TcpConfig, RespVersion},
};

use crate::{
    error::BuildError,
    near_cache::{Near, NearCache},
    store::{Connection, Inner},
    tracking, RedisStore,
};

/// The key prefix connect-redis uses.
pub const DEFAULT_PREFIX: &str = "sess:";
/// What the default user-index prefix puts before the session prefix: the index of user
/// `alice` is `users:sess:alice` by default.
pub const DEFAULT_USER_INDEX_LEAD: &str = "users:";
/// The default bound on every Redis call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a call waits by default for a connection that is not up before it fails.
pub const DEFAULT_CONNECT_WAIT: Duration = Duration::from_millis(500);
/// The longest pause between two reconnection attempts by default.
pub const DEFAULT_MAX_RECONNECT_DELAY: Duration = Duration::from_millis(1_000);

/// Configures a [`RedisStore`]; made by [`RedisStore::builder`].
///
/// ```
/// use std::time::Duration;
/// use session_redis::RedisStore;
///
/// # async fn run() -> Result<(), session_redis::BuildError> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379/0")
///     .prefix("myapp:sess:")
///     .user_index_prefix("myapp:users:") // default: "users:myapp:sess:"
///     .timeout(Duration::from_millis(500))
///     .build()?; // connects in the background; Redis may still be down
/// # drop(store); Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    source: Source,
    prefix: String,
    user_index_prefix: Option<String>,
    timeout: Duration,
    connect_wait: Duration,
    max_reconnect_delay: Duration,
    touch_after: Duration,
    near_cache: Option<NearCache>,
}

/// Where a store's connection comes from.
#[derive(Clone)]
enum Source {
    /// A URL: the store makes and owns its client.
    Url(String),
    /// The app's client.
    Client(Client),
    /// The app's pool.
    Pool(Pool),
}

impl Source {
    /// What `Debug` shows: the URL without its credentials, or whose connection it is.
    fn describe(&self) -> String {
        match self {
            Self::Url(url) => session_core::redact_url(url),
            Self::Client(_) => "<the app's fred client>".to_owned(),
            Self::Pool(_) => "<the app's fred pool>".to_owned(),
        }
    }
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("source", &self.source.describe())
            .field("prefix", &self.prefix)
            .field("user_index_prefix", &self.user_index_prefix)
            .field("timeout", &self.timeout)
            .field("connect_wait", &self.connect_wait)
            .field("max_reconnect_delay", &self.max_reconnect_delay)
            .field("touch_after", &self.touch_after)
            .field("near_cache", &self.near_cache)
            .finish()
    }
}

impl RedisStoreBuilder {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        Self::with_source(Source::Url(url.into()))
    }

    pub(crate) fn with_client(client: Client) -> Self {
        Self::with_source(Source::Client(client))
    }

    pub(crate) fn with_pool(pool: Pool) -> Self {
        Self::with_source(Source::Pool(pool))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            prefix: DEFAULT_PREFIX.to_owned(),
            user_index_prefix: None,
            timeout: DEFAULT_TIMEOUT,
            connect_wait: DEFAULT_CONNECT_WAIT,
            max_reconnect_delay: DEFAULT_MAX_RECONNECT_DELAY,
            touch_after: crate::touch_after::DEFAULT_TOUCH_AFTER,
            near_cache: None,
        }
    }

    /// The prefix put before every session id to make its key; `sess:` by default, as in
    /// connect-redis. An Express app sharing the sessions must use the same prefix. It may not
    /// be empty: every key would then match connect-redis's `SCAN prefix*`, the users' indexes
    /// included (see [`user_index_prefix`](Self::user_index_prefix)).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The prefix put before a user's name to make the key of the sorted set that lists the
    /// user's sessions ([`Store::sessions_of`](session_core::Store::sessions_of), for "log out
    /// everywhere"); by default [`DEFAULT_USER_INDEX_LEAD`] followed by the
    /// [prefix](Self::prefix): `users:sess:`.
    ///
    /// Neither prefix may start with the other: connect-redis's `all()`, `length()` and
    /// `clear()` scan `prefix*` and expect every key they find to hold a session, so an index
    /// key must never match that pattern. [`build`](Self::build) refuses prefixes that
    /// overlap ([`BuildError::OverlappingPrefixes`]).
    ///
    /// Sessions that only an Express app writes are not listed: connect-redis knows nothing of
    /// the index.
    pub fn user_index_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.user_index_prefix = Some(prefix.into());
        self
    }

    /// The longest any store call may take, connection wait included; a call that takes longer
    /// fails with [`StoreError::Timeout`](session_core::StoreError::Timeout). 2 s by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a call waits for the connection when it is down or not up yet (just after
    /// startup, or while reconnecting) before failing with
    /// [`StoreError::Unavailable`](session_core::StoreError::Unavailable); 250 ms by default,
    /// never more than the timeout. A short wait answers quickly during an outage; it only
    /// needs to cover the first connection after startup.
    pub fn connect_wait(mut self, wait: Duration) -> Self {
        self.connect_wait = wait;
        self
    }

    /// The longest pause between two reconnection attempts (they back off exponentially from
    /// 50 ms); 1 s by default. This bounds how long service takes to resume once Redis is back.
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// How stale a session's expiry may get before a read-only request moves it; 60 s by
    /// default, never more than a tenth of the session's lifetime. A request's load reads the
    /// remaining TTL with the value (`GET` and `PTTL`, one round trip), and the `EXPIRE` that
    /// express-session sends after every read-only request is skipped while that TTL is
    /// within this much of the session's lifetime (connect-mongo's `touchAfter`). A session
    /// may then expire this much earlier than the cookie says; a request that changes the
    /// session always writes its full lifetime. `Duration::ZERO` touches after every
    /// read-only request (a second round trip).
    pub fn touch_after(mut self, slack: Duration) -> Self {
        self.touch_after = slack;
        self
    }

    /// Keeps a [`NearCache`] of sessions in the process, kept coherent by Redis's client
    /// tracking: a returning visitor's load then costs no round trip, and a save one (the
    /// conditional `EVALSHA`). Off by default. Needs the store's own client (this builder from
    /// a URL) on one server or Sentinel; [`build`](Self::build) refuses it otherwise
    /// ([`BuildError::NearCacheNeedsOwnClient`], [`BuildError::NearCacheOnCluster`]).
    pub fn near_cache(mut self, near_cache: NearCache) -> Self {
        self.near_cache = Some(near_cache);
        self
    }

    /// Builds the store and starts connecting in the background. Never waits for Redis: an
    /// app starts even while Redis is down, its session calls fail with
    /// [`StoreError::Unavailable`](session_core::StoreError::Unavailable) meanwhile, and
    /// service resumes by itself once Redis answers. Must be called inside a tokio runtime.
    pub fn build(self) -> Result<RedisStore, BuildError> {
        if self.timeout.is_zero() {
            return Err(BuildError::ZeroTimeout);
        }
        let user_index_prefix = self
            .user_index_prefix
            .unwrap_or_else(|| format!("{DEFAULT_USER_INDEX_LEAD}{}", self.prefix));
        if user_index_prefix.starts_with(&self.prefix)
            || self.prefix.starts_with(&user_index_prefix)
        {
            return Err(BuildError::OverlappingPrefixes {
                prefix: self.prefix,
                user_index_prefix,
            });
        }
        tokio::runtime::Handle::try_current().map_err(BuildError::NoRuntime)?;
        let connect_wait = self.connect_wait.min(self.timeout);
        let describe = self.source.describe();
        let near = self.near_cache.map(|config| Arc::new(Near::new(config)));
        let prefix = self.prefix.clone();
        let (timeout, max_reconnect_delay) = (self.timeout, self.max_reconnect_delay);
        let inner_near = near.clone();
        let inner = move |connection| {
            Inner::new(
                connection,
                self.prefix,
                user_index_prefix,
                self.timeout,
                connect_wait,
                self.touch_after,
                describe,
                inner_near,
            )
        };
        let inner = match self.source {
            Source::Url(url) => {
                let own = OwnClient {
                    timeout,
                    max_reconnect_delay,
                    near,
                    prefix,
                };
                own.start(&url, inner)?
            }
            _ if near.is_some() => return Err(BuildError::NearCacheNeedsOwnClient),
            Source::Client(client) => inner(Connection::Client(client)),
            Source::Pool(pool) => inner(Connection::Pool(pool)),
        };
        Ok(RedisStore::from_inner(inner))
    }
}

/// What the store's own client is made with.
struct OwnClient {
    timeout: Duration,
    max_reconnect_delay: Duration,
    /// The near cache, if any: the client then speaks RESP3 and keeps it coherent.
    near: Option<Arc<Near>>,
    prefix: String,
}

impl OwnClient {
    /// The store's own client for `url`, configured for sessions (bounded calls, no replay of a
    /// command cut off by an outage, reconnection with back-off that also covers the first
    /// connection), connecting in the background; `inner` makes the store's state around it.
    fn start(
        self,
        url: &str,
        inner: impl FnOnce(Connection) -> Inner,
    ) -> Result<Inner, BuildError> {
        let Self {
            timeout,
            max_reconnect_delay,
            near,
            prefix,
        } = self;
        check_scheme(url)?;
        let mut config = Config::from_url(url).map_err(BuildError::Url)?;
        // Keep retrying the first connection instead of failing `connect`.
        config.fail_fast = false;
        if near.is_some() {
            if config.server.is_clustered() {
                return Err(BuildError::NearCacheOnCluster);
            }
            // Client tracking pushes its invalidations down the tracked connection (RESP3).
            config.version = RespVersion::RESP3;
        }
        let max_delay = millis_u32(max_reconnect_delay).max(50);
        let client = Builder::from_config(config)
            .with_connection_config(|connection| {
                connection.connection_timeout = timeout;
                connection.internal_command_timeout = timeout;
                // A command whose connection drops is reported, not replayed on the next
                // connection: replaying `SET NX` could report our own write as a taken id.
                connection.max_command_attempts = 1;
                connection.tcp = TcpConfig {
                    nodelay: Some(true),
                    ..TcpConfig::default()
                };
            })
            .with_performance_config(|performance| {
                // For what the store sends outside its calls (client tracking's set-up); its
                // calls bound themselves and turn this off.
                performance.default_command_timeout = timeout;
                // Room for a burst of invalidations; an overflow only empties the near cache.
                performance.broadcast_channel_capacity = BROADCAST_CAPACITY;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 50, max_delay, 2))
            .build()
            .map_err(BuildError::Client)?;
        let inner = inner(Connection::Client(client.clone()));
        let last_error = inner.last_error.clone();
        let errors = client.on_error(move |(error, server)| {
        tracing::warn!(%error, server = ?server.map(|s| s.to_string()), "redis connection error");
        if let Ok(mut slot) = last_error.lock() {
            *slot = Some(error);
        }
        async { Ok(()) }
    });
        if let Some(near) = near {
            inner.keep_task(tracking::start(&client, near, prefix));
        }
        let connection = client.connect();
        inner.keep_task(errors);
        inner.keep_task(connection);
        Ok(inner)
    }
}

/// The capacity of the client's event channels (invalidations among them).
const BROADCAST_CAPACITY: usize = 1024;

/// Refuses what the client would silently misread: a scheme that is not Redis, or TLS asked
/// for without a TLS feature.
fn check_scheme(url: &str) -> Result<(), BuildError> {
    let scheme = url
        .split_once("://")
        .map_or("", |(scheme, _)| scheme)
        .to_ascii_lowercase();
    let base = scheme
        .strip_suffix("-cluster")
        .or_else(|| scheme.strip_suffix("-sentinel"))
        .unwrap_or(&scheme);
    let tls = match base {
        "redis" | "valkey" | "redis+unix" | "valkey+unix" => false,
        "rediss" | "valkeys" => true,
        _ => return Err(BuildError::UnsupportedScheme(scheme)),
    };
    if tls && !cfg!(any(feature = "tls-rustls", feature = "tls-native")) {
        return Err(BuildError::TlsNotEnabled);
    }
    Ok(())
}

fn millis_u32(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_a_password() {
        let url = "redis-sentinel://:pw1@h:26379/0?sentinelServiceName=m&sentinelPassword=pw2";
        let builder = RedisStore::builder(url);
        let printed = format!("{builder:?}");
        assert!(
            !printed.contains("pw1") && !printed.contains("pw2"),
            "{printed}"
        );
        assert!(printed.contains("h:26379"), "{printed}");
    }

    #[tokio::test]
    async fn refuses_bad_configuration_with_typed_errors() {
        assert!(matches!(
            RedisStore::builder("redis://127.0.0.1:1")
                .timeout(Duration::ZERO)
                .build(),
            Err(BuildError::ZeroTimeout)
        ));
        assert!(matches!(
            RedisStore::builder("http://example.com").build(),
            Err(BuildError::UnsupportedScheme(s)) if s == "http"
        ));
        for (prefix, index) in [("sess:", Some("sess:users:")), ("", None), ("u", None)] {
            let mut builder = RedisStore::builder("redis://127.0.0.1:1").prefix(prefix);
            if let Some(index) = index {
                builder = builder.user_index_prefix(index);
            }
            assert!(
                matches!(builder.build(), Err(BuildError::OverlappingPrefixes { .. })),
                "{prefix:?} and {index:?}"
            );
        }
        assert!(matches!(
            RedisStore::builder("redis://127.0.0.1:1")
                .prefix("app:sess:")
                .user_index_prefix("app:")
                .build(),
            Err(BuildError::OverlappingPrefixes { .. })
        ));
        let store = RedisStore::builder("redis://127.0.0.1:1")
            .prefix("app:sess:")
            .build()
            .expect("default index prefix");
        assert_eq!(store.user_index_prefix(), "users:app:sess:");
        assert!(matches!(
            RedisStore::builder("redis://exa mple:port").build(),
            Err(BuildError::Url(_))
        ));
        let tls = RedisStore::builder("rediss://example.com:6380").build();
        if cfg!(any(feature = "tls-rustls", feature = "tls-native")) {
            assert!(tls.is_ok());
        } else {
            assert!(matches!(tls, Err(BuildError::TlsNotEnabled)));
        }
        for url in [
            "redis://127.0.0.1:1/2",
            "redis-cluster://127.0.0.1:1?node=127.0.0.1:2",
            "redis-sentinel://127.0.0.1:1/0?sentinelServiceName=mymaster",
        ] {
            assert!(RedisStore::builder(url).build().is_ok(), "{url}");
        }
    }

    #[tokio::test]
    async fn a_near_cache_needs_the_stores_own_client_off_cluster() {
        let near = || crate::NearCache::new();
        let client = Builder::default_centralized().build().expect("client");
        assert!(matches!(
            RedisStore::from_client(client).near_cache(near()).build(),
            Err(BuildError::NearCacheNeedsOwnClient)
        ));
        assert!(matches!(
            RedisStore::builder("redis-cluster://127.0.0.1:1?node=127.0.0.1:2")
                .near_cache(near())
                .build(),
            Err(BuildError::NearCacheOnCluster)
        ));
        for url in [
            "redis://127.0.0.1:1/2",
            "redis-sentinel://127.0.0.1:1/0?sentinelServiceName=mymaster",
        ] {
            let store = RedisStore::builder(url).near_cache(near()).build();
            assert_eq!(store.expect(url).near_cache_len(), Some(0));
        }
    }

    #[test]
    fn needs_a_runtime_and_says_so() {
        assert!(matches!(
            RedisStore::builder("redis://127.0.0.1:1").build(),
            Err(BuildError::NoRuntime(_))
        ));
    }
}
