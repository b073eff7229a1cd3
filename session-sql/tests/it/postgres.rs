//! `PostgresStore` on a real PostgreSQL: the conformance suite, and the rows and rules it
//! shares with connect-pg-simple, checked by running connect-pg-simple's own statements
//! beside it.

use std::time::{Duration, SystemTime};

use serde_json::json;
use session_core::{testing::conformance, Created, Saved, SessionId, Store, Version, Write};
use session_sql::PostgresStore;

use crate::support::{numbered, record, Schema};

fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

/// `Math.ceil(ms / 1000)`, what connect-pg-simple sends to `to_timestamp(...)`.
fn node_seconds(t: SystemTime) -> f64 {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    ms.div_ceil(1000) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_store_conformance_suite() {
    let Some(schema) = Schema::create("conformance").await else {
        return;
    };
    conformance::run_all(|| async { schema.store() }).await;
}

#[tokio::test]
async fn passes_the_conformance_suite_with_custom_names_needing_quotes() {
    let Some(schema) = Schema::create("names").await else {
        return;
    };
    let builder = || {
        schema
            .builder()
            .table("Web \"Sessions\"")
            .owner_table("per user")
    };
    conformance::create_then_load_round_trips_verbatim(&builder().build().unwrap()).await;
    conformance::sessions_of_lists_each_users_live_sessions(&builder().build().unwrap()).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    )
    .bind(&schema.name)
    .fetch_all(&schema.admin)
    .await
    .unwrap();
    assert_eq!(tables, ["Web \"Sessions\"", "per user"]);
}

/// What connect-pg-simple reads from our rows, and what we read from its rows.
#[tokio::test]
async fn rows_are_connect_pg_simples_both_ways() {
    let Some(schema) = Schema::create("rows").await else {
        return;
    };
    let store = schema.store();
    store.migrate().await.unwrap();
    let table = schema.table("session");

    // Ours, read with connect-pg-simple's `get`.
    let id = SessionId::random().unwrap();
    let mut written = record(json!({"user": "ann", "n": 1, "ż": "✓"}));
    let expires_at = SystemTime::now() + Duration::from_millis(3_600_500);
    written.cookie.expires = Some(expires_at);
    let Created::Written(version) = store
        .create(&id, Write::new(&written, expires_at).owned_by(Some("ann")))
        .await
        .unwrap()
    else {
        panic!("created")
    };
    let sess: String = sqlx::query_scalar(&format!(
        "SELECT sess::text FROM {table} WHERE sid = $1 AND expire >= to_timestamp($2)"
    ))
    .bind(id.as_str())
    .bind(node_seconds(SystemTime::now()))
    .fetch_one(&schema.admin)
    .await
    .unwrap();
    assert_eq!(
        sess,
        written.to_json().unwrap(),
        "sess is the session JSON verbatim"
    );
    let same_expire: bool = sqlx::query_scalar(&format!(
        "SELECT expire = to_timestamp($2)::timestamp FROM {table} WHERE sid = $1"
    ))
    .bind(id.as_str())
    .bind(node_seconds(expires_at))
    .fetch_one(&schema.admin)
    .await
    .unwrap();
    assert!(same_expire, "expire = to_timestamp(ceil(expires / 1000))");

    // Node's `set` (its statement; node-postgres sends untyped parameters, sqlx typed ones,
    // hence the casts) is a write we see: our save over the old version reports it instead of
    // overwriting it.
    let node = record(json!({"user": "ann", "n": 2, "from": "express"}));
    sqlx::query(&format!(
        "INSERT INTO {table} (sess, expire, sid) SELECT $1::json, to_timestamp($2), $3 \
         ON CONFLICT (sid) DO UPDATE SET sess=$1::json, expire=to_timestamp($2) RETURNING sid"
    ))
    .bind(node.to_json().unwrap())
    .bind(node_seconds(later()))
    .bind(id.as_str())
    .execute(&schema.admin)
    .await
    .unwrap();
    let ours = record(json!({"user": "ann", "n": 2, "from": "rust"}));
    match store
        .save(&id, Write::new(&ours, later()), &version)
        .await
        .unwrap()
    {
        Saved::Changed(current) => assert_eq!(current.record.data, node.data),
        other => panic!("a write by Node must be seen: {other:?}"),
    }
    let loaded = store.load(&id).await.unwrap().expect("Node's row loads");
    assert_eq!(loaded.record.data, node.data);

    // Node's `touch` moves `expire` only: not a new version.
    sqlx::query(&format!(
        "UPDATE {table} SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid"
    ))
    .bind(node_seconds(later() + Duration::from_secs(60)))
    .bind(id.as_str())
    .execute(&schema.admin)
    .await
    .unwrap();
    let touched = store.load(&id).await.unwrap().expect("still there");
    assert_eq!(touched.version, loaded.version, "a touch is not a write");
    assert!(matches!(
        store
            .save(&id, Write::new(&ours, later()), &touched.version)
            .await
            .unwrap(),
        Saved::Written(_)
    ));

    // Node's `destroy` ends it for us, and our listing may still name it: the caller checks.
    sqlx::query(&format!("DELETE FROM {table} WHERE sid = $1"))
        .bind(id.as_str())
        .execute(&schema.admin)
        .await
        .unwrap();
    assert_eq!(store.load(&id).await.unwrap(), None);
    assert_eq!(
        store
            .save(&id, Write::new(&ours, later()), &touched.version)
            .await
            .unwrap(),
        Saved::Gone
    );
}

