//! Smoke runs: start each example binary, `GET /` twice with the cookie, expect `count=0`
//! then `count=1`, stop it. The cross-framework example gets its second visit on its second
//! port (actix-web), which proves the session started on axum continues there. Each seed
//! program (`examples/seed-*`) answers `Welcome to our website!` twice in one session while
//! its stdout logs the same user's visits 1 then 2, and its `/logout` redirects to `/`,
//! clears the cookie and ends the session (the old cookie then starts a new one).

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, ChildStdout, Command, Stdio},
    sync::mpsc::{self, Receiver},
    time::{Duration, Instant},
};

use crate::{ci::cargo, cmd, http, Result};

/// Every example that serves the reference app.
pub(crate) const EXAMPLES: &[&str] = &[
    "example-axum",
    "example-actix",
    "example-warp",
    "example-rocket",
];

const SECRET: &str = "smoke-test secret of at least thirty-two bytes";

/// One process serving the reference app on axum (`PORT`) and actix-web (`SECOND_PORT`).
const CROSS_FRAMEWORK: &str = "example-cross-framework";

/// The seed program, the Express snippet the project started from, once per framework.
const SEEDS: &[&str] = &[
    "example-seed-axum",
    "example-seed-actix",
    "example-seed-warp",
    "example-seed-rocket",
];

const WELCOME: &str = "Welcome to our website!";

/// Builds and smoke-runs every example.
pub(crate) fn run_all() -> Result {
    build_all()?;
    let mut args = vec!["build", "--bins", "-p", CROSS_FRAMEWORK];
    for seed in SEEDS {
        args.extend(["-p", seed]);
    }
    cmd::run(&cargo(), &args, &[])?;
    for example in EXAMPLES {
        let addr = free_loopback_addr()?;
        smoke(example, addr, addr)?;
        println!("smoke: {example} ok");
    }
    let axum = free_loopback_addr()?;
    let actix = loop {
        let addr = free_loopback_addr()?;
        if addr != axum {
            break addr;
        }
    };
    smoke(CROSS_FRAMEWORK, axum, actix)?;
    println!("smoke: {CROSS_FRAMEWORK} ok (session begun on axum, continued on actix-web)");
    for seed in SEEDS {
        let user = smoke_seed(seed, free_loopback_addr()?)?;
        println!("smoke: {seed} ok (user {user}: visits 1 and 2 in one session; /logout ended it)");
    }
    Ok(())
}

/// Builds every example's binary.
pub(crate) fn build_all() -> Result {
    let mut args = vec!["build", "--bins"];
    for example in EXAMPLES {
        args.extend(["-p", example]);
    }
    cmd::run(&cargo(), &args, &[])
}

/// First visit at `first`, second visit (with the cookie) at `second`.
fn smoke(example: &str, first: SocketAddr, second: SocketAddr) -> Result {
    let binary = target_dir().join("debug").join(example);
    let child = Command::new(&binary)
        .env("HOST", "127.0.0.1")
        .env("PORT", first.port().to_string())
        .env("SECOND_PORT", second.port().to_string())
        .env("SECRET", SECRET)
        .env_remove("STORE")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let _guard = KillOnDrop(child);
    wait_until_listening(first, example)?;
    wait_until_listening(second, example)?;

    let first_visit = http::get(first, "/", None)?;
    let cookie = first_visit
        .set_cookies
        .first()
        .and_then(|header| header.split(';').next().map(str::to_owned))
        .ok_or_else(|| format!("{example}: first GET / sent no Set-Cookie"))?;
    expect(example, 1, first_visit.status, &first_visit.body, "count=0")?;
    let second_visit = http::get(second, "/", Some(&cookie))?;
    expect(
        example,
        2,
        second_visit.status,
        &second_visit.body,
        "count=1",
    )
}

