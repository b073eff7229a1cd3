use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::SystemTime,
};

use async_trait::async_trait;

use crate::{Created, Lifetimes, Loaded, Saved, SessionId, Store, StoreError, Version, Write};

/// One call made to a [`RecordingStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreCall {
    /// [`Store::load`].
    Load(SessionId),
    /// [`Store::create`].
    Create(SessionId),
    /// [`Store::save`].
    Save(SessionId),
    /// [`Store::touch`].
    Touch(SessionId),
    /// [`Store::delete`].
    Delete(SessionId),
    /// [`Store::sessions_of`], with the user.
    SessionsOf(String),
}

impl StoreCall {
    /// The call's name: `load`, `create`, `save`, `touch`, `delete` or `sessions_of`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Load(_) => "load",
            Self::Create(_) => "create",
            Self::Save(_) => "save",
            Self::Touch(_) => "touch",
            Self::Delete(_) => "delete",
            Self::SessionsOf(_) => "sessions_of",
        }
    }

    /// The id the call was about; `None` for [`StoreCall::SessionsOf`].
    pub fn session_id(&self) -> Option<&SessionId> {
        match self {
            Self::Load(id)
            | Self::Create(id)
            | Self::Save(id)
            | Self::Touch(id)
            | Self::Delete(id) => Some(id),
            Self::SessionsOf(_) => None,
        }
    }
}

/// Wraps a store and records every call made to it, in order. Clones share the record.
#[derive(Debug, Clone)]
pub struct RecordingStore<S> {
    inner: S,
    calls: Arc<Mutex<Vec<StoreCall>>>,
    /// How many saves came with the handle of the record they replace.
    handled_saves: Arc<AtomicUsize>,
}

impl<S> RecordingStore<S> {
    /// Records the calls made to `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Arc::default(),
            handled_saves: Arc::default(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Returns and forgets the calls recorded so far.
    pub fn take(&self) -> Vec<StoreCall> {
        std::mem::take(&mut *self.lock())
    }

    /// Returns and forgets the kinds of the calls recorded so far (`["load", "touch"]`).
    pub fn take_kinds(&self) -> Vec<&'static str> {
        self.take().iter().map(StoreCall::kind).collect()
    }

    /// How many saves so far came with the [`StoreHandle`](crate::StoreHandle) of the record
    /// they replace ([`Write::handle`]).
    pub fn saves_with_a_handle(&self) -> usize {
        self.handled_saves.load(Ordering::SeqCst)
    }

    fn record(&self, call: StoreCall) {
        self.lock().push(call);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<StoreCall>> {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl<S: Store> Store for RecordingStore<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.record(StoreCall::Load(id.clone()));
        self.inner.load(id).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        self.record(StoreCall::Create(id.clone()));
        self.inner.create(id, write).await
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        self.record(StoreCall::Save(id.clone()));
        if write.handle().is_some() {
            self.handled_saves.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.save(id, write, expected).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.record(StoreCall::Touch(id.clone()));
        self.inner.touch(id, expires_at, owner).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.record(StoreCall::Delete(id.clone()));
        self.inner.delete(id).await
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        self.record(StoreCall::SessionsOf(owner.to_owned()));
        self.inner.sessions_of(owner).await
    }

    /// Recorded as a `load`, followed by a `touch` when the inner store touched too.
    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        self.record(StoreCall::Load(id.clone()));
        let loaded = self.inner.load_and_touch(id, lifetimes).await?;
        if loaded.as_ref().is_some_and(|loaded| loaded.touched) {
            self.record(StoreCall::Touch(id.clone()));
        }
        Ok(loaded)
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
