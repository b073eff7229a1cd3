//! `cargo xtask soak [--seconds N] [--browsers N]`: a Redis fault soak. The reference app on
//! axum (`target/debug/example-axum`, `STORE=redis`) serves many browsers at once, each a
//! thread bumping its own counters in its own session, while its private `redis-server` is
//! killed and restarted, paused (`SIGSTOP`) and made to answer slowly (`DEBUG SLEEP`) several
//! times (`soak/faults.rs`). Afterwards every counter is read back (`soak/check.rs`): every
//! `200` to a bump must be in Redis. The report (`soak/report.rs`) gives requests served, `5xx`
//! by status, the longest stall, what each fault cost, and the missing acknowledged writes;
//! the run fails on a missing write, a `500`, a hang, or service that did not resume.
//!
//! The server is always a private one (the soak kills it; `REDIS_URL` is not used); without
//! `redis-server` the soak is skipped with a notice, or fails under `CI=true`. The logs of the
//! app and of Redis are kept in `target/soak/`. `cargo xtask ci` runs a short soak.

mod browser;
mod check;
mod client;
mod faults;
mod redis;
mod report;

use std::{
    fs::File,
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use crate::{
    smoke::{self, KillOnDrop},
    Result,
};

/// The length of `cargo xtask soak` by default: several faults of each kind.
const DEFAULT_SECONDS: u64 = 120;
/// The length of the soak in `cargo xtask ci`: each fault once.
pub(crate) const CI_SECONDS: u64 = faults::MIN_SECONDS;
/// Browsers at once, by default.
const DEFAULT_BROWSERS: usize = 32;
/// Counters per browser.
const KEYS: usize = 4;
const SECRET: &str = "soak-test secret of at least thirty-two bytes";
const USAGE: &str = "usage: cargo xtask soak [--seconds N] [--browsers N]";

/// `cargo xtask soak`: builds the examples, then soaks.
pub(crate) fn run_alone(args: &[String]) -> Result {
    let (mut seconds, mut browsers) = (DEFAULT_SECONDS, DEFAULT_BROWSERS);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--seconds", Some(n)) if n >= faults::MIN_SECONDS => seconds = n,
            ("--seconds", Some(_)) => {
                return Err(format!(
                    "a soak lasts at least {} s, to meet every fault",
                    faults::MIN_SECONDS
                ))
            }
            ("--browsers", Some(n)) if n > 0 => browsers = usize::try_from(n).unwrap_or(1),
            _ => return Err(USAGE.to_owned()),
        }
    }
    smoke::build_all()?;
    run(seconds, browsers)
}

/// Soaks for `seconds` with the default number of browsers (the app must be built).
pub(crate) fn run_ci() -> Result {
    run(CI_SECONDS, DEFAULT_BROWSERS)
}

fn run(seconds: u64, browsers: usize) -> Result {
    if !redis::installed() {
        let reason = "no redis-server (install redis-server)";
        if crate::strict() {
            return Err(format!(
                "the soak needs redis-server under CI=true: {reason}"
            ));
        }
        println!("soak: NOTICE: {reason}; the Redis fault soak is SKIPPED");
        return Ok(());
    }
    let logs = smoke::target_dir().join("soak");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let redis_log = logs.join("redis.log");
    let _ = std::fs::remove_file(&redis_log);
    let mut server = redis::Server::start(&redis_log)?;
    let addr = smoke::free_loopback_addr()?;
    println!(
        "soak: {seconds} s, {browsers} browsers x {KEYS} keys against example-axum at {addr}, \
         redis-server at {} (append-only, fsync always); logs in {}",
        server.url(),
        logs.display()
    );
    let mut app = start_app(addr, &server.url(), &logs.join("app.log"))?;
    smoke::wait_until_listening(addr, "example-axum")?;

    let (browser_logs, done, played) = load_with_faults(&mut server, addr, seconds, browsers);
    played.map_err(|reason| format!("{reason} (logs in {})", logs.display()))?;
    let mut problems = Vec::new();
    if let Ok(Some(status)) = app.0.try_wait() {
        problems.push(format!("the app exited during the run ({status})"));
    }
    let read_back = check::read_back(addr, &browser_logs).unwrap_or_else(|reason| {
        problems.push(reason);
        check::ReadBack::default()
    });
    problems.extend(report::print(&report::Run {
        seconds,
        logs: &browser_logs,
        faults: &done,
        read_back: &read_back,
    }));
    if problems.is_empty() {
        println!("soak: passed");
        Ok(())
    } else {
        Err(format!(
            "soak failed: {} (logs in {})",
            problems.join("; "),
            logs.display()
        ))
    }
}

/// Runs `browsers` browsers against the app at `addr` for `seconds` while playing the faults
/// on `server`: every browser's log, the faults played, and whether all could be played (the
/// browsers stop early when one could not).
fn load_with_faults(
    server: &mut redis::Server,
    addr: SocketAddr,
    seconds: u64,
    browsers: usize,
) -> (Vec<browser::Log>, Vec<faults::Done>, Result) {
    let schedule = faults::schedule(Duration::from_secs(seconds));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..browsers)
            .map(|id| {
                let stop = &stop;
                scope.spawn(move || browser::run(id, addr, KEYS, started, deadline, stop))
            })
            .collect();
        let (done, mut played) = faults::play(server, &schedule, started);
        if played.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let logs: Vec<browser::Log> = threads
            .into_iter()
            .filter_map(|thread| thread.join().ok())
            .collect();
        if logs.len() != browsers && played.is_ok() {
            played = Err("a browser thread panicked".to_owned());
        }
        (logs, done, played)
    })
}

/// Starts the reference app on axum with `STORE=redis` on `url`, under a prefix of its own,
/// logging warnings (and session-core's debug lines) to `log`.
fn start_app(addr: SocketAddr, url: &str, log: &Path) -> Result<KillOnDrop> {
    let binary = smoke::target_dir().join("debug").join("example-axum");
    let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(&binary)
        .env("HOST", "127.0.0.1")
        .env("PORT", addr.port().to_string())
        .env("SECRET", SECRET)
        .env("STORE", "redis")
        .env("REDIS_URL", url)
        .env("REDIS_PREFIX", format!("soak:{}:", std::process::id()))
        .env("RUST_LOG", "warn,session_core=debug")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    Ok(KillOnDrop(child))
}
