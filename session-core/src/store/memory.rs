//! [`MemoryStore`]: the embedded default store, on moka's concurrent cache.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::SystemTime,
};

use async_trait::async_trait;

use crate::{Created, Loaded, Saved, SessionId, Store, StoreError, Version, Write};

use self::{
    entry::{Entry, Replaced},
    owners::Owners,
    tier::Tier,
};

mod entry;
mod key;
mod owners;
mod tier;

/// Bytes charged per entry on top of the JSON (and of a long id's own allocation): what a
/// session with a default id costs beyond its record, as `cargo xtask bench memory` measures
/// it. Of these 365 bytes, 253 are moka's (its key `Arc` counters 16, hash-table bucket 16 and
/// slots about 21, value entry 24, entry info 64, deque-node block 48, access-order node 24,
/// timer-wheel node 40) and 112 ours (the inline id 40, the value pointer 8, the `Stored`
/// `Arc` 64: counters 16, the locked record 32, deadline 8, weighed length and timer 8).
const ENTRY_OVERHEAD: usize = 365;

/// How far (in bytes) a record saved in place may grow or shrink before moka weighs its entry
/// again: a save that keeps the size costs no cache write.
const REWEIGH_SLACK: usize = 64;

/// The next store's [`MemoryStore::instance`].
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(0);

/// The default budget of visitors' sessions (those written without a user): 32 MiB, about
/// 65 000 sessions of the reference app.
pub const DEFAULT_VISITOR_BYTES: u64 = 32 * 1024 * 1024;

/// The default budget of users' sessions (those written with a user, see
/// [`SessionConfigBuilder::user_key`](crate::SessionConfigBuilder::user_key)): 96 MiB, about
/// 200 000 sessions of the reference app.
pub const DEFAULT_USER_BYTES: u64 = 96 * 1024 * 1024;

/// An in-process session store with per-session expiry and a bounded size.
///
/// - Each record expires at its own time; an expired record is never returned.
/// - [`create`](Store::create) is atomic (moka's entry API), so two new sessions never share
///   an id; a [`save`](Store::save) compares the entry's version and replaces it in one
///   atomic compute, so it never writes over a record it did not load, nor brings a deleted
///   one back.
/// - Memory is bounded by default, in two budgets: visitors' sessions
///   ([`DEFAULT_VISITOR_BYTES`]) and users' sessions ([`DEFAULT_USER_BYTES`]), a session
///   being a user's once a write names its user (with
///   [`user_key`](crate::SessionConfigBuilder::user_key) configured; a login that
///   `regenerate()`s creates it there, a session that gains a user later moves there). When
///   a budget is full, its least recently used sessions go first, so a flood of cookie-less
///   requests (every one a new session under `saveUninitialized`) evicts visitors, never a
///   logged-in user. Without a user key every session is a visitor's.
/// - A record too heavy for its whole budget is refused at save time
///   ([`StoreError::TooLarge`]) rather than accepted and then dropped.
///
/// It lives in one process: behind a load balancer use sticky sessions or a shared store.
///
/// ```
/// use session_core::MemoryStore;
/// let bounded = MemoryStore::new(); // 32 MiB of visitors, 96 MiB of users
/// let larger = MemoryStore::with_budgets(64 << 20, 1 << 30);
/// let unbounded = MemoryStore::unbounded(); // for tests and trusted traffic only
/// # let _ = (bounded, larger, unbounded);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    visitors: Tier,
    users: Tier,
    /// The last version given to a write; every write takes the next one.
    versions: Arc<AtomicU64>,
    /// Each user's sessions.
    owners: Arc<Owners>,
    /// Whether a write ever named a user: until one does, lookups skip the users' tier.
    has_users: Arc<AtomicBool>,
    /// This store among the others of the process (clones share it), as the issuer of the
    /// [`StoreHandle`]s its loads hand out.
    instance: u64,
}

impl MemoryStore {
    /// A store with the default budgets: [`DEFAULT_VISITOR_BYTES`] and
    /// [`DEFAULT_USER_BYTES`].
    pub fn new() -> Self {
        Self::with_budgets(DEFAULT_VISITOR_BYTES, DEFAULT_USER_BYTES)
    }

