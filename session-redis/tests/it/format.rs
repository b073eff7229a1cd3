//! connect-redis's record format and TTL rules, checked by reading Redis directly.

use std::time::{Duration, SystemTime};

use fred::prelude::{Client, KeysInterface};
use serde_json::{json, Value};
use session_core::{
    Created, Lifetimes, Record, SameSite, Saved, SessionId, Store, StoreError, Write,
};

use crate::support::{
    admin, clean, create, new_id, record, shared_url, store, unique_prefix, version_of,
    PrivateRedis,
};

fn id() -> SessionId {
    new_id()
}

async fn raw(client: &Client, key: &str) -> Option<String> {
    client.get(key).await.expect("GET")
}

async fn ttl(client: &Client, key: &str) -> i64 {
    client.ttl(key).await.expect("TTL")
}

/// A session written the way connect-redis writes it (`SET key JSON.stringify(sess) EX ttl`):
/// app keys come back intact, and the record is written back verbatim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_node_wrote_round_trips_verbatim() {
    let Some(url) = shared_url("a_session_node_wrote_round_trips_verbatim") else {
        return;
    };
    let prefix = unique_prefix("node-format");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let id = id();
    let key = format!("{prefix}{}", id.as_str());
    // Byte for byte what express-session 1.19 + connect-redis 9 store after a Passport login
    // (app keys here in the order serde_json keeps them: sorted).
    let node = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2099-11-14T23:13:20.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"csrfSecret":"5Xk1-2t7","flash":{},"passport":{"user":{"id":7,"roles":["admin","ops"]}},"user":"alice"}"#;
    let _: () = client
        .set(
            &key,
            node,
            Some(fred::types::Expiration::EX(3600)),
            None,
            false,
        )
        .await
        .expect("SET");

    let loaded = store.load(&id).await.expect("load").expect("present");
    assert_eq!(loaded.version, version_of(node.as_bytes()));
    let record = loaded.record;
    assert_eq!(record.data["user"], "alice");
    assert_eq!(record.data["passport"]["user"]["roles"][1], "ops");
    assert_eq!(record.data["csrfSecret"], "5Xk1-2t7");
    assert_eq!(record.data["flash"], json!({}));
    assert_eq!(record.cookie.original_max_age, Some(3_600_000));
    assert_eq!(record.cookie.same_site, Some(SameSite::Lax));

    let expires_at = SystemTime::now() + Duration::from_secs(3600);
    let saved = store
        .save(&id, Write::new(&record, expires_at), &loaded.version)
        .await
        .expect("save");
    // The same bytes: the same version.
    assert_eq!(saved, Saved::Written(loaded.version));
    assert_eq!(raw(&client, &key).await.as_deref(), Some(node));

    // In Node's own key order (cookie first, app keys in insertion order) the JSON value is
    // kept; only the order of keys may differ.
    let unordered = r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"user":"bob","passport":{"user":3},"count":2}"#;
    let _: () = client
        .set(
            &key,
            unordered,
            Some(fred::types::Expiration::EX(60)),
            None,
            false,
        )
        .await
        .expect("SET");
    let loaded = store.load(&id).await.expect("load").expect("present");
    let write = Write::new(&loaded.record, expires_at);
    let saved = store.save(&id, write, &loaded.version).await.expect("save");
    assert!(matches!(saved, Saved::Written(_)), "{saved:?}");
    let written: Value =
        serde_json::from_str(&raw(&client, &key).await.expect("present")).expect("json");
    assert_eq!(
        written,
        serde_json::from_str::<Value>(unordered).expect("json")
    );

    clean(&url, &prefix).await;
}

