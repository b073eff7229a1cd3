//! The live interop test of cookie mode: the Express app of `interop/express/cookie-app.js`
//! (cookie-session 2.x from npm) and every Rust example started with `STORE=cookie
//! COOKIE_MODE=cookie-session COOKIE_NAME=session` share sessions through the browser's
//! cookies alone, in both directions. There is no store, so no Redis or PostgreSQL.
//!
//! For every example: a counter and a login continue across the two servers both ways; both
//! sides write the same bytes for the same session (`session` and `session.sig`, attribute
//! for attribute); a logout on either side clears both cookies in the browser; with keys
//! rotated to `new,old`, a cookie signed with the old key on one side is read on the other
//! and its signature alone renewed with the new key, byte for byte as the other side renews
//! it, and the old key alone no longer reads it; and a session that Node grows past a cookie's
//! 4 KB (Node writes it, a browser would drop it) is a `413` on the Rust side.
//!
//! The checks are in `interop_cookie/checks.rs`; `interop_cookie/jar.rs` is the browser's
//! side: a cookie jar, and what a `Set-Cookie` header says.

mod checks;
mod jar;

use std::{
    fs::File,
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use crate::{
    interop::apps::{node_available, npm_ci},
    smoke::{self, free_loopback_addr, target_dir, wait_until_listening, KillOnDrop},
    Result,
};

use self::checks::{both_directions, logouts, rotation, same_bytes, too_large, Checks};

const OLD: &str = "cookie interop key (old) of at least thirty-two bytes";
const NEW: &str = "cookie interop key (new) of at least thirty-two bytes";
/// cookie-session's default name, which the Rust side is told with `COOKIE_NAME`.
const NAME: &str = "session";
const SIGNATURE: &str = "session.sig";
/// The largest `name=value` a browser keeps (session-core's `MAX_COOKIE_BYTES`).
const COOKIE_LIMIT: usize = 4093;

/// Runs the checks, after `npm ci`; skips with a notice when Node.js is missing, except under
/// `CI=true`. The examples must be built.
pub(crate) fn run() -> Result {
    let app_dir = crate::root().join("interop").join("express");
    if let Err(reason) = node_available() {
        if crate::strict() {
            return Err(format!(
                "the cookie interop test needs Node.js under CI=true: {reason}"
            ));
        }
        println!(
            "interop: NOTICE: {reason}; the Express (cookie-session) interop test is SKIPPED \
             (install node and npm)"
        );
        return Ok(());
    }
    let installed = Instant::now();
    npm_ci(&app_dir)?;
    println!("interop: npm ci took {:.1?}", installed.elapsed());

    let started = Instant::now();
    let rotated = format!("{NEW},{OLD}");
    let node = App::express(&app_dir, "express-cookie", OLD)?;
    let node_rotated = App::express(&app_dir, "express-cookie-rotated", &rotated)?;
    let mut checks = Checks::default();
    for example in smoke::EXAMPLES {
        let example_started = Instant::now();
        let rs = App::rust(example, &format!("{example}-cookie"), OLD)?;
        let rs_rotated = App::rust(example, &format!("{example}-cookie-rotated"), &rotated)?;
        let before = checks.passed;
        both_directions(&mut checks, &node, &rs)?;
        same_bytes(&mut checks, &node, &rs)?;
        logouts(&mut checks, &node, &rs)?;
        rotation(&mut checks, [&node, &node_rotated], [&rs, &rs_rotated])?;
        too_large(&mut checks, &node, &rs)?;
        println!(
            "interop: {example} <-> express (cookie-session): {} checks passed in {:.1?}",
            checks.passed - before,
            example_started.elapsed()
        );
    }
    println!(
        "interop: {} checks passed for {} example(s) against Express in {:.1?} (cookie-session part)",
        checks.passed,
        smoke::EXAMPLES.len(),
        started.elapsed()
    );
    Ok(())
}

/// `cargo xtask interop-cookie`: builds the examples and runs the checks.
pub(crate) fn run_alone() -> Result {
    smoke::build_all()?;
    run()
}

/// One server of the test.
struct App {
    name: String,
    addr: SocketAddr,
    _process: KillOnDrop,
}

impl App {
    /// `node cookie-app.js` with `keys`.
    fn express(app_dir: &Path, name: &str, keys: &str) -> Result<Self> {
        let mut command = Command::new("node");
        command.arg("cookie-app.js").current_dir(app_dir);
        Self::start(name, command, keys)
    }

    /// The built `example`, in cookie mode with cookie-session's format and `keys`.
    fn rust(example: &str, name: &str, keys: &str) -> Result<Self> {
        let mut command = Command::new(target_dir().join("debug").join(example));
        command
            .env("STORE", "cookie")
            .env("COOKIE_MODE", "cookie-session");
        Self::start(name, command, keys)
    }

    /// Starts `command` with the shared settings and waits until it listens.
    fn start(name: &str, mut command: Command, keys: &str) -> Result<Self> {
        let addr = free_loopback_addr()?;
        let log_dir = target_dir().join("interop-logs");
        std::fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
        let log_path = log_dir.join(format!("{name}.log"));
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .env("HOST", "127.0.0.1")
            .env("PORT", addr.port().to_string())
            .env("SECRET", keys)
            .env("COOKIE_NAME", NAME)
            .env("MAX_AGE_MS", "1800000")
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let process = KillOnDrop(child);
        wait_until_listening(addr, name)
            .map_err(|e| format!("{e} (log: {})", log_path.display()))?;
        Ok(Self {
            name: name.to_owned(),
            addr,
            _process: process,
        })
    }
}