/// An expired row that nobody pruned yet is not returned, not touched back to life, not saved
/// over; `create` may take its id.
#[tokio::test]
async fn expired_rows_are_dead_before_pruning() {
    let Some(schema) = Schema::create("expired").await else {
        return;
    };
    let store = schema.store();
    store.migrate().await.unwrap();
    let id = SessionId::random().unwrap();
    let old = numbered(1);
    sqlx::query(&format!(
        "INSERT INTO {} (sess, expire, sid) VALUES ($1::json, to_timestamp($2), $3)",
        schema.table("session")
    ))
    .bind(old.to_json().unwrap())
    .bind(node_seconds(SystemTime::now()) - 5.0)
    .bind(id.as_str())
    .execute(&schema.admin)
    .await
    .unwrap();
    assert_eq!(store.load(&id).await.unwrap(), None);
    assert!(!store.touch(&id, later(), None).await.unwrap());
    let stale = Version::from_bytes(&[0; 32]);
    assert_eq!(
        store
            .save(&id, Write::new(&old, later()), &stale)
            .await
            .unwrap(),
        Saved::Gone
    );
    assert!(matches!(
        store
            .create(&id, Write::new(&numbered(2), later()))
            .await
            .unwrap(),
        Created::Written(_)
    ));
    assert_eq!(store.load(&id).await.unwrap().unwrap().record.data["n"], 2);
}

#[tokio::test]
async fn delete_expired_prunes_sessions_and_listings() {
    let Some(schema) = Schema::create("prune").await else {
        return;
    };
    let store = schema.store();
    let soon = SystemTime::now() + Duration::from_millis(1_100);
    let (short, long) = (SessionId::random().unwrap(), SessionId::random().unwrap());
    for (id, at) in [(&short, soon), (&long, later())] {
        store
            .create(id, Write::new(&numbered(1), at).owned_by(Some("ann")))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(store.delete_expired().await.unwrap(), 1);
    let count = |table: &str| {
        let sql = format!("SELECT count(*) FROM {}", schema.table(table));
        let admin = schema.admin.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&admin)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("session").await, 1);
    assert_eq!(count("session_owner").await, 1);
    assert_eq!(store.sessions_of("ann").await.unwrap(), [long]);
}

