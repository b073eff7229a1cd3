//! `cargo xtask ci`: everything a change must pass to land.

use std::time::Instant;

use crate::{cmd, interop, interop_pg, services, smoke, soak, Result};

/// Runs every check in order and stops at the first failure.
pub(crate) fn run() -> Result {
    let started = Instant::now();
    let cargo = cargo();
    cmd::run(&cargo, &["fmt", "--all", "--", "--check"], &[])?;
    cmd::run(
        &cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;

    let redis = services::redis()?;
    let postgres = services::postgres()?;
    let mut envs: Vec<(String, String)> = Vec::new();
    if let Some(redis) = &redis {
        envs.push(("REDIS_URL".into(), redis.url.clone()));
    }
    if let Some(postgres) = &postgres {
        envs.push(("DATABASE_URL".into(), postgres.url.clone()));
    }
    if crate::strict() {
        envs.push(("SESSION_REQUIRE_SERVICES".into(), "1".into()));
    }
    let counts = cmd::cargo_test(&["test", "--workspace", "--all-features"], &envs)?;

    cmd::run(
        &cargo,
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    publish_check(&cargo)?;
    crate::msrv::run()?;
    smoke::run_all()?;
    interop::run(redis.as_ref())?;
    interop_pg::run(postgres.as_ref())?;
    crate::interop_cookie::run()?;
    soak::run_ci()?;
    crate::browser::run_ci()?;
    drop(redis);
    drop(postgres);

    println!("\nxtask ci: all checks passed in {:.0?}", started.elapsed());
    println!(
        "ci: {} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.ignored
    );
    Ok(())
}

/// Every publishable crate (those without `publish = false`) passes `cargo publish --dry-run`:
/// complete metadata, a README, versions on the workspace's own dependencies, and a build of
/// the packaged crate alone with its default features, as a user gets it. `msrv.rs` then
/// builds them with the declared `rust-version` toolchain.
fn publish_check(cargo: &str) -> Result {
    cmd::run(
        cargo,
        &["publish", "--workspace", "--dry-run", "--allow-dirty"],
        &[],
    )
}

/// The cargo that runs this task.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
