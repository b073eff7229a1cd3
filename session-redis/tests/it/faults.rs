//! Redis down at startup, killed mid-run and slow: every call returns a typed error within
//! the configured timeout, nothing hangs or panics, and service resumes by itself.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use session_core::{Record, Store, StoreError};
use session_redis::RedisStore;

use crate::support::{new_id, wait_until_recovered, within, PrivateRedis};

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
    Record::new(json!({ "n": n }).as_object().cloned().expect("object"))
}

fn in_an_hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

/// Every store operation fails with an outage error (never `Ok(None)`, never a hang).
async fn every_call_fails_as_an_outage(store: &RedisStore) {
    let id = new_id();
    let results = [
        within(LIMIT, store.load(&id)).await.map(drop),
        within(LIMIT, store.create(&id, &record(1), in_an_hour()))
            .await
            .map(drop),
        within(LIMIT, store.save(&id, &record(1), in_an_hour())).await,
        within(LIMIT, store.touch(&id, in_an_hour())).await,
        within(LIMIT, store.delete(&id)).await,
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
    store
        .save(&id, &record(7), in_an_hour())
        .await
        .expect("save after recovery");
    let read = store.load(&id).await.expect("load").expect("present");
    assert_eq!(read.data["n"], 7);
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
                let id = new_id();
                within(LIMIT, store.save(&id, &record(n), in_an_hour())).await
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
    store
        .save(&id, &record(1), in_an_hour())
        .await
        .expect("save");

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
    let error = within(LIMIT, store.save(&id, &record(2), in_an_hour()))
        .await
        .expect_err("paused server");
    assert!(error.is_unavailable(), "{error:?}");

    wait_until_recovered(&store, Duration::from_secs(10)).await;
    assert!(pause_started.elapsed() >= Duration::from_millis(2_900));
    // The late replies to the timed-out calls are not mistaken for later calls' replies.
    let read = store.load(&id).await.expect("load").expect("present");
    assert!(read.data["n"] == 1 || read.data["n"] == 2);
    works(&store).await;
}
