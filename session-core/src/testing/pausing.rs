use std::{
    sync::{Arc, Mutex},
    time::SystemTime,
};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::{Created, Lifetimes, Loaded, Saved, SessionId, Store, StoreError, Version, Write};

/// Wraps a store and holds chosen calls until the test lets them go on, so that a race
/// between requests plays out in one chosen order every time, without sleeps.
///
/// A test arms a [`Gate`] for the next call of one kind (`"load"`, `"create"`, `"save"`,
/// `"touch"`, `"delete"`), optionally for one session id; the first such call stops there
/// before it reaches the inner store. The test waits until a call [`reached`](Gate::reached)
/// the gate, makes the other request happen, and [`open`](Gate::open)s the gate. Clones share
/// the gates.
///
/// ```
/// use session_core::{testing::PausingStore, MemoryStore, Record, SessionId, Store, Write};
/// use std::time::{Duration, SystemTime};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PausingStore::new(MemoryStore::new());
/// let id = SessionId::random()?;
/// let gate = store.pause_next("create");
/// let record = Record::new(Default::default());
/// let later = SystemTime::now() + Duration::from_secs(60);
/// let creating = tokio::spawn({
///     let (store, id, record) = (store.clone(), id.clone(), record.clone());
///     async move { store.create(&id, Write::new(&record, later)).await }
/// });
/// gate.reached().await; // the create is held before it reaches the store
/// assert!(store.load(&id).await?.is_none());
/// gate.open();
/// creating.await??;
/// assert!(store.load(&id).await?.is_some());
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct PausingStore<S> {
    inner: S,
    gates: Arc<Mutex<Vec<Arc<GateState>>>>,
}

/// One armed pause: see [`PausingStore`]. Dropping it opens it.
#[derive(Debug)]
pub struct Gate {
    state: Arc<GateState>,
}

#[derive(Debug)]
struct GateState {
    kind: &'static str,
    id: Option<SessionId>,
    arrived: Notify,
    opened: Notify,
}

impl<S> PausingStore<S> {
    /// Wraps `inner`; no call is held until a gate is armed.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            gates: Arc::default(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Holds the next call of `kind`, whatever its session.
    pub fn pause_next(&self, kind: &'static str) -> Gate {
        self.arm(kind, None)
    }

    /// Holds the next call of `kind` for session `id`.
    pub fn pause_next_for(&self, kind: &'static str, id: &SessionId) -> Gate {
        self.arm(kind, Some(id.clone()))
    }

    fn arm(&self, kind: &'static str, id: Option<SessionId>) -> Gate {
        let state = Arc::new(GateState {
            kind,
            id,
            arrived: Notify::new(),
            opened: Notify::new(),
        });
        self.lock().push(state.clone());
        Gate { state }
    }

    /// Stops a call at the first armed gate it matches (disarming it) until the gate opens.
    async fn hold(&self, kind: &'static str, id: &SessionId) {
        let gate = {
            let mut gates = self.lock();
            let matching = gates
                .iter()
                .position(|gate| gate.kind == kind && gate.id.as_ref().is_none_or(|g| g == id));
            matching.map(|index| gates.remove(index))
        };
        if let Some(gate) = gate {
            gate.arrived.notify_one();
            gate.opened.notified().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<GateState>>> {
        self.gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Gate {
    /// Waits until a call is held at this gate.
    pub async fn reached(&self) {
        self.state.arrived.notified().await;
    }

    /// Lets the held call (or the next one to arrive) go on.
    pub fn open(self) {}
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.state.opened.notify_one();
    }
}

#[async_trait]
impl<S: Store> Store for PausingStore<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.hold("load", id).await;
        self.inner.load(id).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        self.hold("create", id).await;
        self.inner.create(id, write).await
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        self.hold("save", id).await;
        self.inner.save(id, write, expected).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.hold("touch", id).await;
        self.inner.touch(id, expires_at, owner).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.hold("delete", id).await;
        self.inner.delete(id).await
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        self.inner.sessions_of(owner).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        self.hold("load", id).await;
        self.inner.load_and_touch(id, lifetimes).await
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
