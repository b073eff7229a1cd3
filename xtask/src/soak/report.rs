//! The soak's report: requests and answers by kind, the longest stall, what each fault cost,
//! the read-back, and the reasons the run fails, if any.

use std::time::Duration;

use super::{
    browser::{Log, Request, BROKEN, CLIENT_TIMEOUT, TIMED_OUT},
    check::ReadBack,
    faults::Done,
};

/// The run must end with service resumed: a `200` within this long before its end.
const RESUMED_WITHIN_MS: u64 = 3_000;
/// How many problem lines to print of each kind.
const SHOWN: usize = 10;

/// Answers by kind.
#[derive(Default)]
struct Counts {
    sent: u64,
    ok: u64,
    unavailable: u64,
    internal: u64,
    other_5xx: u64,
    other: u64,
    broken: u64,
    timed_out: u64,
}

impl Counts {
    fn add(&mut self, status: u16) {
        self.sent += 1;
        match status {
            200 => self.ok += 1,
            503 => self.unavailable += 1,
            500 => self.internal += 1,
            BROKEN => self.broken += 1,
            TIMED_OUT => self.timed_out += 1,
            501..=599 => self.other_5xx += 1,
            _ => self.other += 1,
        }
    }
}

/// Everything the report is made of.
pub(super) struct Run<'a> {
    pub(super) seconds: u64,
    pub(super) logs: &'a [Log],
    pub(super) faults: &'a [Done],
    pub(super) read_back: &'a ReadBack,
}

/// Prints the report; returns the reasons the run fails (none: it passed).
pub(super) fn print(run: &Run<'_>) -> Vec<String> {
    let end_ms = run.seconds * 1_000;
    let requests: Vec<Request> = run
        .logs
        .iter()
        .flat_map(|log| log.requests.clone())
        .collect();
    let mut counts = Counts::default();
    requests.iter().for_each(|r| counts.add(r.status));
    let mut served: Vec<u64> = requests
        .iter()
        .filter(|r| r.status == 200)
        .map(done_ms)
        .collect();
    served.sort_unstable();

    println!("soak: what each fault cost (\"back\": the first 200 after Redis answered again)");
    for fault in run.faults {
        println!("soak:   {}", fault_line(fault, &served, &requests));
    }
    let per_second = |n: u64| n as f64 / run.seconds as f64;
    println!(
        "soak: {} requests in {} s ({:.0}/s); 200: {} ({:.0}/s), \
         503: {}, 500: {}, other 5xx: {}, other statuses: {}, connection errors: {}, \
         no answer within {:?}: {}",
        counts.sent,
        run.seconds,
        per_second(counts.sent),
        counts.ok,
        per_second(counts.ok),
        counts.unavailable,
        counts.internal,
        counts.other_5xx,
        counts.other,
        counts.broken,
        CLIENT_TIMEOUT,
        counts.timed_out,
    );
    let (stall_from, stall) = longest_gap(&served, 0, end_ms);
    let slowest = requests.iter().max_by_key(|r| r.took_ms);
    println!(
        "soak: longest stall with no 200 at all: {} (from t={}); slowest request: {}{}",
        secs(stall),
        secs(stall_from),
        slowest.map_or("none".to_owned(), |r| secs(r.took_ms.into())),
        slowest.map_or(String::new(), |r| format!(
            " (sent at t={}, answered {})",
            secs(r.at_ms.into()),
            r.status
        )),
    );
    let rb = run.read_back;
    println!(
        "soak: read back {} counters of {} sessions: they hold {} bumps ({} acknowledged, \
         and {} answered 503 that took effect); acknowledged writes missing: {} (in {} counters); \
         counters above the bumps sent: {}",
        rb.keys,
        rb.sessions,
        rb.stored,
        counts.ok,
        rb.stored.saturating_sub(counts.ok),
        rb.missing,
        rb.missing_keys,
        rb.phantom
    );
    let anomalies: Vec<&String> = run.logs.iter().flat_map(|log| &log.anomalies).collect();
    for line in rb.lines.iter().chain(anomalies.iter().copied()).take(SHOWN) {
        println!("soak:   {line}");
    }
    verdict(run, &counts, &served, anomalies.len())
}

