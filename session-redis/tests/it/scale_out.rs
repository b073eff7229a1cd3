//! Scale-out on real engines: a private Redis Cluster of three masters with a replica each,
//! and a private Sentinel set-up (one master, one replica, three sentinels), each started by
//! the test that uses it ([`Topology`]).
//!
//! On each: the store conformance suite, and the HTTP
//! [`integrity`](session_scenarios::integrity) scenarios on the axum reference app, one
//! adapter being enough since adapters never know the store (an
//! ARCHITECTURE invariant); then a failover under load: writers keep changing their sessions
//! through the app while the master holding a session is killed with SIGKILL, until the
//! cluster or Sentinel promotes its replica. Every answer meanwhile is a `200` or a `503`
//! without `Set-Cookie` (never a `500`, never a silent new session, never a request past
//! its bound), service resumes by itself within [`RECOVERY`], and the test reports how many
//! acknowledged writes Redis's asynchronous replication lost: a write the old master
//! acknowledged but had not yet sent to its replica is gone once the replica takes over.
//! That count is printed, not asserted to be zero: plain Redis replication does not promise
//! it, and the store waits for no replica.

use std::{
    io::Write as _,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant},
};

use session_core::SessionManager;
use session_redis::RedisStore;
use session_scenarios::{Backend, Browser, TestServer};

use crate::{
    http::{id_of, serve},
    support::{store, wait_until_recovered},
    topology::Topology,
};

// `run_integrity(start, backend)`: every `session_scenarios::integrity` scenario, one after the other, from
// the one list that also makes the scenario suite's tests.
session_scenarios::integrity_scenarios!(@in_sequence);

/// The axum reference app, for the scenarios.
fn start_axum(manager: SessionManager) -> TestServer {
    TestServer::on_tokio(move |listener| async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        axum::serve(listener, example_axum::app(manager))
            .await
            .expect("axum server");
    })
}

