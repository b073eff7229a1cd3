//! The services some tests need. Redis: `REDIS_URL` when set, else a private `redis-server`
//! on a free port (stopped when CI ends), else the Redis tests are skipped with a notice —
//! except under `CI=true`, where a missing Redis fails the run.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::Result;

/// A Redis the tests can use.
pub(crate) struct Redis {
    /// Its URL, handed to the tests as `REDIS_URL`.
    pub(crate) url: String,
    /// The private server, when this run started one.
    child: Option<Child>,
}

impl Redis {
    /// The process id of the private server, when this run started one.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Finds or starts a Redis; `None` (with a notice) when there is none and CI is not strict.
pub(crate) fn redis() -> Result<Option<Redis>> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        println!("services: using REDIS_URL={url}");
        return Ok(Some(Redis { url, child: None }));
    }
    match start_private_redis() {
        Ok(redis) => {
            println!("services: started a private redis-server at {}", redis.url);
            Ok(Some(redis))
        }
        Err(reason) if crate::strict() => Err(format!(
            "Redis is required under CI=true: {reason} (install redis-server or set REDIS_URL)"
        )),
        Err(reason) => {
            println!("services: NOTICE: {reason}; the Redis-backed tests are SKIPPED (install redis-server or set REDIS_URL)");
            Ok(None)
        }
    }
}

fn start_private_redis() -> Result<Redis> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server: {e}"))?;
    let redis = Redis {
        url: format!("redis://127.0.0.1:{port}"),
        child: Some(child),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ping(port) {
            return Ok(redis);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("redis-server on port {port} did not answer PING"))
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
