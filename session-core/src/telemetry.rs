//! What the session layer reports through the [`metrics`] facade, besides the store calls of
//! `store/observed.rs`: every counter in one place, named once. Nothing is recorded unless
//! the app installs a recorder (e.g. `metrics-exporter-prometheus`).
//!
//! | metric | kind | labels | counts |
//! |---|---|---|---|
//! | `sessions_created_total` | counter | `mode` | new sessions written (a store's create, or a first cookie) |
//! | `sessions_destroyed_total` | counter | `reason` | sessions ended by `destroy` (`logout`), a revoke (`revoked`) or the absolute timeout (`absolute_timeout`) |
//! | `session_saves_total` | counter | `outcome` | saves of stored sessions: `written`, `merged` (written after merging into another writer's change), `conflict` (refused under `ConflictPolicy::Reject`), `ended` (the session was gone) |
//! | `session_store_calls_total` | counter | `store`, `op`, `outcome` | every store call (see below) |
//! | `session_store_errors_total` | counter | `store`, `op`, `kind` | failed store calls, by `StoreError` kind |
//! | `session_store_duration_seconds` | histogram | `store`, `op` | store call latency |

/// A new session was written, in a store or into its first cookie. Each label value the
/// layer uses is spelled out, so that its key is a static one: no allocation or hashing per
/// request when no recorder is installed.
pub(crate) fn created(mode: &'static str) {
    let counter = match mode {
        "store" => metrics::counter!("sessions_created_total", "mode" => "store"),
        "cookie" => metrics::counter!("sessions_created_total", "mode" => "cookie"),
        other => metrics::counter!("sessions_created_total", "mode" => other),
    };
    counter.increment(1);
}

/// `count` sessions ended, for `reason`.
pub(crate) fn destroyed(reason: &'static str, count: usize) {
    metrics::counter!("sessions_destroyed_total", "reason" => reason)
        .increment(u64::try_from(count).unwrap_or(u64::MAX));
}

/// A save of a stored session ended with `outcome` (static keys, as in [`created`]).
pub(crate) fn saved(outcome: &'static str) {
    let counter = match outcome {
        "written" => metrics::counter!("session_saves_total", "outcome" => "written"),
        "merged" => metrics::counter!("session_saves_total", "outcome" => "merged"),
        "ended" => metrics::counter!("session_saves_total", "outcome" => "ended"),
        other => metrics::counter!("session_saves_total", "outcome" => other),
    };
    counter.increment(1);
}