/// Key = prefix + id, value = `Record::to_json` and nothing else (no version anywhere), `EX` =
/// ceil of the seconds left; touch moves only the TTL and keeps the version; create never
/// overwrites.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_values_and_ttls_follow_connect_redis() {
    let Some(url) = shared_url("keys_values_and_ttls_follow_connect_redis") else {
        return;
    };
    let prefix = unique_prefix("ttl");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let id = id();
    let key = format!("{prefix}{}", id.as_str());
    assert_eq!(store.key(&id), key);

    let mut record = record(json!({"user": "alice"}));
    let expires_at = SystemTime::now() + Duration::from_secs(3600);
    record.cookie.original_max_age = Some(3_600_000);
    record.cookie.expires = Some(expires_at);
    let version = create(&store, &id, &record, expires_at, None).await;
    let written = raw(&client, &key).await.expect("created");
    assert_eq!(written, record.to_json().expect("json"));
    assert_eq!(version, version_of(written.as_bytes()));
    let after_create = ttl(&client, &key).await;
    assert!(
        (3599..=3600).contains(&after_create),
        "TTL after create: {after_create}"
    );

    assert!(store
        .touch(&id, SystemTime::now() + Duration::from_secs(7200), None)
        .await
        .expect("touch"));
    let after_touch = ttl(&client, &key).await;
    assert!(
        (7199..=7200).contains(&after_touch),
        "TTL after touch: {after_touch}"
    );
    assert_eq!(
        raw(&client, &key).await.as_deref(),
        Some(written.as_str()),
        "touch must not rewrite the value (its cookie.expires goes stale)"
    );
    let loaded = store.load(&id).await.expect("load").expect("present");
    assert_eq!(loaded.version, version, "a touch is not a write");

    let other = record_of("mallory");
    assert_eq!(
        store
            .create(&id, Write::new(&other, expires_at))
            .await
            .expect("create"),
        Created::IdTaken
    );
    assert_eq!(raw(&client, &key).await.as_deref(), Some(written.as_str()));

    // A save writes Record::to_json and nothing else, with SET ... EX.
    let mut changed = record.clone();
    changed.data.insert("count".into(), json!(1));
    let Saved::Written(new_version) = store
        .save(&id, Write::new(&changed, expires_at), &version)
        .await
        .expect("save")
    else {
        panic!("a save over the created version is written");
    };
    let saved = raw(&client, &key).await.expect("saved");
    assert_eq!(saved, changed.to_json().expect("json"), "no version inside");
    assert_eq!(new_version, version_of(saved.as_bytes()));
    assert!((3599..=3600).contains(&ttl(&client, &key).await));
    let mut scanned: Vec<String> = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let (next, keys): (String, Vec<String>) = client
            .scan_page(cursor, format!("{prefix}*"), Some(1000), None)
            .await
            .expect("scan");
        scanned.extend(keys);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(
        scanned,
        std::slice::from_ref(&key),
        "one key per session, nothing beside it"
    );

    store.delete(&id).await.expect("delete");
    assert_eq!(raw(&client, &key).await, None);
    // Create writes with SET NX EX.
    create(
        &store,
        &id,
        &record,
        SystemTime::now() + Duration::from_secs(90),
        None,
    )
    .await;
    assert!((89..=90).contains(&ttl(&client, &key).await));

    clean(&url, &prefix).await;
}

fn record_of(user: &str) -> Record {
    record(json!({ "user": user }))
}

/// After a connect-redis touch the stored `cookie.expires` is in the past while the key lives:
/// the session is still loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_cookie_expires_is_not_an_expiry() {
    let Some(url) = shared_url("a_stale_cookie_expires_is_not_an_expiry") else {
        return;
    };
    let prefix = unique_prefix("stale");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let id = id();
    let stale = r#"{"cookie":{"originalMaxAge":60000,"expires":"2001-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"user":"carol"}"#;
    let _: () = client
        .set(
            format!("{prefix}{}", id.as_str()),
            stale,
            Some(fred::types::Expiration::EX(60)),
            None,
            false,
        )
        .await
        .expect("SET");
    let loaded = store.load(&id).await.expect("load").expect("alive");
    assert_eq!(loaded.record.data["user"], "carol");
    clean(&url, &prefix).await;
}

