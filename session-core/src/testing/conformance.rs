//! The store conformance suite: what every [`Store`] must do, run against the memory store
//! and every other store of the workspace. Each check panics with a message on failure.
//!
//! ```no_run
//! # async fn demo() {
//! use session_core::{testing::conformance, MemoryStore};
//! conformance::run_all(|| async { MemoryStore::new() }).await;
//! # }
//! ```

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, SystemTime},
};

use serde_json::{json, Map, Value};

use crate::{Created, Lifetimes, Record, SessionId, Store};

/// Expiry used by the expiry checks; stores with one-second resolution (Redis `EX`) round up.
const SHORT: Duration = Duration::from_millis(2_000);
/// How long the expiry checks wait for `SHORT` to pass.
const PAST_SHORT: Duration = Duration::from_millis(3_300);

fn hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

fn fresh_id() -> SessionId {
    SessionId::random().expect("OS RNG")
}

fn record(value: Value) -> Record {
    let Value::Object(data) = value else {
        panic!("record data must be an object")
    };
    let mut record = Record::new(data);
    record.cookie.original_max_age = Some(3_600_000);
    record.cookie.expires = Some(hour());
    record
}

/// Runs every check, each on a store made by `make_store`.
pub async fn run_all<S, F, Fut>(make_store: F)
where
    S: Store,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    missing_record_loads_as_none(&make_store().await).await;
    create_then_load_round_trips_verbatim(&make_store().await).await;
    create_refuses_a_taken_id(&make_store().await).await;
    save_replaces_the_record(&make_store().await).await;
    delete_removes_and_tolerates_missing(&make_store().await).await;
    touch_leaves_a_missing_record_missing(&make_store().await).await;
    concurrent_creates_of_one_id_admit_exactly_one(Arc::new(make_store().await)).await;
    let (a, b, c, d) = (
        make_store().await,
        make_store().await,
        make_store().await,
        make_store().await,
    );
    tokio::join!(
        expired_record_is_never_returned(&a),
        touch_extends_life_without_rewriting_data(&b),
        an_expired_id_can_be_created_again(&c),
        load_and_touch_says_truly_whether_it_touched(&d),
    );
}

/// `load` of an id never written is `None`.
pub async fn missing_record_loads_as_none(store: &impl Store) {
    assert_eq!(store.load(&fresh_id()).await.expect("load"), None);
}

/// A created record loads back equal, keys and nested values verbatim.
pub async fn create_then_load_round_trips_verbatim(store: &impl Store) {
    let id = fresh_id();
    let written = record(json!({
        "user": "alice", "count": 3, "passport": {"user": {"id": 7, "roles": ["a", "b"]}},
        "flash": {}, "unicode": "żółw ✓", "nothing": null, "float": 1.5
    }));
    assert_eq!(
        store.create(&id, &written, hour()).await.expect("create"),
        Created::Created
    );
    let read = store
        .load(&id)
        .await
        .expect("load")
        .expect("record present");
    assert_eq!(read.data, written.data);
    assert_eq!(
        read.cookie.original_max_age,
        written.cookie.original_max_age
    );
    store.delete(&id).await.expect("delete");
}

/// `create` under a live id writes nothing and says so.
pub async fn create_refuses_a_taken_id(store: &impl Store) {
    let id = fresh_id();
    let first = record(json!({"who": "first"}));
    assert_eq!(
        store.create(&id, &first, hour()).await.expect("create"),
        Created::Created
    );
    let second = record(json!({"who": "second"}));
    assert_eq!(
        store.create(&id, &second, hour()).await.expect("create"),
        Created::IdTaken
    );
    let read = store.load(&id).await.expect("load").expect("present");
    assert_eq!(read.data["who"], "first");
    store.delete(&id).await.expect("delete");
}

/// `save` replaces the whole record.
pub async fn save_replaces_the_record(store: &impl Store) {
    let id = fresh_id();
    store
        .save(&id, &record(json!({"a": 1, "b": 2})), hour())
        .await
        .expect("save");
    store
        .save(&id, &record(json!({"a": 9})), hour())
        .await
        .expect("save");
    let read = store.load(&id).await.expect("load").expect("present");
    let expected: Map<String, Value> = [("a".to_owned(), json!(9))].into_iter().collect();
    assert_eq!(read.data, expected);
    store.delete(&id).await.expect("delete");
}

