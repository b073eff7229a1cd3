//! tower-sessions' layer on axum serving the visit counter: the peer as `bench-server`'s
//! `axum-tower-sessions-*` servers run it, and as `bench-requests`' `tower-` scenarios count it
//! (which include this file).

use std::time::Duration;

use axum::{http::StatusCode, routing::get, Router};
use tower_sessions::{cookie::time, Expiry, SessionManagerLayer, SessionStore};

use crate::counter;

/// The counter behind tower-sessions' layer over `store`, expiring after `ttl` of inactivity,
/// with no `Secure` (the benchmarks are plain HTTP).
pub(crate) fn router<S: SessionStore + Clone>(store: S, ttl: Duration) -> Router {
    let ttl = time::Duration::seconds(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(ttl));
    Router::new().route("/", get(visit)).layer(layer)
}

async fn visit(session: tower_sessions::Session) -> Result<String, StatusCode> {
    let failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let count = counter::next(session.get::<u64>("count").await.map_err(failed)?);
    session.insert("count", count).await.map_err(failed)?;
    Ok(counter::body(count))
}
