//! The [`Store`] trait: where session records live between requests.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;

use crate::{Record, SessionId, StoreError};

mod handle;
pub(crate) mod hashed;
mod memory;
pub(crate) mod observed;
mod version;

pub use handle::StoreHandle;
pub use memory::{MemoryStore, DEFAULT_USER_BYTES, DEFAULT_VISITOR_BYTES};
pub use version::Version;

/// What [`Store::create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The record was written under the new id; this is its version.
    Written(Version),
    /// A live record already holds this id; nothing was written.
    IdTaken,
}

/// What [`Store::save`] did.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "`Changed` is the rare outcome and is built by every store; a `Saved` is returned \
              once per save, so boxing it would buy nothing measurable"
)]
pub enum Saved {
    /// The record was still the expected version and was replaced; this is the new version.
    Written(Version),
    /// Nothing was written: another writer changed the record since the expected version was
    /// read. This is the record as it is now, for the caller to merge its changes into.
    Changed(Loaded),
    /// Nothing was written: no live record holds the id any more (deleted by a logout, a
    /// regenerate or a revoke, or expired). A save never brings a record back.
    Gone,
}

/// A record read from a store, with its version; what [`Store::load`] and
/// [`Store::load_and_touch`] return. Two are equal when their records, versions and
/// `touched` are: the handle is a shortcut, not part of what was read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Loaded {
    /// The live record.
    pub record: Record,
    /// The version of the record as read: a [`save`](Store::save) against it applies only if
    /// nothing wrote the record since.
    pub version: Version,
    /// Whether the record needs no touch at the end of a read-only request: the store moved
    /// its expiry in the same operation, as [`Store::touch`] would have, to the record's own
    /// lifetime from now, or found it already within the store's documented slack of that
    /// (Redis: `touch_after`).
    pub touched: bool,
    /// What the store wants back when this request saves the record ([`Write::handle`]).
    pub handle: Option<StoreHandle>,
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        self.record == other.record
            && self.version == other.version
            && self.touched == other.touched
    }
}

impl Loaded {
    /// A record loaded without touching it.
    pub fn new(record: Record, version: Version) -> Self {
        Self {
            record,
            version,
            touched: false,
            handle: None,
        }
    }

    /// The same, with a handle the store gets back on this request's save of the record.
    pub fn with_handle(self, handle: StoreHandle) -> Self {
        Self {
            handle: Some(handle),
            ..self
        }
    }

    /// The same, marked as touched in the same operation ([`Store::load_and_touch`]).
    pub fn touched(self) -> Self {
        Self {
            touched: true,
            ..self
        }
    }
}

/// What a [`create`](Store::create) or a [`save`](Store::save) writes.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Write<'a> {
    /// The record.
    pub record: &'a Record,
    /// The record as Node's session JSON, when the caller already encoded it (the session
    /// layer does, once, to check its size).
    encoded: Option<&'a str>,
    /// When the store may forget it; always in the future.
    pub expires_at: SystemTime,
    /// The user the session belongs to, when the configuration names one
    /// ([`SessionConfigBuilder::user_key`](crate::SessionConfigBuilder::user_key)): the store
    /// lists the session under that user until `expires_at` ([`Store::sessions_of`]).
    pub owner: Option<&'a str>,
    /// The handle the store attached to the record this request loaded ([`Loaded::handle`]),
    /// on a save of that session.
    handle: Option<&'a StoreHandle>,
}

impl<'a> Write<'a> {
    /// A write of `record` that may be forgotten at `expires_at`, owned by no user.
    pub fn new(record: &'a Record, expires_at: SystemTime) -> Self {
        Self {
            record,
            encoded: None,
            expires_at,
            owner: None,
            handle: None,
        }
    }

    /// A write of `record` whose JSON ([`Record::to_json`]) is already at hand.
    pub fn encoded(record: &'a Record, json: &'a str, expires_at: SystemTime) -> Self {
        Self {
            encoded: Some(json),
            ..Self::new(record, expires_at)
        }
    }

    /// The same write, listed under `owner`.
    pub fn owned_by(self, owner: Option<&'a str>) -> Self {
        Self { owner, ..self }
    }

