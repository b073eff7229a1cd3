//! The cheap rolling touch. A request's load reads the key's remaining TTL with its value
//! (`GET` and `PTTL`, one round trip), and the store reports the record as touched while that
//! TTL is within a small slack of the session's own lifetime: the touch at the end of a
//! read-only request is then skipped, and a session is touched (one `EXPIRE`) at most once
//! per slack. The slack is [`RedisStoreBuilder::touch_after`](crate::RedisStoreBuilder::touch_after)
//! (60 s by default), never more than a tenth of the lifetime, so a session never expires
//! more than that much earlier than express-session's touch on every request would have
//! kept it.

use std::time::Duration;

/// What `touch_after` is unless the app sets it.
pub(crate) const DEFAULT_TOUCH_AFTER: Duration = Duration::from_secs(60);

/// Whether a record whose key has `pttl_ms` left (`PTTL`'s reply: -1 for no expiry, -2 for no
/// key) needs no touch yet: its remaining TTL is at least its `lifetime` (the TTL a touch
/// would give it; `None` when there is nothing to extend) less the slack.
pub(crate) fn fresh_enough(
    pttl_ms: i64,
    lifetime: Option<Duration>,
    touch_after: Duration,
) -> bool {
    let (Some(lifetime), Ok(remaining)) = (lifetime, u64::try_from(pttl_ms)) else {
        return false;
    };
    let slack = touch_after.min(lifetime / 10);
    Duration::from_millis(remaining) >= lifetime.saturating_sub(slack)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_ttl_within_the_slack_of_the_lifetime_needs_no_touch() {
        let thirty_minutes = Some(30 * MINUTE);
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap();
        assert!(fresh_enough(ms(30 * MINUTE), thirty_minutes, MINUTE));
        assert!(fresh_enough(ms(29 * MINUTE), thirty_minutes, MINUTE));
        assert!(!fresh_enough(ms(29 * MINUTE) - 1, thirty_minutes, MINUTE));
        assert!(fresh_enough(
            ms(30 * MINUTE),
            thirty_minutes,
            Duration::ZERO
        ));
        assert!(!fresh_enough(
            ms(30 * MINUTE) - 1,
            thirty_minutes,
            Duration::ZERO
        ));
    }

    #[test]
    fn the_slack_is_at_most_a_tenth_of_the_lifetime() {
        let ten_seconds = Some(Duration::from_secs(10));
        assert!(fresh_enough(9_000, ten_seconds, MINUTE));
        assert!(!fresh_enough(8_999, ten_seconds, MINUTE));
    }

    #[test]
    fn no_expiry_no_key_or_nothing_to_extend_always_touch() {
        assert!(!fresh_enough(-1, Some(MINUTE), MINUTE));
        assert!(!fresh_enough(-2, Some(MINUTE), MINUTE));
        assert!(!fresh_enough(60_000, None, MINUTE));
    }
}
