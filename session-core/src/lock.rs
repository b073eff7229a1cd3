//! Per-session serialisation: the requests of one session take turns, each from its load to
//! its save ([`SessionConfigBuilder::serialize_requests`](crate::SessionConfigBuilder::serialize_requests)).

use std::{
    collections::{hash_map::Entry, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::Duration,
};

use tokio::sync::OwnedMutexGuard;

use crate::{lineage::Lineage, Loaded, SessionError, SessionId, Version};

/// A session's turn: an async mutex over the [`Lineage`] of the writes made under it.
type TurnMutex = tokio::sync::Mutex<Lineage>;

/// One session's entry: its turn, and what the requests waiting for it left for the holder
/// (`W`; the save turns keep each waiting save there, for the holder to write along with its
/// own).
#[derive(Debug)]
struct Slot<W> {
    turn: Arc<TurnMutex>,
    waiting: Mutex<Vec<Arc<W>>>,
}

impl<W> Default for Slot<W> {
    fn default() -> Self {
        Self {
            turn: Arc::default(),
            waiting: Mutex::default(),
        }
    }
}

/// One async mutex per session id that has a request in flight; an entry (and the lineage it
/// carries) lives only while some request holds or waits for it.
#[derive(Debug)]
pub(crate) struct SessionLocks<W = ()> {
    turns: Mutex<HashMap<SessionId, Arc<Slot<W>>>>,
    /// How many entries `turns` has, readable without its lock.
    entries: AtomicUsize,
}

impl<W> Default for SessionLocks<W> {
    fn default() -> Self {
        Self {
            turns: Mutex::default(),
            entries: AtomicUsize::new(0),
        }
    }
}

/// A request's turn on its session; the next request's turn starts when this is dropped.
#[derive(Debug)]
pub(crate) struct Turn<W = ()> {
    guard: Option<OwnedMutexGuard<Lineage>>,
    slot: Option<Arc<Slot<W>>>,
    /// What this request left in the slot while it waited, until it is taken back.
    left: Option<Arc<W>>,
    /// Whether the holder already had the lineage to catch up with.
    caught_up: bool,
    id: SessionId,
    locks: Arc<SessionLocks<W>>,
}

impl<W> SessionLocks<W> {
    /// Waits, at most `wait`, until no other request of session `id` is between its load and
    /// its save. `waiting`, if any, is left in the entry for the holders before this one
    /// ([`Turn::waiting`]) until the wait ends.
    pub(crate) async fn turn(
        self: &Arc<Self>,
        id: &SessionId,
        wait: Duration,
        waiting: Option<Arc<W>>,
    ) -> Result<Turn<W>, SessionError> {
        let slot = match self.table().entry(id.clone()) {
            Entry::Occupied(entry) => entry.get().clone(),
            Entry::Vacant(entry) => {
                self.entries.fetch_add(1, Ordering::Release);
                entry.insert(Arc::default()).clone()
            }
        };
        self.wait_for(id, slot, wait, waiting).await
    }

    /// Waits for session `id`'s turn in `slot` (cloned under the table's lock, so its entry
    /// stays while this waits), at most `wait`, with `waiting` left in the slot meanwhile.
    async fn wait_for(
        self: &Arc<Self>,
        id: &SessionId,
        slot: Arc<Slot<W>>,
        wait: Duration,
        waiting: Option<Arc<W>>,
    ) -> Result<Turn<W>, SessionError> {
        // The turn exists before the wait, so an abandoned wait still cleans up its entry and
        // takes back what it left.
        let mut turn = Turn {
            guard: None,
            slot: Some(slot.clone()),
            left: waiting.inspect(|waiting| lock(&slot.waiting).push(waiting.clone())),
            caught_up: false,
            id: id.clone(),
            locks: self.clone(),
        };
        // Bound first, so the wait (which holds a clone of the mutex) is gone before `turn` is
        // dropped on a timeout.
        let locked = tokio::time::timeout(wait, slot.turn.clone().lock_owned()).await;
        turn.take_back();
        match locked {
            Ok(guard) => {
                turn.guard = Some(guard);
                Ok(turn)
            }
            Err(_) => Err(SessionError::Busy(wait)),
        }
    }

    /// A turn on session `id` if some request already holds or waits for one, else `None`.
    pub(crate) async fn turn_if_taken(
        self: &Arc<Self>,
        id: &SessionId,
        wait: Duration,
        waiting: Option<Arc<W>>,
    ) -> Result<Option<Turn<W>>, SessionError> {
        if !self.any_taken() {
            return Ok(None);
        }
        let Some(slot) = self.table().get(id).cloned() else {
            return Ok(None);
        };
        self.wait_for(id, slot, wait, waiting).await.map(Some)
    }

    /// Whether any session's turn is held or waited for: one atomic load, so that the usual
    /// case (none) skips the table.
    pub(crate) fn any_taken(&self) -> bool {
        self.entries.load(Ordering::Acquire) != 0
    }

    fn table(&self) -> MutexGuard<'_, HashMap<SessionId, Arc<Slot<W>>>> {
        // Every update is a single map operation, so a poisoned lock holds a consistent map.
        lock(&self.turns)
    }

    /// How many requests hold or wait for session `id`'s turn.
    #[cfg(test)]
    pub(crate) fn users(&self, id: &SessionId) -> usize {
        self.table()
            .get(id)
            .map_or(0, |slot| Arc::strong_count(slot) - 1)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table().len()
    }
}