    /// A store that holds at most about `max_bytes` of sessions (ids, JSON and
    /// bookkeeping): a quarter for visitors' sessions, the rest for users'.
    pub fn with_max_bytes(max_bytes: u64) -> Self {
        Self::with_budgets(max_bytes / 4, max_bytes - max_bytes / 4)
    }

    /// A store with its own budgets for visitors' and users' sessions, in bytes.
    pub fn with_budgets(visitor_bytes: u64, user_bytes: u64) -> Self {
        Self::build(Some(visitor_bytes), Some(user_bytes))
    }

    /// A store without a bound: entries leave only when they expire or are deleted. Any
    /// client can grow it (every cookie-less request is a new session under
    /// `saveUninitialized`), so use it only where the traffic is trusted.
    pub fn unbounded() -> Self {
        Self::build(None, None)
    }

    fn build(visitor_bytes: Option<u64>, user_bytes: Option<u64>) -> Self {
        Self {
            visitors: Tier::new(visitor_bytes),
            users: Tier::new(user_bytes),
            versions: Arc::default(),
            owners: Arc::default(),
            has_users: Arc::default(),
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The number of live sessions (approximate until pending maintenance has run).
    pub fn len(&self) -> u64 {
        self.visitors.entry_count() + self.users.entry_count()
    }

    /// Whether the store holds no session (approximate, as [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs moka's pending maintenance (evictions, counts) now rather than lazily.
    pub async fn run_pending_tasks(&self) {
        self.visitors.run_pending_tasks().await;
        self.users.run_pending_tasks().await;
    }

    /// The tier a write goes to.
    fn tier_of(&self, write: &Write<'_>) -> &Tier {
        if write.owner.is_some() {
            &self.users
        } else {
            &self.visitors
        }
    }

    /// The live entry of `id`, and the tier that holds it.
    async fn live(&self, id: &SessionId) -> Option<(&Tier, Entry)> {
        if !self.has_users.load(Ordering::SeqCst) {
            return Some((&self.visitors, self.visitors.live(id).await?));
        }
        match self.users.live(id).await {
            Some(entry) => Some((&self.users, entry)),
            None => Some((&self.visitors, self.visitors.live(id).await?)),
        }
    }

    /// The live record of session `id`, if any, with its entry as the handle
    /// ([`save_held`](Self::save_held)).
    async fn read(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let Some((_, entry)) = self.live(id).await else {
            return Ok(None);
        };
        let loaded = entry.loaded()?;
        Ok(Some(loaded.with_handle(entry.handle(self.instance))))
    }

    /// A save through the entry the request loaded ([`Write::handle`]), with no lookup: a
    /// visitor's session while no session has a user, so that the entry can only be in the
    /// visitors' tier. `None` when that does not apply, or the entry left the tier (then the
    /// caller looks the session up).
    async fn save_held(
        &self,
        id: &SessionId,
        write: &Write<'_>,
        (json, version): (&str, u64),
        expected: Version,
    ) -> Option<Result<Saved, StoreError>> {
        if write.owner.is_some() || self.has_users.load(Ordering::SeqCst) {
            return None;
        }
        let entry = Entry::of_handle(write.handle()?, self.instance)?;
        if let Err(error) = self.visitors.check_fits(id, json.len()) {
            return Some(Err(error));
        }
        let new = (json, version, write.expires_at);
        self.save_in_place((&self.visitors, entry), id, new, expected)
            .await
    }

    /// A save that looks the session up: a user's session, or a visitor's once any session
    /// has a user, or when the entry the request loaded left its tier.
    async fn save_looked_up(
        &self,
        id: &SessionId,
        write: &Write<'_>,
        (json, version): (&str, u64),
        expected: Version,
    ) -> Result<Saved, StoreError> {
        // A session only ever moves from the visitors' tier to the users' one (inside the
        // visitors' compute, detaching the old entry): a second look, once any such move
        // has finished, finds any session that exists.
        for look in 0..2 {
            if look == 1 {
                self.visitors.settle(id).await;
            }
            let Some((tier, entry)) = self.live(id).await else {
                continue;
            };
            let promoted = write.owner.is_some() && std::ptr::eq(tier, &self.visitors);
            // The budget of the tier the record lands in: a user's session saved without its
            // user stays in the users' tier.
            let lands_in = if promoted { &self.users } else { tier };
            lands_in.check_fits(id, json.len())?;
            let saved = if promoted {
                let entry = Entry::new(json.to_string(), write.expires_at, version);
                tier.save_over(id, expected, entry, Some(&self.users)).await
            } else {
                let new = (json, version, write.expires_at);
                self.save_in_place((tier, entry), id, new, expected).await
            };
            if let Some(saved) = saved {
                return saved;
            }
        }
        Ok(Saved::Gone)
    }

    /// The JSON and version of `write`, listed under its owner first: a listing may name a
    /// session that is not written (yet, or ever: its reader checks), never miss one that is.
    /// The caller checks the JSON against the budget of the tier it lands in.
    fn prepare<'w>(
        &self,
        id: &SessionId,
        write: &Write<'w>,
    ) -> Result<(std::borrow::Cow<'w, str>, u64), StoreError> {
        let json = write.json()?;
        if let Some(owner) = write.owner {
            // Written once: a store on every write would bounce the cache line between cores.
            if !self.has_users.load(Ordering::SeqCst) {
                self.has_users.store(true, Ordering::SeqCst);
            }
            self.owners.note(owner, id, write.expires_at);
        }
        Ok((json, self.versions.fetch_add(1, Ordering::Relaxed) + 1))
    }

    /// Writes over the live session `id` in place, if it is still at `expected`; `None` when
    /// it left its tier meanwhile (look again).
    async fn save_in_place(
        &self,
        (tier, entry): (&Tier, Entry),
        id: &SessionId,
        (json, version, expires_at): (&str, u64, SystemTime),
        expected: Version,
    ) -> Option<Result<Saved, StoreError>> {
        let saved = match entry.replace_if(expected, json, version, expires_at) {
            Replaced::Detached => return None,
            Replaced::Expired => Ok(Saved::Gone),
            Replaced::Changed(loaded) => {
                loaded.map(|loaded| Saved::Changed(loaded.with_handle(entry.handle(self.instance))))
            }
            Replaced::Yes if entry.needs_reweigh(REWEIGH_SLACK) => {
                tier.reweigh(id, &entry).await;
                Ok(Saved::Written(Version::from_u64(version)))
            }
            Replaced::Yes => {
                if !entry.timer_fits() {
                    tier.reschedule(id).await;
                }
                Ok(Saved::Written(Version::from_u64(version)))
            }
        };
        Some(saved)
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
            .field("visitors", &self.visitors.entry_count())
            .field("users", &self.users.entry_count())
            .finish()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.read(id).await
    }

    /// A load: the end of the request moves the deadline, in place and without I/O. Not the
    /// default, whose future would box the one of `load`.
    async fn load_and_touch(
        &self,
        id: &SessionId,
        _: crate::Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        self.read(id).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        let (json, version) = self.prepare(id, &write)?;
        self.tier_of(&write).check_fits(id, json.len())?;
        let entry = Entry::new(json.into_owned(), write.expires_at, version);
        let version = Version::from_u64(version);
        let (tier, other) = match write.owner {
            Some(_) => (&self.users, &self.visitors),
            None => (&self.visitors, &self.users),
        };
        if !tier.create(id, entry).await {
            return Ok(Created::IdTaken);
        }
        // The id is new in this tier; a live session of the other tier may hold it (only a
        // colliding custom id can): then this create did not happen.
        let other_used = write.owner.is_some() || self.has_users.load(Ordering::SeqCst);
        if other_used && other.live(id).await.is_some() {
            tier.remove_if(id, version).await;
            return Ok(Created::IdTaken);
        }
        Ok(Created::Written(version))
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        let (json, version) = self.prepare(id, &write)?;
        if let Some(saved) = self
            .save_held(id, &write, (&json, version), *expected)
            .await
        {
            return saved;
        }
        Box::pin(self.save_looked_up(id, &write, (&json, version), *expected)).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let Some((tier, entry)) = self.live(id).await else {
            return Ok(false);
        };
        if let Some(owner) = owner {
            self.owners.note(owner, id, expires_at);
        }
        entry.set_deadline(expires_at);
        if !entry.timer_fits() {
            tier.reschedule(id).await;
        }
        Ok(true)
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        // Visitors first: their removal waits for a move to the users' tier under way, and
        // a move that starts after it finds nothing to move; the users' tier is then final.
        self.visitors.remove(id).await;
        if self.has_users.load(Ordering::SeqCst) {
            self.users.remove(id).await;
        }
        Ok(())
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        Ok(self.owners.sessions_of(owner))
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{testing::conformance, Record, StoreHandle};

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
    async fn an_expired_session_moka_still_holds_does_not_take_its_id() {
        let store = MemoryStore::new();
        let later = SystemTime::now() + Duration::from_secs(3600);
        let (id, record) = (
            SessionId::random().unwrap(),
            Record::new(Default::default()),
        );
        store.create(&id, Write::new(&record, later)).await.unwrap();
        // Expired by its deadline, while moka's timer (later, see `PerEntryExpiry`) still
        // runs, as after a save that moved the deadline earlier within the slack: its id is
        // free again. (A read now would have moka drop it.)
        let (_, entry) = store.live(&id).await.expect("created");
        entry.set_deadline(SystemTime::now() - Duration::from_secs(1));
        let created = store.create(&id, Write::new(&record, later)).await.unwrap();
        assert!(matches!(created, Created::Written(_)), "{created:?}");
        assert!(store.load(&id).await.unwrap().is_some());
        assert!(!entry.is_live(), "the expired entry stays expired");
    }

    fn sized(bytes: usize) -> Record {
        let mut data = serde_json::Map::new();
        data.insert("pad".into(), "x".repeat(bytes).into());
        Record::new(data)
    }

    #[tokio::test]
    async fn a_flood_of_visitors_never_evicts_a_logged_in_user() {
        let store = MemoryStore::with_budgets(64 * 1024, 64 * 1024);
        let later = SystemTime::now() + Duration::from_secs(3600);
        let (user, promoted) = (SessionId::random().unwrap(), SessionId::random().unwrap());
        let record = sized(100);
        let write = Write::new(&record, later);
        store
            .create(&user, write.owned_by(Some("ann")))
            .await
            .unwrap();
        let Created::Written(version) = store.create(&promoted, write).await.unwrap() else {
            panic!("created");
        };
        // A visitor's session that logs in without a new id moves to the users' budget.
        let saved = store
            .save(&promoted, write.owned_by(Some("bob")), &version)
            .await
            .unwrap();
        assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
        for _ in 0..2_000 {
            let visitor = SessionId::random().unwrap();
            store.create(&visitor, write).await.unwrap();
        }
        store.run_pending_tasks().await;
        assert!(
            store.load(&user).await.unwrap().is_some(),
            "a user was evicted"
        );
        assert!(
            store.load(&promoted).await.unwrap().is_some(),
            "a promoted user was evicted"
        );
        assert!(store.visitors.entry_count() < 2_000, "visitors are bounded");
    }

    #[tokio::test]
    async fn a_record_too_heavy_for_its_budget_is_refused_at_save_time() {
        let store = MemoryStore::with_budgets(4 * 1024, 64 * 1024);
        let later = SystemTime::now() + Duration::from_secs(3600);
        let id = SessionId::random().unwrap();
        let heavy = sized(8 * 1024);
        let refused = store.create(&id, Write::new(&heavy, later)).await;
        assert!(
            matches!(refused, Err(StoreError::TooLarge { .. })),
            "{refused:?}"
        );
        assert!(store.load(&id).await.unwrap().is_none(), "nothing stored");
        // The same record fits the users' budget.
        let owned = Write::new(&heavy, later).owned_by(Some("ann"));
        assert!(matches!(
            store.create(&id, owned).await,
            Ok(Created::Written(_))
        ));
        store.run_pending_tasks().await;
        assert!(
            store.load(&id).await.unwrap().is_some(),
            "acknowledged, then dropped"
        );
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

    /// A visitor's session loaded, as a request loads it: its record (with the entry as the
    /// handle) and the write of a changed record.
    async fn loaded_visitor(store: &MemoryStore) -> (SessionId, Loaded) {
        let later = SystemTime::now() + Duration::from_secs(3600);
        let (id, record) = (SessionId::random().unwrap(), sized(10));
        store.create(&id, Write::new(&record, later)).await.unwrap();
        let loaded = store.load(&id).await.unwrap().expect("live");
        assert!(loaded.handle.is_some(), "a load hands out its entry");
        (id, loaded)
    }

    async fn save_with(
        store: &MemoryStore,
        id: &SessionId,
        loaded: &Loaded,
        handle: Option<&StoreHandle>,
    ) -> Saved {
        let later = SystemTime::now() + Duration::from_secs(3600);
        let changed = sized(20);
        let write = Write::new(&changed, later).with_handle(handle);
        store.save(id, write, &loaded.version).await.unwrap()
    }

    #[tokio::test]
    async fn a_save_through_its_loads_handle_writes_and_stays_conditional() {
        let store = MemoryStore::new();
        let (id, loaded) = loaded_visitor(&store).await;
        let saved = save_with(&store, &id, &loaded, loaded.handle.as_ref()).await;
        assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
        assert_eq!(store.load(&id).await.unwrap().unwrap().record, sized(20));
        // The same handle with the version it was loaded at: another write came first.
        let again = save_with(&store, &id, &loaded, loaded.handle.as_ref()).await;
        assert!(matches!(again, Saved::Changed(_)), "{again:?}");
    }

    /// Eviction for room may come any time, just after a save as well as just before it; a
    /// save holding the evicted entry (through its handle) never brings the session back.
    #[tokio::test]
    async fn a_save_holding_an_entry_evicted_for_room_brings_nothing_back() {
        let store = MemoryStore::with_budgets(16 * 1024, 16 * 1024);
        let (id, loaded) = loaded_visitor(&store).await;
        let later = SystemTime::now() + Duration::from_secs(3600);
        let filler = sized(100);
        for _ in 0..1_000 {
            let other = SessionId::random().unwrap();
            store
                .create(&other, Write::new(&filler, later))
                .await
                .unwrap();
        }
        store.run_pending_tasks().await;
        assert!(store.visitors.live(&id).await.is_none(), "evicted");
        let _ = save_with(&store, &id, &loaded, loaded.handle.as_ref()).await;
        store.run_pending_tasks().await;
        assert!(
            store.load(&id).await.unwrap().is_none(),
            "evicted, then revived"
        );
    }

    #[tokio::test]
    async fn a_handle_from_another_store_is_not_written_through() {
        let (ours, theirs) = (MemoryStore::new(), MemoryStore::new());
        let (id, loaded) = loaded_visitor(&theirs).await;
        // A wrapper that loads from one store and saves to another: nothing under this id
        // here, so nothing is written, whatever the handle says.
        let saved = save_with(&ours, &id, &loaded, loaded.handle.as_ref()).await;
        assert_eq!(saved, Saved::Gone);
        assert_eq!(theirs.load(&id).await.unwrap().unwrap().record, sized(10));
    }

    #[tokio::test]
    async fn a_save_holding_a_deleted_entry_writes_nothing() {
        let store = MemoryStore::new();
        let later = SystemTime::now() + Duration::from_secs(3600);
        let (id, record) = (SessionId::random().unwrap(), sized(10));
        let Created::Written(version) =
            store.create(&id, Write::new(&record, later)).await.unwrap()
        else {
            panic!("created");
        };
        // The save found the entry, then a logout deleted it before the save wrote.
        let held = store.live(&id).await.expect("live");
        store.delete(&id).await.unwrap();
        let saved = store
            .save_in_place(held, &id, ("{}", 99, later), version)
            .await;
        assert!(saved.is_none(), "a detached entry was written: {saved:?}");
        let saved = store.save(&id, Write::new(&record, later), &version).await;
        assert_eq!(saved.unwrap(), Saved::Gone);
        assert!(store.load(&id).await.unwrap().is_none());
    }

    /// A visitor's session, its move to the users' tier paused half-way (old entry detached,
    /// new one not yet written), and a logout meanwhile.
    async fn a_move_paused_half_way() -> (MemoryStore, SessionId, tier::MoveGate, Version) {
        let store = MemoryStore::new();
        let later = SystemTime::now() + Duration::from_secs(3600);
        let (id, record) = (SessionId::random().unwrap(), sized(10));
        let Created::Written(version) =
            store.create(&id, Write::new(&record, later)).await.unwrap()
        else {
            panic!("created");
        };
        let gate = tier::MoveGate::default();
        *store.visitors.move_gate.lock().unwrap() = Some(gate.clone());
        (store, id, gate, version)
    }

    /// Runs the other tasks until they finish or wait (a current-thread runtime).
    async fn let_others_run() {
        for _ in 0..64 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_delete_during_a_move_to_the_users_tier_is_never_undone() {
        let (store, id, gate, version) = a_move_paused_half_way().await;
        let later = SystemTime::now() + Duration::from_secs(3600);
        let moving = tokio::spawn({
            let (store, id, record) = (store.clone(), id.clone(), sized(20));
            async move {
                let write = Write::new(&record, later).owned_by(Some("ann"));
                store.save(&id, write, &version).await
            }
        });
        gate.reached.notified().await;
        let deleting = tokio::spawn({
            let (store, id) = (store.clone(), id.clone());
            async move { store.delete(&id).await }
        });
        let_others_run().await;
        gate.open.notify_one();
        moving.await.unwrap().unwrap();
        deleting.await.unwrap().unwrap();
        assert!(
            store.load(&id).await.unwrap().is_none(),
            "the session is back after its delete returned"
        );
    }

    #[tokio::test]
    async fn a_save_during_a_move_to_the_users_tier_finds_the_moved_session() {
        let (store, id, gate, version) = a_move_paused_half_way().await;
        let later = SystemTime::now() + Duration::from_secs(3600);
        let moving = tokio::spawn({
            let (store, id, record) = (store.clone(), id.clone(), sized(20));
            async move {
                let write = Write::new(&record, later).owned_by(Some("ann"));
                store.save(&id, write, &version).await
            }
        });
        gate.reached.notified().await;
        let saving = tokio::spawn({
            let (store, id, record) = (store.clone(), id.clone(), sized(30));
            async move { store.save(&id, Write::new(&record, later), &version).await }
        });
        let_others_run().await;
        gate.open.notify_one();
        let Saved::Written(moved) = moving.await.unwrap().unwrap() else {
            panic!("the move is written");
        };
        let saved = saving.await.unwrap().unwrap();
        let Saved::Changed(current) = saved else {
            panic!("a save of a live session must see it changed, not gone: {saved:?}");
        };
        assert_eq!(current.version, moved);
    }

    #[tokio::test]
    async fn a_users_session_saved_without_its_user_is_weighed_against_the_users_budget() {
        let store = MemoryStore::with_budgets(2048, 1 << 20);
        let later = SystemTime::now() + Duration::from_secs(3600);
        let id = SessionId::random().unwrap();
        let small = sized(10);
        let owned = Write::new(&small, later).owned_by(Some("ann"));
        let Created::Written(version) = store.create(&id, owned).await.unwrap() else {
            panic!("created");
        };
        // Too heavy for the visitors' budget, well within the users' one, where it lives.
        let saved = store
            .save(&id, Write::new(&sized(4096), later), &version)
            .await;
        assert!(matches!(saved, Ok(Saved::Written(_))), "{saved:?}");
    }

    #[tokio::test]
    async fn a_record_that_grows_in_place_is_weighed_again() {
        let store = MemoryStore::new();
        let later = SystemTime::now() + Duration::from_secs(3600);
        let id = SessionId::random().unwrap();
        let Created::Written(mut version) = store
            .create(&id, Write::new(&sized(10), later))
            .await
            .unwrap()
        else {
            panic!("created");
        };
        store.run_pending_tasks().await;
        let before = store.visitors.weighted_size();
        for bytes in [20, 30, 10_000] {
            let saved = store
                .save(&id, Write::new(&sized(bytes), later), &version)
                .await;
            let Ok(Saved::Written(next)) = saved else {
                panic!("{saved:?}");
            };
            version = next;
        }
        store.run_pending_tasks().await;
        let grown = store.visitors.weighted_size() - before;
        assert!(
            (9_990..=10_100).contains(&grown),
            "weighed {grown} more bytes"
        );
    }
}
