use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::SystemTime,
};

use async_trait::async_trait;

use crate::{Created, Lifetimes, Loaded, Saved, SessionId, Store, StoreError, Version, Write};

/// Wraps a store and, while [`set_failing`](Self::set_failing) is on, fails every call with
/// [`StoreError::Unavailable`] without reaching the inner store. Clones share the switch.
#[derive(Debug, Clone)]
pub struct FlakyStore<S> {
    inner: S,
    failing: Arc<AtomicBool>,
}

impl<S> FlakyStore<S> {
    /// A healthy wrapper around `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            failing: Arc::default(),
        }
    }

    /// Turns failures on or off.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(StoreError::unavailable("store switched off by the test"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl<S: Store> Store for FlakyStore<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.check()?;
        self.inner.load(id).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        self.check()?;
        self.inner.create(id, write).await
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        self.check()?;
        self.inner.save(id, write, expected).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.touch(id, expires_at, owner).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(id).await
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        self.check()?;
        self.inner.sessions_of(owner).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        self.check()?;
        self.inner.load_and_touch(id, lifetimes).await
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
