//! Wall-clock times as the tables hold them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (negative before it), as JavaScript's `Date.now()`.
pub(crate) fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

#[cfg(feature = "postgres")]
/// Whole seconds since the Unix epoch, rounded up, as connect-pg-simple computes every time it
/// sends (`Math.ceil(ms / 1000)`): what `to_timestamp(...)` receives.
pub(crate) fn ceil_seconds(t: SystemTime) -> f64 {
    let ms = unix_ms(t);
    // Exact: every whole number of seconds this side of year 285 million is an exact f64.
    (ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)) as f64
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn seconds_round_up_as_connect_pg_simple_does() {
        assert_eq!(ceil_seconds(at(1_700_000_000_000)), 1_700_000_000.0);
        assert_eq!(ceil_seconds(at(1_700_000_000_001)), 1_700_000_001.0);
        assert_eq!(ceil_seconds(at(1_700_000_000_999)), 1_700_000_001.0);
        assert_eq!(
            ceil_seconds(at(1_700_000_000_000) + Duration::from_micros(300)),
            1_700_000_000.0,
            "sub-millisecond parts are dropped, as Node's millisecond clock does"
        );
        assert_eq!(
            ceil_seconds(UNIX_EPOCH - Duration::from_millis(1_500)),
            -1.0
        );
        assert_eq!(unix_ms(at(42)), 42);
    }
}
