//! [`RedisStore`]: the [`Store`] implementation, with connect-redis's keys, values and TTLs.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use fred::{
    error::Error as ClientError,
    prelude::{Client, ClientLike, KeysInterface},
    types::{config::Options, CustomCommand, Expiration, SetOptions, Value},
};
use session_core::{Created, Lifetimes, Loaded, Record, SessionId, Store, StoreError};
use tokio::task::JoinHandle;

use crate::{
    error::{self, NotConnected},
    RedisStoreBuilder,
};

/// How often a call re-checks a connection that is not up.
const CONNECT_POLL: Duration = Duration::from_millis(10);

/// A [`Store`] in Redis that is byte-compatible with connect-redis: key `prefix + id`, value
/// the session JSON of [`Record::to_json`], `SET key value EX ttl` with
/// `ttl = ceil((expires_at - now) / 1 s)`, `SET NX EX` to create, `EXPIRE` to touch, `DEL`
/// to destroy. The Redis TTL is the truth: a `cookie.expires` left stale by a touch is not
/// an expiry. A read-only request costs one round trip: its load and touch are one
/// `GETEX key EX ttl` (Redis 6.2 or later; older servers get a `GET`, and the touch at the end
/// of the request).
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
    client: Client,
    /// Whether the server knows `GETEX` (Redis 6.2+): cleared on its first "unknown command".
    getex: AtomicBool,
    prefix: String,
    timeout: Duration,
    connect_wait: Duration,
    url: String,
    pub(crate) last_error: Arc<Mutex<Option<ClientError>>>,
    tasks: Mutex<Vec<JoinHandle<Result<(), ClientError>>>>,
}

impl Inner {
    pub(crate) fn new(
        client: Client,
        prefix: String,
        timeout: Duration,
        connect_wait: Duration,
        url: String,
    ) -> Self {
        Self {
            client,
            getex: AtomicBool::new(true),
            prefix,
            timeout,
            connect_wait,
            url,
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

    /// A store for the Redis at `url` with the defaults: prefix `sess:`, 2 s timeout.
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

    /// The bound on every call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Whether the connection is up right now.
    pub fn is_connected(&self) -> bool {
        self.inner.client.is_connected()
    }

    /// Sends `PING`: a health check with the same timeout and errors as the store calls.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call(
            |client, options| async move { client.with_options(&options).ping::<()>(None).await },
        )
        .await
    }

    /// Runs one command: waits (briefly) for a connection, sends with the call options and
    /// bounds the whole by the timeout.
    async fn call<T, F, Fut>(&self, command: F) -> Result<T, StoreError>
    where
        F: FnOnce(Client, Options) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let inner = &*self.inner;
        let started = Instant::now();
        self.wait_for_connection(started).await?;
        let options = Options {
            timeout: Some(inner.timeout),
            max_attempts: Some(1),
            ..Options::default()
        };
        let remaining = inner.timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(remaining, command(inner.client.clone(), options)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) if !self.is_connected() => Err(self.not_connected(Some(error))),
            Ok(Err(error)) => Err(error::map(error, inner.timeout)),
            Err(_) if !self.is_connected() => Err(self.not_connected(None)),
            Err(_) => Err(StoreError::Timeout(inner.timeout)),
        }
    }

    async fn wait_for_connection(&self, started: Instant) -> Result<(), StoreError> {
        while !self.is_connected() {
            if started.elapsed() >= self.inner.connect_wait {
                return Err(self.not_connected(None));
            }
            tokio::time::sleep(CONNECT_POLL).await;
        }
        Ok(())
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

/// Seconds until `expires_at`, rounded up, as connect-redis computes them from millisecond
/// timestamps: `ceil((expires - now) / 1000)`. Zero or less means "already expired".
pub(crate) fn ttl_seconds(expires_at: SystemTime, now: SystemTime) -> i64 {
    let millis = |t: SystemTime| -> i128 {
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_millis()).unwrap_or(i128::MAX / 2),
            Err(before) => -i128::try_from(before.duration().as_millis()).unwrap_or(i128::MAX / 2),
        }
    };
    let diff = millis(expires_at) - millis(now);
    let seconds = (diff + 999).div_euclid(1000);
    i64::try_from(seconds).unwrap_or(if seconds > 0 { i64::MAX } else { i64::MIN })
}

