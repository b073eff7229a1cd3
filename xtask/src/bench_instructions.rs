//! `cargo xtask bench instructions`: what the session layer costs per request in instructions,
//! counted by callgrind over `session-bench`'s `bench-requests` (requests through the axum
//! router in process, no sockets), written to the instructions section of `bench/RESULTS.md`.
//!
//! A scenario's cost per request is the difference between runs of [`LONG`] and [`SHORT`]
//! requests, divided by the requests between them, so that start-up cancels out. The counts are
//! deterministic but for moka's housekeeping, which runs when its queues fill: the median of
//! [`REPEATS`] such differences is reported.
//!
//! The share of SHA-256 (the HMAC of the signed cookie) is reported apart: valgrind hides the
//! CPU's SHA extensions, so under callgrind `sha2` compresses in software, several thousand
//! instructions per block that the hardware path does in a few hundred.

use std::{collections::BTreeMap, path::Path, process::Command};

use crate::{bench, Result};

/// The budget of issue 13: the layer's instructions per counting returning visitor.
const BUDGET: u64 = 20_000;
const SHORT: u64 = 2_000;
const LONG: u64 = 4_000;
const REPEATS: usize = 3;

/// Each scenario and the bare router's scenario it is measured over: the same requests
/// (a cookie of the same size for a returning visitor, none for a new one). The `tower-`
/// scenarios are the peer, tower-sessions over its moka store, in the same harness.
const PAIRS: [(&str, &str); 6] = [
    ("returning", "bare"),
    ("new", "bare-new"),
    ("cookie-returning", "bare"),
    ("cookie-new", "bare-new"),
    ("tower-returning", "bare-tower"),
    ("tower-new", "bare-new"),
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
                println!(
                    "bench instructions: {name}: {} per request, {} of them SHA-256",
                    count.total, count.sha256
                );
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

/// Instructions per request: all of them, and those inside SHA-256's compression function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count {
    total: u64,
    sha256: u64,
}

/// The table of scenarios over their baselines, and the budget line.
fn report(counted: &BTreeMap<&str, Count>) -> String {
    let mut out = String::from(
        "| scenario | instructions per request | bare router, same requests | the session layer | of which SHA-256 in software |\n\
         |---|---:|---:|---:|---:|\n",
    );
    let layer_of = |scenario: &str, baseline: &str| {
        counted[scenario]
            .total
            .saturating_sub(counted[baseline].total)
    };
    for (scenario, baseline) in PAIRS {
        let (ours, bare) = (counted[scenario], counted[baseline]);
        out.push_str(&format!(
            "| {scenario} | {} | {} ({baseline}) | {} | {} |\n",
            ours.total,
            bare.total,
            layer_of(scenario, baseline),
            ours.sha256
        ));
    }
    let returning = counted["returning"];
    let layer = layer_of("returning", "bare");
    let verdict = if layer <= BUDGET { "met" } else { "not met" };
    out.push_str(&format!(
        "\nBudget: the session layer adds at most {BUDGET} instructions per counting returning \
         visitor (memory store, axum): {layer}, {verdict} ({} without the software SHA-256 that \
         callgrind sees instead of the CPU's SHA extensions).\n",
        layer.saturating_sub(returning.sha256)
    ));
    out.push_str(&format!(
        "\nAgainst the peer in the same harness (tower-sessions over its moka store, \
         `tower-` rows): {} of its layer's instructions per returning visitor, {} per new \
         visitor.\n",
        ratio(layer, layer_of("tower-returning", "bare-tower")),
        ratio(
            layer_of("new", "bare-new"),
            layer_of("tower-new", "bare-new")
        ),
    ));
    out
}

/// `ours` over `theirs`, as `0.91×` (or `–` when `theirs` is zero).
fn ratio(ours: u64, theirs: u64) -> String {
    if theirs == 0 {
        return "–".to_owned();
    }
    format!("{:.2}×", ours as f64 / theirs as f64)
}

