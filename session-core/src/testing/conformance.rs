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

use crate::{Created, Lifetimes, Loaded, Record, Saved, SessionId, Store, Version, Write};

/// Expiry used by the expiry checks; stores with one-second resolution (Redis `EX`) round up.
const SHORT: Duration = Duration::from_millis(2_000);
/// How long the expiry checks wait for `SHORT` to pass.
const PAST_SHORT: Duration = Duration::from_millis(3_300);

fn hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

fn soon() -> SystemTime {
    SystemTime::now() + SHORT
}

fn fresh_id() -> SessionId {
    SessionId::random().expect("OS RNG")
}

/// A user name no other run or check uses.
fn fresh_user() -> String {
    format!("user-{}", fresh_id().as_str())
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

/// Creates `record` under `id` until `expires_at`, or panics; returns its version.
async fn create(
    store: &impl Store,
    id: &SessionId,
    record: &Record,
    expires_at: SystemTime,
) -> Version {
    create_owned(store, id, record, expires_at, None).await
}

async fn create_owned(
    store: &impl Store,
    id: &SessionId,
    record: &Record,
    expires_at: SystemTime,
    owner: Option<&str>,
) -> Version {
    let write = Write::new(record, expires_at).owned_by(owner);
    match store.create(id, write).await.expect("create") {
        Created::Written(version) => version,
        Created::IdTaken => panic!("a fresh id was taken"),
    }
}

async fn load(store: &impl Store, id: &SessionId) -> Loaded {
    store.load(id).await.expect("load").expect("record present")
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
    a_save_over_the_loaded_version_replaces_the_record(&make_store().await).await;
    a_save_over_an_old_version_reports_the_current_record(&make_store().await).await;
    a_deleted_record_is_never_written_back(&make_store().await).await;
    delete_removes_and_tolerates_missing(&make_store().await).await;
    touch_leaves_a_missing_record_missing(&make_store().await).await;
    sessions_of_lists_each_users_live_sessions(&make_store().await).await;
    concurrent_creates_of_one_id_admit_exactly_one(Arc::new(make_store().await)).await;
    concurrent_saves_over_one_version_admit_exactly_one(Arc::new(make_store().await)).await;
    let timed = (
        make_store().await,
        make_store().await,
        make_store().await,
        make_store().await,
        make_store().await,
        make_store().await,
        make_store().await,
    );
    tokio::join!(
        expired_record_is_never_returned(&timed.0),
        touch_extends_life_without_rewriting_data(&timed.1),
        an_expired_id_can_be_created_again(&timed.2),
        load_and_touch_says_truly_whether_it_touched(&timed.3),
        an_expired_record_is_never_written_back(&timed.4),
        a_users_listing_follows_expiry_and_touches(&timed.5),
        a_save_moves_the_records_expiry(&timed.6),
    );
}

/// `load` of an id never written is `None`.
pub async fn missing_record_loads_as_none(store: &impl Store) {
    assert_eq!(store.load(&fresh_id()).await.expect("load"), None);
}

/// A created record loads back equal, keys, nested values and creation time verbatim, with
/// the version the create returned; loading again gives the same version.
pub async fn create_then_load_round_trips_verbatim(store: &impl Store) {
    let id = fresh_id();
    let mut written = record(json!({
        "user": "alice", "count": 3, "passport": {"user": {"id": 7, "roles": ["a", "b"]}},
        "flash": {}, "unicode": "żółw ✓", "nothing": null, "float": 1.5
    }));
    written.created_at = Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
    let version = create(store, &id, &written, hour()).await;
    let read = load(store, &id).await;
    assert_eq!(read.record.data, written.data);
    assert_eq!(read.record.created_at, written.created_at);
    assert_eq!(
        read.record.cookie.original_max_age,
        written.cookie.original_max_age
    );
    assert_eq!(read.version, version, "load gives the version create wrote");
    assert_eq!(
        load(store, &id).await.version,
        version,
        "versions are stable"
    );
    store.delete(&id).await.expect("delete");
}

/// `create` under a live id writes nothing and says so.
pub async fn create_refuses_a_taken_id(store: &impl Store) {
    let id = fresh_id();
    create(store, &id, &record(json!({"who": "first"})), hour()).await;
    let second = record(json!({"who": "second"}));
    assert_eq!(
        store
            .create(&id, Write::new(&second, hour()))
            .await
            .expect("create"),
        Created::IdTaken
    );
    assert_eq!(load(store, &id).await.record.data["who"], "first");
    store.delete(&id).await.expect("delete");
}

/// A save over the version that was loaded replaces the whole record and gives a new version.
pub async fn a_save_over_the_loaded_version_replaces_the_record(store: &impl Store) {
    let id = fresh_id();
    create(store, &id, &record(json!({"a": 1, "b": 2})), hour()).await;
    let loaded = load(store, &id).await;
    let replacement = record(json!({"a": 9}));
    let saved = store
        .save(&id, Write::new(&replacement, hour()), &loaded.version)
        .await
        .expect("save");
    let Saved::Written(version) = saved else {
        panic!("a save over the loaded version must be written: {saved:?}");
    };
    assert_ne!(version, loaded.version, "a write makes a new version");
    let read = load(store, &id).await;
    let expected: Map<String, Value> = [("a".to_owned(), json!(9))].into_iter().collect();
    assert_eq!(read.record.data, expected);
    assert_eq!(read.version, version);
    store.delete(&id).await.expect("delete");
}

/// Two requests load one version; the first save wins, the second is not written and gets
/// the record as the first left it, with its version, to merge into.
pub async fn a_save_over_an_old_version_reports_the_current_record(store: &impl Store) {
    let id = fresh_id();
    let base = create(store, &id, &record(json!({"n": 0})), hour()).await;
    let first = record(json!({"n": 1, "first": true}));
    let Saved::Written(after_first) = store
        .save(&id, Write::new(&first, hour()), &base)
        .await
        .expect("save")
    else {
        panic!("the first save must be written");
    };
    let second = record(json!({"n": 1, "second": true}));
    match store
        .save(&id, Write::new(&second, hour()), &base)
        .await
        .expect("save")
    {
        Saved::Changed(current) => {
            assert_eq!(current.record.data, first.data, "the current record");
            assert_eq!(current.version, after_first, "with its version");
        }
        other => panic!("a save over an old version must not be written: {other:?}"),
    }
    assert_eq!(
        load(store, &id).await.record.data,
        first.data,
        "nothing was overwritten"
    );
    store.delete(&id).await.expect("delete");
}

/// A request that loaded a session before another deleted it (a logout) cannot write it
/// back, not even once the id is taken again.
pub async fn a_deleted_record_is_never_written_back(store: &impl Store) {
    let id = fresh_id();
    let version = create(store, &id, &record(json!({"user": "ann"})), hour()).await;
    store.delete(&id).await.expect("delete");
    let stale = record(json!({"user": "ann", "n": 1}));
    let saved = store
        .save(&id, Write::new(&stale, hour()), &version)
        .await
        .expect("save");
    assert_eq!(saved, Saved::Gone, "a deleted session was written back");
    assert_eq!(store.load(&id).await.expect("load"), None);

    let again = record(json!({"fresh": true}));
    create(store, &id, &again, hour()).await;
    let saved = store
        .save(&id, Write::new(&stale, hour()), &version)
        .await
        .expect("save");
    assert!(
        matches!(saved, Saved::Changed(_)),
        "a save over a deleted version replaced a new record: {saved:?}"
    );
    assert_eq!(load(store, &id).await.record.data, again.data);
    store.delete(&id).await.expect("delete");
}

/// `delete` removes a record, and deleting a missing one is fine.
pub async fn delete_removes_and_tolerates_missing(store: &impl Store) {
    let id = fresh_id();
    create(store, &id, &record(json!({"a": 1})), hour()).await;
    store.delete(&id).await.expect("delete");
    assert_eq!(store.load(&id).await.expect("load"), None);
    store.delete(&id).await.expect("deleting a missing record");
}

/// `touch` does not resurrect or invent a record, and says there was none.
pub async fn touch_leaves_a_missing_record_missing(store: &impl Store) {
    let id = fresh_id();
    let touched = store
        .touch(&id, hour(), Some("nobody"))
        .await
        .expect("touch");
    assert!(!touched, "touch claimed a record that does not exist");
    assert_eq!(store.load(&id).await.expect("load"), None);
}

/// The sessions `owner`'s listing names, by the `who` each record holds: a store may list
/// sessions under keys of its own, which its other calls accept.
async fn listed_whos(store: &impl Store, owner: &str) -> Vec<String> {
    let mut whos = Vec::new();
    for id in store.sessions_of(owner).await.expect("sessions_of") {
        if let Some(loaded) = store.load(&id).await.expect("load a listed session") {
            whos.push(loaded.record.data["who"].as_str().unwrap_or("?").to_owned());
        }
    }
    whos.sort();
    whos
}

/// Sessions written with an owner are listed under it, and only under it.
pub async fn sessions_of_lists_each_users_live_sessions(store: &impl Store) {
    let (ann, bob) = (fresh_user(), fresh_user());
    let ids: Vec<SessionId> = (0..4).map(|_| fresh_id()).collect();
    let who = |name: &str| record(json!({ "who": name }));
    create_owned(store, &ids[0], &who("a1"), hour(), Some(&ann)).await;
    let v2 = create_owned(store, &ids[1], &who("a2"), hour(), None).await;
    create_owned(store, &ids[2], &who("b1"), hour(), Some(&bob)).await;
    create_owned(store, &ids[3], &who("anonymous"), hour(), None).await;
    // a2 becomes ann's at a later save (a login without a new id).
    let saved = store
        .save(
            &ids[1],
            Write::new(&who("a2"), hour()).owned_by(Some(&ann)),
            &v2,
        )
        .await
        .expect("save");
    assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
    assert_eq!(listed_whos(store, &ann).await, ["a1", "a2"]);
    assert_eq!(listed_whos(store, &bob).await, ["b1"]);
    assert!(store
        .sessions_of(&fresh_user())
        .await
        .expect("sessions_of")
        .is_empty());
    // A listed key deletes its session.
    for id in store.sessions_of(&bob).await.expect("sessions_of") {
        store.delete(&id).await.expect("delete");
    }
    assert_eq!(store.load(&ids[2]).await.expect("load"), None);
    for id in &ids {
        store.delete(id).await.expect("delete");
    }
}

/// Many concurrent `create`s of one id: exactly one wins.
pub async fn concurrent_creates_of_one_id_admit_exactly_one<S: Store>(store: Arc<S>) {
    let id = fresh_id();
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let record = record(json!({ "n": n }));
                store
                    .create(&id, Write::new(&record, hour()))
                    .await
                    .expect("create")
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if matches!(task.await.expect("task"), Created::Written(_)) {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one concurrent create must win");
    store.delete(&id).await.expect("delete");
}

/// Many concurrent saves over the same loaded version, each of different bytes: exactly one
/// is written, every other one sees the winner's record.
pub async fn concurrent_saves_over_one_version_admit_exactly_one<S: Store>(store: Arc<S>) {
    let id = fresh_id();
    let base = create(&*store, &id, &record(json!({"n": 0})), hour()).await;
    let tasks: Vec<_> = (1..=32)
        .map(|n| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let record = record(json!({ "n": n }));
                store
                    .save(&id, Write::new(&record, hour()), &base)
                    .await
                    .expect("save")
            })
        })
        .collect();
    let (mut written, mut changed) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            Saved::Written(_) => written += 1,
            Saved::Changed(_) => changed += 1,
            Saved::Gone => panic!("a live record was reported gone"),
        }
    }
    assert_eq!(
        (written, changed),
        (1, 31),
        "exactly one save over one version"
    );
    store.delete(&id).await.expect("delete");
}

