//! [`Tier`]: one moka cache of sessions with a byte budget of its own. The memory store keeps
//! visitors' sessions and users' sessions in two tiers, so that a flood of new anonymous
//! sessions evicts other anonymous sessions, never a logged-in user's.

use moka::{future::Cache, ops::compute::Op, policy::EvictionPolicy};

use super::{
    entry::{Entry, PerEntryExpiry},
    key::Key,
    ENTRY_OVERHEAD,
};
use crate::{Saved, SessionId, StoreError, Version};

/// Sessions with a budget.
#[derive(Clone)]
pub(super) struct Tier {
    /// Keyed with foldhash rather than SipHash: keys reach the store only after their
    /// signature verified (or from our own generator), so a client cannot pick colliding keys.
    cache: Cache<Key, Entry, foldhash::fast::RandomState>,
    max_bytes: Option<u64>,
    /// Tests only: holds the next move out of this tier after it detached the old entry and
    /// before it wrote the new one, until the test lets it go.
    #[cfg(test)]
    pub(super) move_gate: std::sync::Arc<std::sync::Mutex<Option<MoveGate>>>,
}

/// A paused move (tests only): `reached` is notified when a move stops, `open` lets it go.
#[cfg(test)]
#[derive(Default, Clone)]
pub(super) struct MoveGate {
    pub(super) reached: std::sync::Arc<tokio::sync::Notify>,
    pub(super) open: std::sync::Arc<tokio::sync::Notify>,
}

impl Tier {
    /// A tier holding at most about `max_bytes` (ids, JSON and bookkeeping), or unbounded;
    /// the least recently used entries go first. The policy is LRU rather than moka's
    /// default TinyLFU, which would refuse a brand-new session outright when the cache is
    /// full (moka-rs/moka#147), silently logging out the user who just signed in.
    ///
    /// An entry moka evicts for room is not detached (an eviction listener would cost every
    /// insert a key lock in moka): a save holding it writes where no reader looks, which is
    /// the same as the session being evicted right after the save. Nothing is brought back.
    pub(super) fn new(max_bytes: Option<u64>) -> Self {
        let mut builder = Cache::builder()
            .expire_after(PerEntryExpiry)
            .eviction_policy(EvictionPolicy::lru());
        if let Some(max_bytes) = max_bytes {
            builder = builder
                .max_capacity(max_bytes)
                .weigher(|key: &Key, entry: &Entry| {
                    u32::try_from(weight(key, entry.weigh_json())).unwrap_or(u32::MAX)
                });
        }
        Self {
            cache: builder.build_with_hasher(foldhash::fast::RandomState::default()),
            max_bytes,
            #[cfg(test)]
            move_gate: std::sync::Arc::default(),
        }
    }

    /// Refuses an entry heavier than the whole budget, which moka would accept and then drop
    /// at its next maintenance: an acknowledged write that is lost.
    pub(super) fn check_fits(&self, id: &SessionId, json_len: usize) -> Result<(), StoreError> {
        let weight = weight(&Key::of(id), json_len) as u64;
        match self.max_bytes {
            Some(limit) if weight > limit => Err(StoreError::TooLarge {
                size: weight,
                limit,
            }),
            _ => Ok(()),
        }
    }

    pub(super) async fn live(&self, id: &SessionId) -> Option<Entry> {
        self.cache
            .get(id.as_str().as_bytes())
            .await
            .filter(Entry::is_live)
    }

    /// Inserts `entry` unless a live entry holds the id, atomically; whether it was inserted.
    pub(super) async fn create(&self, id: &SessionId, entry: Entry) -> bool {
        // moka's entry API runs at most one insert per key at a time, so this is an atomic
        // create-if-absent, as far as moka knows.
        let found = self.cache.entry(Key::of(id)).or_insert(entry.clone()).await;
        if found.is_fresh() {
            return true;
        }
        !found.into_value().is_live() && self.replace_expired(id, entry).await
    }