/// `delete` removes a record, and deleting a missing one is fine.
pub async fn delete_removes_and_tolerates_missing(store: &impl Store) {
    let id = fresh_id();
    store
        .save(&id, &record(json!({"a": 1})), hour())
        .await
        .expect("save");
    store.delete(&id).await.expect("delete");
    assert_eq!(store.load(&id).await.expect("load"), None);
    store.delete(&id).await.expect("deleting a missing record");
}

/// `touch` does not resurrect or invent a record.
pub async fn touch_leaves_a_missing_record_missing(store: &impl Store) {
    let id = fresh_id();
    store.touch(&id, hour()).await.expect("touch");
    assert_eq!(store.load(&id).await.expect("load"), None);
}

/// Many concurrent `create`s of one id: exactly one wins.
pub async fn concurrent_creates_of_one_id_admit_exactly_one<S: Store>(store: Arc<S>) {
    let id = fresh_id();
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                store
                    .create(&id, &record(json!({ "n": n })), hour())
                    .await
                    .expect("create")
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("task") == Created::Created {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one concurrent create must win");
    store.delete(&id).await.expect("delete");
}

/// A record is gone once its expiry has passed.
pub async fn expired_record_is_never_returned(store: &impl Store) {
    let id = fresh_id();
    store
        .save(&id, &record(json!({"a": 1})), SystemTime::now() + SHORT)
        .await
        .expect("save");
    assert!(store.load(&id).await.expect("load").is_some());
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        store.load(&id).await.expect("load"),
        None,
        "expired record returned"
    );
}

/// `touch` moves the expiry and keeps the data.
pub async fn touch_extends_life_without_rewriting_data(store: &impl Store) {
    let id = fresh_id();
    store
        .save(
            &id,
            &record(json!({"kept": true})),
            SystemTime::now() + SHORT,
        )
        .await
        .expect("save");
    store.touch(&id, hour()).await.expect("touch");
    tokio::time::sleep(PAST_SHORT).await;
    let read = store
        .load(&id)
        .await
        .expect("load")
        .expect("touched record expired");
    assert_eq!(read.data["kept"], true);
    store.delete(&id).await.expect("delete");
}

/// Once a record expired, its id is free for `create`.
pub async fn an_expired_id_can_be_created_again(store: &impl Store) {
    let id = fresh_id();
    store
        .save(&id, &record(json!({"old": 1})), SystemTime::now() + SHORT)
        .await
        .expect("save");
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        store
            .create(&id, &record(json!({"new": 1})), hour())
            .await
            .expect("create"),
        Created::Created
    );
    store.delete(&id).await.expect("delete");
}

/// `load_and_touch` returns what `load` would, and a store that says it touched really moved
/// the expiry to the record's own lifetime: the usual one, or another the record carries
/// (which must not get the usual lifetime instead).
pub async fn load_and_touch_says_truly_whether_it_touched(store: &impl Store) {
    let lifetimes = Lifetimes::new(Some(Duration::from_secs(3600)), Duration::from_secs(86_400));
    let (usual, short) = (fresh_id(), fresh_id());
    let written = record(json!({"kept": true}));
    let mut short_lived = record(json!({"short": true}));
    short_lived.cookie.original_max_age = Some(u64::try_from(SHORT.as_millis()).expect("ms"));
    let mut usual_touched = false;
    for (id, record) in [(&usual, &written), (&short, &short_lived)] {
        store
            .save(id, record, SystemTime::now() + SHORT)
            .await
            .expect("save");
        let loaded = store
            .load_and_touch(id, lifetimes)
            .await
            .expect("load_and_touch")
            .expect("record present");
        assert_eq!(loaded.record.data, record.data);
        usual_touched |= id == &usual && loaded.touched;
    }
    tokio::time::sleep(PAST_SHORT).await;
    if usual_touched {
        assert!(
            store.load(&usual).await.expect("load").is_some(),
            "claimed a touch it did not do"
        );
    }
    assert_eq!(
        store.load(&short).await.expect("load"),
        None,
        "a record with its own short lifetime outlived it"
    );
    let missing = store.load_and_touch(&fresh_id(), lifetimes).await;
    assert_eq!(missing.expect("load_and_touch"), None);
    store.delete(&usual).await.expect("delete");
}
