//! [`RedisStore`]: the [`Store`] implementation, with connect-redis's keys, values and TTLs.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use async_trait::async_trait;
use fred::{
    bytes::Bytes,
    bytes_utils::Str,
    error::Error as ClientError,
    prelude::{Client, ClientLike, Pool},
    types::{config::Options, Value},
};
use session_core::{
    Created, Lifetimes, Loaded, Saved, SessionId, Store, StoreError, Version, Write,
};
use tokio::task::JoinHandle;

use crate::{
    command::{self, Command},
    error::{self, NotConnected},
    index,
    near_cache::{self, Fill, Held, Near, Reservation, Source},
    save::{self, Save},
    script, stored,
    time::ttl_until,
    touch_after, RedisStoreBuilder,
};

/// Where the store's commands go: its own client, or the app's client or pool.
pub(crate) enum Connection {
    Client(Client),
    Pool(Pool),
}

impl Connection {
    /// The client for the next call: a pool's next connected one (round robin), or its next
    /// one when none is connected.
    fn client(&self) -> &Client {
        match self {
            Self::Client(client) => client,
            Self::Pool(pool) => pool.next_connected(),
        }
    }
}

/// How often a call re-checks a connection that is not up.
const CONNECT_POLL: Duration = Duration::from_millis(10);

/// The longest TTL a touch gives: the 100 years that session-core allows any lifetime (a
/// JavaScript app may store a larger `originalMaxAge`).
const LONGEST_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A [`Store`] in Redis that is byte-compatible with connect-redis: key `prefix + id`, value
/// the session JSON of [`Record::to_json`](session_core::Record::to_json), written with
/// `EX ttl`, `ttl = ceil((expires_at - now) / 1 s)`; `SET NX EX` to create, `EXPIRE` to
/// touch, `DEL` to destroy. The Redis TTL is the truth: a `cookie.expires` left stale by a
/// touch is not an expiry. A read-only request costs one round trip: its load reads the value
/// and its TTL (`GET` and `PTTL`, sent together), and its touch is left out while that TTL is
/// within [`touch_after`](RedisStoreBuilder::touch_after) of the session's own lifetime.
///
/// A save is conditional and one round trip: one `EVALSHA` of a script that writes only if the
/// key still holds the very bytes the request read (their SHA-1 is the record's [`Version`]),
/// so a write by another request or by an Express app is never overwritten unseen, and a
/// deleted session is never written back. The stored value stays exactly connect-redis's JSON;
/// no version is stored anywhere. Writes and touches that name a user also list the session
/// in that user's index, in the same round trip (see the [crate docs](crate)).
///
/// Cheap to clone: clones share one multiplexed connection. The connection is made in the
/// background and remade after every failure, so the store can be built while Redis is down;
/// every call is bounded by the configured timeout and fails with a typed [`StoreError`]
/// (see [`error`](crate::error)) instead of hanging. Dropping the last clone stops the
/// connection task.
///
/// See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    connection: Connection,
    prefix: String,
    user_index_prefix: String,
    timeout: Duration,
    connect_wait: Duration,
    touch_after: Duration,
    url: String,
    /// The near cache, when the builder asked for one.
    near: Option<Arc<Near>>,
    pub(crate) last_error: Arc<Mutex<Option<ClientError>>>,
    tasks: Mutex<Vec<JoinHandle<Result<(), ClientError>>>>,
}

impl Inner {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        connection: Connection,
        prefix: String,
        user_index_prefix: String,
        timeout: Duration,
        connect_wait: Duration,
        touch_after: Duration,
        url: String,
        near: Option<Arc<Near>>,
    ) -> Self {
        Self {
            connection,
            prefix,
            user_index_prefix,
            timeout,
            connect_wait,
            touch_after,
            url,
            near,
            last_error: Arc::default(),
            tasks: Mutex::default(),
        }
    }

    /// Keeps a background task of the client, to stop it when the store goes away.
    pub(crate) fn keep_task(&self, task: JoinHandle<Result<(), ClientError>>) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(task);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let tasks = match self.tasks.get_mut() {
            Ok(tasks) => std::mem::take(tasks),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        for task in tasks {
            task.abort();
        }
    }
}

