//! `cargo xtask bench instructions`: what the session layer costs per request in instructions,
//! counted by callgrind over `session-bench`'s `bench-requests` (requests through the axum
//! router in process, no sockets), written to the instructions section of `bench/RESULTS.md`.
//!
//! A scenario's cost per request is the difference between runs of [`LONG`] and [`SHORT`]
//! requests, divided by the requests between them, so that start-up cancels out. The counts are
//! deterministic but for moka's housekeeping, which runs when its queues fill: the median of
//! [`REPEATS`] such differences is reported.

use std::{collections::BTreeMap, path::Path, process::Command};

use crate::{bench, Result};

/// The budget of issue 13: the layer's instructions per counting returning visitor.
const BUDGET: u64 = 20_000;
const SHORT: u64 = 2_000;
const LONG: u64 = 4_000;
const REPEATS: usize = 3;

/// Each scenario and the bare router's scenario it is measured over: the same requests
/// (a cookie of the same size for a returning visitor, none for a new one).
const PAIRS: [(&str, &str); 4] = [
    ("returning", "bare"),
    ("new", "bare-new"),
    ("cookie-returning", "bare"),
    ("cookie-new", "bare-new"),
];

/// Builds `session-bench` in release, then counts.
pub(crate) fn run(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err(format!(
            "bench instructions takes no arguments, got {}",
            args.join(" ")
        ));
    }
    let release = bench::build_release()?;
    let binary = release.join("bench-requests");
    let mut counted = BTreeMap::new();
    for (scenario, baseline) in PAIRS {
        for name in [scenario, baseline] {
            if !counted.contains_key(name) {
                let count = per_request(&binary, name)?;
                println!("bench instructions: {name}: {count} per request");
                counted.insert(name, count);
            }
        }
    }
    let report = report(&counted);
    println!("\n{report}");
    let text = format!(
        "## Instructions per request\n\n\
         {date}; {machine}; revision {revision}. Command: `cargo xtask bench instructions` \
         (valgrind's callgrind over `bench-requests`, {SHORT} and {LONG} requests, the median \
         of {REPEATS}).\n\n{report}",
        date = bench::now_utc(),
        machine = bench::machine(),
        revision = bench::revision(),
    );
    bench::write_section("instructions", &text)
}

/// The table of scenarios over their baselines, and the budget line.
fn report(counted: &BTreeMap<&str, u64>) -> String {
    let mut out = String::from(
        "| scenario | instructions per request | bare router, same requests | the session layer |\n\
         |---|---:|---:|---:|\n",
    );
    for (scenario, baseline) in PAIRS {
        let (ours, bare) = (counted[scenario], counted[baseline]);
        let layer = ours.saturating_sub(bare);
        out.push_str(&format!(
            "| {scenario} | {ours} | {bare} ({baseline}) | {layer} |\n"
        ));
    }
    let layer = counted["returning"].saturating_sub(counted["bare"]);
    let verdict = if layer <= BUDGET { "met" } else { "not met" };
    out.push_str(&format!(
        "\nBudget: the session layer adds at most {BUDGET} instructions per counting returning \
         visitor (memory store, axum): {layer}, {verdict}.\n"
    ));
    out
}

/// The instructions one request of `scenario` costs: the median over [`REPEATS`].
fn per_request(binary: &Path, scenario: &str) -> Result<u64> {
    let mut costs = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        let short = count(binary, scenario, SHORT)?;
        let long = count(binary, scenario, LONG)?;
        costs.push(long.saturating_sub(short) / (LONG - SHORT));
    }
    costs.sort_unstable();
    Ok(costs[REPEATS / 2])
}

/// The instructions a whole run of `requests` requests of `scenario` executes.
fn count(binary: &Path, scenario: &str, requests: u64) -> Result<u64> {
    let out_file = std::env::temp_dir().join(format!(
        "bench-instructions-{}-{scenario}-{requests}.out",
        std::process::id()
    ));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(binary)
        .args([scenario, &requests.to_string()])
        .output()
        .map_err(|e| {
            format!("cannot run valgrind ({e}); install it (apt-get install valgrind) to count instructions")
        })?;
    let _ = std::fs::remove_file(&out_file);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "callgrind over bench-requests {scenario} {requests} failed ({}): {}",
            output.status,
            stderr.trim()
        ));
    }
    collected(&stderr).ok_or_else(|| {
        format!(
            "callgrind printed no `Collected` total for {scenario}: {}",
            stderr.trim()
        )
    })
}

/// The total of callgrind's `==PID== Collected : N` line.
fn collected(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|line| line.split_once("Collected :"))
        .and_then(|(_, total)| total.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_of_callgrind() {
        let stderr = "==12172== Events    : Ir\n==12172== Collected : 235388079\n==12172==\n";
        assert_eq!(collected(stderr), Some(235_388_079));
        assert_eq!(collected("==1== nothing here"), None);
    }

    #[test]
    fn reports_each_scenario_over_its_baseline_and_the_budget() {
        let counted = BTreeMap::from([
            ("returning", 52_000),
            ("bare", 7_000),
            ("new", 30_000),
            ("bare-new", 6_000),
            ("cookie-returning", 46_000),
            ("cookie-new", 28_000),
        ]);
        let report = report(&counted);
        assert!(
            report.contains("| returning | 52000 | 7000 (bare) | 45000 |"),
            "{report}"
        );
        assert!(
            report.contains("| new | 30000 | 6000 (bare-new) | 24000 |"),
            "{report}"
        );
        assert!(report.contains(": 45000, not met."), "{report}");
    }
}
