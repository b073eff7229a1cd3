//! What every store call shares: the bound on its time, the classification of its failures,
//! and the background pruning task.

use std::{
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use session_core::StoreError;
use tokio::task::JoinHandle;

use crate::error::{self, Context};

/// The limits a store enforces on its calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The longest a call may take, waiting for a connection included.
    pub(crate) timeout: Duration,
    /// The longest a call waits for a pooled connection.
    pub(crate) acquire_timeout: Duration,
}

/// Runs `call` within the limits: its database errors are classified ([`error::map`]), and a
/// call still running when the timeout passes is dropped (its connection is then tested and
/// closed by the pool) and reported as [`StoreError::Timeout`].
pub(crate) async fn bounded<DB, T, Fut>(
    pool: &sqlx::Pool<DB>,
    limits: Limits,
    call: Fut,
) -> Result<T, StoreError>
where
    DB: sqlx::Database,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    match tokio::time::timeout(limits.timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(cause)) => Err(error::map(
            cause,
            Context {
                timeout: limits.timeout,
                acquire_timeout: limits.acquire_timeout,
                pool_full: pool.size() >= pool.options().get_max_connections(),
                database: DB::NAME,
            },
        )),
        Err(_) => Err(StoreError::Timeout(limits.timeout)),
    }
}

/// Starts the task that calls `prune` on the store every `interval` for as long as the store
/// lives: it holds the store only weakly, between two runs, so dropping the last clone of the
/// store ends it (the store also aborts it on drop).
pub(crate) fn spawn_pruning<T, F, Fut>(
    interval: Duration,
    store: Weak<T>,
    prune: F,
) -> JoinHandle<()>
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, StoreError>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(store) = store.upgrade() else {
                return;
            };
            match prune(store).await {
                Ok(pruned) => tracing::debug!(pruned, "pruned expired sessions"),
                Err(error) => tracing::warn!(%error, "pruning expired sessions failed"),
            }
        }
    })
}