impl RedisStore {
    /// Starts configuring a store for the Redis at `url`:
    ///
    /// | URL | server |
    /// |---|---|
    /// | `redis://[[user:]password@]host[:port][/db]` | one server |
    /// | `rediss://...` | one server over TLS (feature `tls-rustls` or `tls-native`) |
    /// | `redis-cluster://host:port?node=host2:port2&...` | Redis Cluster (`rediss-cluster://` for TLS) |
    /// | `redis-sentinel://host:26379/db?sentinelServiceName=mymaster&node=host2:26379` | the primary behind Sentinel (`rediss-sentinel://` for TLS) |
    /// | `redis+unix:///path/to/redis.sock` | a Unix socket |
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(url)
    }

    /// Starts configuring a store on a fred [`Client`] the app already has, so that sessions
    /// share its connection instead of opening a second one. The client stays the app's: it
    /// connects it (`init` or `connect`), and its own settings apply (reconnection policy,
    /// TLS, Cluster or Sentinel). The store still bounds every call by its
    /// [`timeout`](RedisStoreBuilder::timeout) and classifies failures as usual;
    /// [`max_reconnect_delay`](RedisStoreBuilder::max_reconnect_delay) does not apply.
    ///
    /// ```
    /// use session_redis::fred::prelude::{Builder, ClientLike, Config};
    /// use session_redis::RedisStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Builder::from_config(Config::from_url("redis://127.0.0.1:6379")?).build()?;
    /// let _connection = client.connect(); // the app's own connection task
    /// let store = RedisStore::from_client(client.clone()).prefix("sess:").build()?;
    /// # drop(store); Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub fn from_client(client: Client) -> RedisStoreBuilder {
        RedisStoreBuilder::with_client(client)
    }

    /// Starts configuring a store on a fred [`Pool`] the app already has; each call takes the
    /// pool's next client. As [`from_client`](Self::from_client) otherwise.
    pub fn from_pool(pool: Pool) -> RedisStoreBuilder {
        RedisStoreBuilder::with_pool(pool)
    }

    /// A store for the Redis at `url` with the defaults: prefix `sess:`, user-index prefix
    /// `users:sess:`, 2 s timeout.
    pub fn new(url: &str) -> Result<Self, crate::BuildError> {
        Self::builder(url).build()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The Redis key of session `id`: the prefix followed by the id.
    pub fn key(&self, id: &SessionId) -> String {
        format!("{}{}", self.inner.prefix, id.as_str())
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The Redis key of the sorted set that lists `user`'s sessions: the user-index prefix
    /// followed by the user.
    pub fn user_index_key(&self, user: &str) -> String {
        format!("{}{user}", self.inner.user_index_prefix)
    }

    /// The user-index prefix
    /// ([`RedisStoreBuilder::user_index_prefix`](crate::RedisStoreBuilder::user_index_prefix)).
    pub fn user_index_prefix(&self) -> &str {
        &self.inner.user_index_prefix
    }

    /// The bound on every call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// How many sessions the [near cache](crate::NearCache) holds right now; `None` without
    /// one.
    pub fn near_cache_len(&self) -> Option<usize> {
        self.inner.near.as_deref().map(Near::len)
    }

    /// Whether the connection is up right now.
    pub fn is_connected(&self) -> bool {
        self.inner.connection.client().is_connected()
    }

    /// Sends `PING`: a health check with the same timeout and errors as the store calls.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call(
            |client, options| async move { client.with_options(&options).ping::<()>(None).await },
        )
        .await
    }

    /// Runs one call (a command, a pipeline, or a save and its `EVAL` fallback): waits
    /// (briefly) for a connection, sends with the call options (never replayed on another
    /// connection) and bounds the whole by the timeout.
    ///
    /// The bound is this one timer per call, not fred's per-command timeout as well: each
    /// tokio timer takes the runtime's one timer-wheel lock to arm and again to cancel, and
    /// may wake the thread that parks on the I/O driver. A returning visitor's three commands
    /// had a timer each: without them, actix-web's reference app on Redis spent 5 % less CPU
    /// per request (`bench/RESULTS.md`, "Redis: context switches and timers").
    async fn call<T, F, Fut>(&self, command: F) -> Result<T, StoreError>
    where
        F: FnOnce(Client, Options) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let inner = &*self.inner;
        let started = Instant::now();
        let client = self.connected_client(started).await?;
        let options = Options {
            // Zero: no timer of fred's; the call is bounded below, whatever the client's own
            // default (an app's client or pool may have one).
            timeout: Some(Duration::ZERO),
            max_attempts: Some(1),
            ..Options::default()
        };
        let remaining = inner.timeout.saturating_sub(started.elapsed());
        // The error is classified by the client that sent the command: on a pool, another
        // client's state says nothing about this one.
        let sender = client.clone();
        match tokio::time::timeout(remaining, command(client, options)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) if !sender.is_connected() => Err(self.not_connected(Some(error))),
            Ok(Err(error)) => Err(error::map(error, inner.timeout)),
            Err(_) if !sender.is_connected() => Err(self.not_connected(None)),
            Err(_) => Err(StoreError::Timeout(inner.timeout)),
        }
    }

    /// Sends `command`, behind `index` when a user is named (see [`command::send`]), as one
    /// call.
    async fn send(&self, index: Option<Command>, command: Command) -> Result<Value, StoreError> {
        self.call(|client, options| async move {
            command::send(&client, &options, index, command).await
        })
        .await
    }

    /// The index entry that lists session `id` under `owner` until `deadline`, if there is an
    /// owner.
    fn index_entry(
        &self,
        id: &SessionId,
        owner: Option<&str>,
        deadline: SystemTime,
    ) -> Option<Command> {
        owner.map(|user| index::entry(self.user_index_key(user).into(), id, deadline))
    }

    /// The value a write stores, with its version, computed once.
    fn value(write: &Write<'_>) -> Result<(Bytes, Version), StoreError> {
        let json = write.json()?.into_owned();
        let version = stored::version_of(json.as_bytes());
        Ok((Bytes::from(json), version))
    }

    /// A connected client to send one call on, waiting at most the connect wait for one.
    async fn connected_client(&self, started: Instant) -> Result<Client, StoreError> {
        loop {
            let client = self.inner.connection.client();
            if client.is_connected() {
                return Ok(client.clone());
            }
            if started.elapsed() >= self.inner.connect_wait {
                return Err(self.not_connected(None));
            }
            tokio::time::sleep(CONNECT_POLL).await;
        }
    }

    /// The near cache's value of `key`, if there is a near cache and it may serve the value
    /// now (never while the connection is down: invalidations are not arriving then).
    fn near_hit(&self, key: &str) -> Option<Held> {
        let near = self.inner.near.as_deref()?;
        if !self.inner.connection.client().is_connected() {
            return None;
        }
        near.get(key, Instant::now())
    }

    /// A reservation of `key`'s slot in the near cache for the command of `kind` about to be
    /// sent, if there is a near cache and it is in use.
    fn reserve<'a>(&'a self, key: &'a str, kind: Source) -> Option<Reservation<'a>> {
        Reservation::new(self.inner.near.as_deref()?, key, kind)
    }

    /// `loaded`, counted as touched while the `pttl_ms` its key has left is within
    /// [`touch_after`](RedisStoreBuilder::touch_after) of its own lifetime.
    fn touched_if_fresh(&self, loaded: Loaded, pttl_ms: i64, lifetimes: &Lifetimes) -> Loaded {
        let lifetime = lifetimes
            .of(&loaded.record)
            .map(|lifetime| lifetime.min(LONGEST_TTL));
        if touch_after::fresh_enough(pttl_ms, lifetime, self.inner.touch_after) {
            loaded.touched()
        } else {
            loaded
        }
    }

    fn not_connected(&self, error: Option<ClientError>) -> StoreError {
        let last_error = error.or_else(|| {
            self.inner
                .last_error
                .lock()
                .ok()
                .and_then(|last| last.clone())
        });
        StoreError::unavailable(NotConnected { last_error })
    }
}

