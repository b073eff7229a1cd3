//! The soak's own `redis-server`, which it may kill, pause and slow down. It makes every
//! acknowledged write durable across `kill -9` (append-only file, `fsync` before each reply,
//! no RDB snapshots) in a temporary directory that a restart on the same port reloads; the
//! directory is removed when the server is dropped. `DEBUG` is allowed from loopback only.

use std::{
    fs::File,
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::Result;

/// How long a (re)started server may take to answer `PING` (it replays its file first).
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Whether `redis-server` is installed (it runs and says its version).
pub(super) fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A private, durable `redis-server`.
pub(super) struct Server {
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// Starts a server on a free port, logging to `log`; `Err` when `redis-server` cannot run.
    pub(super) fn start(log: &Path) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("xtask-soak-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut server = Self {
            port,
            dir,
            log: log.to_owned(),
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port and directory (it reloads its file); returns
    /// once it answers `PING`.
    pub(super) fn restart(&mut self) -> Result {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", &self.dir.to_string_lossy()])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .args(["--enable-debug-command", "local"])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if self.ready() {
                return Ok(());
            }
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "redis-server exited at startup ({status}); see {}",
                        self.log.display()
                    ));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server on port {} did not answer PING within {READY_WITHIN:?}",
            self.port
        ))
    }

    /// `kill -9`, and reaps the process.
    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`STOP`, `CONT`) to the server.
    pub(super) fn signal(&self, signal: &str) -> Result {
        let child = self.child.as_ref().ok_or("redis-server is not running")?;
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} failed ({status})"))
        }
    }

    /// `DEBUG SLEEP seconds` on a connection of its own; returns when the server answers.
    pub(super) fn debug_sleep(&self, seconds: f64) -> Result {
        let reply = self.command(
            &format!("DEBUG SLEEP {seconds}\r\n"),
            Duration::from_secs(30),
        )?;
        if reply == "+OK" {
            Ok(())
        } else {
            Err(format!("DEBUG SLEEP answered {reply:?}"))
        }
    }

    /// Whether the server answers `PING` with `PONG` (not while it is still loading).
    pub(super) fn ready(&self) -> bool {
        self.command("PING\r\n", Duration::from_secs(1))
            .is_ok_and(|reply| reply == "+PONG")
    }

    /// Sends one inline command and reads the first line of the reply.
    fn command(&self, inline: &str, timeout: Duration) -> Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("connect to redis-server: {e}"))?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        stream
            .write_all(inline.as_bytes())
            .map_err(|e| format!("redis-server: {e}"))?;
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .map_err(|e| format!("redis-server: {e}"))?;
        Ok(line.trim_end().to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