/// Values that are not a session are typed errors, never "not found".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_are_not_sessions_are_corrupt() {
    let Some(url) = shared_url("values_that_are_not_sessions_are_corrupt") else {
        return;
    };
    let prefix = unique_prefix("corrupt");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    for value in [&b"not json"[..], br#"{"user":"no cookie"}"#, b"\xff\xfe"] {
        let id = id();
        let _: () = client
            .set(
                format!("{prefix}{}", id.as_str()),
                value,
                Some(fred::types::Expiration::EX(60)),
                None,
                false,
            )
            .await
            .expect("SET");
        assert!(matches!(store.load(&id).await, Err(StoreError::Corrupt(_))));
        let lifetimes = Lifetimes::new(None, Duration::from_secs(60));
        assert!(matches!(
            store.load_and_touch(&id, lifetimes).await,
            Err(StoreError::Corrupt(_))
        ));
    }
    clean(&url, &prefix).await;
}

/// Touch is `EXPIRE` and never a `SET`; load is one `GET`; a save is one `EVALSHA` (whose
/// script reads and writes the key) and never a bare `SET`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touch_sends_expire_and_never_set() {
    let Some(redis) = PrivateRedis::start("touch_sends_expire_and_never_set") else {
        return;
    };
    let store = store(&redis.url(), "sess:");
    let id = id();
    let record = record(json!({"n": 1}));
    let version = create(
        &store,
        &id,
        &record,
        SystemTime::now() + Duration::from_secs(60),
        None,
    )
    .await;
    redis.command(&["CONFIG", "RESETSTAT"]);
    assert!(store
        .touch(&id, SystemTime::now() + Duration::from_secs(600), None)
        .await
        .expect("touch"));
    assert_eq!(redis.calls("expire"), 1);
    assert_eq!(redis.calls("set"), 0);
    assert_eq!(redis.calls("get"), 0);
    assert_eq!(redis.calls("zadd"), 0, "no owner, no index");
    let loaded = store.load(&id).await.expect("load").expect("present");
    assert_eq!(redis.calls("get"), 1);
    assert_eq!(loaded.version, version);
    // The first save on a fresh server finds no cached script and sends it (EVAL); the next
    // ones are one EVALSHA each.
    let later = || Write::new(&record, SystemTime::now() + Duration::from_secs(60));
    let saved = store.save(&id, later(), &version).await.expect("save");
    assert_eq!(saved, Saved::Written(version), "same bytes, same version");
    redis.command(&["CONFIG", "RESETSTAT"]);
    let saved = store.save(&id, later(), &version).await.expect("save");
    assert_eq!(saved, Saved::Written(version));
    assert_eq!((redis.calls("evalsha"), redis.calls("eval")), (1, 0));
    let ttl = redis.command(&["TTL", &format!("sess:{}", id.as_str())]);
    assert_eq!(ttl.trim(), ":60");
}

