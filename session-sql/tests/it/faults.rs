//! Faults: PostgreSQL down at startup, killed mid-run and restarted, paused; an exhausted pool;
//! a statement that outlives the timeout. Every call fails within its bound with a typed
//! error that adapters answer with `503`, never as "no session", and the store recovers by
//! itself.

use std::time::{Duration, Instant, SystemTime};

use session_core::{Created, SessionId, Store, StoreError, Write};
use session_sql::PostgresStore;

use crate::support::{numbered, PrivateCluster, Schema};

const TIMEOUT: Duration = Duration::from_millis(1_500);
/// What a failing call may take beyond the timeout on a busy machine.
const SLACK: Duration = Duration::from_millis(700);

fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

fn fault_store(url: &str) -> PostgresStore {
    PostgresStore::builder(url)
        .timeout(TIMEOUT)
        .acquire_timeout(Duration::from_millis(800))
        .build()
        .expect("store")
}

/// Every kind of call fails fast, as an outage or a timeout, never as a missing session.
async fn every_call_fails_as_an_outage(store: &PostgresStore, id: &SessionId) {
    let record = numbered(9);
    let started = Instant::now();
    let outcomes = [
        store.load(id).await.map(|_| ()),
        store
            .create(id, Write::new(&record, later()))
            .await
            .map(drop),
        store
            .save(
                id,
                Write::new(&record, later()),
                &session_core::Version::from_u64(1),
            )
            .await
            .map(drop),
        store.touch(id, later(), Some("ann")).await.map(drop),
        store.delete(id).await,
        store.sessions_of("ann").await.map(drop),
    ];
    for outcome in outcomes {
        match outcome {
            Err(error) => assert!(error.is_unavailable(), "an outage, not {error:?}"),
            Ok(()) => panic!("a call succeeded while PostgreSQL was down"),
        }
    }
    assert!(
        started.elapsed() < 6 * (TIMEOUT + SLACK),
        "calls hung: {:?}",
        started.elapsed()
    );
}

/// Waits until the store answers again.
async fn recovers(store: &PostgresStore, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        match store.ping().await {
            Ok(()) => return,
            Err(error) => {
                assert!(error.is_unavailable(), "{error:?}");
                assert!(Instant::now() < deadline, "did not recover: {error:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn down_at_startup_then_recovers_when_postgres_starts() {
    let Some(mut cluster) = PrivateCluster::init("down_at_startup") else {
        return;
    };
    let store = fault_store(&cluster.url());
    let id = SessionId::random().unwrap();
    every_call_fails_as_an_outage(&store, &id).await;
    let down = store.load(&id).await.unwrap_err();
    assert!(matches!(down, StoreError::Unavailable(_)), "{down:?}");

    cluster.start().await;
    recovers(&store, Duration::from_secs(10)).await;
    assert!(matches!(
        store
            .create(&id, Write::new(&numbered(1), later()))
            .await
            .unwrap(),
        Created::Written(_)
    ));
    assert_eq!(store.load(&id).await.unwrap().unwrap().record.data["n"], 1);
}

#[tokio::test]
async fn killed_mid_run_then_recovers_after_restart() {
    let Some(mut cluster) = PrivateCluster::init("killed") else {
        return;
    };
    cluster.start().await;
    let store = fault_store(&cluster.url());
    let id = SessionId::random().unwrap();
    store
        .create(&id, Write::new(&numbered(1), later()).owned_by(Some("ann")))
        .await
        .unwrap();
    // Fill the pool with connections that the crash will break.
    let loads: Vec<_> = (0..8).map(|_| store.load(&id)).collect();
    for load in futures_util::future::join_all(loads).await {
        assert!(load.unwrap().is_some());
    }

    cluster.stop_now();
    every_call_fails_as_an_outage(&store, &id).await;

    cluster.start().await;
    recovers(&store, Duration::from_secs(10)).await;
    // Every call works at once: no dead pooled connection is handed out after the recovery.
    for _ in 0..10 {
        let loaded = store
            .load(&id)
            .await
            .unwrap()
            .expect("the session survived");
        assert_eq!(loaded.record.data["n"], 1);
    }
    assert_eq!(store.sessions_of("ann").await.unwrap(), [id]);
}

#[tokio::test]
async fn a_paused_server_gives_timeouts_within_the_bound_then_service_resumes() {
    let Some(mut cluster) = PrivateCluster::init("paused") else {
        return;
    };
    cluster.start().await;
    let store = fault_store(&cluster.url());
    let id = SessionId::random().unwrap();
    store
        .create(&id, Write::new(&numbered(1), later()))
        .await
        .unwrap();

    cluster.pause();
    for _ in 0..3 {
        let started = Instant::now();
        let error = store.load(&id).await.unwrap_err();
        assert!(error.is_unavailable(), "{error:?}");
        assert!(
            started.elapsed() < TIMEOUT + SLACK,
            "{:?}",
            started.elapsed()
        );
    }
    cluster.resume();
    recovers(&store, Duration::from_secs(15)).await;
    assert!(store.load(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn an_exhausted_pool_is_a_timeout_not_a_hang() {
    let Some(schema) = Schema::create("exhausted").await else {
        return;
    };
    let store = schema
        .builder()
        .max_connections(1)
        .timeout(TIMEOUT)
        .acquire_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    let held = store.pool().acquire().await.unwrap();
    let started = Instant::now();
    let error = store.load(&SessionId::random().unwrap()).await.unwrap_err();
    assert!(matches!(error, StoreError::Timeout(_)), "{error:?}");
    assert!(started.elapsed() < TIMEOUT, "{:?}", started.elapsed());
    drop(held);
    assert_eq!(
        store.load(&SessionId::random().unwrap()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_statement_that_outlives_the_timeout_is_cancelled_as_a_timeout() {
    let Some(schema) = Schema::create("slow").await else {
        return;
    };
    let store = schema.builder().timeout(TIMEOUT).build().unwrap();
    let id = SessionId::random().unwrap();
    let Created::Written(version) = store
        .create(&id, Write::new(&numbered(1), later()))
        .await
        .unwrap()
    else {
        panic!("created")
    };
    // Another client holds the row: the save waits for its lock until the timeout.
    let mut blocker = schema.admin.begin().await.unwrap();
    sqlx::query(&format!(
        "SELECT 1 FROM {} WHERE sid = $1 FOR UPDATE",
        schema.table("session")
    ))
    .bind(id.as_str())
    .execute(&mut *blocker)
    .await
    .unwrap();
    let started = Instant::now();
    let error = store
        .save(&id, Write::new(&numbered(2), later()), &version)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Timeout(_)), "{error:?}");
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "{:?}",
        started.elapsed()
    );
    blocker.rollback().await.unwrap();
    let saved = store
        .save(&id, Write::new(&numbered(2), later()), &version)
        .await
        .unwrap();
    assert!(
        matches!(saved, session_core::Saved::Written(_)),
        "{saved:?}"
    );
}