#[async_trait]
impl Store for RedisStore {
    /// `GET key`.
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let key = self.key(id);
        let value: Option<Vec<u8>> = self
            .call(|client, options| async move { client.with_options(&options).get(key).await })
            .await?;
        value.map(decode).transpose()
    }

    /// `GETEX key EX ttl` with the usual lifetime ([`Lifetimes::usual`]): the load and the
    /// touch of a read-only request in one command. A record that carries another lifetime
    /// (its own `originalMaxAge`) is then [touched](Store::touch) for it, so no record keeps a
    /// lifetime it did not ask for. On a server older than Redis 6.2 (no `GETEX`) this is a
    /// [`load`](Store::load), and the request's end touches as usual.
    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        if !self.inner.getex.load(Ordering::Relaxed) {
            return Ok(self.load(id).await?.map(Loaded::untouched));
        }
        let args = vec![
            Value::from(self.key(id)),
            Value::from("EX"),
            Value::from(ttl_of(lifetimes.usual())),
        ];
        // `None`: the server does not know GETEX.
        let reply: Option<Option<Vec<u8>>> = self
            .call(|client, options| async move {
                let getex = CustomCommand::new_static("GETEX", None::<u16>, false);
                match client.with_options(&options).custom(getex, args).await {
                    Err(error) if is_unknown_command(&error) => Ok(None),
                    reply => reply.map(Some),
                }
            })
            .await?;
        let Some(value) = reply else {
            tracing::info!("redis has no GETEX (before 6.2): loading with GET");
            self.inner.getex.store(false, Ordering::Relaxed);
            return Ok(self.load(id).await?.map(Loaded::untouched));
        };
        let Some(record) = value.map(decode).transpose()? else {
            return Ok(None);
        };
        Ok(Some(match lifetimes.of(&record) {
            Some(own) if own == lifetimes.usual() => Loaded::touched(record),
            Some(own) => {
                self.touch(id, SystemTime::now() + own).await?;
                Loaded::touched(record)
            }
            // Its lifetime is over: the request's end deletes it.
            None => Loaded::untouched(record),
        }))
    }

    /// `SET key value NX EX ttl`.
    async fn create(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<Created, StoreError> {
        let ttl = ttl_seconds(expires_at, SystemTime::now());
        if ttl <= 0 {
            // Expired before it was written: there is nothing to keep.
            return Ok(Created::Created);
        }
        let (key, value) = (self.key(id), record.to_json()?);
        let reply: Option<String> = self
            .call(|client, options| async move {
                client
                    .with_options(&options)
                    .set(
                        key,
                        value,
                        Some(Expiration::EX(ttl)),
                        Some(SetOptions::NX),
                        false,
                    )
                    .await
            })
            .await?;
        Ok(if reply.is_some() {
            Created::Created
        } else {
            Created::IdTaken
        })
    }

    /// `SET key value EX ttl`, or `DEL key` when the ttl is not positive.
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<(), StoreError> {
        let ttl = ttl_seconds(expires_at, SystemTime::now());
        if ttl <= 0 {
            return self.delete(id).await;
        }
        let (key, value) = (self.key(id), record.to_json()?);
        self.call(|client, options| async move {
            client
                .with_options(&options)
                .set::<(), _, _>(key, value, Some(Expiration::EX(ttl)), None, false)
                .await
        })
        .await
    }

    /// `EXPIRE key ttl` only (the stored JSON is not rewritten), or `DEL key` when the ttl is
    /// not positive.
    async fn touch(&self, id: &SessionId, expires_at: SystemTime) -> Result<(), StoreError> {
        let ttl = ttl_seconds(expires_at, SystemTime::now());
        if ttl <= 0 {
            return self.delete(id).await;
        }
        let key = self.key(id);
        self.call(|client, options| async move {
            client
                .with_options(&options)
                .expire::<i64, _>(key, ttl, None)
                .await
        })
        .await
        .map(drop)
    }

    /// `DEL key`.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let key = self.key(id);
        self.call(|client, options| async move {
            client.with_options(&options).del::<i64, _>(key).await
        })
        .await
        .map(drop)
    }
}

/// A lifetime in whole seconds, rounded up, as connect-redis turns `originalMaxAge` into a TTL.
fn ttl_of(lifetime: Duration) -> i64 {
    i64::try_from(lifetime.as_millis().div_ceil(1000)).unwrap_or(i64::MAX)
}

/// Whether the server refused a command it does not know (`GETEX` before Redis 6.2).
fn is_unknown_command(error: &ClientError) -> bool {
    error
        .details()
        .to_ascii_lowercase()
        .contains("unknown command")
}

/// A stored value as a record.
fn decode(bytes: Vec<u8>) -> Result<Record, StoreError> {
    let json = String::from_utf8(bytes).map_err(StoreError::corrupt)?;
    Record::from_json(&json)
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .field("connected", &self.is_connected())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn ttl_is_connect_redis_ceiling_of_milliseconds() {
        let now = at(1_700_000_000_000);
        assert_eq!(ttl_seconds(at(1_700_003_600_000), now), 3600);
        assert_eq!(ttl_seconds(at(1_700_003_600_001), now), 3601);
        assert_eq!(ttl_seconds(at(1_700_000_000_001), now), 1);
        assert_eq!(ttl_seconds(now, now), 0);
        assert_eq!(ttl_seconds(at(1_699_999_999_999), now), 0);
        assert_eq!(ttl_seconds(at(1_699_999_998_000), now), -2);
        // Sub-millisecond parts are dropped, as Node's millisecond clock does.
        assert_eq!(
            ttl_seconds(at(1_700_000_001_000) + Duration::from_micros(300), now),
            1
        );
    }
}
