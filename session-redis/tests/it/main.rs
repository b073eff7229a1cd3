//! session-redis against a real Redis: the store conformance suite on the shared Redis of
//! `REDIS_URL` and on a private one-node Redis Cluster, connect-redis's record format and
//! TTLs, conditional saves against what an Express app writes, the commands and round trips
//! each call costs, the user index, fault tests against a private `redis-server` that the
//! tests kill, pause and restart, the same faults seen over HTTP through the axum
//! reference app, and scale-out on a private 3-master Redis Cluster and a private Sentinel
//! set-up (conformance, scenarios, and a failover under load).
//!
//! Without `REDIS_URL` (or without `redis-server` and `redis-cli` for the private-server tests) each test
//! prints a notice and passes, unless `SESSION_REQUIRE_SERVICES=1`.

mod conditional;
mod conformance;
mod faults;
mod format;
mod http;
mod index;
mod near_cache;
mod own_client;
mod scale_out;
mod support;
mod topology;
