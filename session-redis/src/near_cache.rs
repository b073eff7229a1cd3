//! The near cache: an opt-in copy of recently read and written sessions inside the process,
//! kept coherent by Redis's client tracking, so that a returning visitor's load costs no
//! round trip ([`NearCache`] says what it promises).
//!
//! How it stays coherent:
//!
//! - The store's connection turns tracking on (`CLIENT TRACKING on BCAST PREFIX <prefix>
//!   NOLOOP`, RESP3): Redis then pushes an invalidation down that connection for every change
//!   of a session key (by an Express app, another process, an expiry, an eviction), after the
//!   reply of every command it ran before the change. `NOLOOP` spares the store the
//!   invalidations of its own plain commands; those of its save script still come on some
//!   servers (Redis 7.0 credits a script's writes to the script, not to the connection), so
//!   each new connection runs a probe script to learn which kind of server it is on.
//! - A fill is reserved before its command is sent and lands only if no invalidation of the
//!   key was handled in between: every load miss and save first puts a reservation
//!   (a ticket) in the key's slot, invalidations count against it, a delete or another
//!   reservation of the key replaces it, and the reply fills the slot only if its ticket is
//!   there with no invalidation counted (a save: none but its own, see `shard.rs`). An
//!   invalidation handled after the fill drops the value, except the one a save is known to
//!   cause itself. While a reservation waits, the value held before it stays servable until
//!   an invalidation comes: Redis may still hold it.
//! - Every fill belongs to an epoch of the connection. A reconnection (the new connection
//!   tracks nothing until tracking is turned on again), a lost invalidation (the client's
//!   channel overflowed) or a connection error starts a new epoch, which drops every entry;
//!   fills and hits wait until tracking is on for the current epoch.
//! - An entry is never served past the deadline Redis gave the key (measured from before the
//!   command was sent, so it never runs late), nor longer than [`NearCache::max_age`] after
//!   its fill: a bound on staleness for what tracking cannot report (a `FLUSHDB`, whose
//!   invalidation carries no key, a connection that died unnoticed, or, on a server that
//!   invalidates the store's own script writes, another process's write of the same key in
//!   the same event-loop turn as a save of ours, which Redis reports in that save's one
//!   invalidation).
//!
//! A hit may still be behind another process's write whose invalidation is on its way; a save
//! made from it never overwrites that write (the save is conditional on the version it read,
//! see [`save`](crate::save)).

mod shard;

use std::{
    collections::hash_map::RandomState,
    hash::BuildHasher,
    sync::{
        atomic::{AtomicU64, AtomicU8, Ordering},
        Mutex, MutexGuard,
    },
    time::{Duration, Instant},
};

use fred::{bytes::Bytes, types::client::Invalidation};
use session_core::Version;
use tokio::sync::broadcast::{error::TryRecvError, Receiver};

use self::shard::Shard;

/// What a near cache holds and for how long; give it to
/// [`RedisStoreBuilder::near_cache`](crate::RedisStoreBuilder::near_cache).
///
/// With it on, a load that finds its session in the cache costs no round trip, and a save
/// leaves what it wrote there for the next request (a session enters the cache when it is
/// first read back, so new visitors who never return cost it nothing). Saves stay
/// conditional, so a write by another process is never overwritten. A read may be behind
/// such a write:
///
/// - by the time its invalidation takes to reach the process (Redis pushes it at the end of
///   the event-loop turn that ran the write; the client applies every invalidation it has
///   received before a lookup);
/// - by at most [`max_age`](Self::max_age) when tracking cannot tell: a `FLUSHDB` or
///   `FLUSHALL` (whose invalidation names no key), a connection that died unnoticed, or, on a
///   server that invalidates the store's own script writes (Redis 7.0 does; the store probes
///   each new connection), another process's write of the same key in the same event-loop
///   turn of Redis as a save of ours, which Redis reports in that save's one invalidation.
///
/// It needs RESP3 and client tracking (Redis 6 or later, Valkey), the store's own client (a
/// URL, not [`from_client`](crate::RedisStore::from_client) or
/// [`from_pool`](crate::RedisStore::from_pool)) and one server or Sentinel, not Redis Cluster.
///
/// ```
/// use std::time::Duration;
/// use session_redis::{NearCache, RedisStore};
///
/// # async fn run() -> Result<(), session_redis::BuildError> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379")
///     .near_cache(NearCache::new().capacity_bytes(64 << 20).max_age(Duration::from_secs(30)))
///     .build()?;
/// # drop(store); Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct NearCache {
    capacity_bytes: u64,
    max_age: Duration,
}

