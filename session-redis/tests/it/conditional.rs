//! Conditional saves against a writer that knows nothing of versions (an Express app writing
//! connect-redis JSON with a plain `SET`), and what a save sends: one `EVALSHA` in one round
//! trip, with the user's index entry in that same round trip, and `EVAL` once Redis has
//! forgotten the script.

use std::time::Duration;

use fred::prelude::{Client, KeysInterface};
use serde_json::json;
use session_core::{Lifetimes, Record, Saved, SessionId, Store, StoreError, Write};
use session_redis::RedisStore;

use crate::support::{
    admin, clean, create, express_set, in_an_hour, new_id, record, shared_url, store,
    unique_prefix, version_of, wait_until_recovered, PrivateRedis, SlowLink,
};

/// Byte for byte what express-session + connect-redis write after a request that changed
/// the session (here: a flash message).
const EXPRESS_JSON: &str = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2099-11-14T23:13:20.000Z","httpOnly":true,"path":"/"},"count":1,"flash":{"info":["saved by express"]},"user":"alice"}"#;

async fn raw(client: &Client, key: &str) -> Option<String> {
    client.get(key).await.expect("GET")
}

/// Express writes the session between our load and our save: the save reports the record
/// Express wrote (with the version of its bytes) and writes nothing; a save over that version
/// then goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_write_between_load_and_save_is_reported_never_overwritten() {
    let test = "an_express_write_between_load_and_save_is_reported_never_overwritten";
    let Some(url) = shared_url(test) else {
        return;
    };
    let prefix = unique_prefix("express-write");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let id = new_id();
    let key = store.key(&id);
    create(
        &store,
        &id,
        &record(json!({"user": "alice", "count": 1})),
        in_an_hour(),
        None,
    )
    .await;
    let loaded = store.load(&id).await.expect("load").expect("present");

    express_set(&client, &key, EXPRESS_JSON).await;

    let mut ours = loaded.record.clone();
    ours.data.insert("count".into(), json!(2));
    let saved = store
        .save(&id, Write::new(&ours, in_an_hour()), &loaded.version)
        .await
        .expect("save");
    let Saved::Changed(current) = saved else {
        panic!("a save over a record Express rewrote must not be written: {saved:?}");
    };
    assert_eq!(
        current.record,
        Record::from_json(EXPRESS_JSON).expect("json")
    );
    assert_eq!(current.version, version_of(EXPRESS_JSON.as_bytes()));
    assert_eq!(
        raw(&client, &key).await.as_deref(),
        Some(EXPRESS_JSON),
        "Express's write was overwritten"
    );

    // Merged into what Express wrote, the save goes through, as plain connect-redis JSON.
    let mut merged = current.record.clone();
    merged.data.insert("count".into(), json!(2));
    let saved = store
        .save(&id, Write::new(&merged, in_an_hour()), &current.version)
        .await
        .expect("save");
    let stored = raw(&client, &key).await.expect("present");
    assert_eq!(stored, merged.to_json().expect("json"), "no version inside");
    assert_eq!(saved, Saved::Written(version_of(stored.as_bytes())));
    clean(&url, &prefix).await;
}

/// Express destroys the session (`DEL`) between our load and our save: the save reports it
/// gone and does not bring it back. A value that is not a session is a typed error, and stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_delete_or_garbage_between_load_and_save_is_never_overwritten() {
    let test = "an_express_delete_or_garbage_between_load_and_save_is_never_overwritten";
    let Some(url) = shared_url(test) else {
        return;
    };
    let prefix = unique_prefix("express-delete");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let id = new_id();
    let key = store.key(&id);
    let data = record(json!({"user": "alice"}));
    let version = create(&store, &id, &data, in_an_hour(), None).await;

    let _: i64 = client.del(&key).await.expect("DEL");
    let saved = store
        .save(&id, Write::new(&data, in_an_hour()), &version)
        .await
        .expect("save");
    assert_eq!(saved, Saved::Gone);
    assert_eq!(
        raw(&client, &key).await,
        None,
        "a destroyed session came back"
    );

    express_set(&client, &key, "not a session").await;
    let error = store
        .save(&id, Write::new(&data, in_an_hour()), &version)
        .await
        .expect_err("the current value is not a session");
    assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    assert_eq!(raw(&client, &key).await.as_deref(), Some("not a session"));
    clean(&url, &prefix).await;
}

/// The round trip a store call costs, through a link that delays every reply by `DELAY`.
const DELAY: Duration = Duration::from_millis(250);

