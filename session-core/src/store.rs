//! The [`Store`] trait: where session records live between requests.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;

use crate::{Record, SessionId, StoreError};

mod memory;

pub use memory::MemoryStore;

/// What [`Store::create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The record was written under the new id.
    Created,
    /// A live record already holds this id; nothing was written.
    IdTaken,
}

/// What [`Store::load_and_touch`] found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Loaded {
    /// The live record.
    pub record: Record,
    /// Whether the store also moved the record's expiry, as [`Store::touch`] would have, to
    /// the record's own lifetime from now.
    pub touched: bool,
}

impl Loaded {
    /// A record loaded without touching it.
    pub fn untouched(record: Record) -> Self {
        Self {
            record,
            touched: false,
        }
    }

    /// A record loaded and touched in the same operation.
    pub fn touched(record: Record) -> Self {
        Self {
            record,
            touched: true,
        }
    }
}

/// The lifetimes a touch gives loaded records, for [`Store::load_and_touch`]: what the end of
/// a read-only request would touch with.
///
/// ```
/// use std::time::Duration;
/// use session_core::{Lifetimes, Record};
///
/// let lifetimes = Lifetimes::new(Some(Duration::from_secs(1800)), Duration::from_secs(86_400));
/// assert_eq!(lifetimes.usual(), Duration::from_secs(1800));
///
/// let mut record = Record::new(Default::default());
/// record.cookie.original_max_age = Some(60_000);
/// assert_eq!(lifetimes.of(&record), Some(Duration::from_secs(60)));
/// record.cookie.original_max_age = None; // a browser-session cookie
/// assert_eq!(lifetimes.of(&record), Some(Duration::from_secs(86_400)));
/// record.cookie.original_max_age = Some(0); // already over: nothing to extend
/// assert_eq!(lifetimes.of(&record), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifetimes {
    /// The configured cookie `maxAge`: the `originalMaxAge` most records carry. `None` when
    /// sessions are browser-session cookies.
    pub max_age: Option<Duration>,
    /// How long a record without `originalMaxAge` (a browser-session cookie) is kept.
    pub browser_session_ttl: Duration,
}

impl Lifetimes {
    /// The configured `maxAge` and browser-session TTL.
    pub fn new(max_age: Option<Duration>, browser_session_ttl: Duration) -> Self {
        Self {
            max_age,
            browser_session_ttl,
        }
    }

    /// The lifetime most records get from a touch, before the record is read: the configured
    /// `maxAge`, or the browser-session TTL when there is none.
    pub fn usual(&self) -> Duration {
        self.max_age.unwrap_or(self.browser_session_ttl)
    }

    /// The lifetime a touch now gives `record`: its own `originalMaxAge`, or the
    /// browser-session TTL when it has none; `None` when its `originalMaxAge` is zero (there
    /// is nothing to extend).
    pub fn of(&self, record: &Record) -> Option<Duration> {
        match record.cookie.original_max_age {
            None => Some(self.browser_session_ttl),
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms)),
        }
    }
}

/// A session store: a map from [`SessionId`] to [`Record`] whose entries expire.
///
/// Every method is a single, independent operation; the session layer decides which to call
/// (see `ARCHITECTURE.md`). `expires_at` is always in the future: the core turns a save of an
/// already-expired session into a [`delete`](Store::delete).
///
/// A store must never return a record past its expiry, and must report failures as a typed
/// [`StoreError`] rather than as "not found".
///
/// # Evolving the trait
///
/// New capabilities (a conditional save against a record version, listing a user's sessions)
/// arrive as provided methods with a default implementation, and [`Record`] is
/// `#[non_exhaustive]`, so existing stores keep compiling.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Loads a live record, or `None` when there is none (never found, deleted or expired).
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError>;

    /// Writes a record only if no live record holds `id`, atomically, so that two new sessions
    /// can never share an id.
    async fn create(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<Created, StoreError>;

    /// Writes a record, replacing any record under `id`.
    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<(), StoreError>;

    /// Moves the expiry of an existing record without rewriting its data. A missing record
    /// stays missing.
    async fn touch(&self, id: &SessionId, expires_at: SystemTime) -> Result<(), StoreError>;

    /// Deletes the record; deleting a missing record is not an error.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError>;

    /// Loads a live record and, in the same operation, may move its expiry as the end of a
    /// read-only request would: to now + [`lifetimes.of(record)`](Lifetimes::of). A store
    /// whose backend is remote overrides this to save that request's second round trip
    /// (Redis: one `GETEX`); it must then say so with [`Loaded::touched`]. The default only
    /// loads.
    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        let _ = lifetimes;
        Ok(self.load(id).await?.map(Loaded::untouched))
    }
}

#[async_trait]
impl<S: Store + ?Sized> Store for Arc<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        (**self).load(id).await
    }

    async fn create(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<Created, StoreError> {
        (**self).create(id, record, expires_at).await
    }

    async fn save(
        &self,
        id: &SessionId,
        record: &Record,
        expires_at: SystemTime,
    ) -> Result<(), StoreError> {
        (**self).save(id, record, expires_at).await
    }

    async fn touch(&self, id: &SessionId, expires_at: SystemTime) -> Result<(), StoreError> {
        (**self).touch(id, expires_at).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        (**self).delete(id).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        (**self).load_and_touch(id, lifetimes).await
    }
}