impl NearCache {
    /// 16 MiB of sessions, each kept at most 30 s after it was read or written.
    pub const fn new() -> Self {
        Self {
            capacity_bytes: 16 << 20,
            max_age: Duration::from_secs(30),
        }
    }

    /// The most bytes the cache counts for its keys, values and per-entry overhead (16 MiB by
    /// default); past it, the oldest entries are dropped first.
    pub const fn capacity_bytes(mut self, bytes: u64) -> Self {
        self.capacity_bytes = bytes;
        self
    }

    /// How long an entry is served after it was read from or written to Redis (30 s by
    /// default): the staleness bound for changes that tracking cannot report (listed under
    /// [`NearCache`]).
    pub const fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }
}

impl Default for NearCache {
    fn default() -> Self {
        Self::new()
    }
}

/// Shards of the cache, each behind its own lock.
const SHARDS: usize = 16;

/// The near cache of one store (see the module docs).
pub(crate) struct Near {
    shards: [Mutex<Shard>; SHARDS],
    hasher: RandomState,
    shard_capacity: u64,
    max_age: Duration,
    /// The current epoch of the connection; bumped (under `transitions`) to drop everything.
    epoch: AtomicU64,
    /// The epoch in which tracking is known to be on; hits and fills need it to be `epoch`.
    tracked: AtomicU64,
    /// What the server of the tracked connection does with the store's own script writes:
    /// the probe's finding ([`ScriptWrites`] as a number).
    script_writes: AtomicU8,
    transitions: Mutex<()>,
    tickets: AtomicU64,
    /// The client's invalidations, applied in order by whoever comes first: the tracking task
    /// when one arrives, or any lookup or fill, so that none is served past an invalidation
    /// the client has already received.
    invalidations: Mutex<Option<Receiver<Invalidation>>>,
}

/// A cached value.
#[derive(Clone)]
pub(crate) struct Held {
    pub(crate) bytes: Bytes,
    pub(crate) version: Version,
    /// When Redis expires the key, at the latest; `None` for a key without expiry.
    deadline: Option<Instant>,
    filled: Instant,
    epoch: u64,
}

impl Held {
    /// What `PTTL` would answer at `now`: the milliseconds left, or -1 without an expiry.
    pub(crate) fn pttl_ms(&self, now: Instant) -> i64 {
        self.deadline.map_or(-1, |deadline| {
            i64::try_from(deadline.saturating_duration_since(now).as_millis()).unwrap_or(i64::MAX)
        })
    }
}

/// A reservation of a key's slot, for one fill.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    number: u64,
    epoch: u64,
}

/// What the server of the tracked connection does with the store's own script writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScriptWrites {
    /// `NOLOOP` spares them: no invalidation of its own follows a save.
    Spared = 0,
    /// Each invalidates the store's cache too (Redis 7.0: the script, not the connection, is
    /// the writer), once, after the save's reply.
    Invalidated = 1,
    /// Not known: a save fills nothing.
    Unknown = 2,
}

impl ScriptWrites {
    fn from_u8(n: u8) -> Self {
        match n {
            0 => Self::Spared,
            1 => Self::Invalidated,
            _ => Self::Unknown,
        }
    }
}

/// Which command fills a slot. A create fills none: a session enters the cache when it is
/// first read back, so new visitors who never return cost it nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A read (`GET`): it leaves a slot that a write has reserved alone.
    Read,
    /// The save script, whose write invalidates the store's own cache on some servers.
    Script,
}

/// What a command's reply puts in the cache.
pub(crate) struct Fill {
    pub(crate) bytes: Bytes,
    pub(crate) version: Version,
    /// The TTL Redis gave the key, from when the command was sent; `None` for no expiry.
    pub(crate) ttl: Option<Duration>,
    pub(crate) source: Source,
}

