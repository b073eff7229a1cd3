//! `cargo xtask bench http`: the side-by-side HTTP benchmark of issue 5.
//!
//! Every server of `session-bench`'s `bench-server` (ours on each store and in cookie mode,
//! the bare framework and the peers, on axum, actix-web, warp and Rocket) is built in release
//! and loaded with wrk on loopback in three scenarios: a new visitor (no cookie), a returning
//! visitor (one valid cookie on every request) and a returning pool
//! ([`POOL`](settings::POOL) valid cookies, round robin). Each (server, scenario) gets a
//! fresh server process, so that its peak RSS is its own, a warm-up run and a measured run
//! with the same settings for every server. The table (requests/s, the ratio to the same
//! framework's bare server, p99 latency, peak RSS) goes to `bench/RESULTS.md` with the date,
//! machine, load, command and crate versions, followed by the memory per session
//! ([`bench_memory`]).
//!
//! `cargo xtask bench http [--warmup S] [--duration S] [SERVER...]` runs only the servers
//! whose names contain one of the `SERVER` words, or with other durations; such partial runs
//! print their table but leave `bench/RESULTS.md` alone.
//!
//! The parts: `settings.rs` (the command line and the scenarios), `servers.rs` (the servers,
//! the services they need, starting one), `cookies.rs` (each scenario's cookies, checked on
//! the server), `wrk.rs` (running wrk and reading its output), `procfs.rs` (CPU and peak RSS
//! from `/proc`), `measure.rs` (one (server, scenario) from start to outcome) and `report.rs`
//! (the progress lines and the Markdown table).

mod cookies;
mod measure;
mod procfs;
mod report;
mod servers;
mod settings;
mod wrk;

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use crate::{bench, bench_memory, smoke::target_dir, Result};

use self::{
    measure::{Bench, Row},
    report::Context,
    servers::Services,
    settings::{Scenario, Settings},
};

/// Seconds per (server, scenario) beyond wrk (start, cookies, checks), for the estimate.
const OVERHEAD_SECS: u32 = 1;
/// Repeats stop when they would take a full run past this many seconds.
const MAX_TOTAL_SECS: u32 = 14 * 60;

/// Runs the benchmark; see the module docs.
pub(crate) fn run(args: &[String]) -> Result {
    let settings = Settings::parse(args)?;
    let wrk_version = wrk::version()?;
    // What is built and measured: read before building, as others may commit meanwhile.
    let revision = bench::revision();
    let release = bench::build_release()?;
    let server_bin = release.join("bench-server");
    let mut servers = servers::selected(&server_bin, &settings)?;
    let services = Services::start(&server_bin, &mut servers)?;
    let work = target_dir().join("bench-http");
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let repeats = announce(&settings, servers.len(), &work);

    let started = Instant::now();
    let date = bench::now_utc();
    let load_before = bench::load_average();
    let mut bench = Bench::new(&server_bin, &services, &work, &settings, repeats);
    let rows = bench.all(&servers);
    let loads = bench.into_loads();
    services.stop(&server_bin)?;
    let elapsed = started.elapsed();
    let load_after = bench::load_average();

    let context = Context {
        settings: &settings,
        date,
        revision,
        command: ["cargo xtask bench http"]
            .into_iter()
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        wrk_version: &wrk_version,
        load_before: &load_before,
        load_after: &load_after,
        loads: &loads,
        elapsed_secs: elapsed.as_secs(),
    };
    finish(&rows, &context, &release, elapsed)
}

/// Prints what the run will do and about how long it will take; returns how many repeats of
/// a noisy measured run its time budget allows.
fn announce(settings: &Settings, servers: usize, work: &Path) -> u32 {
    let runs = u32::try_from(servers * Scenario::ALL.len()).unwrap_or(u32::MAX);
    let per_run = settings.warmup + settings.duration + OVERHEAD_SECS;
    let expected = runs.saturating_mul(per_run);
    let repeats = MAX_TOTAL_SECS.saturating_sub(expected) / (settings.duration + 1);
    println!(
        "\nbench http: {} servers × {} scenarios, {} s warm-up + {} s measured each: \
         expect about {:.1} minutes, at most {:.1} if other processes make the machine noisy \
         ({repeats} repeats of a noisy measured run allowed; logs in {})",
        servers,
        Scenario::ALL.len(),
        settings.warmup,
        settings.duration,
        f64::from(expected) / 60.0,
        f64::from(expected + repeats * (settings.duration + 1)) / 60.0,
        work.display(),
    );
    repeats
}

/// Prints the report, writes it (and the memory per session) to `bench/RESULTS.md` after a
/// full run, and fails when any run failed.
fn finish(rows: &[Row], context: &Context<'_>, release: &Path, elapsed: Duration) -> Result {
    let report = report::render(rows, context);
    println!("\n{report}");
    let failed = rows.iter().filter(|row| row.outcome.is_err()).count();
    if context.settings.is_full() {
        bench::write_section("http", &report)?;
        bench_memory::measure(release, &[])?;
    } else {
        println!("bench http: a partial run, so bench/RESULTS.md is left as it is");
    }
    println!(
        "bench http: done in {:.1} minutes",
        elapsed.as_secs_f64() / 60.0
    );
    if failed > 0 {
        return Err(format!("{failed} runs failed; see the table"));
    }
    Ok(())
}