/// The reasons the run fails.
fn verdict(run: &Run<'_>, counts: &Counts, served: &[u64], anomalies: usize) -> Vec<String> {
    let end_ms = run.seconds * 1_000;
    let rb = run.read_back;
    let mut reasons = Vec::new();
    let mut fail = |bad: bool, reason: String| {
        if bad {
            reasons.push(reason);
        }
    };
    fail(
        rb.missing > 0,
        format!("{} acknowledged writes are missing", rb.missing),
    );
    fail(
        rb.phantom > 0,
        format!("{} counters hold writes nobody made", rb.phantom),
    );
    fail(
        anomalies > 0,
        format!("{anomalies} answers contradict earlier ones (a lost session, a value going back)"),
    );
    fail(
        counts.internal > 0,
        format!("{} answers were 500", counts.internal),
    );
    fail(
        counts.other_5xx + counts.other > 0,
        format!(
            "{} answers had an unexpected status",
            counts.other_5xx + counts.other
        ),
    );
    fail(
        counts.timed_out > 0,
        format!(
            "{} requests hung (no answer within {CLIENT_TIMEOUT:?})",
            counts.timed_out
        ),
    );
    fail(
        counts.broken > 0,
        format!("{} requests met a broken connection", counts.broken),
    );
    fail(
        rb.without_session > 0,
        format!("{} browsers never got a session", rb.without_session),
    );
    let last = served.last().copied().unwrap_or(0);
    fail(
        last + RESUMED_WITHIN_MS < end_ms,
        format!(
            "service did not resume: the last 200 came at t={}",
            secs(last)
        ),
    );
    reasons
}

/// One fault: when, what, when Redis and then service were back, and the answers meanwhile.
fn fault_line(fault: &Done, served: &[u64], requests: &[Request]) -> String {
    let resumed = served
        .iter()
        .copied()
        .find(|&t| t >= fault.end_ms)
        .unwrap_or(u64::MAX);
    let (_, stall) = longest_gap(served, fault.start_ms, resumed.min(fault.end_ms + 60_000));
    let mut counts = Counts::default();
    requests
        .iter()
        .filter(|r| (fault.start_ms..=resumed).contains(&done_ms(r)))
        .for_each(|r| counts.add(r.status));
    format!(
        "t={:>8}  {}: Redis answered after {}, service back {} later; no 200 for {}; \
         meanwhile 200: {}, 503: {}, 500: {}, other: {}",
        secs(fault.start_ms),
        fault.fault,
        secs(fault.end_ms - fault.start_ms),
        if resumed == u64::MAX {
            "never".to_owned()
        } else {
            secs(resumed - fault.end_ms)
        },
        secs(stall),
        counts.ok,
        counts.unavailable,
        counts.internal,
        counts.sent - counts.ok - counts.unavailable - counts.internal,
    )
}

/// The longest interval within `from..to` with no time in `served` (sorted), and its start.
fn longest_gap(served: &[u64], from: u64, to: u64) -> (u64, u64) {
    let before = served.iter().copied().rfind(|&t| t <= from);
    let mut previous = before.unwrap_or(from);
    let mut longest = (previous, 0);
    for t in served.iter().copied().filter(|&t| t > from && t <= to) {
        if t - previous > longest.1 {
            longest = (previous, t - previous);
        }
        previous = t;
    }
    if to.saturating_sub(previous) > longest.1 && to != u64::MAX {
        longest = (previous, to - previous);
    }
    longest
}

/// When a request's answer came, in ms since the start of the run.
fn done_ms(request: &Request) -> u64 {
    u64::from(request.at_ms) + u64::from(request.took_ms)
}

fn secs(ms: u64) -> String {
    format!("{:.2} s", Duration::from_millis(ms).as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_gap_counts_the_edges() {
        assert_eq!(longest_gap(&[100, 200, 900, 1_000], 0, 1_100), (200, 700));
        assert_eq!(longest_gap(&[100, 200], 0, 1_000), (200, 800));
        // Before `from`, the last 200 opens the gap that spans `from`.
        assert_eq!(longest_gap(&[100, 500, 600], 300, 600), (100, 400));
        assert_eq!(longest_gap(&[], 0, 50), (0, 50));
    }
}