/// A save is one `EVALSHA` in one round trip; naming a user adds the index `EVAL` to that
/// same round trip. Create, touch, load-and-touch and a listing are one round trip each too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_one_round_trip_and_a_save_one_evalsha() {
    let Some(redis) = PrivateRedis::start("every_call_is_one_round_trip_and_a_save_one_evalsha")
    else {
        return;
    };
    let link = SlowLink::start(redis.port, DELAY).await;
    let store = store(&link.url(), "sess:");
    wait_until_recovered(&store, Duration::from_secs(10)).await;
    let (id, user) = (new_id(), "ann");
    let data = record(json!({"n": 1}));
    let write = || Write::new(&data, in_an_hour());
    let owned = || write().owned_by(Some(user));

    let (created, trips) = link.round_trips(store.create(&id, owned())).await;
    assert_eq!(trips, 1, "create with an owner");
    let session_core::Created::Written(version) = created.expect("create") else {
        panic!("a fresh id was taken");
    };
    // A fresh server does not have the script yet: EVALSHA, NOSCRIPT, EVAL.
    let (saved, trips) = link.round_trips(store.save(&id, write(), &version)).await;
    assert_eq!(saved.expect("save"), Saved::Written(version));
    assert_eq!(
        trips, 2,
        "the first save on a fresh server sends the script"
    );

    redis.command(&["CONFIG", "RESETSTAT"]);
    let (saved, trips) = link.round_trips(store.save(&id, write(), &version)).await;
    assert_eq!(saved.expect("save"), Saved::Written(version));
    assert_eq!(trips, 1, "a save");
    assert_eq!((redis.calls("evalsha"), redis.calls("eval")), (1, 0));

    redis.command(&["CONFIG", "RESETSTAT"]);
    let (saved, trips) = link.round_trips(store.save(&id, owned(), &version)).await;
    assert_eq!(saved.expect("save"), Saved::Written(version));
    assert_eq!(trips, 1, "a save with an owner");
    assert_eq!((redis.calls("evalsha"), redis.calls("eval")), (1, 1));
    assert_eq!(redis.calls("zadd"), 1, "the index entry");

    let (touched, trips) = link
        .round_trips(store.touch(&id, in_an_hour(), Some(user)))
        .await;
    assert!(touched.expect("touch"));
    assert_eq!(trips, 1, "a touch with an owner");
    let lifetimes = Lifetimes::new(None, Duration::from_secs(3600));
    let (loaded, trips) = link.round_trips(store.load_and_touch(&id, lifetimes)).await;
    assert_eq!(loaded.expect("load").expect("present").version, version);
    assert_eq!(trips, 1, "a load and touch");
    let (listed, trips) = link.round_trips(store.sessions_of(user)).await;
    assert_eq!(listed.expect("listing"), std::slice::from_ref(&id));
    assert_eq!(trips, 1, "a listing");
}

/// After `SCRIPT FLUSH` (or a restart with persistence), a save meets `NOSCRIPT` and sends the
/// script with `EVAL`, which caches it again: the next save is one `EVALSHA`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_after_script_flush_sends_the_script_again() {
    let Some(redis) = PrivateRedis::start("a_save_after_script_flush_sends_the_script_again")
    else {
        return;
    };
    let store = store(&redis.url(), "sess:");
    let (id, other) = (new_id(), new_id());
    let data = record(json!({"n": 1}));
    let version = create(&store, &id, &data, in_an_hour(), None).await;
    let other_version = create(&store, &other, &data, in_an_hour(), None).await;
    let save = |id: &SessionId, owner, version| {
        let write = Write::new(&data, in_an_hour()).owned_by(owner);
        let (store, id) = (store.clone(), id.clone());
        async move { store.save(&id, write, &version).await.expect("save") }
    };
    assert_eq!(save(&id, None, version).await, Saved::Written(version));

    for (id, owner, version) in [(&id, None, version), (&other, Some("ann"), other_version)] {
        assert!(redis.command(&["SCRIPT", "FLUSH"]).starts_with("+OK"));
        redis.command(&["CONFIG", "RESETSTAT"]);
        assert_eq!(save(id, owner, version).await, Saved::Written(version));
        assert_eq!(
            redis.calls("eval"),
            1 + u64::from(owner.is_some()),
            "{owner:?}"
        );
        assert_eq!(redis.calls("evalsha"), 1, "the refused EVALSHA");
        assert_eq!(save(id, owner, version).await, Saved::Written(version));
        assert_eq!(redis.calls("evalsha"), 2, "cached again by the EVAL");
    }
    let listed = store.sessions_of("ann").await.expect("listing");
    assert_eq!(listed, std::slice::from_ref(&other));
}

/// The store and its scripts on Redis Cluster (here a cluster of one node that holds every
/// slot, which still refuses any command or script whose keys span slots): every script
/// declares its one key, and a write that names a user sends its index entry (another slot)
/// as a command of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_on_redis_cluster() {
    let Some(redis) = PrivateRedis::start_cluster("the_conformance_suite_passes_on_redis_cluster")
    else {
        return;
    };
    let url = format!("redis-cluster://127.0.0.1:{}", redis.port);
    let make = || {
        let url = url.clone();
        async move {
            let store: RedisStore = store(&url, "sess:");
            wait_until_recovered(&store, Duration::from_secs(10)).await;
            store
        }
    };
    let store = make().await;
    let (id, data) = (new_id(), record(json!({"n": 1})));
    let owned = Write::new(&data, in_an_hour()).owned_by(Some("ann"));
    let version = match store.create(&id, owned).await.expect("create") {
        session_core::Created::Written(version) => version,
        session_core::Created::IdTaken => panic!("a fresh id was taken"),
    };
    assert_eq!(
        store.save(&id, owned, &version).await.expect("save"),
        Saved::Written(version)
    );
    assert_eq!(store.sessions_of("ann").await.expect("listing"), [id]);
    session_core::testing::conformance::run_all(make).await;
}
