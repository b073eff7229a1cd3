//! The project's one automation entry point: `cargo xtask <task>`.
//!
//! | task | what it does |
//! |---|---|
//! | `ci` | fmt check, clippy `-D warnings`, every test (with doc tests), rustdoc `-D warnings`, a smoke run of every example, the live session-sharing test of every example against Express on Redis |
//! | `interop` | only the live session-sharing test against Express (builds the examples first) |
//! | `bench` | the criterion micro-benchmarks |
//! | `bench http` | the side-by-side HTTP benchmark against the bare frameworks and the peers, written to `bench/RESULTS.md` |
//! | `bench memory` | the memory store's bytes per session, written to `bench/RESULTS.md` |
//!
//! Services that some tests need (Redis) are found or started here; a missing optional tool is
//! skipped with a printed notice, except under `CI=true`, where it is a failure.

mod bench;
mod bench_http;
mod bench_memory;
mod ci;
mod cmd;
mod http;
mod interop;
mod services;
mod smoke;

use std::process::ExitCode;

/// What a task returns: `Err` holds a one-line reason.
type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <ci | interop | bench [http | memory]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("interop") => interop::run_alone(),
        Some("bench") => bench::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("xtask: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// Whether this is the landing CI, where nothing may be skipped.
fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The workspace root.
fn root() -> std::path::PathBuf {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or(manifest)
}