#[tokio::test]
async fn the_pruning_task_runs_by_itself_and_stops_with_the_store() {
    let Some(schema) = Schema::create("prunetask").await else {
        return;
    };
    let store = schema
        .builder()
        .prune_interval(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let id = SessionId::random().unwrap();
    let soon = SystemTime::now() + Duration::from_millis(900);
    store
        .create(&id, Write::new(&numbered(1), soon))
        .await
        .unwrap();
    let count_sql = format!("SELECT count(*) FROM {}", schema.table("session"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows: i64 = sqlx::query_scalar(&count_sql)
            .fetch_one(&schema.admin)
            .await
            .unwrap();
        if rows == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never pruned");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(store);
}

/// A table that exists is never altered: `migrate` adds no index to a table it did not create.
#[tokio::test]
async fn migrate_leaves_an_existing_table_alone() {
    let Some(schema) = Schema::create("existing").await else {
        return;
    };
    let table = schema.table("session");
    sqlx::raw_sql(&format!(
        "CREATE TABLE {table} (sid varchar PRIMARY KEY, sess json NOT NULL, \
         expire timestamp(6) NOT NULL, extra int)"
    ))
    .execute(&schema.admin)
    .await
    .unwrap();
    let store = schema.store();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = $1 ORDER BY 1",
    )
    .bind(&schema.name)
    .fetch_all(&schema.admin)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "IDX_session_owner_sid",
            "session_owner_pkey",
            "session_pkey"
        ],
        "no index added to the existing table"
    );
    conformance::create_then_load_round_trips_verbatim(&store).await;
}

/// The session's `TimeZone` decides how `to_timestamp(...)` lands in the `timestamp` column;
/// with `time_zone`, our rows match what a Node connection in that zone writes and reads.
#[tokio::test]
async fn a_configured_time_zone_matches_node_connections_in_that_zone() {
    let Some(schema) = Schema::create("zone").await else {
        return;
    };
    let zone = "America/New_York";
    let store = schema.builder().time_zone(zone).build().unwrap();
    let id = SessionId::random().unwrap();
    let expires_at = later();
    store
        .create(&id, Write::new(&numbered(1), expires_at))
        .await
        .unwrap();
    let mut node = schema.admin.acquire().await.unwrap();
    sqlx::query("SELECT set_config('TimeZone', $1, false)")
        .bind(zone)
        .execute(&mut *node)
        .await
        .unwrap();
    let same: bool = sqlx::query_scalar(&format!(
        "SELECT expire = to_timestamp($2)::timestamp FROM {} WHERE sid = $1",
        schema.table("session")
    ))
    .bind(id.as_str())
    .bind(node_seconds(expires_at))
    .fetch_one(&mut *node)
    .await
    .unwrap();
    node.close_on_drop();
    assert!(
        same,
        "both sides put the same wall-clock time in the column"
    );
    assert!(store.load(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_pool_shared_with_the_app_works_too() {
    let Some(schema) = Schema::create("pool").await else {
        return;
    };
    let store = PostgresStore::with_pool(schema.admin.clone())
        .schema(schema.name.as_str())
        .build()
        .unwrap();
    conformance::a_save_over_an_old_version_reports_the_current_record(&store).await;
}

#[tokio::test]
async fn without_touch_on_load_a_load_only_loads() {
    let Some(schema) = Schema::create("notouch").await else {
        return;
    };
    let store = schema.builder().touch_on_load(false).build().unwrap();
    let id = SessionId::random().unwrap();
    store
        .create(&id, Write::new(&numbered(1), later()))
        .await
        .unwrap();
    let lifetimes =
        session_core::Lifetimes::new(Some(Duration::from_secs(60)), Duration::from_secs(86_400));
    let loaded = store.load_and_touch(&id, lifetimes).await.unwrap().unwrap();
    assert!(!loaded.touched);
    conformance::load_and_touch_says_truly_whether_it_touched(&store).await;
}
