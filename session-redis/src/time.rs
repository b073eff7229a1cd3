//! Deadlines as Redis wants them: TTLs in whole seconds, as connect-redis computes them, and
//! epoch milliseconds for the user index.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds until `expires_at`, rounded up, as connect-redis computes them from millisecond
/// timestamps: `ceil((expires - now) / 1000)`. Zero or less means "already expired".
pub(crate) fn ttl_seconds(expires_at: SystemTime, now: SystemTime) -> i64 {
    let diff = i128::from(epoch_ms(expires_at)) - i128::from(epoch_ms(now));
    let seconds = (diff + 999).div_euclid(1000);
    i64::try_from(seconds).unwrap_or(if seconds > 0 { i64::MAX } else { i64::MIN })
}

/// The TTL a write or a touch sends for `expires_at`: [`ttl_seconds`] from now, at least one
/// second. The session layer never asks for a deadline that has passed (it deletes instead);
/// one that passes while the call is on its way is kept for that second, which is within the
/// rounding up that `EX` applies to every deadline anyway.
pub(crate) fn ttl_until(expires_at: SystemTime) -> i64 {
    ttl_seconds(expires_at, SystemTime::now()).max(1)
}

/// Milliseconds since the Unix epoch (negative before it), as the user index scores deadlines.
pub(crate) fn epoch_ms(t: SystemTime) -> i64 {
    let saturate = |ms: u128| i64::try_from(ms).unwrap_or(i64::MAX);
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => saturate(after.as_millis()),
        Err(before) => -saturate(before.duration().as_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn ttl_is_connect_redis_ceiling_of_milliseconds() {
        let now = at(1_700_000_000_000);
        assert_eq!(ttl_seconds(at(1_700_003_600_000), now), 3600);
        assert_eq!(ttl_seconds(at(1_700_003_600_001), now), 3601);
        assert_eq!(ttl_seconds(at(1_700_000_000_001), now), 1);
        assert_eq!(ttl_seconds(now, now), 0);
        assert_eq!(ttl_seconds(at(1_699_999_999_999), now), 0);
        assert_eq!(ttl_seconds(at(1_699_999_998_000), now), -2);
        // Sub-millisecond parts are dropped, as Node's millisecond clock does.
        assert_eq!(
            ttl_seconds(at(1_700_000_001_000) + Duration::from_micros(300), now),
            1
        );
    }

    #[test]
    fn writes_get_at_least_a_second() {
        assert_eq!(ttl_until(SystemTime::now() - Duration::from_secs(5)), 1);
        assert_eq!(
            ttl_until(SystemTime::now() + Duration::from_secs(3600)),
            3600
        );
    }

    #[test]
    fn epoch_milliseconds_on_both_sides_of_the_epoch() {
        assert_eq!(epoch_ms(at(1_700_000_000_123)), 1_700_000_000_123);
        assert_eq!(epoch_ms(UNIX_EPOCH - Duration::from_millis(5)), -5);
    }
}