    /// The same write, carrying the handle of the record it replaces.
    pub fn with_handle(self, handle: Option<&'a StoreHandle>) -> Self {
        Self { handle, ..self }
    }

    /// The handle the store attached when this request loaded the record the save replaces
    /// ([`Loaded::with_handle`]); `None` on a create, and when the store attached none.
    pub fn handle(&self) -> Option<&'a StoreHandle> {
        self.handle
    }

    /// The record as Node's session JSON: what a store that keeps text writes. Encoded at
    /// most once per request by the session layer, so a store should take it from here rather
    /// than call [`Record::to_json`] again.
    ///
    /// ```
    /// use session_core::{Record, Write};
    /// use std::time::{Duration, SystemTime};
    ///
    /// let record = Record::new(Default::default());
    /// let later = SystemTime::now() + Duration::from_secs(60);
    /// assert_eq!(Write::new(&record, later).json()?, record.to_json()?);
    /// # Ok::<_, session_core::StoreError>(())
    /// ```
    pub fn json(&self) -> Result<std::borrow::Cow<'a, str>, StoreError> {
        match self.encoded {
            Some(json) => Ok(std::borrow::Cow::Borrowed(json)),
            None => self.record.to_json().map(std::borrow::Cow::Owned),
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
/// # What a save promises
///
/// Writes are conditional. A [`create`](Store::create) writes only where no live record is;
/// a [`save`](Store::save) writes only over the very record version the request read
/// ([`Loaded::version`]). So a session that a logout, a `regenerate()` or a revoke deleted is
/// never written back by a request that loaded it earlier, and a write by another request or
/// another process (an Express app sharing the store) is never overwritten unseen: the save
/// reports [`Saved::Changed`] with the current record, and the session layer merges its own
/// changes into it. The store conformance suite (`testing::conformance`) checks all of this
/// for every store.
///
/// # Sessions of a user
///
/// A write or touch may name the session's user ([`Write::owner`]); the store then lists the
/// session under that user until its expiry, so that [`sessions_of`](Store::sessions_of) can
/// find every live session of the user (for "log out everywhere").
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Loads a live record and its version, or `None` when there is none (never found,
    /// deleted or expired).
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError>;

    /// Writes a record only if no live record holds `id`, atomically, so that two new sessions
    /// can never share an id.
    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError>;

    /// Replaces the record under `id` only if it is still the version `expected` (read by
    /// [`load`](Store::load) or written by an earlier create or save), atomically: the check
    /// and the write are one operation (on a remote store, one round trip).
    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError>;

    /// Moves the expiry of an existing record without rewriting its data, and says whether
    /// there was one. A missing record stays missing. With an `owner`, the session's listing
    /// under that user moves too.
    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Deletes the record; deleting a missing record is not an error.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError>;

    /// The ids of the sessions listed under `owner` whose expiry has not passed: every live
    /// session written or touched with that owner, and possibly some that were deleted since
    /// or now belong to another user (the caller loads each to check).
    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError>;

    /// Loads a live record and, in the same operation, may move its expiry as the end of a
    /// read-only request would: to now + [`lifetimes.of(record)`](Lifetimes::of). A store
    /// whose backend is remote overrides this to save that request's second round trip
    /// (PostgreSQL: one `UPDATE … RETURNING`; Redis: `GET` with `PTTL`, and no touch while
    /// the TTL is still close to the lifetime); it must then say so with
    /// [`Loaded::touched`]. The default only loads.
    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        let _ = lifetimes;
        self.load(id).await
    }

    /// A short name for logs and metrics (`memory`, `redis`, `postgres`, ...).
    fn name(&self) -> &'static str {
        "custom"
    }
}

#[async_trait]
impl<S: Store + ?Sized> Store for Arc<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        (**self).load(id).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        (**self).create(id, write).await
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        (**self).save(id, write, expected).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        (**self).touch(id, expires_at, owner).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        (**self).delete(id).await
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        (**self).sessions_of(owner).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        (**self).load_and_touch(id, lifetimes).await
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }
}
