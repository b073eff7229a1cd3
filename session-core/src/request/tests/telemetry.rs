//! The counters and histograms of `telemetry.rs` and `store/observed.rs`, through a recorder
//! installed for this test's thread.

use metrics_util::{
    debugging::{DebugValue, DebuggingRecorder},
    CompositeKey,
};

use super::{config, cookie_pair, Single};
use crate::{testing::FlakyStore, MemoryStore, RequestFacts, SessionManager};

/// The value of counter `name` whose labels include every one of `labels`.
fn counter(snapshot: &[(CompositeKey, DebugValue)], name: &str, labels: &[(&str, &str)]) -> u64 {
    snapshot
        .iter()
        .filter(|(key, _)| key.key().name() == name)
        .filter(|(key, _)| {
            labels.iter().all(|(label, value)| {
                key.key()
                    .labels()
                    .any(|l| l.key() == *label && l.value() == *value)
            })
        })
        .map(|(_, value)| match value {
            DebugValue::Counter(n) => *n,
            _ => 0,
        })
        .sum()
}

fn histogram_samples(snapshot: &[(CompositeKey, DebugValue)], name: &str, op: &str) -> usize {
    snapshot
        .iter()
        .filter(|(key, _)| {
            key.key().name() == name
                && key
                    .key()
                    .labels()
                    .any(|l| l.key() == "op" && l.value() == op)
        })
        .map(|(_, value)| match value {
            DebugValue::Histogram(samples) => samples.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn sessions_and_store_calls_are_counted_once_a_recorder_is_installed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = FlakyStore::new(MemoryStore::new());
        let manager = SessionManager::new(store.clone(), config().build().unwrap());
        let request = manager.begin([], RequestFacts::plain_http());
        request.session().await.unwrap().insert("n", 0).unwrap();
        let cookie = cookie_pair(&request.finish().await.unwrap().single().unwrap());
        for _ in 0..2 {
            let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
            let session = request.session().await.unwrap();
            let n: u64 = session.get("n").unwrap().unwrap();
            session.insert("n", n + 1).unwrap();
            request.finish().await.unwrap();
        }
        store.set_failing(true);
        let failing = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
        assert!(failing.session().await.is_err());
        store.set_failing(false);
        let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
        request.session().await.unwrap().destroy().await.unwrap();
        request.finish().await.unwrap();
    });
    let snapshot: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key, value))
        .collect();
    assert_eq!(
        counter(&snapshot, "sessions_created_total", &[("mode", "store")]),
        1
    );
    assert_eq!(
        counter(&snapshot, "session_saves_total", &[("outcome", "written")]),
        2
    );
    assert_eq!(
        counter(
            &snapshot,
            "sessions_destroyed_total",
            &[("reason", "logout")]
        ),
        1
    );
    let calls = |op, outcome| {
        counter(
            &snapshot,
            "session_store_calls_total",
            &[("store", "memory"), ("op", op), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("create", "written"), 1);
    assert_eq!(calls("load", "found"), 3);
    assert_eq!(calls("save", "written"), 2);
    assert_eq!(calls("delete", "deleted"), 1);
    assert_eq!(calls("load", "error"), 1);
    assert_eq!(
        counter(
            &snapshot,
            "session_store_errors_total",
            &[("op", "load"), ("kind", "unavailable")]
        ),
        1
    );
    assert_eq!(
        histogram_samples(&snapshot, "session_store_duration_seconds", "load"),
        4
    );
}
