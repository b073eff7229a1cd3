//! [`MemoryStore`]: the embedded default store, on moka's concurrent cache.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant, SystemTime},
};

use async_trait::async_trait;
use moka::{future::Cache, ops::compute::Op, policy::EvictionPolicy, Expiry};

use crate::{Created, Loaded, Record, Saved, SessionId, Store, StoreError, Version, Write};

use self::{key::Key, owners::Owners};

mod key;
mod owners;

/// Bytes charged per entry on top of the JSON (and of a long id's own allocation): what a
/// session with a default id costs beyond its record, as `cargo xtask bench memory` measures
/// it. Of these 341 bytes, 253 are moka's (its key `Arc` counters 16, hash-table bucket 16 and
/// slots about 21, value entry 24, entry info 64, deque-node block 48, access-order node 24,
/// timer-wheel node 40) and 88 ours (the inline id 40, the value pointer 8, the [`Stored`]
/// `Arc` 40).
const ENTRY_OVERHEAD: usize = 341;

/// An in-process session store with per-session expiry.
///
/// - Each record expires at its own time; an expired record is never returned.
/// - [`create`](Store::create) is atomic (moka's entry API), so two new sessions never share
///   an id; a [`save`](Store::save) compares the entry's version and replaces it in one
///   atomic compute, so it never writes over a record it did not load, nor brings a deleted
///   one back.
/// - An optional capacity, in bytes, bounds memory. When it is reached the least recently
///   used sessions go first: the eviction policy is LRU rather than moka's default TinyLFU,
///   which would refuse a brand-new session outright when the cache is full
///   (moka-rs/moka#147), silently logging out the user who just signed in.
///
/// It lives in one process: behind a load balancer use sticky sessions or a shared store.
///
/// ```
/// use session_core::MemoryStore;
/// let unbounded = MemoryStore::new();
/// let bounded = MemoryStore::with_max_bytes(64 * 1024 * 1024);
/// # let _ = (unbounded, bounded);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    /// Keyed with foldhash rather than SipHash: keys reach the store only after their
    /// signature verified (or from our own generator), so a client cannot pick colliding keys.
    cache: Cache<Key, Entry, foldhash::fast::RandomState>,
    /// The last version given to a write; every write takes the next one.
    versions: Arc<AtomicU64>,
    /// Each user's sessions.
    owners: Arc<Owners>,
}

/// One stored session. Clones (what moka hands out on reads) share the same deadline, so a
/// touch moves it in place without copying the record.
#[derive(Clone)]
struct Entry(Arc<Stored>);

/// The record and its deadline. The JSON is a second allocation behind the `Arc`: one block
/// of counters, deadline, length and text would save about 8 bytes and an allocation, but
/// needs a custom DST, so unsafe code (which the workspace forbids) or a crate such as
/// `triomphe`; keeping the deadline in moka's value instead would turn every touch into a
/// replacing write.
struct Stored {
    json: Box<str>,
    /// When the record expires: milliseconds on the monotonic clock since [`clock_base`].
    deadline_ms: AtomicU64,
    /// Which write this is (unique within the store).
    version: u64,
}

impl Entry {
    fn new(json: String, expires_at: SystemTime, version: u64) -> Self {
        Self(Arc::new(Stored {
            json: json.into(),
            deadline_ms: AtomicU64::new(monotonic_ms(expires_at)),
            version,
        }))
    }

    fn version(&self) -> Version {
        Version::from_u64(self.0.version)
    }

    fn loaded(&self) -> Result<Loaded, StoreError> {
        Ok(Loaded::new(
            Record::from_json(&self.0.json)?,
            self.version(),
        ))
    }

    fn deadline(&self) -> Instant {
        clock_base() + Duration::from_millis(self.0.deadline_ms.load(Ordering::Acquire))
    }

    fn is_live(&self) -> bool {
        self.deadline() > Instant::now()
    }

    fn remaining(&self, now: Instant) -> Duration {
        self.deadline().saturating_duration_since(now)
    }
}

impl MemoryStore {
    /// An unbounded store: entries leave only when they expire or are deleted.
    pub fn new() -> Self {
        Self::build(None)
    }

    /// A store that holds at most about `max_bytes` of sessions (ids, JSON and bookkeeping),
    /// evicting the least recently used first.
    pub fn with_max_bytes(max_bytes: u64) -> Self {
        Self::build(Some(max_bytes))
    }

    fn build(max_bytes: Option<u64>) -> Self {
        let mut builder = Cache::builder()
            .expire_after(PerEntryExpiry)
            .eviction_policy(EvictionPolicy::lru());
        if let Some(max_bytes) = max_bytes {
            builder = builder
                .max_capacity(max_bytes)
                .weigher(|key: &Key, entry: &Entry| {
                    u32::try_from(key.heap_bytes() + entry.0.json.len() + ENTRY_OVERHEAD)
                        .unwrap_or(u32::MAX)
                });
        }
        Self {
            cache: builder.build_with_hasher(foldhash::fast::RandomState::default()),
            versions: Arc::default(),
            owners: Arc::default(),
        }
    }