/// A seed at `addr`: two visits in one session, then `/logout`, then the old cookie again.
/// Returns the user id it logged.
fn smoke_seed(example: &str, addr: SocketAddr) -> Result<String> {
    let binary = target_dir().join("debug").join(example);
    let mut child = Command::new(&binary)
        .env("PORT", addr.port().to_string())
        .env("SECRET", SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let log = visit_lines(child.stdout.take());
    let _guard = KillOnDrop(child);
    wait_until_listening(addr, example)?;

    let first_visit = http::get(addr, "/", None)?;
    let cookie = first_visit
        .cookie("connect.sid")
        .and_then(|header| header.split(';').next().map(str::to_owned))
        .ok_or_else(|| format!("{example}: first GET / sent no session cookie"))?;
    expect(example, 1, first_visit.status, &first_visit.body, WELCOME)?;
    let second_visit = http::get(addr, "/", Some(&cookie))?;
    expect(example, 2, second_visit.status, &second_visit.body, WELCOME)?;
    if let Some(other) = second_visit
        .cookie("connect.sid")
        .filter(|c| c.split(';').next() != Some(cookie.as_str()))
    {
        return Err(format!(
            "{example}: visit 2 changed the session cookie to {other:?}"
        ));
    }
    let first_line = next_line(&log, example)?;
    let user = first_line
        .strip_prefix("User ")
        .and_then(|rest| rest.strip_suffix(" has visited the page 1 times"))
        .filter(|user| user.parse::<u32>().is_ok_and(|n| n < 1000))
        .ok_or_else(|| format!("{example}: visit 1 logged {first_line:?}"))?
        .to_owned();
    let wanted = format!("User {user} has visited the page 2 times");
    let second_line = next_line(&log, example)?;
    if second_line != wanted {
        return Err(format!(
            "{example}: visit 2 logged {second_line:?}, expected {wanted:?}"
        ));
    }

    // Lower-cased, so that header names match whatever case the framework writes.
    let logout = raw_get(addr, "/logout", &cookie)?.to_ascii_lowercase();
    if !(logout.starts_with("http/1.1 303 ")
        && logout.contains("\r\nlocation: /\r\n")
        && logout.contains("\r\nset-cookie: connect.sid=; ")
        && logout.contains("expires=thu, 01 jan 1970"))
    {
        return Err(format!(
            "{example}: /logout answered {logout:?}, expected a 303 to / that clears connect.sid"
        ));
    }
    // The record is gone: the old cookie now starts a new session.
    let after = http::get(addr, "/", Some(&cookie))?;
    expect(example, 3, after.status, &after.body, WELCOME)?;
    let third_line = next_line(&log, example)?;
    if !third_line.ends_with(" has visited the page 1 times") {
        return Err(format!(
            "{example}: the visit after /logout logged {third_line:?}, expected a first visit"
        ));
    }
    Ok(user)
}

/// The `User ...` lines of a seed's stdout, as they come (read on a thread of their own).
fn visit_lines(stdout: Option<ChildStdout>) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    if let Some(stdout) = stdout {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                if line.starts_with("User ") && sender.send(line).is_err() {
                    break;
                }
            }
        });
    }
    receiver
}

/// The next `User ...` line (5 s at most).
fn next_line(log: &Receiver<String>, example: &str) -> Result<String> {
    log.recv_timeout(Duration::from_secs(5))
        .map_err(|_| format!("{example}: no `User N has visited the page K times` line on stdout"))
}

/// `GET path` with `cookie`: the whole response as it came, since [`http::get`] keeps no
/// `Location`.
fn raw_get(addr: SocketAddr, path: &str, cookie: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    Ok(raw)
}

fn expect(example: &str, visit: u32, status: u16, body: &str, wanted: &str) -> Result {
    if status == 200 && body == wanted {
        Ok(())
    } else {
        Err(format!(
            "{example}: visit {visit} answered {status} {body:?}, expected 200 {wanted:?}"
        ))
    }
}

/// A child process killed when dropped.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where cargo puts the binaries (`CARGO_TARGET_DIR`, else `target/`).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| crate::root().join("target"), PathBuf::from)
}

/// A loopback address with a free port.
pub(crate) fn free_loopback_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// Waits (30 s at most) until something accepts connections at `addr`.
pub(crate) fn wait_until_listening(addr: SocketAddr, example: &str) -> Result {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{example} did not listen on {addr} within 30 s"))
}