impl Fill {
    /// What a save of `bytes` with `ttl_s` seconds (as `EX` says) leaves.
    pub(crate) fn saved(bytes: Bytes, version: Version, ttl_s: i64) -> Self {
        Self {
            bytes,
            version,
            ttl: Some(seconds(ttl_s)),
            source: Source::Script,
        }
    }
}

/// `ttl_s` seconds (as `EX` and `EXPIRE` take them); none for a negative count.
pub(crate) fn seconds(ttl_s: i64) -> Duration {
    Duration::from_secs(u64::try_from(ttl_s).unwrap_or(0))
}

/// The TTL a `PTTL` reply gives a fill: `Some(None)` for a key without expiry (-1), nothing
/// to fill for a key gone since its `GET` (-2) or any other reply.
pub(crate) fn ttl_of_pttl(pttl_ms: i64) -> Option<Option<Duration>> {
    match u64::try_from(pttl_ms) {
        Ok(ms) => Some(Some(Duration::from_millis(ms))),
        Err(_) if pttl_ms == -1 => Some(None),
        Err(_) => None,
    }
}

/// A reservation of one key's slot (see [`Near::reserve`]), made just before its command is
/// sent, and given back when dropped unfilled: after an error, a conflict, a nil or a
/// cancelled call.
pub(crate) struct Reservation<'a> {
    near: &'a Near,
    key: &'a str,
    ticket: Ticket,
    /// When it was made: the fill's deadline counts from there, before the command ran, so
    /// it is never later than Redis's.
    sent: Instant,
    filled: bool,
}

impl<'a> Reservation<'a> {
    /// Reserves `key` in `near` for a command of `kind`; `None` when [`Near::reserve`] says.
    pub(crate) fn new(near: &'a Near, key: &'a str, kind: Source) -> Option<Self> {
        let ticket = near.reserve(key, kind)?;
        Some(Self {
            near,
            key,
            ticket,
            sent: Instant::now(),
            filled: false,
        })
    }

    /// Fills the slot, if the reservation still stands ([`Near::fill`]).
    pub(crate) fn fill(mut self, fill: Fill) {
        self.filled = true;
        self.near.fill(self.key, self.ticket, self.sent, fill);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.filled {
            self.near
                .shard(self.key)
                .release(self.key, self.ticket.number);
        }
    }
}