    /// Puts `entry` in place of the entry of `id` moka still holds after its deadline (its
    /// timer runs a little later), unless a live one took its place meanwhile; whether it did.
    async fn replace_expired(&self, id: &SessionId, entry: Entry) -> bool {
        let mut replaced = false;
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|current| {
                replaced = !current.is_some_and(|current| current.into_value().is_live());
                std::future::ready(if replaced { Op::Put(entry) } else { Op::Nop })
            })
            .await;
        replaced
    }

    /// Has moka weigh `entry` again (after a save changed its size), if it is still the entry
    /// of `id`: a deleted session is never put back.
    pub(super) async fn reweigh(&self, id: &SessionId, entry: &Entry) {
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|current| {
                let ours = current.is_some_and(|current| current.into_value().same(entry));
                std::future::ready(if ours {
                    Op::Put(entry.clone())
                } else {
                    Op::Nop
                })
            })
            .await;
    }

    /// Removes the entry of `id` if it is still the one of `version`.
    pub(super) async fn remove_if(&self, id: &SessionId, version: Version) {
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|current| {
                let ours = current
                    .map(|current| current.into_value())
                    .filter(|current| current.version() == version);
                std::future::ready(match ours {
                    Some(entry) => {
                        entry.detach();
                        Op::Remove
                    }
                    None => Op::Nop,
                })
            })
            .await;
    }

    /// Replaces the live entry of `id` with `entry` if it is still the `expected` version, in
    /// one compute (moka runs one at a time per key); with `move_to`, the replacement goes
    /// into that tier instead, inside the same compute, so that no reader ever finds neither.
    /// `None` when this tier holds no live entry of `id`.
    pub(super) async fn save_over(
        &self,
        id: &SessionId,
        expected: Version,
        entry: Entry,
        move_to: Option<&Tier>,
    ) -> Option<Result<Saved, StoreError>> {
        let written = entry.version();
        let mut found = None;
        #[cfg(test)]
        let gate = self.move_gate.lock().expect("gate").take();
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|current| {
                let current = current.map(|c| c.into_value()).filter(Entry::is_live);
                let replace = match current {
                    None => false,
                    Some(current) if current.version() == expected => {
                        found = Some(Ok(Saved::Written(written)));
                        if move_to.is_some() {
                            current.detach();
                        }
                        true
                    }
                    Some(current) => {
                        found = Some(current.loaded().map(Saved::Changed));
                        false
                    }
                };
                async move {
                    match (replace, move_to) {
                        (false, _) => Op::Nop,
                        (true, None) => Op::Put(entry),
                        (true, Some(tier)) => {
                            #[cfg(test)]
                            if let Some(gate) = gate {
                                gate.reached.notify_one();
                                gate.open.notified().await;
                            }
                            tier.cache.insert(Key::of(id), entry).await;
                            Op::Remove
                        }
                    }
                }
            })
            .await;
        found
    }

    /// Removes the entry of `id`, detached so that a write holding it finds it gone. A
    /// compute rather than moka's `remove`, which does not wait for one: a move out of this
    /// tier under way (`save_over` with `move_to`) finishes first, so the caller can then
    /// remove the moved entry from the other tier.
    pub(super) async fn remove(&self, id: &SessionId) {
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|current| {
                let op = match current {
                    Some(current) => {
                        current.into_value().detach();
                        Op::Remove
                    }
                    None => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
    }

    /// Waits until no compute on `id` is under way (a move out of this tier, say), so that
    /// a look after it finds the entry where it now is.
    pub(super) async fn settle(&self, id: &SessionId) {
        self.cache
            .entry(Key::of(id))
            .and_compute_with(|_| std::future::ready(Op::Nop))
            .await;
    }

    /// Has moka take an entry's new deadline (`expire_after_read`), when its timer no longer
    /// suits it ([`Entry::timer_fits`]). If the entry was deleted or replaced meanwhile,
    /// nothing is resurrected.
    pub(super) async fn reschedule(&self, id: &SessionId) {
        let _ = self.cache.get(id.as_str().as_bytes()).await;
    }

    #[cfg(test)]
    pub(super) fn weighted_size(&self) -> u64 {
        self.cache.weighted_size()
    }

    pub(super) fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    pub(super) async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }
}

/// What an entry costs the budget: its id beyond the key, its JSON and the bookkeeping.
fn weight(key: &Key, json_len: usize) -> usize {
    key.heap_bytes() + json_len + ENTRY_OVERHEAD
}
