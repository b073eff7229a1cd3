//! `cargo xtask bench`: the criterion micro-benchmarks.

use crate::{cmd, Result};

/// Runs the micro-benchmarks of session-core (signing, ids, memory store) and session-axum
/// (one request through the layer against the bare router).
pub(crate) fn run(args: &[String]) -> Result {
    if let Some(other) = args.first() {
        return Err(format!("unknown bench `{other}`; usage: cargo xtask bench"));
    }
    cmd::run(
        "cargo",
        &[
            "bench",
            "-p",
            "session-core",
            "-p",
            "session-axum",
            "--benches",
        ],
        &[],
    )
}
