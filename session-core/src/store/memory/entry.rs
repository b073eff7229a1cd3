//! [`Entry`]: one stored session in the memory store, with its own deadline on the monotonic
//! clock, and the [`PerEntryExpiry`] that tells moka about it.

use std::{
    sync::{
        atomic::{AtomicU32, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
    },
    time::{Duration, Instant, SystemTime},
};

use moka::Expiry;

use super::key::Key;
use crate::{Loaded, Record, StoreError, StoreHandle, Version};

/// The most moka's timer runs past an entry's deadline when it is set: a fraction of the time
/// left, at most a minute. Within it, a save or touch that moves the deadline later needs no
/// second lookup to tell moka (a counting visitor's requests come seconds apart); past the
/// deadline the entry is kept from readers ([`Entry::is_live`]) and only its memory lingers.
const MAX_SLACK_MS: u64 = 60_000;

/// The time left is divided by this to give the slack (so an entry of a second gets 62 ms).
const SLACK_DIVISOR: u64 = 16;

/// How far moka's timer may run past a deadline moved earlier before it is set again: the
/// longest an entry that expired holds its memory.
const MAX_LINGER_MS: u64 = 2 * MAX_SLACK_MS;

/// The version of an entry that left its tier (for the other tier, or deleted): a write that
/// still holds it must look the session up again. Never given to a write.
const DETACHED: u64 = u64::MAX;

/// One stored session. Clones (what moka hands out on reads) share the same record and
/// deadline, so a touch or a save changes it in place, without a new cache entry.
#[derive(Clone)]
pub(super) struct Entry(Arc<Stored>);

/// The record, its deadline and moka's timer. The JSON is a second allocation behind the
/// `Arc`: one block of counters, deadline, length and text would save about 8 bytes and an
/// allocation, but needs a custom DST, so unsafe code (which the workspace forbids) or a crate
/// such as `triomphe`.
struct Stored {
    current: Mutex<Current>,
    /// When the record expires: milliseconds on the monotonic clock since [`clock_base`].
    deadline_ms: AtomicU64,
    /// The JSON's length when moka last weighed the entry (`u32::MAX` for longer ones).
    weighed_len: AtomicU32,
    /// When moka's timer for the entry fires, as last set: whole seconds (rounded down) on
    /// the monotonic clock since [`clock_base`].
    timer_s: AtomicU32,
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
            weighed_len: AtomicU32::new(clamp_len(json.len())),
            current: Mutex::new(Current {
                json: json.into(),
                version,
            }),
            deadline_ms: AtomicU64::new(monotonic_ms(expires_at)),
            timer_s: AtomicU32::new(0),
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
        self.0.weighed_len.store(clamp_len(len), Ordering::Relaxed);
        len
    }

    /// Whether the JSON's length moved more than `slack` bytes from the weighed one.
    pub(super) fn needs_reweigh(&self, slack: usize) -> bool {
        let len = self.current().json.len();
        let weighed = self.0.weighed_len.load(Ordering::Relaxed) as usize;
        len.abs_diff(weighed) > slack
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

    /// The entry as the handle of a record loaded from store instance `issuer`: that
    /// request's save writes through it without looking the session up again.
    pub(super) fn handle(&self, issuer: u64) -> StoreHandle {
        StoreHandle::new(issuer, Arc::clone(&self.0))
    }

    /// The entry a handle from [`Entry::handle`] names; `None` for another instance's handle.
    pub(super) fn of_handle(handle: &StoreHandle, issuer: u64) -> Option<Self> {
        handle.downcast::<Stored>(issuer).map(Self)
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

    /// Whether moka's timer, as last set, still suits the entry's deadline: not before it, and
    /// not so long after it that an expired entry would keep its memory long. When it does
    /// not, a read must give moka the new deadline
    /// ([`Tier::reschedule`](super::tier::Tier::reschedule)).
    pub(super) fn timer_fits(&self) -> bool {
        let timer_ms = u64::from(self.0.timer_s.load(Ordering::Acquire)) * 1000;
        timer_fits(timer_ms, self.0.deadline_ms.load(Ordering::Acquire))
    }

    /// What to tell moka on a create, read or update at `now`, its timer being `current` away
    /// (none on a create), noted as the entry's timer: the timer as it is while it still fits
    /// the deadline ([`timer_fits`]), otherwise the time left plus a slack
    /// ([`MAX_SLACK_MS`]). A read that saw the deadline just before a save moved it (within
    /// the timer, so the save did not reschedule) thus never pulls the timer before the new
    /// deadline, and a read that changes nothing costs moka no timer update.
    fn schedule(&self, now: Instant, current: Option<Duration>) -> Duration {
        // In whole milliseconds since the clock base, rounded down: the timer as noted may be
        // up to a millisecond (and, in whole seconds, a second) earlier than moka's, never later.
        let now_ms = millis(now.saturating_duration_since(clock_base()));
        let remaining_ms = self
            .0
            .deadline_ms
            .load(Ordering::Acquire)
            .saturating_sub(now_ms);
        let horizon = match current {
            Some(current) if timer_fits(millis(current), remaining_ms) => current,
            _ => Duration::from_millis(remaining_ms.saturating_add(slack_ms(remaining_ms))),
        };
        let fires_s = now_ms.saturating_add(millis(horizon)) / 1000;
        self.0.timer_s.store(
            u32::try_from(fires_s).unwrap_or(u32::MAX),
            Ordering::Release,
        );
        horizon
    }
}

/// How long moka's timer runs past a deadline `remaining_ms` away, in milliseconds.
fn slack_ms(remaining_ms: u64) -> u64 {
    (remaining_ms / SLACK_DIVISOR).min(MAX_SLACK_MS)
}

/// A duration in whole milliseconds (`u64::MAX` past half a billion years).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Whether a timer firing at `timer_ms` suits a deadline at `deadline_ms` (both on the
/// monotonic clock since [`clock_base`]).
fn timer_fits(timer_ms: u64, deadline_ms: u64) -> bool {
    deadline_ms <= timer_ms && timer_ms - deadline_ms <= MAX_LINGER_MS
}

/// A length as the `u32` weighed lengths are kept in (longer ones, which no budget admits,
/// are always reweighed).
fn clamp_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
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

/// Tells moka each entry's own deadline (plus a slack, see [`MAX_SLACK_MS`]), re-read on every
/// access ([`Entry::schedule`]) so that a touch or a save that moves the deadline past the
/// timer (then reads) reschedules the entry.
impl Expiry<Key, Entry> for PerEntryExpiry {
    fn expire_after_create(&self, _: &Key, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.schedule(now, None))
    }

    fn expire_after_read(
        &self,
        _: &Key,
        entry: &Entry,
        now: Instant,
        current: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.schedule(now, current))
    }

    fn expire_after_update(
        &self,
        _: &Key,
        entry: &Entry,
        now: Instant,
        current: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.schedule(now, current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_record_is_as_large_as_the_memory_budget_counts_it() {
        // `ENTRY_OVERHEAD` counts the `Stored` allocation as 64 bytes: its 48 and the `Arc`'s
        // two counters.
        assert_eq!(std::mem::size_of::<Stored>(), 48);
    }

    #[test]
    fn the_timer_fits_a_deadline_it_covers_with_a_bounded_linger() {
        let timer_ms = 1_000_000;
        assert!(timer_fits(timer_ms, timer_ms));
        assert!(timer_fits(timer_ms, timer_ms - 30_000));
        assert!(timer_fits(timer_ms, timer_ms - MAX_LINGER_MS));
        // A deadline past the timer: moka would drop a live session.
        assert!(!timer_fits(timer_ms, timer_ms + 1));
        // A deadline moved far earlier: the expired entry would hold its memory for long.
        assert!(!timer_fits(timer_ms, timer_ms - MAX_LINGER_MS - 1));
    }

    #[test]
    fn a_read_that_saw_the_old_deadline_never_pulls_the_timer_before_the_new_one() {
        // A session of four minutes, loaded at t0: the timer is the deadline plus 15 s.
        let t0 = Instant::now();
        let entry = Entry::new("{}".into(), SystemTime::now() + Duration::from_secs(240), 1);
        let timer = entry.schedule(t0, None);
        // 32 s later a save moves the deadline 14 s on, within the timer: no reschedule. A
        // read racing it loads the deadline just before the save stores it. The slack it
        // would compute (13 s on the 208 s left) falls short of the moved deadline, so it
        // keeps moka's timer instead.
        let left = timer - Duration::from_secs(32);
        assert_eq!(
            entry.schedule(t0 + Duration::from_secs(32), Some(left)),
            left
        );
        entry.set_deadline(SystemTime::now() + Duration::from_secs(254));
        assert!(
            entry.timer_fits(),
            "moka's timer fires before the saved deadline"
        );
    }

    #[test]
    fn the_slack_is_a_sixteenth_of_the_time_left_and_at_most_a_minute() {
        assert_eq!(slack_ms(1_000), 62);
        assert_eq!(slack_ms(30 * 60 * 1000), 60_000);
        assert_eq!(slack_ms(0), 0);
    }

    #[test]
    fn a_deadline_moved_within_the_slack_keeps_the_timer_and_one_past_it_does_not() {
        let now = SystemTime::now();
        let entry = Entry::new("{}".into(), now + Duration::from_secs(30 * 60), 1);
        entry.schedule(Instant::now(), None);
        assert!(entry.timer_fits());
        // The next request of a counting visitor, seconds later: within the slack.
        entry.set_deadline(now + Duration::from_secs(30 * 60 + 5));
        assert!(entry.timer_fits());
        entry.set_deadline(now + Duration::from_secs(32 * 60));
        assert!(!entry.timer_fits());
        entry.schedule(Instant::now(), None);
        assert!(entry.timer_fits());
        entry.set_deadline(now + Duration::from_secs(60));
        assert!(!entry.timer_fits());
    }

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
