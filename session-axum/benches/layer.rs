//! One in-process request through the axum router with the session layer, against the same
//! router without it. Run with `cargo xtask bench`.

use std::time::Duration;

use axum::{body::Body, http::Request, routing::get, Router};
use criterion::{criterion_group, criterion_main, Criterion};
use session_axum::{Session, SessionError, SessionLayer};
use session_core::{MemoryStore, SessionConfig, SessionManager};
use tower::ServiceExt;

async fn visit(session: Session) -> Result<String, SessionError> {
    let count = session.get::<u64>("count")?.map_or(0, |n| n + 1);
    session.insert("count", count)?;
    Ok(format!("count={count}"))
}

fn request(cookie: Option<&str>) -> Request<Body> {
    let builder = Request::get("/");
    let builder = match cookie {
        Some(cookie) => builder.header("cookie", cookie),
        None => builder,
    };
    builder.body(Body::empty()).expect("request")
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = SessionConfig::builder()
        .secret("benchmark secret of at least thirty-two bytes")
        .max_age(Some(Duration::from_secs(1800)))
        .build()
        .expect("config");
    let bare: Router = Router::new().route("/", get(|| async { "count=0" }));
    let with_sessions = Router::new()
        .route("/", get(visit))
        .layer(SessionLayer::new(SessionManager::new(
            MemoryStore::new(),
            config,
        )));
    let cookie = rt.block_on(async {
        let response = with_sessions
            .clone()
            .oneshot(request(None))
            .await
            .expect("response");
        let header = response.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        header.split(';').next().expect("pair").to_owned()
    });

    let mut group = c.benchmark_group("axum request");
    group.bench_function("bare router", |b| {
        b.to_async(&rt).iter(|| bare.clone().oneshot(request(None)))
    });
    group.bench_function("sessions: new visitor", |b| {
        b.to_async(&rt)
            .iter(|| with_sessions.clone().oneshot(request(None)))
    });
    group.bench_function("sessions: returning visitor", |b| {
        b.to_async(&rt)
            .iter(|| with_sessions.clone().oneshot(request(Some(&cookie))))
    });
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
