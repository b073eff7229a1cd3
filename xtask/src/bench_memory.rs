//! `cargo xtask bench memory [--sessions N]`: the memory per session of the memory store
//! (`session-bench`'s `bench-memory`: 100 000 sessions by default), written to the memory
//! section of `bench/RESULTS.md` when run with the default count.

use std::{path::Path, process::Command};

use crate::{bench, Result};

/// Builds `session-bench` in release, then measures.
pub(crate) fn run(args: &[String]) -> Result {
    let release = bench::build_release()?;
    measure(&release, args)
}

/// Runs `bench-memory` from `release` with `args` and prints its report; with no `args` (the
/// default count), also writes it to `bench/RESULTS.md`.
pub(crate) fn measure(release: &Path, args: &[String]) -> Result {
    let binary = release.join("bench-memory");
    println!("\n$ {} {}", binary.display(), args.join(" "));
    let out = Command::new(&binary)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!(
            "bench-memory failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    if !args.is_empty() {
        println!("bench memory: not the default run, so bench/RESULTS.md is left as it is");
        return Ok(());
    }
    let text = format!(
        "## Memory per session\n\n\
         {date}; {machine}; revision {revision}. Command: `cargo xtask bench memory` (or the end of \
         `cargo xtask bench http`).\n\n{report}",
        date = bench::now_utc(),
        machine = bench::machine(),
        revision = bench::revision(),
    );
    bench::write_section("memory", &text)
}
