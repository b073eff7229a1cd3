//! `SqliteStore`: the conformance suite on a file and in memory, several worker threads
//! writing at once, and pruning.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use session_core::{testing::conformance, Created, Saved, SessionId, Store, Write};
use session_sql::SqliteStore;

fn numbered(n: u64) -> session_core::Record {
    let mut data = serde_json::Map::new();
    data.insert("n".into(), n.into());
    let mut record = session_core::Record::new(data);
    record.cookie.original_max_age = Some(3_600_000);
    record
}

fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

/// A database file in a directory of its own, removed afterwards.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("session-sql-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> String {
        self.0.join("sessions.db").to_string_lossy().into_owned()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_passes_the_store_conformance_suite() {
    let db = TempDb::new("conformance");
    conformance::run_all(|| async { SqliteStore::builder(db.path()).build().unwrap() }).await;
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(SqliteStore::builder(db.path()).build().unwrap().pool())
        .await
        .unwrap();
    assert_eq!(journal, "wal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_passes_the_store_conformance_suite() {
    conformance::run_all(|| async { SqliteStore::builder(":memory:").build().unwrap() }).await;
}

/// Every connection of the pool sees one in-memory database, and it lives as long as the
/// store, whatever the pool does with its idle connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_is_one_database_for_the_whole_pool() {
    let store = SqliteStore::builder(":memory:")
        .max_connections(4)
        .build()
        .unwrap();
    let ids: Vec<SessionId> = (0..16).map(|_| SessionId::random().unwrap()).collect();
    let writes = ids.iter().enumerate().map(|(n, id)| {
        let store = store.clone();
        let id = id.clone();
        tokio::spawn(async move {
            store
                .create(&id, Write::new(&numbered(n as u64), later()))
                .await
                .unwrap()
        })
    });
    for write in futures_util::future::join_all(writes).await {
        assert!(matches!(write.unwrap(), Created::Written(_)));
    }
    let held: Vec<_> = futures_util::future::join_all((0..3).map(|_| store.pool().acquire()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(store.load(id).await.unwrap().unwrap().record.data["n"], n);
    }
    for connection in held {
        connection.close().await.unwrap();
    }
    assert!(
        store.load(&ids[0]).await.unwrap().is_some(),
        "the database outlived its pool connections"
    );
    // Another store's `:memory:` is another database.
    let other = SqliteStore::builder(":memory:").build().unwrap();
    assert_eq!(other.load(&ids[0]).await.unwrap(), None);
}

/// Many workers save, touch and load at once through one pool: writers queue on the write
/// lock (busy timeout), nobody fails, and each conditional save sees every other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_threads_write_one_file_at_once() {
    let db = TempDb::new("workers");
    let store = Arc::new(SqliteStore::builder(db.path()).build().unwrap());
    let id = SessionId::random().unwrap();
    store
        .create(&id, Write::new(&numbered(0), later()))
        .await
        .unwrap();
    let workers = (0..8).map(|worker| {
        let (store, id) = (store.clone(), id.clone());
        tokio::spawn(async move {
            let mut written = 0;
            while written < 10 {
                let loaded = store.load(&id).await.unwrap().unwrap();
                let n = loaded.record.data["n"].as_u64().unwrap();
                let write = numbered(n + 1);
                match store
                    .save(
                        &id,
                        Write::new(&write, later()).owned_by(Some("ann")),
                        &loaded.version,
                    )
                    .await
                    .unwrap()
                {
                    Saved::Written(_) => written += 1,
                    Saved::Changed(_) => {}
                    Saved::Gone => panic!("worker {worker}: the session vanished"),
                }
                assert!(store.touch(&id, later(), None).await.unwrap());
            }
        })
    });
    for worker in futures_util::future::join_all(workers).await {
        worker.unwrap();
    }
    let n = &store.load(&id).await.unwrap().unwrap().record.data["n"];
    assert_eq!(n, 80, "every increment was kept, none overwritten");
}

#[tokio::test]
async fn delete_expired_prunes_and_the_task_prunes_by_itself() {
    let store = SqliteStore::builder(":memory:")
        .prune_interval(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let (short, long) = (SessionId::random().unwrap(), SessionId::random().unwrap());
    let soon = SystemTime::now() + Duration::from_millis(300);
    for (id, at) in [(&short, soon), (&long, later())] {
        store
            .create(id, Write::new(&numbered(1), at).owned_by(Some("ann")))
            .await
            .unwrap();
    }
    let rows = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT count(*) FROM session) + (SELECT count(*) FROM session_owner)",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    assert_eq!(rows().await, 4);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while rows().await != 2 {
        assert!(std::time::Instant::now() < deadline, "never pruned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    assert_eq!(store.sessions_of("ann").await.unwrap(), [long]);
}

/// A write whose caller stops waiting half-way (a timeout, an HTTP client that went away)
/// still ends its transaction: the pool's connection is not left inside a transaction, so
/// every later write works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_dropped_half_way_leaves_no_connection_in_a_transaction() {
    let db = TempDb::new("dropped");
    let store = SqliteStore::builder(db.path())
        .max_connections(1)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let id = SessionId::random().unwrap();
    let Created::Written(version) = store
        .create(&id, Write::new(&numbered(1), later()))
        .await
        .unwrap()
    else {
        panic!("created")
    };
    // Another process holds the write lock, so the save waits in `BEGIN IMMEDIATE`...
    let other = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db.path()))
        .await
        .unwrap();
    let mut blocker = other.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let record = numbered(2);
    let save = store.save(
        &id,
        Write::new(&record, later()).owned_by(Some("ann")),
        &version,
    );
    // ... and its caller gives up.
    assert!(tokio::time::timeout(Duration::from_millis(200), save)
        .await
        .is_err());
    sqlx::query("SELECT 1")
        .execute(&mut *blocker)
        .await
        .unwrap();
    blocker.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The abandoned save completed on its own; the connection is usable for new transactions.
    let current = store.load(&id).await.unwrap().expect("still there");
    assert_eq!(
        current.record.data["n"], 2,
        "the abandoned save ran to its end"
    );
    for n in 3..6 {
        let loaded = store.load(&id).await.unwrap().unwrap();
        let saved = store
            .save(
                &id,
                Write::new(&numbered(n), later()).owned_by(Some("ann")),
                &loaded.version,
            )
            .await
            .unwrap();
        assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
    }
}
