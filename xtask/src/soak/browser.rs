//! One browser: a thread with its own connection, session cookie and counters, sending
//! `/bump?key=kN` over its keys in turn, one request at a time, until the run ends. A
//! `200 kN=V` acknowledges the value V of kN. Until it has a cookie, every request starts a
//! new session, so a browser whose first requests failed simply keeps trying.
//!
//! Because a browser waits for each answer, no request of its session is still in the app when
//! it sends the next one (unless the answer never came: a client timeout, reported as a hang).
//! So every acknowledged value must be above the previous one, and the session must keep its
//! cookie; anything else is a lost acknowledged write seen during the run.

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use super::client::{Answer, Client};

/// How long a browser waits for an answer before calling it a hang. The app bounds each store
/// call by 2 s, and a `/bump` makes at most a few.
pub(super) const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// `status` of a request whose connection broke (or could not be made).
pub(super) const BROKEN: u16 = 0;
/// `status` of a request that got no answer within [`CLIENT_TIMEOUT`].
pub(super) const TIMED_OUT: u16 = 1;

/// One request: when it was sent and how long it took (ms since the start of the run), and
/// its status, or [`BROKEN`] / [`TIMED_OUT`].
#[derive(Clone, Copy)]
pub(super) struct Request {
    pub(super) at_ms: u32,
    pub(super) took_ms: u32,
    pub(super) status: u16,
}

/// A session as a browser knows it: its cookie and, per key, what it sent and was told.
pub(super) struct Session {
    /// The session cookie, `name=value`.
    pub(super) cookie: String,
    /// Per key: the highest acknowledged value (0: none).
    pub(super) acked: Vec<u64>,
    /// Per key: how many bumps were sent with this cookie (no stored value can be higher).
    pub(super) sent: Vec<u64>,
}

/// What a browser did and saw.
pub(super) struct Log {
    /// Every request, in order.
    pub(super) requests: Vec<Request>,
    /// Its sessions: one, unless the app lost one and started another (an anomaly). Each is
    /// read back after the run: a lost one shows its acknowledged writes as missing.
    pub(super) sessions: Vec<Session>,
    /// Problems seen during the run, each a line for the report.
    pub(super) anomalies: Vec<String>,
}

/// The name of counter `key`.
pub(super) fn key_name(key: usize) -> String {
    format!("k{key}")
}

/// Runs browser `id` against `addr` with `keys` counters until `deadline` or `stop`.
pub(super) fn run(
    id: usize,
    addr: SocketAddr,
    keys: usize,
    started: Instant,
    deadline: Instant,
    stop: &AtomicBool,
) -> Log {
    let mut client = Client::new(addr, CLIENT_TIMEOUT);
    let mut log = Log {
        requests: Vec::new(),
        sessions: Vec::new(),
        anomalies: Vec::new(),
    };
    let mut turn = 0usize;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        let key = turn % keys;
        turn += 1;
        let name = key_name(key);
        let cookie = log.sessions.last_mut().map(|session| {
            session.sent[key] += 1;
            session.cookie.clone()
        });
        let sent = Instant::now();
        let answer = client.get(&format!("/bump?key={name}"), cookie.as_deref());
        let status = match answer {
            Answer::Reply {
                status,
                cookie,
                body,
            } => {
                if status == 200 {
                    acknowledged(&mut log, id, (key, keys), cookie, &body);
                }
                status
            }
            Answer::TimedOut => TIMED_OUT,
            Answer::Broken => BROKEN,
        };
        log.requests.push(Request {
            at_ms: ms(sent.duration_since(started)),
            took_ms: ms(sent.elapsed()),
            status,
        });
        if status == BROKEN {
            // The app is not there: do not spin.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    log
}

/// Records a `200` to a bump of `key` (of `keys`): its value, and the cookie of a new session.
fn acknowledged(
    log: &mut Log,
    id: usize,
    (key, keys): (usize, usize),
    cookie: Option<String>,
    body: &str,
) {
    let name = key_name(key);
    let value = body
        .strip_prefix(&name)
        .and_then(|rest| rest.strip_prefix('='))
        .and_then(|value| value.parse::<u64>().ok());
    let Some(value) = value else {
        log.anomalies.push(format!(
            "browser {id}: 200 to a bump of {name} with body {body:?}"
        ));
        return;
    };
    let current = log.sessions.last().map(|session| session.cookie.as_str());
    match (current, cookie) {
        // A modified session's cookie is sent again (express-session does too): the same one.
        (Some(current), Some(cookie)) if current == cookie => {}
        (Some(_), None) => {}
        (current, Some(cookie)) => {
            if current.is_some() {
                log.anomalies.push(format!(
                    "browser {id}: 200 {body:?} came with another session's cookie (the session was lost)"
                ));
            }
            let mut sent = vec![0; keys];
            sent[key] = 1;
            log.sessions.push(Session {
                cookie,
                acked: vec![0; keys],
                sent,
            });
        }
        (None, None) => {
            log.anomalies.push(format!(
                "browser {id}: 200 {body:?} to a bump without a cookie sent none"
            ));
            return;
        }
    }
    let Some(session) = log.sessions.last_mut() else {
        return;
    };
    if value <= session.acked[key] {
        log.anomalies.push(format!(
            "browser {id}: {name} acknowledged as {value} after {} was acknowledged",
            session.acked[key]
        ));
    }
    session.acked[key] = session.acked[key].max(value);
}

fn ms(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
