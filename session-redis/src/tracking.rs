//! The task that keeps a [near cache](crate::NearCache) coherent: it turns client tracking on
//! for every new connection of the store's client and applies the invalidations Redis pushes.

use std::sync::Arc;

use fred::{
    error::Error as ClientError,
    interfaces::{ClientLike, EventInterface, TrackingInterface},
    prelude::Client,
    types::{config::Options, Value},
};
use tokio::{
    sync::broadcast::error::{RecvError, TryRecvError},
    task::JoinHandle,
};

use crate::{
    command,
    near_cache::{Near, ScriptWrites},
    script::Script,
};

/// Starts the task for `client`, whose session keys start with `prefix`. Call it before the
/// client connects, so that its first connection is seen too.
pub(crate) fn start(
    client: &Client,
    near: Arc<Near>,
    prefix: String,
) -> JoinHandle<Result<(), ClientError>> {
    let mut connections = client.reconnect_rx();
    near.listen(client.invalidation_rx());
    // Rings once per invalidation; `near` applies them from its own receiver.
    let mut doorbell = client.invalidation_rx();
    let mut errors = client.error_rx();
    let client = client.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                connection = connections.recv() => match connection {
                    Ok(_) | Err(RecvError::Lagged(_)) => track(&client, &near, &prefix).await,
                    Err(RecvError::Closed) => return Ok(()),
                },
                rung = doorbell.recv() => match rung {
                    Ok(_) | Err(RecvError::Lagged(_)) => near.apply_pending(),
                    Err(RecvError::Closed) => {
                        near.apply_pending();
                        return Ok(());
                    }
                },
                error = errors.recv() => match error {
                    Ok(_) | Err(RecvError::Lagged(_)) => near.drop_all(),
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
        }
    })
}

/// Turns tracking on for the client's new connection and probes how its server treats the
/// store's script writes, the cache staying empty and unused until both are done. A failure
/// leaves the cache unused until the next connection.
async fn track(client: &Client, near: &Near, prefix: &str) {
    let epoch = near.new_connection();
    let tracked = client
        .start_tracking(prefix, true, false, false, true)
        .await;
    match tracked {
        Ok(()) => {
            let script_writes = probe(client, prefix).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "redis script probe failed: saves fill no near cache");
                ScriptWrites::Unknown
            });
            near.tracking_on(epoch, script_writes);
        }
        Err(error) => {
            tracing::warn!(%error, "redis client tracking refused: the near cache stays off until the next connection");
        }
    }
}

/// The probe: a script writes and deletes a key of the tracked prefix (atomically, so nobody
/// ever sees it), then a `PING` follows. Redis sends a script write's invalidation with the
/// script's reply, before it reads the `PING`, and the client hands invalidations out in the
/// order they arrive, so by the `PING`'s reply the probe's invalidation, if there is one, is
/// waiting in `pushes`.
async fn probe(client: &Client, prefix: &str) -> Result<ScriptWrites, ClientError> {
    let mut pushes = client.invalidation_rx();
    let key = format!("{prefix}near-cache-probe:{}", client.id());
    let options = Options::default();
    command::send(client, &options, None, PROBE.eval(key.as_str().into(), [])).await?;
    client.ping::<Value>(None).await?;
    let mut invalidated = false;
    loop {
        match pushes.try_recv() {
            Ok(invalidation) => {
                invalidated |= invalidation.keys.iter().any(|k| k.as_str() == Some(&key));
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Lagged(_) | TryRecvError::Closed) => {
                return Ok(ScriptWrites::Unknown)
            }
        }
    }
    Ok(if invalidated {
        ScriptWrites::Invalidated
    } else {
        ScriptWrites::Spared
    })
}

/// The probe script: a write that leaves nothing behind.
static PROBE: Script =
    Script::new("redis.call('SET', KEYS[1], '1') redis.call('DEL', KEYS[1]) return 1");