/// The instructions one request of `scenario` costs: the median over [`REPEATS`] (by total).
fn per_request(binary: &Path, scenario: &str) -> Result<Count> {
    let mut costs = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        let short = count(binary, scenario, SHORT)?;
        let long = count(binary, scenario, LONG)?;
        let per = |of: fn(&Count) -> u64| of(&long).saturating_sub(of(&short)) / (LONG - SHORT);
        costs.push(Count {
            total: per(|c| c.total),
            sha256: per(|c| c.sha256),
        });
    }
    costs.sort_unstable_by_key(|count| count.total);
    Ok(costs[REPEATS / 2])
}

/// The instructions a whole run of `requests` requests of `scenario` executes.
fn count(binary: &Path, scenario: &str, requests: u64) -> Result<Count> {
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
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let _ = std::fs::remove_file(&out_file);
        return Err(format!(
            "callgrind over bench-requests {scenario} {requests} failed ({}): {}",
            output.status,
            stderr.trim()
        ));
    }
    let sha256 = sha256_instructions(&out_file);
    let _ = std::fs::remove_file(&out_file);
    let total = collected(&stderr).ok_or_else(|| {
        format!(
            "callgrind printed no `Collected` total for {scenario}: {}",
            stderr.trim()
        )
    })?;
    Ok(Count {
        total,
        sha256: sha256?,
    })
}

/// The instructions spent in SHA-256's compression function (inclusive), from
/// `callgrind_annotate`'s view of the profile `out_file`.
fn sha256_instructions(out_file: &Path) -> Result<u64> {
    let output = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(out_file)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate (part of valgrind): {e}"))?;
    Ok(inclusive_cost(
        &String::from_utf8_lossy(&output.stdout),
        ":sha2::sha256::compress256 [",
    ))
}

/// The first cost `callgrind_annotate` gives a function whose line contains `function`
/// (`  1,234 (0.5%)  file:function [object]`), or 0 when it never ran.
fn inclusive_cost(annotated: &str, function: &str) -> u64 {
    annotated
        .lines()
        .find(|line| line.contains(function))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|cost| cost.replace(',', "").parse().ok())
        .unwrap_or(0)
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
    fn reads_the_inclusive_cost_of_a_function() {
        let annotated = "--\n\
            235,388,079 (100.0%)  PROGRAM TOTALS\n\
            27,836,907 (11.83%)  /x/sha256.rs:sha2::sha256::compress256 [/t/bench-requests]\n\
            13,313,978 ( 5.66%)  /x/soft.rs:sha2::sha256::compress256\n";
        let function = ":sha2::sha256::compress256 [";
        assert_eq!(inclusive_cost(annotated, function), 27_836_907);
        assert_eq!(inclusive_cost("PROGRAM TOTALS", function), 0);
    }

    #[test]
    fn reports_each_scenario_over_its_baseline_and_the_budget() {
        let count = |total, sha256| Count { total, sha256 };
        let counted = BTreeMap::from([
            ("returning", count(52_000, 7_000)),
            ("bare", count(7_000, 0)),
            ("new", count(30_000, 7_000)),
            ("bare-new", count(6_000, 0)),
            ("cookie-returning", count(46_000, 0)),
            ("cookie-new", count(28_000, 0)),
            ("tower-returning", count(57_000, 0)),
            ("bare-tower", count(7_000, 0)),
            ("tower-new", count(30_000, 0)),
        ]);
        let report = report(&counted);
        let row = "| returning | 52000 | 7000 (bare) | 45000 | 7000 |";
        assert!(report.contains(row), "{report}");
        let row = "| new | 30000 | 6000 (bare-new) | 24000 | 7000 |";
        assert!(report.contains(row), "{report}");
        assert!(
            report.contains(": 45000, not met (38000 without"),
            "{report}"
        );
        let peer = "0.90× of its layer's instructions per returning visitor, 1.00× per new";
        assert!(report.contains(peer), "{report}");
    }
}
