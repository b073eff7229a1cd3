//! The near cache against a real Redis: the conformance suite with it on, the round trips it
//! saves, and the writes of another client (an Express app, another process) reaching it
//! through client tracking without ever being overwritten.

use std::time::Duration;

use serde_json::json;
use session_core::{testing::conformance, Lifetimes, Loaded, Saved, SessionId, Store, Write};
use session_redis::RedisStore;

use crate::support::{
    admin, clean, create, express_set, in_an_hour, near_store, new_id, record, shared_url,
    unique_prefix, wait_until_recovered, PrivateRedis, SlowLink,
};

fn lifetimes() -> Lifetimes {
    Lifetimes::new(Some(Duration::from_secs(3600)), Duration::from_secs(3600))
}

async fn load(store: &RedisStore, id: &SessionId) -> Option<Loaded> {
    store.load_and_touch(id, lifetimes()).await.expect("load")
}

/// Loads `id` until the near cache holds it: tracking is turned on just after the store
/// connects, and nothing is cached before Redis confirms it.
async fn until_cached(store: &RedisStore, id: &SessionId) {
    for _ in 0..500 {
        load(store, id).await.expect("the session exists");
        if store.near_cache_len() > Some(0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the near cache never took the session");
}

/// Loads `id` until `seen` holds for what the load returns, for at most 5 s.
async fn until_seen(store: &RedisStore, id: &SessionId, seen: impl Fn(Option<&Loaded>) -> bool) {
    for _ in 0..500 {
        if seen(load(store, id).await.as_ref()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the other client's write never reached the near cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_with_the_near_cache_on() {
    let Some(url) = shared_url("the_conformance_suite_passes_with_the_near_cache_on") else {
        return;
    };
    let prefix = unique_prefix("near-conformance");
    conformance::run_all(|| {
        let (url, prefix) = (url.clone(), prefix.clone());
        async move { near_store(&url, &prefix) }
    })
    .await;
    clean(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_load_costs_no_round_trip_and_a_counting_request_one() {
    let test = "a_cached_load_costs_no_round_trip_and_a_counting_request_one";
    let Some(redis) = PrivateRedis::start(test) else {
        return;
    };
    let link = SlowLink::start(redis.port, Duration::from_millis(40)).await;
    let store = near_store(&link.url(), "sess:");
    wait_until_recovered(&store, Duration::from_secs(10)).await;
    let id = new_id();
    let data = record(json!({"n": 1}));
    create(&store, &id, &data, in_an_hour(), None).await;
    until_cached(&store, &id).await;

    redis.command(&["CONFIG", "RESETSTAT"]);
    let (loaded, trips) = link.round_trips(load(&store, &id)).await;
    let loaded = loaded.expect("cached");
    assert_eq!((trips, redis.calls("get")), (0, 0), "a cached load");
    assert!(loaded.touched, "a fresh TTL needs no touch");
    assert_eq!(loaded.record.data["n"], 1);

    // The first save on a fresh server also sends the script (NOSCRIPT, EVAL).
    let once = record(json!({"n": 1, "saved": true}));
    let saved = store.save(&id, Write::new(&once, in_an_hour()), &loaded.version);
    let Saved::Written(version) = saved.await.expect("save") else {
        panic!("nothing else wrote the session");
    };
    let (loaded, trips) = link.round_trips(load(&store, &id)).await;
    assert_eq!((trips, loaded.expect("cached").version), (0, version));

    let counted = record(json!({"n": 2}));
    let save = store.save(&id, Write::new(&counted, in_an_hour()), &version);
    let (saved, trips) = link.round_trips(save).await;
    let Saved::Written(version) = saved.expect("save") else {
        panic!("nothing else wrote the session");
    };
    assert_eq!(trips, 1, "the save");
    redis.command(&["CONFIG", "RESETSTAT"]);
    let (loaded, trips) = link.round_trips(load(&store, &id)).await;
    let loaded = loaded.expect("cached");
    assert_eq!(
        (trips, loaded.version),
        (0, version),
        "the saved record is cached"
    );
    assert_eq!(loaded.record.data["n"], 2);
    assert_eq!((redis.calls("get"), redis.calls("pttl")), (0, 0));

    // A touch leaves the TTL to be read again, once.
    assert!(store.touch(&id, in_an_hour(), None).await.expect("touch"));
    let (_, trips) = link.round_trips(load(&store, &id)).await;
    assert_eq!(trips, 1, "the load after a touch");
    let (_, trips) = link.round_trips(load(&store, &id)).await;
    assert_eq!(trips, 0, "and cached again");

    store.delete(&id).await.expect("delete");
    let (gone, trips) = link.round_trips(load(&store, &id)).await;
    assert!(
        gone.is_none() && trips == 1,
        "a deleted session is not cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_writes_reach_the_near_cache_and_are_never_overwritten() {
    let test = "another_clients_writes_reach_the_near_cache_and_are_never_overwritten";
    let Some(url) = shared_url(test) else {
        return;
    };
    let prefix = unique_prefix("near-coherence");
    let store = near_store(&url, &prefix);
    let id = new_id();
    create(
        &store,
        &id,
        &record(json!({"by": "rust"})),
        in_an_hour(),
        None,
    )
    .await;
    until_cached(&store, &id).await;
    let before = load(&store, &id).await.expect("cached");

    // What connect-redis writes for a session that an Express app changed.
    let express = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"by":"express"}"#;
    let other = admin(&url).await;
    let key = store.key(&id);
    express_set(&other, &key, express).await;

    // A save from the record read before the other write never overwrites it, cache or not.
    let mine = record(json!({"by": "rust", "n": 2}));
    let saved = store
        .save(&id, Write::new(&mine, in_an_hour()), &before.version)
        .await
        .expect("save");
    let Saved::Changed(current) = saved else {
        panic!("the other client's write was overwritten: {saved:?}");
    };
    assert_eq!(current.record.data["by"], "express");
    until_seen(&store, &id, |loaded| {
        loaded.is_some_and(|loaded| loaded.record.data["by"] == "express")
    })
    .await;

    // A logout by the other client.
    let _: i64 = fred::interfaces::KeysInterface::del(&other, key.as_str())
        .await
        .expect("del");
    until_seen(&store, &id, |loaded| loaded.is_none()).await;
    let _ = fred::interfaces::ClientLike::quit(&other).await;
    clean(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_by_another_client_right_after_a_save_is_seen() {
    let test = "a_write_by_another_client_right_after_a_save_is_seen";
    let Some(url) = shared_url(test) else {
        return;
    };
    let prefix = unique_prefix("near-after-save");
    let store = near_store(&url, &prefix);
    let other = admin(&url).await;
    // The save's own invalidation must never be taken for the other client's: each round,
    // the other client writes the instant the save returns.
    for round in 0..20 {
        let id = new_id();
        create(
            &store,
            &id,
            &record(json!({"round": round})),
            in_an_hour(),
            None,
        )
        .await;
        until_cached(&store, &id).await;
        let loaded = load(&store, &id).await.expect("cached");
        let mine = record(json!({"round": round, "by": "rust"}));
        let saved = store
            .save(&id, Write::new(&mine, in_an_hour()), &loaded.version)
            .await
            .expect("save");
        assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
        let express = format!(
            r#"{{"cookie":{{"originalMaxAge":3600000,"expires":"2099-01-01T00:00:00.000Z","httpOnly":true,"path":"/"}},"round":{round},"by":"express"}}"#
        );
        express_set(&other, &store.key(&id), &express).await;
        until_seen(&store, &id, |loaded| {
            loaded.is_some_and(|loaded| loaded.record.data["by"] == "express")
        })
        .await;
    }
    let _ = fred::interfaces::ClientLike::quit(&other).await;
    clean(&url, &prefix).await;
}
