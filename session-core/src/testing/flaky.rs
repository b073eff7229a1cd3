use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::SystemTime,
};

use async_trait::async_trait;

use crate::{Created, Lifetimes, Loaded, Record, SessionId, Store, StoreError};

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
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        self.check()?;
        self.inner.load(id).await
    }

    async fn create(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<Created, StoreError> {
        self.check()?;
        self.inner.create(id, record, expires_at).await
    }

    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.save(id, record, expires_at).await
    }

    async fn touch(&self, id: &SessionId, expires_at: SystemTime) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch(id, expires_at).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(id).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        self.check()?;
        self.inner.load_and_touch(id, lifetimes).await
    }
}