/// A record is gone once its expiry has passed.
pub async fn expired_record_is_never_returned(store: &impl Store) {
    let id = fresh_id();
    create(store, &id, &record(json!({"a": 1})), soon()).await;
    assert!(store.load(&id).await.expect("load").is_some());
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        store.load(&id).await.expect("load"),
        None,
        "expired record returned"
    );
}

/// A request that loaded a session before it expired cannot write it back after.
pub async fn an_expired_record_is_never_written_back(store: &impl Store) {
    let id = fresh_id();
    let version = create(store, &id, &record(json!({"a": 1})), soon()).await;
    tokio::time::sleep(PAST_SHORT).await;
    let late = record(json!({"a": 2}));
    let saved = store
        .save(&id, Write::new(&late, hour()), &version)
        .await
        .expect("save");
    assert_eq!(saved, Saved::Gone, "an expired session was written back");
    assert_eq!(store.load(&id).await.expect("load"), None);
}

/// A save sets the record's expiry anew: a record saved with a longer life outlives its old
/// expiry, with the saved data.
pub async fn a_save_moves_the_records_expiry(store: &impl Store) {
    let id = fresh_id();
    let version = create(store, &id, &record(json!({"n": 0})), soon()).await;
    let saved = store
        .save(&id, Write::new(&record(json!({"n": 1})), hour()), &version)
        .await
        .expect("save");
    assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
    tokio::time::sleep(PAST_SHORT).await;
    let read = store
        .load(&id)
        .await
        .expect("load")
        .expect("a record saved with a longer life expired at its old expiry");
    assert_eq!(read.record.data["n"], 1);
    store.delete(&id).await.expect("delete");
}

