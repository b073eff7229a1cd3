//! Redis down at startup, killed mid-run and slow: every call returns a typed error within
//! the configured timeout, nothing hangs or panics, and service resumes by itself.

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::{Record, Store, StoreError, Version, Write};
use session_redis::RedisStore;

use crate::support::{create, in_an_hour, new_id, wait_until_recovered, within, PrivateRedis};

const TIMEOUT: Duration = Duration::from_millis(400);
/// What a call may take at most, with slack for a busy machine.
const LIMIT: Duration = Duration::from_millis(5_000);

fn fault_store(redis: &PrivateRedis) -> RedisStore {
    RedisStore::builder(redis.url())
        .timeout(TIMEOUT)
        .connect_wait(Duration::from_millis(100))
        .max_reconnect_delay(Duration::from_millis(200))
        .build()
        .expect("the store builds even when Redis is down")
}

fn record(n: u64) -> Record {
    crate::support::record(json!({ "n": n }))
}

/// Every store operation, with and without an owner (a pipeline with the user index), fails
/// with an outage error (never `Ok(None)`, never a hang).
async fn every_call_fails_as_an_outage(store: &RedisStore) {
    let id = new_id();
    let data = record(1);
    let write = || Write::new(&data, in_an_hour());
    let owned = || write().owned_by(Some("ann"));
    let version = Version::from_u64(1);
    let lifetimes = session_core::Lifetimes::new(None, Duration::from_secs(60));
    let results = [
        within(LIMIT, store.load(&id)).await.map(drop),
        within(LIMIT, store.load_and_touch(&id, lifetimes))
            .await
            .map(drop),
        within(LIMIT, store.create(&id, write())).await.map(drop),
        within(LIMIT, store.create(&id, owned())).await.map(drop),
        within(LIMIT, store.save(&id, write(), &version))
            .await
            .map(drop),
        within(LIMIT, store.save(&id, owned(), &version))
            .await
            .map(drop),
        within(LIMIT, store.touch(&id, in_an_hour(), None))
            .await
            .map(drop),
        within(LIMIT, store.touch(&id, in_an_hour(), Some("ann")))
            .await
            .map(drop),
        within(LIMIT, store.delete(&id)).await,
        within(LIMIT, store.sessions_of("ann")).await.map(drop),
    ];
    for (n, result) in results.into_iter().enumerate() {
        let Err(error) = result else {
            panic!(
                "call #{n} succeeded against a Redis that is down (connected: {})",
                store.is_connected()
            );
        };
        assert!(error.is_unavailable(), "not an outage error: {error:?}");
    }
}