    /// The number of live sessions (approximate until pending maintenance has run).
    pub fn len(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Whether the store holds no session (approximate, as [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs moka's pending maintenance (evictions, counts) now rather than lazily.
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    /// A new entry for `write`, listed under its owner first: a listing may name a session
    /// that is not written yet (its reader checks), never miss one that is.
    fn entry(&self, id: &SessionId, write: Write<'_>) -> Result<Entry, StoreError> {
        let json = write.record.to_json()?;
        if let Some(owner) = write.owner {
            self.owners.note(owner, id, write.expires_at);
        }
        let version = self.versions.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Entry::new(json, write.expires_at, version))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

/// The origin of the monotonic milliseconds stored in entries.
fn clock_base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Converts a wall-clock expiry into milliseconds on the monotonic clock.
fn monotonic_ms(expires_at: SystemTime) -> u64 {
    let remaining = expires_at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let at = Instant::now() + remaining;
    u64::try_from(at.duration_since(clock_base()).as_millis()).unwrap_or(u64::MAX)
}

struct PerEntryExpiry;

/// Tells moka each entry's own deadline, re-read on every access so that a touch (which
/// moves the shared deadline, then reads) reschedules the entry.
impl Expiry<Key, Entry> for PerEntryExpiry {
    fn expire_after_create(&self, _: &Key, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.remaining(now))
    }

    fn expire_after_read(
        &self,
        _: &Key,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.remaining(now))
    }

    fn expire_after_update(
        &self,
        _: &Key,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.remaining(now))
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        match self.cache.get(id.as_str().as_bytes()).await {
            Some(entry) if entry.is_live() => entry.loaded().map(Some),
            _ => Ok(None),
        }
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        let entry = self.entry(id, write)?;
        let version = entry.version();
        // moka's entry API treats an expired entry as absent and runs at most one insert per
        // key at a time, so this is an atomic create-if-absent.
        let stored = self.cache.entry(Key::of(id)).or_insert(entry).await;
        Ok(if stored.is_fresh() {
            Created::Written(version)
        } else {
            Created::IdTaken
        })
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        let entry = self.entry(id, write)?;
        let version = entry.version();
        // The comparison and the replacement run in one compute, which moka runs one at a
        // time per key.
        let mut outcome = None;
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|current| {
                let op = match current.map(|current| current.into_value()) {
                    Some(current) if current.is_live() && current.version() == *expected => {
                        outcome = Some(Ok(Saved::Written(version)));
                        Op::Put(entry)
                    }
                    Some(current) if current.is_live() => {
                        outcome = Some(current.loaded().map(Saved::Changed));
                        Op::Nop
                    }
                    _ => {
                        outcome = Some(Ok(Saved::Gone));
                        Op::Nop
                    }
                };
                std::future::ready(op)
            })
            .await;
        outcome.unwrap_or(Ok(Saved::Gone))
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key = id.as_str().as_bytes();
        let Some(entry) = self.cache.get(key).await.filter(Entry::is_live) else {
            return Ok(false);
        };
        if let Some(owner) = owner {
            self.owners.note(owner, id, expires_at);
        }
        entry
            .0
            .deadline_ms
            .store(monotonic_ms(expires_at), Ordering::Release);
        // Reading again makes moka take the new deadline (`expire_after_read`). If the entry
        // was deleted or replaced meanwhile, nothing is resurrected.
        let _ = self.cache.get(key).await;
        Ok(true)
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.cache.invalidate(id.as_str().as_bytes()).await;
        Ok(())
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        Ok(self.owners.sessions_of(owner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::conformance;

    #[tokio::test]
    async fn passes_the_store_conformance_suite() {
        conformance::run_all(|| async { MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn ids_of_every_length_are_kept_apart() {
        let store = MemoryStore::new();
        let later = SystemTime::now() + Duration::from_secs(3600);
        // Inline ids (a default one, a short custom one) and shared ones (longer than 38).
        let ids = [
            SessionId::random().unwrap(),
            SessionId::from("short"),
            SessionId::from("x".repeat(38)),
            SessionId::from("x".repeat(39)),
            SessionId::from("x".repeat(500)),
        ];
        for (n, id) in ids.iter().enumerate() {
            let mut data = serde_json::Map::new();
            data.insert("n".into(), n.into());
            let record = Record::new(data);
            let write = Write::new(&record, later);
            assert!(matches!(
                store.create(id, write).await.unwrap(),
                Created::Written(_)
            ));
            assert_eq!(store.create(id, write).await.unwrap(), Created::IdTaken);
        }
        for (n, id) in ids.iter().enumerate() {
            assert!(store.touch(id, later, None).await.unwrap());
            let loaded = store.load(id).await.unwrap().expect("stored");
            assert_eq!(loaded.record.data["n"], n);
        }
        store.delete(&ids[3]).await.unwrap();
        assert!(store.load(&ids[3]).await.unwrap().is_none());
        assert!(store.load(&ids[2]).await.unwrap().is_some());
        assert!(store.load(&ids[4]).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_full_bounded_store_still_keeps_a_brand_new_session() {
        let store = MemoryStore::with_max_bytes(64 * 1024);
        let record = Record::new(serde_json::Map::new());
        let later = SystemTime::now() + Duration::from_secs(3600);
        // Fill the cache well past its capacity, reading the oldest sessions often so that
        // a frequency-based policy would favour them over newcomers.
        for i in 0..2_000 {
            let id = SessionId::from(format!("filler-{i:05}"));
            store.create(&id, Write::new(&record, later)).await.unwrap();
            let _ = store.load(&SessionId::from("filler-00000")).await.unwrap();
        }
        store.run_pending_tasks().await;
        let newcomer = SessionId::from("newcomer");
        assert!(matches!(
            store
                .create(&newcomer, Write::new(&record, later))
                .await
                .unwrap(),
            Created::Written(_)
        ));
        store.run_pending_tasks().await;
        assert!(
            store.load(&newcomer).await.unwrap().is_some(),
            "new session was evicted"
        );
        assert!(
            store.len() < 2_000,
            "capacity bound was not applied: {}",
            store.len()
        );
    }
}
