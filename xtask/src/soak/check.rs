//! After the run, with Redis healthy: every browser reads each counter of each of its sessions
//! back with `/peek?key=kN`. A value below the highest acknowledged one (or `none`) is a
//! missing acknowledged write; a value above the number of bumps sent is a write nobody made.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use super::{
    browser::{key_name, Log, CLIENT_TIMEOUT},
    client::{Answer, Client},
};
use crate::Result;

/// How long the read-back may wait for the app to answer `200` again.
const PATIENCE: Duration = Duration::from_secs(15);

/// What the read-back found.
#[derive(Default)]
pub(super) struct ReadBack {
    /// Sessions read.
    pub(super) sessions: usize,
    /// Counters read.
    pub(super) keys: usize,
    /// The sum of the stored values: every bump that took effect.
    pub(super) stored: u64,
    /// Counters whose stored value is below the highest acknowledged one.
    pub(super) missing_keys: usize,
    /// Acknowledged writes missing: the sum of the shortfalls.
    pub(super) missing: u64,
    /// Counters whose stored value is above the number of bumps sent.
    pub(super) phantom: usize,
    /// Browsers that never got a session.
    pub(super) without_session: usize,
    /// One line per counter that is wrong.
    pub(super) lines: Vec<String>,
}

/// Reads every counter of every browser back; `Err` when the app does not answer `200`.
pub(super) fn read_back(addr: SocketAddr, logs: &[Log]) -> Result<ReadBack> {
    let mut client = Client::new(addr, CLIENT_TIMEOUT);
    let mut found = ReadBack::default();
    for (id, log) in logs.iter().enumerate() {
        if log.sessions.is_empty() {
            found.without_session += 1;
        }
        for session in &log.sessions {
            found.sessions += 1;
            for (key, (&acked, &sent)) in session.acked.iter().zip(&session.sent).enumerate() {
                let name = key_name(key);
                let stored = peek(&mut client, &session.cookie, &name)?;
                found.keys += 1;
                let value = stored.unwrap_or(0);
                found.stored += value;
                if value < acked {
                    found.missing_keys += 1;
                    found.missing += acked - value;
                    found.lines.push(format!(
                        "browser {id}: {name} acknowledged {acked}, stored {}",
                        stored.map_or("none".to_owned(), |v| v.to_string())
                    ));
                }
                if value > sent {
                    found.phantom += 1;
                    found.lines.push(format!(
                        "browser {id}: {name} stored {value}, but only {sent} bumps were sent"
                    ));
                }
            }
        }
    }
    Ok(found)
}

/// The stored value of counter `name` (`None` for `name=none`), retrying a non-`200` answer.
fn peek(client: &mut Client, cookie: &str, name: &str) -> Result<Option<u64>> {
    let deadline = Instant::now() + PATIENCE;
    let path = format!("/peek?key={name}");
    loop {
        let last = match client.get(&path, Some(cookie)) {
            Answer::Reply {
                status: 200, body, ..
            } => {
                let value = body
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
                    .ok_or_else(|| format!("GET {path} answered {body:?}"))?;
                return match value {
                    "none" => Ok(None),
                    n => n
                        .parse()
                        .map(Some)
                        .map_err(|_| format!("GET {path} answered {body:?}")),
                };
            }
            Answer::Reply { status, body, .. } => format!("{status} {body:?}"),
            Answer::TimedOut => "no answer".to_owned(),
            Answer::Broken => "a broken connection".to_owned(),
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "after the run, GET {path} still got {last} after {PATIENCE:?}: service did not resume"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
