//! [`Entry`]: one stored session in the memory store, with its own deadline on the monotonic
//! clock, and the [`PerEntryExpiry`] that tells moka about it.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant, SystemTime},
};

use moka::Expiry;

use super::key::Key;
use crate::{Loaded, Record, StoreError, Version};

/// One stored session. Clones (what moka hands out on reads) share the same deadline, so a
/// touch moves it in place without copying the record.
#[derive(Clone)]
pub(super) struct Entry(Arc<Stored>);

/// The record and its deadline. The JSON is a second allocation behind the `Arc`: one block
/// of counters, deadline, length and text would save about 8 bytes and an allocation, but
/// needs a custom DST, so unsafe code (which the workspace forbids) or a crate such as
/// `triomphe`; keeping the deadline in moka's value instead would turn every touch into a
/// replacing write.
struct Stored {
    json: Box<str>,
    /// When the record expires: milliseconds on the monotonic clock since [`clock_base`].
    deadline_ms: AtomicU64,
    /// Which write this is (unique within the store).
    version: u64,
}

impl Entry {
    pub(super) fn new(json: String, expires_at: SystemTime, version: u64) -> Self {
        Self(Arc::new(Stored {
            json: json.into(),
            deadline_ms: AtomicU64::new(monotonic_ms(expires_at)),
            version,
        }))
    }

    pub(super) fn version(&self) -> Version {
        Version::from_u64(self.0.version)
    }

    /// The stored JSON's length in bytes.
    pub(super) fn json_len(&self) -> usize {
        self.0.json.len()
    }

    pub(super) fn loaded(&self) -> Result<Loaded, StoreError> {
        Ok(Loaded::new(
            Record::from_json(&self.0.json)?,
            self.version(),
        ))
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

/// Tells moka each entry's own deadline, re-read on every access so that a touch (which
/// moves the shared deadline, then reads) reschedules the entry.
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
