//! Memory per session: `bench-memory [--sessions N]` (default 100 000), run by
//! `cargo xtask bench memory`.
//!
//! Stores `N` sessions holding the visit counter's payload in [`MemoryStore`], each the way a
//! new visitor's `GET /` does it: [`SessionManager::begin`] without a cookie,
//! [`RequestSession::session`](session_core::RequestSession::session),
//! [`routes::visit`], [`RequestSession::finish`](session_core::RequestSession::finish). It
//! then reports the growth of the live heap (bytes requested from the allocator and not yet
//! freed, counted by a counting global allocator) and of the resident set (`VmRSS`), per
//! session, and the part of it beyond the serialized record (the JSON the store keeps). The
//! figures are printed as Markdown, which `cargo xtask bench` puts into `bench/RESULTS.md`.

use std::{alloc::System, process::ExitCode, time::Duration};

use example_common::routes;
use session_core::{MemoryStore, RequestFacts, SessionConfig, SessionId, SessionManager, Store};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const DEFAULT_SESSIONS: u32 = 100_000;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sessions = match args.as_slice() {
        [] => Ok(DEFAULT_SESSIONS),
        [flag, n] if flag == "--sessions" => n.parse().map_err(|_| format!("bad count {n:?}")),
        _ => Err("usage: bench-memory [--sessions N]".to_owned()),
    };
    let outcome = sessions.map_err(Into::into).and_then(|sessions| {
        tokio::runtime::Builder::new_current_thread()
            .build()?
            .block_on(measure(sessions))
    });
    match outcome {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench-memory: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The heap and the resident set at one moment.
#[derive(Clone, Copy)]
struct Snapshot {
    /// Bytes requested from the allocator and not freed.
    heap: i64,
    /// Allocations not freed.
    allocations: i64,
    /// `VmRSS`, in bytes.
    rss: i64,
}

impl Snapshot {
    fn now() -> Result<Self> {
        let stats = ALLOCATOR.stats();
        // stats_alloc already adds a reallocation's growth to `bytes_allocated` and its
        // shrinking to `bytes_deallocated` (`bytes_reallocated` is the same again, netted).
        let heap = i64::try_from(stats.bytes_allocated)? - i64::try_from(stats.bytes_deallocated)?;
        let allocations = i64::try_from(stats.allocations)? - i64::try_from(stats.deallocations)?;
        Ok(Self {
            heap,
            allocations,
            rss: rss_bytes()?,
        })
    }
}

/// `VmRSS` of this process, in bytes.
fn rss_bytes() -> Result<i64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<i64>()
                .ok()
        })
        .ok_or("no VmRSS in /proc/self/status")?;
    Ok(kib * 1024)
}

/// One new visitor's `GET /`; returns the `Set-Cookie` value.
async fn visit(manager: &SessionManager) -> Result<String> {
    let request = manager.begin([], RequestFacts::plain_http());
    let session = request.session().await?;
    routes::visit(&session)?;
    Ok(request
        .finish()
        .await?
        .into_iter()
        .next()
        .ok_or("a new, modified session sent no cookie")?)
}

/// The session id in a `connect.sid=s%3A<id>.<mac>; ...` cookie.
fn id_of(set_cookie: &str) -> Result<SessionId> {
    let value = set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value)
        .ok_or("Set-Cookie without a value")?;
    let signed = value.strip_prefix("s%3A").ok_or("unsigned cookie")?;
    let (id, _mac) = signed
        .rsplit_once('.')
        .ok_or("cookie without a signature")?;
    Ok(SessionId::from(id))
}

async fn measure(sessions: u32) -> Result<String> {
    // The reference app's defaults, as the HTTP benchmark's servers use them: a 30-minute
    // cookie, so the record holds `originalMaxAge` and `expires` as it does there.
    let config = SessionConfig::builder()
        .secret("bench-memory secret of at least thirty-two bytes")
        .max_age(Some(Duration::from_secs(30 * 60)))
        .build()?;
    // Bounded as by default (moka weighs every entry), with budgets large enough that no
    // session is evicted while measuring.
    let store = MemoryStore::with_budgets(1 << 30, 1 << 30);
    let manager = SessionManager::new(store.clone(), config);

    // One session first, so that lazily built state (moka's internals, the clock base, the
    // RNG) is in the baseline rather than charged to the sessions.
    let first = visit(&manager).await?;
    store.run_pending_tasks().await;
    let before = Snapshot::now()?;
    for _ in 0..sessions {
        visit(&manager).await?;
    }
    store.run_pending_tasks().await;
    let after = Snapshot::now()?;
    if store.len() != u64::from(sessions) + 1 {
        return Err(format!(
            "the store holds {} sessions, not {}",
            store.len(),
            sessions + 1
        )
        .into());
    }

    let id = id_of(&first)?;
    let loaded = store.load(&id).await?.ok_or("the first session is gone")?;
    let json = loaded.record.to_json()?;
    let n = f64::from(sessions);
    let per = |field: fn(&Snapshot) -> i64| (field(&after) - field(&before)) as f64 / n;
    let heap = per(|s| s.heap);
    let rss = per(|s| s.rss);
    let allocations = per(|s| s.allocations);
    let payload = json.len() as f64;
    let id_len = id.as_str().len();
    Ok(format!(
        "Stored {sessions} sessions in `session_core::MemoryStore` through `SessionManager::begin` → \
         `RequestSession::session` → `routes::visit` → `RequestSession::finish` (a new visitor's \
         `GET /`), then ran moka's pending maintenance. Live heap = bytes requested from the \
         allocator and not freed (a counting global allocator, so glibc's own per-chunk overhead \
         is not in it; the RSS line includes it).\n\n\
         | measure | per session |\n\
         |---|---:|\n\
         | live heap growth | {heap:.0} bytes |\n\
         | serialized payload (the record's JSON: `{json}`) | {payload:.0} bytes |\n\
         | **live heap beyond the payload** | **{beyond:.0} bytes** (of which the id: {id_len}) |\n\
         | live allocations | {allocations:.1} |\n\
         | resident set (VmRSS) growth | {rss:.0} bytes |\n\n\
         Totals: heap {heap_before:.1} → {heap_after:.1} MiB, RSS {rss_before:.1} → {rss_after:.1} MiB.\n",
        beyond = heap - payload,
        heap_before = mib(before.heap),
        heap_after = mib(after.heap),
        rss_before = mib(before.rss),
        rss_after = mib(after.rss),
    ))
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