/// `touch` moves the expiry and keeps the data and the version.
pub async fn touch_extends_life_without_rewriting_data(store: &impl Store) {
    let id = fresh_id();
    let version = create(store, &id, &record(json!({"kept": true})), soon()).await;
    assert!(
        store.touch(&id, hour(), None).await.expect("touch"),
        "the record exists"
    );
    tokio::time::sleep(PAST_SHORT).await;
    let read = store
        .load(&id)
        .await
        .expect("load")
        .expect("touched record expired");
    assert_eq!(read.record.data["kept"], true);
    assert_eq!(read.version, version, "a touch is not a write");
    store.delete(&id).await.expect("delete");
}

/// Once a record expired, its id is free for `create`.
pub async fn an_expired_id_can_be_created_again(store: &impl Store) {
    let id = fresh_id();
    create(store, &id, &record(json!({"old": 1})), soon()).await;
    tokio::time::sleep(PAST_SHORT).await;
    create(store, &id, &record(json!({"new": 1})), hour()).await;
    store.delete(&id).await.expect("delete");
}

/// A user's listing drops sessions as they expire, and keeps a session whose touch (with the
/// owner) moved its expiry.
pub async fn a_users_listing_follows_expiry_and_touches(store: &impl Store) {
    let user = fresh_user();
    let (expiring, touched) = (fresh_id(), fresh_id());
    create_owned(
        store,
        &expiring,
        &record(json!({"who": "expiring"})),
        soon(),
        Some(&user),
    )
    .await;
    create_owned(
        store,
        &touched,
        &record(json!({"who": "touched"})),
        soon(),
        Some(&user),
    )
    .await;
    assert!(store
        .touch(&touched, hour(), Some(&user))
        .await
        .expect("touch"));
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        store.sessions_of(&user).await.expect("sessions_of").len(),
        1,
        "the expired session is still listed"
    );
    assert_eq!(listed_whos(store, &user).await, ["touched"]);
    store.delete(&touched).await.expect("delete");
}

/// `load_and_touch` returns what `load` would, and a store that says it touched (or needs no
/// touch) really left the expiry at the record's own lifetime: the usual one, or another the
/// record carries (which must not get the usual lifetime instead).
pub async fn load_and_touch_says_truly_whether_it_touched(store: &impl Store) {
    let lifetimes = Lifetimes::new(Some(Duration::from_secs(3600)), Duration::from_secs(86_400));
    let (usual, short) = (fresh_id(), fresh_id());
    let written = record(json!({"kept": true}));
    let mut short_lived = record(json!({"short": true}));
    short_lived.cookie.original_max_age = Some(u64::try_from(SHORT.as_millis()).expect("ms"));
    let mut usual_touched = false;
    for (id, record) in [(&usual, &written), (&short, &short_lived)] {
        let version = create(store, id, record, soon()).await;
        let loaded = store
            .load_and_touch(id, lifetimes)
            .await
            .expect("load_and_touch")
            .expect("record present");
        assert_eq!(loaded.record.data, record.data);
        assert_eq!(loaded.version, version);
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