/// A read-only request's load is one round trip (`GET` and `PTTL`, sent together) that sends no
/// `EXPIRE` and never rewrites the value. A session whose TTL is within the slack
/// (`touch_after`, at most a tenth of the lifetime) of its own lifetime (the usual one, its
/// own "remember me" one, or the browser-session TTL) counts as touched; one whose TTL has
/// run down further does not, and the request's end touches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_reads_the_ttl_and_skips_a_fresh_touch() {
    let Some(redis) = PrivateRedis::start("a_load_reads_the_ttl_and_skips_a_fresh_touch") else {
        return;
    };
    let store = store(&redis.url(), "sess:");
    let key = |id: &SessionId| format!("sess:{}", id.as_str());
    let mut record = record(json!({"n": 1}));
    let lifetimes = Lifetimes::new(Some(Duration::from_secs(600)), Duration::from_secs(86_400));
    let in_secs = |s| SystemTime::now() + Duration::from_secs(s);
    let mut cases = Vec::new();
    for (own_ms, ttl, fresh) in [
        (Some(600_000), 600, true),
        (Some(600_000), 541, true),
        (Some(600_000), 530, false),
        (Some(120_000), 120, true),
        (Some(120_000), 100, false),
        (None, 86_400, true),
        (None, 600, false),
    ] {
        record.cookie.original_max_age = own_ms;
        let id = id();
        let version = create(&store, &id, &record, in_secs(ttl), None).await;
        cases.push((id, version, ttl, fresh));
    }
    for (id, version, ttl, fresh) in &cases {
        let before = redis.command(&["GET", &key(id)]);
        redis.command(&["CONFIG", "RESETSTAT"]);
        let loaded = store
            .load_and_touch(id, lifetimes)
            .await
            .expect("load")
            .expect("present");
        assert_eq!(loaded.touched, *fresh, "TTL {ttl}");
        assert_eq!(loaded.version, *version, "the version is the value's");
        assert_eq!((redis.calls("get"), redis.calls("pttl")), (1, 1));
        assert_eq!(
            (
                redis.calls("expire"),
                redis.calls("set"),
                redis.calls("evalsha")
            ),
            (0, 0, 0)
        );
        assert_eq!(
            redis.command(&["GET", &key(id)]),
            before,
            "value not rewritten"
        );
    }
    assert_eq!(
        store
            .load_and_touch(&id(), lifetimes)
            .await
            .expect("missing"),
        None
    );
}

/// With `touch_after(Duration::ZERO)` every read-only request touches: a load never reports
/// a touch it did not make.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_slack_every_load_leaves_the_touch_to_the_request() {
    let Some(url) = shared_url("without_a_slack_every_load_leaves_the_touch_to_the_request") else {
        return;
    };
    let prefix = unique_prefix("touch-zero");
    let store = session_redis::RedisStore::builder(&url)
        .prefix(&prefix)
        .touch_after(Duration::ZERO)
        .build()
        .expect("store");
    let id = id();
    let mut record = record(json!({"n": 1}));
    record.cookie.original_max_age = Some(600_000);
    create(
        &store,
        &id,
        &record,
        SystemTime::now() + Duration::from_secs(600),
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let lifetimes = Lifetimes::new(Some(Duration::from_secs(600)), Duration::from_secs(86_400));
    let loaded = store.load_and_touch(&id, lifetimes).await.expect("load");
    assert!(!loaded.expect("present").touched);
    clean(&url, &prefix).await;
}

/// A value that does not start like a session (garbage, or JSON some other writer laid out
/// differently) is never given a fresh lifetime by a load: a corrupt record fails every
/// request (500) but still expires when it was going to, and one that decodes is touched at
/// the request's end, once its lifetime is known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_never_extends_what_it_cannot_read() {
    let Some(redis) = PrivateRedis::start("a_load_never_extends_what_it_cannot_read") else {
        return;
    };
    let store = store(&redis.url(), "sess:");
    let lifetimes = Lifetimes::new(Some(Duration::from_secs(600)), Duration::from_secs(86_400));
    let (garbage, reordered) = (id(), id());
    let key = |id: &SessionId| format!("sess:{}", id.as_str());
    redis.command(&["SET", &key(&garbage), "not a session", "EX", "30"]);
    let other_order = r#"{"user":"ann","cookie":{"originalMaxAge":600000,"expires":null,"httpOnly":true,"path":"/"}}"#;
    redis.command(&["SET", &key(&reordered), other_order, "EX", "30"]);

    for _ in 0..2 {
        let failed = store.load_and_touch(&garbage, lifetimes).await;
        assert!(matches!(failed, Err(StoreError::Corrupt(_))), "{failed:?}");
    }
    let ttl: i64 = redis.command(&["TTL", &key(&garbage)]).trim()[1..]
        .parse()
        .expect("a TTL");
    assert!(
        (1..=30).contains(&ttl),
        "a corrupt record was extended: {ttl}"
    );

    let loaded = store
        .load_and_touch(&reordered, lifetimes)
        .await
        .expect("load")
        .expect("present");
    assert!(!loaded.touched, "left to the request's end");
    assert_eq!(loaded.record.data["user"], "ann");
}