/// A std mutex whose data stays consistent when a holder panicked (every update is one
/// operation), so a poisoned lock is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<W> Turn<W> {
    /// What the requests now waiting for this session's turn left for the holder, oldest
    /// first.
    pub(crate) fn waiting(&self) -> Vec<Arc<W>> {
        self.slot
            .as_ref()
            .map_or_else(Vec::new, |slot| lock(&slot.waiting).clone())
    }

    /// Takes back what this request left in the slot, once it no longer waits.
    fn take_back(&mut self) {
        if let (Some(left), Some(slot)) = (self.left.take(), &self.slot) {
            lock(&slot.waiting).retain(|waiting| !Arc::ptr_eq(waiting, &left));
        }
    }

    /// The lineage of the writes made under the turns before this one, the first time it is
    /// asked for: a holder catches up with it once, when its turn starts. (Asked again, it
    /// could send a holder whose save keeps meeting an older record (ABA) back to the same
    /// lineage on every retry.)
    pub(crate) fn lineage_to_catch_up(&mut self) -> Option<&Lineage> {
        if std::mem::replace(&mut self.caught_up, true) {
            return None;
        }
        self.guard.as_deref()
    }

    /// Records that the holder's save replaced version `expected` with `written`, for the
    /// turns after this one.
    pub(crate) fn wrote(&mut self, expected: Version, written: Loaded) {
        if let Some(lineage) = self.guard.as_deref_mut() {
            lineage.wrote(expected, written);
        }
    }

    /// Records that the session ended: the turns after this one have nothing to catch up
    /// with.
    pub(crate) fn ended(&mut self) {
        if let Some(lineage) = self.guard.as_deref_mut() {
            lineage.ended();
        }
    }
}

impl<W> Drop for Turn<W> {
    fn drop(&mut self) {
        self.take_back();
        drop(self.guard.take());
        drop(self.slot.take());
        let mut table = self.locks.table();
        // Only the table holds it: nobody holds or waits for this session's turn any more.
        // New waiters clone the slot under the table's lock, so this cannot race with one.
        if table
            .get(&self.id)
            .is_some_and(|slot| Arc::strong_count(slot) == 1)
        {
            table.remove(&self.id);
            self.locks.entries.fetch_sub(1, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_taken_one_at_a_time_and_leave_nothing_behind() {
        let locks: Arc<SessionLocks> = Arc::new(SessionLocks::default());
        let (a, b) = (SessionId::from("a"), SessionId::from("b"));
        let first = locks.turn(&a, Duration::from_secs(1), None).await.unwrap();
        let other_session = locks.turn(&b, Duration::from_secs(1), None).await.unwrap();
        let waiting = locks.turn(&a, Duration::from_millis(50), None).await;
        assert!(matches!(waiting, Err(SessionError::Busy(_))));
        drop(first);
        let second = locks.turn(&a, Duration::from_secs(1), None).await.unwrap();
        drop((second, other_session));
        assert_eq!(locks.len(), 0, "no entry outlives its requests");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn increments_under_turns_are_never_lost() {
        let locks: Arc<SessionLocks> = Arc::new(SessionLocks::default());
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let id = SessionId::from("shared");
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (locks, counter, id) = (locks.clone(), counter.clone(), id.clone());
                tokio::spawn(async move {
                    for _ in 0..10 {
                        let turn = locks
                            .turn(&id, Duration::from_secs(10), None)
                            .await
                            .unwrap();
                        // A read-modify-write with a yield in the middle.
                        let read = counter.load(std::sync::atomic::Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        counter.store(read + 1, std::sync::atomic::Ordering::SeqCst);
                        drop(turn);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 200);
        assert_eq!(locks.len(), 0);
    }
}
