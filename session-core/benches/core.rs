//! Micro-benchmarks of the core: signing, ids, the memory store, and a whole request's
//! session work without any framework. Run with `cargo xtask bench`.

use std::{
    hint::black_box,
    time::{Duration, SystemTime},
};

use criterion::{criterion_group, criterion_main, Criterion};
use session_core::{
    IdGenerator, Keyring, MemoryStore, Record, RequestFacts, Secret, SessionConfig, SessionId,
    SessionManager, Store, Write,
};

const SECRET: &str = "benchmark secret of at least thirty-two bytes";
const ID: &str = "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn signing(c: &mut Criterion) {
    let keyring = Keyring::new([Secret::from(SECRET)]).expect("secret");
    let rotated = Keyring::new([
        Secret::from("a newer secret, thirty-two bytes long"),
        Secret::from(SECRET),
    ])
    .expect("secrets");
    let signed = keyring.sign(ID);
    c.bench_function("sign", |b| b.iter(|| keyring.sign(black_box(ID))));
    c.bench_function("verify", |b| b.iter(|| keyring.verify(black_box(&signed))));
    c.bench_function("verify (second of two secrets)", |b| {
        b.iter(|| rotated.verify(black_box(&signed)))
    });
    c.bench_function("id generation", |b| {
        b.iter(|| IdGenerator::Random.generate())
    });
}

fn memory_store(c: &mut Criterion) {
    let rt = runtime();
    let store = MemoryStore::new();
    let id = SessionId::from(ID);
    let mut data = serde_json::Map::new();
    data.insert("count".into(), 41.into());
    let record = Record::new(data);
    let later = SystemTime::now() + Duration::from_secs(3600);
    rt.block_on(store.create(&id, Write::new(&record, later)))
        .expect("create");
    c.bench_function("memory store load + conditional save", |b| {
        b.to_async(&rt).iter(|| async {
            // Each save is over the version the last one wrote, as a request's would be.
            let loaded = store
                .load(black_box(&id))
                .await
                .expect("load")
                .expect("stored");
            store
                .save(black_box(&id), Write::new(&record, later), &loaded.version)
                .await
        })
    });
    c.bench_function("memory store load", |b| {
        b.to_async(&rt).iter(|| store.load(black_box(&id)))
    });
    c.bench_function("memory store touch", |b| {
        b.to_async(&rt)
            .iter(|| store.touch(black_box(&id), later, None))
    });
}

/// The `name=value` pair of a session the manager just stored (the visit counter at 0), as a
/// browser would send it back.
async fn stored_session_cookie(manager: &SessionManager) -> String {
    let request = manager.begin([], RequestFacts::plain_http());
    request
        .session()
        .await
        .expect("session")
        .insert("count", 0)
        .expect("insert");
    let set_cookie = request
        .finish()
        .await
        .expect("finish")
        .into_iter()
        .next()
        .expect("cookie");
    set_cookie.split(';').next().expect("pair").to_owned()
}

fn requests(c: &mut Criterion) {
    let rt = runtime();
    let config = SessionConfig::builder()
        .secret(SECRET)
        .max_age(Some(Duration::from_secs(1800)))
        .build()
        .expect("config");
    let manager = SessionManager::new(MemoryStore::new(), config);
    let cookie = rt.block_on(stored_session_cookie(&manager));
    c.bench_function("request: untouched, no cookie", |b| {
        b.to_async(&rt).iter(|| async {
            let request = manager.begin([], RequestFacts::plain_http());
            request.finish().await
        })
    });
    c.bench_function("request: new visitor writes", |b| {
        b.to_async(&rt).iter(|| async {
            let request = manager.begin([], RequestFacts::plain_http());
            request
                .session()
                .await
                .expect("session")
                .insert("count", 0)
                .expect("insert");
            request.finish().await
        })
    });
    c.bench_function("request: returning visitor reads", |b| {
        b.to_async(&rt).iter(|| async {
            let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
            let count: Option<u64> = request
                .session()
                .await
                .expect("session")
                .get("count")
                .expect("get");
            black_box(count);
            request.finish().await
        })
    });
    c.bench_function("request: returning visitor counts", |b| {
        b.to_async(&rt).iter(|| async {
            let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
            let session = request.session().await.expect("session");
            let count = session
                .get::<u64>("count")
                .expect("get")
                .map_or(0, |n| n + 1);
            session.insert("count", count).expect("insert");
            request.finish().await
        })
    });
}

/// The pieces the HTTP profile shows on every request: reading the signed cookie, and the
/// record's JSON both ways (the memory store and Redis keep the JSON).
fn hot_path_pieces(c: &mut Criterion) {
    let config = SessionConfig::builder()
        .secret(SECRET)
        .build()
        .expect("config");
    let manager = SessionManager::new(MemoryStore::new(), config);
    let cookie = runtime().block_on(stored_session_cookie(&manager));
    let header = format!("theme=dark; {cookie}; _ga=GA1.2.3");
    c.bench_function("cookie parse + verify", |b| {
        b.iter(|| {
            let request = manager.begin([header.as_bytes()], RequestFacts::plain_http());
            black_box(request.verified_cookie_id()).expect("verified")
        })
    });
    let mut data = serde_json::Map::new();
    data.insert("count".into(), 41.into());
    let mut record = Record::new(data);
    record.cookie.original_max_age = Some(1_800_000);
    record.cookie.expires = Some(SystemTime::now() + Duration::from_secs(1800));
    let json = record.to_json().expect("encode");
    c.bench_function("record encode (visit counter)", |b| {
        b.iter(|| black_box(&record).to_json())
    });
    c.bench_function("record decode (visit counter)", |b| {
        b.iter(|| Record::from_json(black_box(&json)))
    });
}

criterion_group!(benches, signing, memory_store, requests, hot_path_pieces);
criterion_main!(benches);
