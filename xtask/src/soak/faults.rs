//! The faults, spread over the run: `kill -9` and a restart after a pause, `SIGSTOP` for a
//! while then `SIGCONT`, and `DEBUG SLEEP 1.5` (the server answers nobody meanwhile). They come
//! in turn, one every [`GAP`], and the last one ends at least [`TAIL`] before the end of the
//! run, so that the end of the run shows whether service resumed.

use std::{
    fmt,
    time::{Duration, Instant},
};

use super::redis::Server;
use crate::Result;

/// Time between the starts of two faults.
const GAP: Duration = Duration::from_secs(8);
/// When the first fault starts.
const FIRST: Duration = Duration::from_secs(4);
/// The longest a fault lasts (before a restarted server is ready again).
const LONGEST: Duration = Duration::from_secs(4);
/// Quiet time after the last fault, for service to resume and show it.
const TAIL: Duration = Duration::from_secs(10);

/// The shortest run that meets every kind of fault once.
pub(super) const MIN_SECONDS: u64 =
    FIRST.as_secs() + 2 * GAP.as_secs() + LONGEST.as_secs() + TAIL.as_secs();

/// One fault.
#[derive(Clone, Copy)]
pub(super) enum Fault {
    /// `kill -9`, down for the duration, then a restart that reloads the file.
    Kill(Duration),
    /// `SIGSTOP`, then `SIGCONT` after the duration.
    Stop(Duration),
    /// `DEBUG SLEEP` of this many seconds.
    Sleep(f64),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kill(down) => write!(f, "kill -9, down {:.1} s, restart", down.as_secs_f64()),
            Self::Stop(paused) => write!(f, "SIGSTOP {:.1} s, SIGCONT", paused.as_secs_f64()),
            Self::Sleep(seconds) => write!(f, "DEBUG SLEEP {seconds}"),
        }
    }
}

/// A fault as it happened, in milliseconds since the start of the run.
pub(super) struct Done {
    pub(super) fault: Fault,
    pub(super) start_ms: u64,
    /// When Redis answered again: ready after a restart, continued, or awake.
    pub(super) end_ms: u64,
}

/// The faults of a run of `run`, by start time: in turn a kill, a stop and a sleep, with
/// durations that vary from one occurrence to the next. The first stop outlasts the store's 2 s
/// timeout, so that even the shortest run has commands time out and then run late.
pub(super) fn schedule(run: Duration) -> Vec<(Duration, Fault)> {
    const DOWN_MS: [u64; 3] = [1_000, 3_000, 200];
    const PAUSED_MS: [u64; 4] = [2_500, 1_000, 3_000, 1_500];
    let mut faults = Vec::new();
    let mut at = FIRST;
    let mut turn = 0usize;
    while at + LONGEST + TAIL <= run {
        let nth = turn / 3;
        let fault = match turn % 3 {
            0 => Fault::Kill(Duration::from_millis(DOWN_MS[nth % DOWN_MS.len()])),
            1 => Fault::Stop(Duration::from_millis(PAUSED_MS[nth % PAUSED_MS.len()])),
            _ => Fault::Sleep(1.5),
        };
        faults.push((at, fault));
        at += GAP;
        turn += 1;
    }
    faults
}

/// Plays `faults` against `server`, each at its time after `started`; stops early when a
/// fault cannot be played (a restart that fails), with what happened until then.
pub(super) fn play(
    server: &mut Server,
    faults: &[(Duration, Fault)],
    started: Instant,
) -> (Vec<Done>, Result) {
    let mut done = Vec::new();
    for &(at, fault) in faults {
        std::thread::sleep((started + at).saturating_duration_since(Instant::now()));
        let start_ms = millis(started.elapsed());
        println!("soak: t={:5.1} s  {fault}", start_ms as f64 / 1e3);
        let outcome = match fault {
            Fault::Kill(down) => {
                server.kill();
                std::thread::sleep(down);
                server.restart()
            }
            Fault::Stop(paused) => server.signal("STOP").and_then(|()| {
                std::thread::sleep(paused);
                server.signal("CONT")
            }),
            Fault::Sleep(seconds) => server.debug_sleep(seconds),
        };
        done.push(Done {
            fault,
            start_ms,
            end_ms: millis(started.elapsed()),
        });
        if let Err(reason) = outcome {
            return (done, Err(format!("{fault}: {reason}")));
        }
    }
    (done, Ok(()))
}

/// A duration in whole milliseconds.
pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(run: u64) -> [usize; 3] {
        let mut kinds = [0; 3];
        for (_, fault) in schedule(Duration::from_secs(run)) {
            kinds[match fault {
                Fault::Kill(_) => 0,
                Fault::Stop(_) => 1,
                Fault::Sleep(_) => 2,
            }] += 1;
        }
        kinds
    }

    #[test]
    fn every_fault_comes_once_in_the_shortest_run_and_several_times_in_the_default_one() {
        assert_eq!(kinds(MIN_SECONDS), [1, 1, 1]);
        assert_eq!(kinds(MIN_SECONDS - 1), [1, 1, 0]);
        assert!(kinds(120).iter().all(|&n| n >= 4));
    }
}
