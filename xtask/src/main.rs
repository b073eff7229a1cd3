//! The project's one automation entry point: `cargo xtask <task>`.
//!
//! | task | what it does |
//! |---|---|
//! | `ci` | fmt check, clippy `-D warnings`, every test (with doc tests), rustdoc `-D warnings`, `cargo publish --dry-run` of every publishable crate, a check of each with the declared MSRV toolchain, a smoke run of every example, the live session-sharing test of every example against Express on Redis, on PostgreSQL and in cookie-session's cookies, and the short pass of `browser` |
//! | `interop` | only the live session-sharing tests against Express (builds the examples first) |
//! | `interop-cookie` | only the live cookie-mode test against Express's cookie-session (builds the examples first) |
//! | `bench` | the criterion micro-benchmarks |
//! | `bench http` | the side-by-side HTTP benchmark against the bare frameworks and the peers, written to `bench/RESULTS.md` |
//! | `bench memory` | the memory store's bytes per session, written to `bench/RESULTS.md` |
//! | `bench instructions` | the session layer's instructions per request (callgrind), written to `bench/RESULTS.md` |
//! | `browser [--short]` | the axum reference app in headless Chromium (installed with `apt-get` if missing) over HTTP and HTTPS: counter, login, logout, remember-me across a browser restart, `Secure` / `SameSite` / `Partitioned` as the browser applies them, a cookie-mode session at the 4 KB limit; a screenshot of each step in `target/browser/` (`--short`: the pass `ci` runs, about 20 s) |
//! | `soak [--seconds N] [--browsers N]` | the Redis fault soak: the axum reference app under load while its private `redis-server` is killed, paused and slowed; fails on a missing acknowledged write, a `500`, a hang or no recovery (default 120 s; `ci` runs 34 s) |
//! | `msrv` | every publishable crate checked with the `rust-version` toolchain (installed with rustup), as `ci` does |
//! | `fuzz [SECONDS]` | each cargo-fuzz target of `fuzz/` for SECONDS (default 60) on nightly, with runs, coverage and crashing inputs per target (not in `ci`) |
//!
//! Services that some tests need (Redis, PostgreSQL) are found or started here; a missing optional tool is
//! skipped with a printed notice, except under `CI=true`, where it is a failure.

mod bench;
mod bench_http;
mod bench_instructions;
mod bench_memory;
mod browser;
mod ci;
mod cmd;
mod fuzz;
mod http;
mod interop;
mod interop_cookie;
mod interop_pg;
mod msrv;
mod services;
mod smoke;
mod soak;

use std::process::ExitCode;

/// What a task returns: `Err` holds a one-line reason.
type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <ci | interop | interop-cookie | bench [http | memory | instructions] | browser [--short] | msrv | fuzz [SECONDS] | soak [--seconds N] [--browsers N]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("interop") => interop::run_alone(),
        Some("interop-cookie") => interop_cookie::run_alone(),
        Some("bench") => bench::run(&args[1..]),
        Some("browser") => browser::run_alone(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("msrv") => msrv::run(),
        Some("soak") => soak::run_alone(&args[1..]),
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
