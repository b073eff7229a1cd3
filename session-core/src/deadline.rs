//! When a session's cookie expires, when its store may forget it, and when it is over for
//! good (the absolute timeout): pure functions of the session's facts and the clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest lifetime anything may have (a max age, a TTL, an absolute timeout, a session's
/// own max age): 100 years. Dates stay far from the year 9999, the last one that `Expires` and
/// ISO 8601 can write.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// [`MAX_LIFETIME`] in milliseconds.
pub(crate) const MAX_LIFETIME_MS: u64 = MAX_LIFETIME.as_secs() * 1000;

/// The latest date written anywhere: 9999-12-31T23:59:59Z.
pub(crate) fn latest_date() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(253_402_300_799)
}

/// `time`, or the latest writable date when it is later (a date from a store or a clock
/// gone wrong must not make a cookie or a record unwritable).
pub(crate) fn writable(time: SystemTime) -> SystemTime {
    time.min(latest_date())
}

/// A lifetime in milliseconds, no longer than [`MAX_LIFETIME`].
pub(crate) fn clamp_ms(ms: u64) -> u64 {
    ms.min(MAX_LIFETIME_MS)
}

/// A lifetime in whole milliseconds, no longer than [`MAX_LIFETIME`].
pub(crate) fn lifetime_ms(lifetime: Duration) -> u64 {
    clamp_ms(u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX))
}

/// When a session created at `created_at` is over however active it is, under an
/// `absolute_timeout`; `None` without a limit.
pub(crate) fn absolute_end(
    created_at: Option<SystemTime>,
    absolute_timeout: Option<Duration>,
) -> Option<SystemTime> {
    let (created_at, timeout) = created_at.zip(absolute_timeout)?;
    Some(writable(
        created_at.checked_add(timeout).unwrap_or_else(latest_date),
    ))
}

/// Whether a session whose absolute end is `ends_at` is over at `now`.
pub(crate) fn is_over(ends_at: Option<SystemTime>, now: SystemTime) -> bool {
    ends_at.is_some_and(|end| end <= now)
}

/// When the cookie expires: `original_max_age` milliseconds from `now` (express-session's
/// `touch()`), but never after the absolute end; `None` for a browser-session cookie.
pub(crate) fn cookie_expires(
    original_max_age: Option<u64>,
    ends_at: Option<SystemTime>,
    now: SystemTime,
) -> Option<SystemTime> {
    let lifetime = Duration::from_millis(clamp_ms(original_max_age?));
    let expires = now.checked_add(lifetime).unwrap_or_else(latest_date);
    Some(writable(earliest(expires, ends_at)))
}

/// When the store may forget a session whose cookie expires at `expires`: then, or after the
/// browser-session TTL for a cookie without expiry (connect-redis's rule); never after the
/// absolute end.
pub(crate) fn store_deadline(
    expires: Option<SystemTime>,
    browser_session_ttl: Duration,
    ends_at: Option<SystemTime>,
    now: SystemTime,
) -> SystemTime {
    let deadline = expires.unwrap_or_else(|| now + browser_session_ttl);
    earliest(deadline, ends_at)
}

fn earliest(time: SystemTime, limit: Option<SystemTime>) -> SystemTime {
    limit.map_or(time, |limit| time.min(limit))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn without_an_absolute_timeout_nothing_is_capped() {
        assert_eq!(absolute_end(Some(at(0)), None), None);
        assert_eq!(absolute_end(None, Some(HOUR)), None);
        assert!(!is_over(None, at(u32::MAX.into())));
        assert_eq!(cookie_expires(Some(1000), None, at(10)), Some(at(11)));
        assert_eq!(cookie_expires(None, None, at(10)), None);
        assert_eq!(store_deadline(None, HOUR, None, at(10)), at(3610));
        assert_eq!(store_deadline(Some(at(20)), HOUR, None, at(10)), at(20));
    }

    #[test]
    fn lifetimes_are_clamped_so_every_date_stays_writable() {
        let now = SystemTime::now();
        let expires = cookie_expires(Some(u64::MAX), None, now).expect("an expiry");
        assert!(expires <= now + MAX_LIFETIME && expires <= latest_date());
        assert_eq!(lifetime_ms(Duration::MAX), MAX_LIFETIME_MS);
        assert_eq!(writable(at(u64::MAX >> 2)), latest_date());
        let end = absolute_end(Some(latest_date()), Some(HOUR));
        assert_eq!(end, Some(latest_date()));
    }

    #[test]
    fn the_absolute_end_caps_cookie_and_store_and_ends_the_session() {
        let end = absolute_end(Some(at(100)), Some(HOUR));
        assert_eq!(end, Some(at(3700)));
        assert_eq!(
            cookie_expires(Some(3_600_000), end, at(3000)),
            Some(at(3700))
        );
        assert_eq!(cookie_expires(Some(60_000), end, at(3000)), Some(at(3060)));
        assert_eq!(store_deadline(None, HOUR, end, at(3000)), at(3700));
        assert!(!is_over(end, at(3699)));
        assert!(is_over(end, at(3700)));
    }
}