async fn works(store: &RedisStore) {
    let id = new_id();
    let version = create(store, &id, &record(7), in_an_hour(), Some("ann")).await;
    let read = store.load(&id).await.expect("load").expect("present");
    assert_eq!(read.record.data["n"], 7);
    assert_eq!(read.version, version);
    let saved = store
        .save(&id, Write::new(&record(8), in_an_hour()), &version)
        .await
        .expect("save after recovery");
    assert!(
        matches!(saved, session_core::Saved::Written(_)),
        "{saved:?}"
    );
    assert!(store
        .sessions_of("ann")
        .await
        .expect("listing")
        .contains(&id));
    store.delete(&id).await.expect("delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_at_startup_then_recovers_when_redis_starts() {
    let Some(mut redis) = PrivateRedis::reserve("down_at_startup_then_recovers_when_redis_starts")
    else {
        return;
    };
    let store = fault_store(&redis);
    assert!(!store.is_connected());
    let started = Instant::now();
    let error = within(LIMIT, store.load(&new_id()))
        .await
        .expect_err("down");
    assert!(
        matches!(error, StoreError::Unavailable(_)),
        "unreachable Redis should be Unavailable: {error:?}"
    );
    // Generous: CI runs many tests at once on two cores; the point is "no hang".
    assert!(started.elapsed() <= TIMEOUT + Duration::from_millis(1_500));
    every_call_fails_as_an_outage(&store).await;

    redis.restart();
    let took = wait_until_recovered(&store, Duration::from_secs(10)).await;
    eprintln!("recovered {took:?} after Redis started");
    works(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_run_then_recovers_after_restart_on_the_same_port() {
    let Some(mut redis) =
        PrivateRedis::start("killed_mid_run_then_recovers_after_restart_on_the_same_port")
    else {
        return;
    };
    let store = fault_store(&redis);
    wait_until_recovered(&store, Duration::from_secs(10)).await;
    works(&store).await;

    // Calls in flight while the server dies, and calls made while it is gone.
    let in_flight: Vec<_> = (0..20)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let (id, data) = (new_id(), record(n));
                // Half of them name a user: a pipeline with the index entry.
                let owner = (n % 2 == 0).then_some("ann");
                let write = Write::new(&data, in_an_hour()).owned_by(owner);
                within(LIMIT, store.create(&id, write)).await
            })
        })
        .collect();
    redis.kill();
    for task in in_flight {
        // Each either landed before the kill or failed as an outage; none hangs or panics.
        if let Err(error) = task.await.expect("no panic") {
            assert!(error.is_unavailable(), "{error:?}");
        }
    }
    every_call_fails_as_an_outage(&store).await;
    every_call_fails_as_an_outage(&store).await;

    redis.restart();
    let took = wait_until_recovered(&store, Duration::from_secs(10)).await;
    eprintln!("recovered {took:?} after Redis restarted");
    works(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_gives_timeouts_then_service_resumes() {
    let Some(redis) = PrivateRedis::start("a_slow_redis_gives_timeouts_then_service_resumes")
    else {
        return;
    };
    let store = fault_store(&redis);
    wait_until_recovered(&store, Duration::from_secs(10)).await;
    let id = new_id();
    let version = create(&store, &id, &record(1), in_an_hour(), None).await;

    // The server stops answering every client for 3 s: long enough that the second call below
    // also meets the pause even when a loaded machine makes the first timeout late.
    let pause_started = Instant::now();
    assert!(redis
        .command(&["CLIENT", "PAUSE", "3000", "ALL"])
        .starts_with("+OK"));
    let started = Instant::now();
    let error = within(LIMIT, store.load(&id))
        .await
        .expect_err("paused server");
    assert!(
        matches!(error, StoreError::Timeout(t) if t == TIMEOUT),
        "a slow Redis should be a Timeout: {error:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= TIMEOUT - Duration::from_millis(50)
            && took <= TIMEOUT + Duration::from_millis(1_500),
        "timed out after {took:?}"
    );
    let error = within(
        LIMIT,
        store.save(&id, Write::new(&record(2), in_an_hour()), &version),
    )
    .await
    .expect_err("paused server");
    assert!(error.is_unavailable(), "{error:?}");

    wait_until_recovered(&store, Duration::from_secs(10)).await;
    assert!(pause_started.elapsed() >= Duration::from_millis(2_900));
    // The late replies to the timed-out calls are not mistaken for later calls' replies.
    let read = store.load(&id).await.expect("load").expect("present");
    let n = &read.record.data["n"];
    assert!(n == 1 || n == 2, "{n}");
    works(&store).await;
}

/// A master that refuses writes while its replicas lag (`min-replicas-to-write`, the bound on
/// lost writes the README recommends instead of `WAIT`) makes every write an outage error
/// (`503`), never a `500`; reads go on, and writes resume once the setting is lifted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_refused_for_lack_of_replicas_are_an_outage() {
    let Some(redis) = PrivateRedis::start("writes_refused_for_lack_of_replicas_are_an_outage")
    else {
        return;
    };
    let store = fault_store(&redis);
    wait_until_recovered(&store, Duration::from_secs(10)).await;
    let id = new_id();
    let version = create(&store, &id, &record(1), in_an_hour(), None).await;
    let config = |value: &str| {
        let reply = redis.command(&["CONFIG", "SET", "min-replicas-to-write", value]);
        assert!(reply.starts_with("+OK"), "{reply}");
    };
    config("1");
    let changed = record(2);
    let write = || Write::new(&changed, in_an_hour());
    let refused = [
        within(LIMIT, store.save(&id, write(), &version))
            .await
            .map(drop),
        within(
            LIMIT,
            store.save(&id, write().owned_by(Some("ann")), &version),
        )
        .await
        .map(drop),
        within(LIMIT, store.create(&new_id(), write()))
            .await
            .map(drop),
        within(LIMIT, store.delete(&id)).await,
    ];
    for (n, result) in refused.into_iter().enumerate() {
        let error = result.expect_err("a write without replicas");
        assert!(error.is_unavailable(), "write #{n}: {error:?}");
    }
    let read = store
        .load(&id)
        .await
        .expect("reads go on")
        .expect("present");
    assert_eq!(read.record.data["n"], 1);
    config("0");
    let saved = store.save(&id, write(), &version).await.expect("save");
    assert!(
        matches!(saved, session_core::Saved::Written(_)),
        "{saved:?}"
    );
}
