//! [`Entry`]: one stored session in the memory store, with its own deadline on the monotonic
//! clock, and the [`PerEntryExpiry`] that tells moka about it.

use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
    },
    time::{Duration, Instant, SystemTime},
};

use moka::Expiry;

use super::key::Key;
use crate::{Loaded, Record, StoreError, Version};

/// The version of an entry that left its tier (for the other tier, or deleted): a write that
/// still holds it must look the session up again. Never given to a write.
const DETACHED: u64 = u64::MAX;

/// One stored session. Clones (what moka hands out on reads) share the same record and
/// deadline, so a touch or a save changes it in place, without a new cache entry.
#[derive(Clone)]
pub(super) struct Entry(Arc<Stored>);

/// The record and its deadline. The JSON is a second allocation behind the `Arc`: one block
/// of counters, deadline, length and text would save about 8 bytes and an allocation, but
/// needs a custom DST, so unsafe code (which the workspace forbids) or a crate such as
/// `triomphe`.
struct Stored {
    current: Mutex<Current>,
    /// When the record expires: milliseconds on the monotonic clock since [`clock_base`].
    deadline_ms: AtomicU64,
    /// The JSON's length when moka last weighed the entry.
    weighed_len: AtomicUsize,
}

/// The record as last written, and which write that was (unique within the store).
struct Current {
    json: Box<str>,
    version: u64,
}

/// What [`Entry::replace_if`] did.
pub(super) enum Replaced {
    /// The entry holds the new record.
    Yes,
    /// Another write came first: the entry's record, untouched.
    Changed(Box<Result<Loaded, StoreError>>),
    /// The entry expired: the session is gone.
    Expired,
    /// The entry left its tier: look the session up again.
    Detached,
}

impl Entry {
    pub(super) fn new(json: String, expires_at: SystemTime, version: u64) -> Self {
        Self(Arc::new(Stored {
            weighed_len: AtomicUsize::new(json.len()),
            current: Mutex::new(Current {
                json: json.into(),
                version,
            }),
            deadline_ms: AtomicU64::new(monotonic_ms(expires_at)),
        }))
    }

    fn current(&self) -> MutexGuard<'_, Current> {
        // Nothing panics while holding the lock; a poisoned one still holds a whole record.
        self.0
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn version(&self) -> Version {
        Version::from_u64(self.current().version)
    }

    /// Whether `self` and `other` are the same stored session (not only equal).
    pub(super) fn same(&self, other: &Entry) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The stored JSON's length in bytes, noted as the one moka weighs.
    pub(super) fn weigh_json(&self) -> usize {
        let len = self.current().json.len();
        self.0.weighed_len.store(len, Ordering::Relaxed);
        len
    }

    /// Whether the JSON's length moved more than `slack` bytes from the weighed one.
    pub(super) fn needs_reweigh(&self, slack: usize) -> bool {
        let len = self.current().json.len();
        len.abs_diff(self.0.weighed_len.load(Ordering::Relaxed)) > slack
    }

    pub(super) fn loaded(&self) -> Result<Loaded, StoreError> {
        Self::loaded_from(&self.current())
    }

    fn loaded_from(current: &Current) -> Result<Loaded, StoreError> {
        Ok(Loaded::new(
            Record::from_json(&current.json)?,
            Version::from_u64(current.version),
        ))
    }

    /// Replaces the record with `json` (as write `version`, expiring at `expires_at`) if it is
    /// still the `expected` version and live, atomically: a write never overwrites one it did
    /// not load, nor revives an expired or deleted session.
    pub(super) fn replace_if(
        &self,
        expected: Version,
        json: &str,
        version: u64,
        expires_at: SystemTime,
    ) -> Replaced {
        let mut current = self.current();
        if current.version == DETACHED {
            return Replaced::Detached;
        }
        if !self.is_live() {
            return Replaced::Expired;
        }
        if Version::from_u64(current.version) != expected {
            return Replaced::Changed(Box::new(Self::loaded_from(&current)));
        }
        overwrite(&mut current.json, json);
        current.version = version;
        self.set_deadline(expires_at);
        Replaced::Yes
    }

    /// Marks the entry as no longer its tier's (moved to the other tier, or deleted), so that
    /// a write holding it looks the session up again rather than writing where no reader looks.
    pub(super) fn detach(&self) {
        self.current().version = DETACHED;
    }

    pub(super) fn is_live(&self) -> bool {
        self.deadline() > Instant::now()
    }

    /// Moves the deadline in place (every clone sees it).
    pub(super) fn set_deadline(&self, expires_at: SystemTime) {
        self.0
            .deadline_ms
            .store(monotonic_ms(expires_at), Ordering::Release);
    }

    fn deadline(&self) -> Instant {
        clock_base() + Duration::from_millis(self.0.deadline_ms.load(Ordering::Acquire))
    }

    fn remaining(&self, now: Instant) -> Duration {
        self.deadline().saturating_duration_since(now)
    }
}

/// Puts `json` in place of `stored`, in the same allocation when the length is the same (a
/// counter's save usually keeps it): no allocation, and no free of a block that, on a
/// multi-threaded server, another thread may have allocated.
fn overwrite(stored: &mut Box<str>, json: &str) {
    if stored.len() != json.len() {
        *stored = json.into();
        return;
    }
    let mut bytes = std::mem::take(stored).into_boxed_bytes();
    bytes.copy_from_slice(json.as_bytes());
    // Valid: the bytes are all `json`'s. No reallocation: the length is the capacity.
    *stored =
        String::from_utf8(bytes.into_vec()).map_or_else(|_| json.into(), String::into_boxed_str);
}

/// The origin of the monotonic milliseconds stored in entries.
fn clock_base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Converts a wall-clock expiry into milliseconds on the monotonic clock.
fn monotonic_ms(expires_at: SystemTime) -> u64 {
    let remaining = expires_at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let at = Instant::now()
        .checked_add(remaining)
        .unwrap_or_else(|| Instant::now() + crate::deadline::MAX_LIFETIME);
    u64::try_from(at.duration_since(clock_base()).as_millis()).unwrap_or(u64::MAX)
}

pub(super) struct PerEntryExpiry;

/// Tells moka each entry's own deadline, re-read on every access so that a touch or a save
/// (which move the shared deadline, then read) reschedule the entry.
impl Expiry<Key, Entry> for PerEntryExpiry {
    fn expire_after_create(&self, _: &Key, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.remaining(now))
    }

    fn expire_after_read(
        &self,
        _: &Key,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.remaining(now))
    }

    fn expire_after_update(
        &self,
        _: &Key,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.remaining(now))
    }
}

#[cfg(test)]
mod tests {
    use super::overwrite;

    #[test]
    fn an_overwrite_of_the_same_length_keeps_the_allocation() {
        let mut stored: Box<str> = r#"{"count":5}"#.into();
        let before = stored.as_ptr();
        overwrite(&mut stored, r#"{"count":6}"#);
        assert_eq!(&*stored, r#"{"count":6}"#);
        assert_eq!(stored.as_ptr(), before);
        overwrite(&mut stored, r#"{"count":10}"#);
        assert_eq!(&*stored, r#"{"count":10}"#);
        overwrite(&mut stored, "{}");
        assert_eq!(&*stored, "{}");
    }
}