#[async_trait]
impl Store for RedisStore {
    /// `GET key`; the version is the SHA-1 of the value.
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let reply = self.send(None, Command::Get(self.key(id).into())).await?;
        let value = command::bytes_or_nil(reply).map_err(StoreError::backend)?;
        value.map(|bytes| stored::loaded(&bytes)).transpose()
    }

    /// `SET key value NX EX ttl`, behind the user's index entry when the write names one.
    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        let (value, version) = Self::value(&write)?;
        let set = Command::SetNxEx {
            key: self.key(id).into(),
            value,
            ttl: ttl_until(write.expires_at),
        };
        let index = self.index_entry(id, write.owner, write.expires_at);
        match self.send(index, set).await? {
            Value::Null => Ok(Created::IdTaken),
            Value::String(ok) if &*ok == "OK" => Ok(Created::Written(version)),
            other => Err(StoreError::backend(command::unexpected(&other))),
        }
    }

    /// `EVALSHA` of the save script (`EVAL` when Redis answers `NOSCRIPT`), behind the user's
    /// index entry when the write names one: written only over the very bytes `expected` is
    /// the SHA-1 of.
    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        let (value, version) = Self::value(&write)?;
        let key: Str = self.key(id).into();
        let ttl = ttl_until(write.expires_at);
        let reservation = self.reserve(&key, Source::Script);
        let save = Save::new(key.clone(), expected, value.clone(), ttl);
        let index = self.index_entry(id, write.owner, write.expires_at);
        let reply = self
            .call(|client, options| async move {
                match command::send(&client, &options, index, save.evalsha()).await {
                    // The index entry (an `EVAL`) went through; only the save is sent again.
                    Err(error) if script::is_noscript(&error) => {
                        tracing::debug!("redis does not have the save script: sending it");
                        command::send(&client, &options, None, save.eval()).await
                    }
                    reply => reply,
                }
            })
            .await?;
        let saved = save::outcome(reply, version)?;
        if let (Saved::Written(_), Some(reservation)) = (&saved, reservation) {
            reservation.fill(Fill::saved(value, version, ttl));
        }
        Ok(saved)
    }

    /// `EXPIRE key ttl` only (the stored JSON is not rewritten), behind the user's index
    /// entry when an owner is named.
    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key: Str = self.key(id).into();
        let expire = Command::Expire {
            key: key.clone(),
            ttl: ttl_until(expires_at),
        };
        let reply = self
            .send(self.index_entry(id, owner, expires_at), expire)
            .await;
        // The cached deadline is now behind Redis's (or the key is gone): the next load reads
        // the TTL again rather than guess which of a touch and a racing save came last.
        if let Some(near) = &self.inner.near {
            near.forget(&key);
        }
        let touched = reply?.as_i64() == Some(1);
        Ok(touched)
    }

    /// `DEL key`.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let key: Str = self.key(id).into();
        let forget = || {
            if let Some(near) = &self.inner.near {
                near.forget(&key);
            }
        };
        // Before: no request of this process is served the session while it goes; after: a
        // fill that raced the delete does not outlive it.
        forget();
        let deleted = self.send(None, Command::Del(key.clone())).await.map(drop);
        forget();
        deleted
    }

    /// `ZRANGEBYSCORE index now +inf`: the ids in the user's index whose deadline has not
    /// passed.
    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        let listing = index::listing(self.user_index_key(owner).into());
        let reply = self.send(None, listing).await?;
        index::ids(reply).map_err(StoreError::backend)
    }

    /// `GET key` and `PTTL key` in one round trip, written to the socket together
    /// (`command::get_and_pttl`); the record counts as touched while its remaining TTL is
    /// within [`touch_after`](RedisStoreBuilder::touch_after) of its own lifetime, so a
    /// read-only request sends no `EXPIRE` then (see the [crate docs](crate)). The value, and
    /// so its version, stays as it is. With a [near cache](crate::NearCache), a session it
    /// holds costs no round trip: its value, version and remaining TTL come from the cache.
    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        let key: Str = self.key(id).into();
        if let Some(held) = self.near_hit(&key) {
            let loaded = stored::loaded_with(&held.bytes, held.version)?;
            let pttl = held.pttl_ms(Instant::now());
            return Ok(Some(self.touched_if_fresh(loaded, pttl, &lifetimes)));
        }
        let reservation = self.reserve(&key, Source::Read);
        let sent_key = key.clone();
        let (value, pttl) = self
            .call(|client, options| async move {
                command::get_and_pttl(&client, &options, sent_key).await
            })
            .await?;
        let Some(bytes) = command::bytes_or_nil(value).map_err(StoreError::backend)? else {
            return Ok(None);
        };
        let loaded = stored::loaded(&bytes)?;
        let pttl = pttl
            .as_i64()
            .ok_or_else(|| StoreError::backend(command::unexpected(&pttl)))?;
        if let (Some(reservation), Some(ttl)) = (reservation, near_cache::ttl_of_pttl(pttl)) {
            reservation.fill(Fill {
                bytes,
                version: loaded.version,
                ttl,
                source: Source::Read,
            });
        }
        Ok(Some(self.touched_if_fresh(loaded, pttl, &lifetimes)))
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.prefix)
            .field("user_index_prefix", &self.inner.user_index_prefix)
            .field("timeout", &self.inner.timeout)
            .field("near_cache", &self.inner.near.is_some())
            .field("connected", &self.is_connected())
            .finish()
    }
}