impl Near {
    pub(crate) fn new(config: NearCache) -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            hasher: RandomState::new(),
            shard_capacity: (config.capacity_bytes / SHARDS as u64).max(1),
            max_age: config.max_age,
            epoch: AtomicU64::new(1),
            tracked: AtomicU64::new(0),
            script_writes: AtomicU8::new(ScriptWrites::Unknown as u8),
            transitions: Mutex::new(()),
            tickets: AtomicU64::new(0),
            invalidations: Mutex::new(None),
        }
    }

    /// Takes the client's invalidations from `receiver` from now on.
    pub(crate) fn listen(&self, receiver: Receiver<Invalidation>) {
        *lock(&self.invalidations) = Some(receiver);
    }

    /// Applies every invalidation the client has received and nobody applied yet. Lost ones
    /// (the channel overflowed) drop everything; a closed channel (the client quit) stops the
    /// cache.
    pub(crate) fn apply_pending(&self) {
        let mut invalidations = lock(&self.invalidations);
        let Some(receiver) = invalidations.as_mut() else {
            return;
        };
        loop {
            match receiver.try_recv() {
                Ok(invalidation) => self.apply(&invalidation),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Lagged(lost)) => {
                    tracing::debug!(lost, "redis invalidations lost: near cache dropped");
                    self.drop_all();
                }
                Err(TryRecvError::Closed) => {
                    *invalidations = None;
                    self.new_connection();
                    return;
                }
            }
        }
    }

    /// Counts the invalidations of the keys Redis says changed.
    fn apply(&self, invalidation: &Invalidation) {
        for key in &invalidation.keys {
            // Session keys are text; a key that is not cannot be one of ours.
            if let Some(key) = key.as_str() {
                self.shard(key).invalidated(key);
            }
        }
    }

    /// The current epoch, if tracking is on in it.
    fn live_epoch(&self) -> Option<u64> {
        let epoch = self.epoch.load(Ordering::Acquire);
        (self.tracked.load(Ordering::Acquire) == epoch).then_some(epoch)
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        lock(&self.shards[index])
    }

    /// The value of `key`, if the cache may serve it at `now`.
    pub(crate) fn get(&self, key: &str, now: Instant) -> Option<Held> {
        self.apply_pending();
        let epoch = self.live_epoch()?;
        let shard = self.shard(key);
        let held = shard.held(key)?;
        let fresh = held.deadline.is_none_or(|deadline| now < deadline)
            && now.saturating_duration_since(held.filled) < self.max_age;
        (held.epoch == epoch && fresh).then(|| held.clone())
    }

    /// Reserves `key`'s slot for a fill by the command about to be sent; `None` while
    /// tracking is off (nothing may be filled then), or for a read (`kind`) while another
    /// command holds the slot (its reply is at least as new as the read's).
    pub(crate) fn reserve(&self, key: &str, kind: Source) -> Option<Ticket> {
        let epoch = self.live_epoch()?;
        let number = self.tickets.fetch_add(1, Ordering::Relaxed);
        let read = kind == Source::Read;
        self.shard(key)
            .reserve(key, number, read)
            .then_some(Ticket { number, epoch })
    }

    /// Fills `key`'s slot with what the reserved command, sent at `sent`, wrote or read, if
    /// the reservation
    /// still stands in a live epoch and the invalidations handled since allow it
    /// ([`Shard::fill`]); gives the reservation back otherwise.
    pub(crate) fn fill(&self, key: &str, ticket: Ticket, sent: Instant, fill: Fill) {
        let held = Held {
            bytes: fill.bytes,
            version: fill.version,
            deadline: fill.ttl.and_then(|ttl| sent.checked_add(ttl)),
            filled: sent,
            epoch: ticket.epoch,
        };
        self.apply_pending();
        let script_writes = match fill.source {
            Source::Read => ScriptWrites::Spared,
            Source::Script => ScriptWrites::from_u8(self.script_writes.load(Ordering::Acquire)),
        };
        let mut shard = self.shard(key);
        if self.live_epoch() == Some(ticket.epoch)
            && shard.fill(key, ticket.number, held, script_writes)
        {
            shard.keep_within(self.shard_capacity, key);
        } else {
            shard.release(key, ticket.number);
        }
    }

    /// Drops whatever the cache holds or awaits for `key`: this process deletes or touches it.
    pub(crate) fn forget(&self, key: &str) {
        self.shard(key).remove(key);
    }

    /// Redis says `key` changed ([`Shard::invalidated`]).
    #[cfg(test)]
    pub(crate) fn invalidated(&self, key: &str) {
        self.shard(key).invalidated(key);
    }

    /// Drops every entry and stops fills and hits until [`tracking_on`](Self::tracking_on)
    /// names the returned epoch: for a new connection, which tracks nothing yet.
    pub(crate) fn new_connection(&self) -> u64 {
        let _transition = lock(&self.transitions);
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        self.drop_entries();
        epoch
    }

    /// Tracking is on for the connection of `epoch`, whose server treats the store's own
    /// script writes as `script_writes` says: fills and hits may start, unless a newer
    /// connection came meanwhile.
    pub(crate) fn tracking_on(&self, epoch: u64, script_writes: ScriptWrites) {
        let _transition = lock(&self.transitions);
        if self.epoch.load(Ordering::Acquire) == epoch {
            self.script_writes
                .store(script_writes as u8, Ordering::Release);
            self.tracked.store(epoch, Ordering::Release);
        }
    }

    /// Drops every entry, tracking staying as it is: after a lost invalidation or a
    /// connection error.
    pub(crate) fn drop_all(&self) {
        let _transition = lock(&self.transitions);
        let old = self.epoch.fetch_add(1, Ordering::AcqRel);
        if self.tracked.load(Ordering::Acquire) == old {
            self.tracked.store(old + 1, Ordering::Release);
        }
        self.drop_entries();
    }

    fn drop_entries(&self) {
        for shard in &self.shards {
            lock(shard).clear();
        }
    }

    /// How many values the cache holds (reservations aside).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).held_count())
            .sum()
    }
}

/// Locks `mutex`; a panic under a lock of the cache leaves nothing half-written worth
/// refusing.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
