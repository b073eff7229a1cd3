//! Smoke runs: start each example binary, `GET /` twice with the cookie, expect `count=0`
//! then `count=1`, stop it. The cross-framework example gets its second visit on its second
//! port (actix-web), which proves the session started on axum continues there.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
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

/// Builds and smoke-runs every example.
pub(crate) fn run_all() -> Result {
    build_all()?;
    cmd::run(&cargo(), &["build", "--bins", "-p", CROSS_FRAMEWORK], &[])?;
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