/// The conformance suite and the integrity scenarios on `topology`.
async fn conformance_and_scenarios(topology: &Topology) {
    let url = topology.url();
    let make = || {
        let url = url.clone();
        async move {
            let store: RedisStore = store(&url, "sess:");
            wait_until_recovered(&store, Duration::from_secs(15)).await;
            store
        }
    };
    session_core::testing::conformance::run_all(make).await;
    // A few bytes for the test process's life: `Backend` is `Copy`, with a `&'static str`.
    let url: &'static str = Box::leak(url.into_boxed_str());
    run_integrity(start_axum, Backend::RedisAt(url)).await;
    // Each scenario deleted its keys (on a cluster: found by SCAN on every master).
    assert_eq!(
        topology.count_keys("*test:scenarios:*"),
        0,
        "keys left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_master_cluster_passes_the_conformance_suite_and_the_scenarios() {
    let test = "a_three_master_cluster_passes_the_conformance_suite_and_the_scenarios";
    let Some(cluster) = Topology::cluster(test) else {
        return;
    };
    assert_eq!(cluster.masters().len(), 3);
    conformance_and_scenarios(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_passes_the_conformance_suite_and_the_scenarios() {
    let test = "sentinel_passes_the_conformance_suite_and_the_scenarios";
    let Some(sentinel) = Topology::sentinel(test) else {
        return;
    };
    conformance_and_scenarios(&sentinel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_master_killed_under_load_fails_over_with_bounded_503s() {
    let test = "a_cluster_master_killed_under_load_fails_over_with_bounded_503s";
    let Some(cluster) = Topology::cluster(test) else {
        return;
    };
    failover("cluster", cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_master_killed_under_load_fails_over_with_bounded_503s() {
    let test = "a_sentinel_master_killed_under_load_fails_over_with_bounded_503s";
    let Some(sentinel) = Topology::sentinel(test) else {
        return;
    };
    failover("sentinel", sentinel).await;
}

/// The store's bound on every Redis call during the failover tests.
const TIMEOUT: Duration = Duration::from_millis(500);
/// The longest a request may take: a load and a save (and a merge's second save), each
/// bounded by [`TIMEOUT`], plus a margin for a busy machine.
const REQUEST_BOUND: Duration = Duration::from_secs(4);
/// How long after the kill every writer must be served again: node timeout or
/// `down-after-milliseconds` (1 s), the election and promotion, the client finding the new
/// master, with a generous margin.
const RECOVERY: Duration = Duration::from_secs(20);
/// Concurrent writers, each with a session of its own.
const WRITERS: usize = 4;
/// Successful writes each writer makes before the kill, and again after it.
const WRITES_BEFORE: u64 = 10;
const WRITES_AFTER: u64 = 5;

/// What the main task sees of a writer while it runs.
#[derive(Default)]
struct Progress {
    served: AtomicU64,
    served_after_kill: AtomicU64,
}

/// What a writer saw.
#[derive(Debug, Default)]
struct Tally {
    served: u64,
    unavailable: u64,
    longest_stall: Duration,
    slowest: Duration,
    /// Acknowledged increments that a later answer showed missing.
    lost: u64,
    /// The last count answered with a `200`.
    last: Option<u64>,
    /// From the kill to the first `200` of a request sent after it.
    recovered_after: Option<Duration>,
}

/// Sends `GET /` (one increment of the session's counter) until `stop`, checking every
/// answer.
async fn write(
    mut browser: Browser,
    progress: Arc<Progress>,
    killed: Arc<OnceLock<Instant>>,
    stop: Arc<AtomicBool>,
) -> (Browser, Tally) {
    let cookie = browser.cookie.clone().expect("a session");
    // The session was made with `count=0`.
    let mut tally = Tally {
        last: Some(0),
        ..Tally::default()
    };
    let mut last_served = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let kill = killed.get().copied();
        let started = Instant::now();
        let response = tokio::time::timeout(REQUEST_BOUND, browser.get("/"))
            .await
            .unwrap_or_else(|_| panic!("a request took longer than {REQUEST_BOUND:?}"));
        tally.slowest = tally.slowest.max(started.elapsed());
        match response.status {
            200 => {
                assert_eq!(
                    browser.cookie.as_deref(),
                    Some(cookie.as_str()),
                    "the session was replaced by a new one"
                );
                let count: u64 = response
                    .body
                    .strip_prefix("count=")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("not a count: {}", response.body));
                let expected = tally.last.map_or(0, |last| last + 1);
                // A count below the one expected: acknowledged increments are gone.
                tally.lost += expected.saturating_sub(count);
                tally.last = Some(count);
                tally.served += 1;
                tally.longest_stall = tally.longest_stall.max(last_served.elapsed());
                last_served = Instant::now();
                progress.served.fetch_add(1, Ordering::Relaxed);
                if let Some(kill) = kill {
                    tally.recovered_after.get_or_insert(kill.elapsed());
                    progress.served_after_kill.fetch_add(1, Ordering::Relaxed);
                }
            }
            503 => {
                assert!(
                    response.set_cookies().is_empty(),
                    "a 503 sent Set-Cookie: {:?}",
                    response.set_cookies()
                );
                tally.unavailable += 1;
            }
            status => panic!(
                "a request during the failover got {status} ({}); only 200 or 503 may be",
                response.body
            ),
        }
        // Pacing, so that the writers leave the 2-CPU machine some room for Redis.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (browser, tally)
}

/// Polls `done` until it holds; returns early when a writer ended (it failed: joining it says
/// why), fails after `limit`.
async fn wait_for(
    writers: &[tokio::task::JoinHandle<(Browser, Tally)>],
    what: &str,
    limit: Duration,
    done: impl Fn() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done() {
        if writers.iter().any(tokio::task::JoinHandle::is_finished) {
            return;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills the master holding the first writer's session while [`WRITERS`] writers change
/// their sessions through the axum app, and checks and reports what they saw.
async fn failover(name: &str, mut topology: Topology) {
    let store = RedisStore::builder(topology.url())
        .timeout(TIMEOUT)
        .connect_wait(Duration::from_millis(100))
        .max_reconnect_delay(Duration::from_millis(200))
        .build()
        .expect("store");
    wait_until_recovered(&store, Duration::from_secs(15)).await;
    let server = serve(store.clone());
    let mut browsers = Vec::new();
    for _ in 0..WRITERS {
        let mut browser = Browser::new(server.addr, "connect.sid");
        let response = browser.get("/").await;
        assert_eq!((response.status, response.body.as_str()), (200, "count=0"));
        browsers.push(browser);
    }
    let master_of = |browser: &Browser| {
        let cookie = browser.cookie.as_deref().expect("a session");
        topology.master_of(&format!("sess:{}", id_of(cookie)))
    };
    let master = master_of(&browsers[0]);
    // On a cluster, the writers whose sessions live on the masters that stay up.
    let elsewhere: Vec<bool> = browsers.iter().map(|b| master_of(b) != master).collect();
    let replicas = topology.replicas_of(master);
    assert!(!replicas.is_empty(), "the master has a replica");

    let killed = Arc::new(OnceLock::new());
    let stop = Arc::new(AtomicBool::new(false));
    let progress: Vec<Arc<Progress>> = (0..WRITERS).map(|_| Arc::default()).collect();
    let writers: Vec<_> = browsers
        .into_iter()
        .zip(&progress)
        .map(|(browser, progress)| {
            tokio::spawn(write(
                browser,
                progress.clone(),
                killed.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let served = |field: fn(&Progress) -> &AtomicU64, at_least| {
        progress
            .iter()
            .all(|p| field(p).load(Ordering::Relaxed) >= at_least)
    };
    wait_for(
        &writers,
        "every writer is served before the kill",
        Duration::from_secs(30),
        || served(|p| &p.served, WRITES_BEFORE),
    )
    .await;
    topology.kill(master);
    killed.set(Instant::now()).expect("killed once");
    wait_for(
        &writers,
        "a replica takes over and every writer is served again",
        RECOVERY,
        || served(|p| &p.served_after_kill, WRITES_AFTER),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for writer in writers {
        seen.push(writer.await.expect("a writer failed"));
    }
    assert!(
        replicas.iter().any(|&replica| topology.is_master(replica)),
        "a replica of the killed master was promoted"
    );

    report(name, seen, &elsewhere).await;
}

/// Checks what the writers `seen` after the failover and prints the one-line report; a
/// writer whose session lives on a master that stayed up is marked in `elsewhere`.
async fn report(name: &str, seen: Vec<(Browser, Tally)>, elsewhere: &[bool]) {
    // Read back: a stored count below the last acknowledged one is lost writes too.
    let mut total = Tally::default();
    let mut unavailable_elsewhere = 0;
    for ((mut browser, tally), &elsewhere) in seen.into_iter().zip(elsewhere) {
        if elsewhere {
            unavailable_elsewhere += tally.unavailable;
        }
        let recovered = tally.recovered_after.expect("served after the kill");
        assert!(recovered <= RECOVERY, "recovered after {recovered:?}");
        let last = tally.last.expect("served");
        let stored = read_back(&mut browser).await;
        total.lost += tally.lost + last.saturating_sub(stored);
        total.served += tally.served;
        total.unavailable += tally.unavailable;
        total.longest_stall = total.longest_stall.max(tally.longest_stall);
        total.slowest = total.slowest.max(tally.slowest);
        total.recovered_after = total.recovered_after.max(Some(recovered));
    }
    let line = format!(
        "\nfailover({name}): served {}, 503 {}, longest stall {:.1?}, acknowledged writes lost {} \
         (503s for sessions on masters that stayed up: {unavailable_elsewhere}; slowest request \
         {:.1?}; every writer served again {:.1?} after the kill)\n",
        total.served,
        total.unavailable,
        total.longest_stall,
        total.lost,
        total.slowest,
        total.recovered_after.unwrap_or_default(),
    );
    // Past the test harness's capture, so that the report shows in CI logs.
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The stored count of `browser`'s session, through the app (`GET /peek`), once it answers.
async fn read_back(browser: &mut Browser) -> u64 {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let response = browser.get("/peek").await;
        if response.status == 200 {
            return response
                .body
                .strip_prefix("count=")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a count: {}", response.body));
        }
        assert!(
            Instant::now() < deadline,
            "the read-back got {}",
            response.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
