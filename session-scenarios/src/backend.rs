//! Where a scenario's sessions live: the memory store, or the Redis store on the Redis of
//! `REDIS_URL` (or on a Redis the caller names: a Redis Cluster, a Sentinel set-up) under a key
//! prefix of the scenario's own, deleted when the scenario ends.

use std::{
    io::Write as _,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fred::prelude::{Client, ClientLike, Config, KeysInterface, Server};
use session_core::{MemoryStore, Store};
use session_redis::{NearCache, RedisStore};

/// The store a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// [`MemoryStore`].
    Memory,
    /// [`RedisStore`] on `REDIS_URL`.
    Redis,
    /// [`RedisStore`] on `REDIS_URL` with a [`NearCache`].
    RedisNearCache,
    /// [`RedisStore`] on the given URL (`redis://`, `redis-cluster://`, `redis-sentinel://`):
    /// session-redis runs the [`integrity`](crate::integrity) scenarios on its private Redis
    /// Cluster and Sentinel set-ups this way. One adapter is enough there: adapters never know
    /// the store.
    RedisAt(&'static str),
}

/// A store for one scenario; a Redis one deletes its keys when dropped, even after a panic.
pub struct BackendStore {
    /// The store.
    pub store: Arc<dyn Store>,
    cleanup: Option<Cleanup>,
}

impl std::fmt::Debug for BackendStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendStore")
            .field("redis", &self.cleanup.is_some())
            .finish_non_exhaustive()
    }
}

/// Every key whose name contains `tag` is the scenario's: its sessions and its user listings.
struct Cleanup {
    url: String,
    tag: String,
}

impl Backend {
    /// A fresh, empty store of this kind for `scenario`; `None` (with a printed notice) when
    /// Redis is wanted and `REDIS_URL` is not set, unless `SESSION_REQUIRE_SERVICES=1`, under
    /// which that is a failure. Call it inside a tokio runtime (the Redis client connects on
    /// it).
    pub fn store(self, scenario: &str) -> Option<BackendStore> {
        match self {
            Self::Memory => Some(BackendStore {
                store: Arc::new(MemoryStore::new()),
                cleanup: None,
            }),
            Self::Redis => Some(redis_store(redis_url(scenario)?, scenario, None)),
            Self::RedisNearCache => Some(redis_store(
                redis_url(scenario)?,
                scenario,
                Some(NearCache::new()),
            )),
            Self::RedisAt(url) => Some(redis_store(url.to_owned(), scenario, None)),
        }
    }
}

/// A Redis store on `url` under a prefix of `scenario`'s own, deleted when dropped.
fn redis_store(url: String, scenario: &str, near_cache: Option<NearCache>) -> BackendStore {
    let tag = unique_tag(scenario);
    let mut builder = RedisStore::builder(url.as_str())
        .prefix(format!("test:scenarios:{tag}:sess:"))
        .connect_wait(Duration::from_secs(2));
    if let Some(near_cache) = near_cache {
        builder = builder.near_cache(near_cache);
    }
    let store = builder
        .build()
        .expect("a Redis store for the scenario's URL");
    BackendStore {
        store: Arc::new(store),
        cleanup: Some(Cleanup { url, tag }),
    }
}

fn redis_url(scenario: &str) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required =
                std::env::var("SESSION_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true");
            assert!(
                !required,
                "{scenario}: REDIS_URL is not set, and SESSION_REQUIRE_SERVICES=1 forbids skipping"
            );
            let line = format!(
                "\nNOTICE: scenario `{scenario}` on Redis SKIPPED: REDIS_URL is not set \
                 (run `cargo xtask ci`, or set REDIS_URL=redis://127.0.0.1:6379)\n"
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

/// A tag no other run or scenario uses.
fn unique_tag(scenario: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{scenario}-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

impl Drop for BackendStore {
    fn drop(&mut self) {
        let Some(cleanup) = self.cleanup.take() else {
            return;
        };
        // A runtime of its own on a thread of its own: this may run inside the scenario's
        // runtime, or while a failed scenario unwinds.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(delete_tagged(&cleanup.url, &cleanup.tag));
        });
        let _ = done.join();
    }
}

/// Deletes every key containing `tag` with SCAN + DEL (never FLUSH); on a Redis Cluster, SCAN
/// on every master, since each holds only its own slots.
async fn delete_tagged(url: &str, tag: &str) {
    let Ok(config) = Config::from_url(url) else {
        return;
    };
    let client = Client::new(config, None, None, None);
    let connected = tokio::time::timeout(Duration::from_secs(5), client.init()).await;
    if !matches!(connected, Ok(Ok(_))) {
        return;
    }
    let pattern = format!("*{tag}*");
    if client.is_clustered() {
        // The client keeps a connection to every master and to nothing else.
        for master in client.active_connections() {
            delete_matching(&client, Some(master), &pattern).await;
        }
    } else {
        delete_matching(&client, None, &pattern).await;
    }
    let _ = client.quit().await;
}

/// Deletes the keys that match `pattern` on `node` (a cluster's master) or on the server.
async fn delete_matching(client: &Client, node: Option<Server>, pattern: &str) {
    let mut cursor = "0".to_owned();
    loop {
        let page: Result<(String, Vec<String>), _> = match &node {
            Some(node) => {
                client
                    .with_cluster_node(node.clone())
                    .scan_page(cursor, pattern.to_owned(), Some(1000), None)
                    .await
            }
            None => {
                client
                    .scan_page(cursor, pattern.to_owned(), Some(1000), None)
                    .await
            }
        };
        let Ok((next, keys)) = page else {
            break;
        };
        if node.is_none() {
            if !keys.is_empty() {
                let _: Result<i64, _> = client.del(keys).await;
            }
        } else {
            // One key per DEL: on a cluster, the keys of one page hash to different slots.
            for key in keys {
                let _: Result<i64, _> = client.del(key).await;
            }
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
}
