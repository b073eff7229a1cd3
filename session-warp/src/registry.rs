//! How [`Sessions::wrap`](crate::Sessions::wrap) hands a request's session to the
//! [`Sessions::session`](crate::Sessions::session) filters inside it.
//!
//! warp 0.4 lets a filter neither attach data to a request (extensions are read-only to
//! filters) nor wrap the future of the filters inside it (`FilterBase` and `Wrap` are sealed,
//! and `warp::service` asserts that it is not nested inside a running filter), so neither of the usual tools
//! is available: a request extension as in `session-axum`, or a task-local scope around the
//! inner future. What any filter *can* observe while it runs is the tokio task polling it.
//! warp's server (hyper) polls each request on one task, one request at a time per task
//! (HTTP/1: the connection's task, request after request; HTTP/2: a task per stream), so while
//! a wrapped request is in flight, its task names it. The wrap registers a [`Slot`] under the
//! current task before the inner filters run and unregisters it when the request ends or is
//! dropped ([`Registration`]); the session filter looks the slot up. Outside a task (a
//! `block_on` future, as in `warp::test` from a test body) the thread plays the task's part.
//!
//! Each [`Sessions`](crate::Sessions) has its own registry, so apps over different managers
//! never see each other's slots.
//!
//! **Invariant:** a lookup gives the slot of the request being filtered, or fails. Two
//! registrations under one key at once (two wrapped requests polled by one task, or the same
//! routes wrapped twice) make the key [`Lookup::Ambiguous`] until both end: the filter then
//! refuses rather than guess.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError},
};

use session_core::RequestSession;

/// One request's session side, begun by the first session filter that asks for it.
pub(crate) type Slot = OnceLock<RequestSession>;

/// What polls the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Task(tokio::task::Id),
    Thread(std::thread::ThreadId),
}

impl Key {
    fn current() -> Self {
        match tokio::task::try_id() {
            Some(id) => Self::Task(id),
            None => Self::Thread(std::thread::current().id()),
        }
    }
}

struct Entry {
    /// `None` once a second registration made the key ambiguous.
    slot: Option<Arc<Slot>>,
    registrations: usize,
}

/// The slots of the requests in flight, by the task polling each.
#[derive(Default)]
pub(crate) struct Registry {
    entries: Mutex<HashMap<Key, Entry>>,
}

/// The result of [`Registry::lookup`].
pub(crate) enum Lookup {
    /// The slot of the request being filtered.
    Found(Arc<Slot>),
    /// No wrap of this registry is running in this task.
    Missing,
    /// More than one is: see the module docs.
    Ambiguous,
}

impl Registry {
    fn entries(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new, empty slot for the request polled by the current task.
    pub(crate) fn register(self: &Arc<Self>) -> Registration {
        let key = Key::current();
        let slot = Arc::new(Slot::new());
        let mut entries = self.entries();
        match entries.get_mut(&key) {
            Some(entry) => {
                entry.registrations += 1;
                entry.slot = None;
                tracing::error!(
                    ?key,
                    "two requests wrapped by the same Sessions in flight in one task; \
                     their session filters will refuse"
                );
            }
            None => {
                entries.insert(
                    key,
                    Entry {
                        slot: Some(slot.clone()),
                        registrations: 1,
                    },
                );
            }
        }
        Registration {
            registry: self.clone(),
            key,
            slot,
        }
    }

    /// The slot of the request polled by the current task.
    pub(crate) fn lookup(&self) -> Lookup {
        match self.entries().get(&Key::current()) {
            None => Lookup::Missing,
            Some(Entry {
                slot: Some(slot), ..
            }) => Lookup::Found(slot.clone()),
            Some(Entry { slot: None, .. }) => Lookup::Ambiguous,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }
}

/// A request's registration; dropping it (when the request ends or its future is dropped)
/// unregisters the slot.
pub(crate) struct Registration {
    registry: Arc<Registry>,
    key: Key,
    slot: Arc<Slot>,
}

impl Registration {
    /// The request's session side, if a session filter began it.
    pub(crate) fn request(&self) -> Option<&RequestSession> {
        self.slot.get()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut entries = self.registry.entries();
        if let Some(entry) = entries.get_mut(&self.key) {
            entry.registrations = entry.registrations.saturating_sub(1);
            if entry.registrations == 0 {
                entries.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests;
