//! What the tests share: finding the PostgreSQL of `DATABASE_URL`, a schema of their own
//! (dropped afterwards), and a private PostgreSQL cluster that a test may kill and restart.

use std::{
    io::Write as _,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Value};
use session_core::Record;
use session_sql::PostgresStore;
use sqlx::{postgres::PgPoolOptions, PgPool};

/// Whether a missing service is a failure (`SESSION_REQUIRE_SERVICES=1`, set by
/// `cargo xtask ci` under `CI=true`).
fn required() -> bool {
    std::env::var("SESSION_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// Says on the terminal (past the harness's capture) that `test` is skipped, or fails when
/// services are required.
pub(crate) fn skip(test: &str, reason: &str) {
    assert!(
        !required(),
        "{test}: {reason}, and SESSION_REQUIRE_SERVICES=1 forbids skipping"
    );
    let line = format!("\nNOTICE: session-sql test `{test}` SKIPPED: {reason}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A name no other run or test uses, made of `[a-z0-9_]`.
pub(crate) fn unique(tag: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "test_session_sql_{tag}_{}_{nanos}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A record holding `data`, with a one-hour cookie.
pub(crate) fn record(data: Value) -> Record {
    let Value::Object(data) = data else {
        panic!("an object")
    };
    let mut record = Record::new(data);
    record.cookie.original_max_age = Some(3_600_000);
    record.cookie.expires = Some(SystemTime::now() + Duration::from_secs(3600));
    record
}

/// `{"n": n}`.
pub(crate) fn numbered(n: u64) -> Record {
    record(json!({ "n": n }))
}

/// A schema of this test's own in the PostgreSQL of `DATABASE_URL`, dropped (with everything
/// in it) when the value is dropped, even when the test fails.
pub(crate) struct Schema {
    pub(crate) url: String,
    pub(crate) name: String,
    pub(crate) admin: PgPool,
}

impl Schema {
    /// A new schema, or `None` (with a notice) when `DATABASE_URL` is not set.
    pub(crate) async fn create(test: &str) -> Option<Self> {
        let url = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                skip(
                    test,
                    "DATABASE_URL is not set (run `cargo xtask ci`, or set \
                     DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)",
                );
                return None;
            }
        };
        let admin = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("DATABASE_URL={url} does not answer: {e}"));
        let name = unique(test);
        sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
            .execute(&admin)
            .await
            .expect("create schema");
        Some(Self { url, name, admin })
    }

    /// A store on this schema, with a timeout generous enough for a busy test machine.
    pub(crate) fn store(&self) -> PostgresStore {
        self.builder().build().expect("store")
    }

    pub(crate) fn builder(&self) -> session_sql::PostgresStoreBuilder {
        PostgresStore::builder(self.url.as_str())
            .schema(self.name.as_str())
            .timeout(Duration::from_secs(10))
    }

    /// `"schema"."table"`.
    pub(crate) fn table(&self, table: &str) -> String {
        format!("\"{}\".\"{table}\"", self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: drop the schema from a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let admin = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// A PostgreSQL cluster of the test's own, in a temporary directory, on a port of its own.
pub(crate) struct PrivateCluster {
    pub(crate) port: u16,
    dir: PathBuf,
    bin: PathBuf,
    server: Option<Child>,
}

impl PrivateCluster {
    /// Makes a cluster with `initdb` (not started), or `None` (with a notice) when the
    /// PostgreSQL binaries are not installed.
    pub(crate) fn init(test: &str) -> Option<Self> {
        let Some(bin) = binaries() else {
            skip(
                test,
                "no PostgreSQL server binaries (set PG_BIN, or install postgresql)",
            );
            return None;
        };
        let dir = std::env::temp_dir().join(unique(test));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let user = server_user();
        if let Some((uid, gid)) = user {
            chown(&dir, uid, gid);
        }
        let mut initdb = as_user(Command::new(bin.join("initdb")), user);
        let status = initdb
            .args(["-D", &dir.join("data").to_string_lossy()])
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run initdb");
        assert!(status.success(), "initdb failed: {status}");
        Some(Self {
            port: free_port(),
            dir,
            bin,
            server: None,
        })
    }

    /// Its URL (database `postgres`, user `postgres`, trust).
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub(crate) async fn start(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut postgres = as_user(Command::new(self.bin.join("postgres")), server_user());
            let child = postgres
                .args(["-D", &self.dir.join("data").to_string_lossy()])
                .args(["-p", &self.port.to_string()])
                .args(["-k", &self.dir.to_string_lossy()])
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start postgres");
            self.server = Some(child);
            if self.wait_until_ready(Duration::from_secs(10)).await {
                return;
            }
            // Still shutting down from a kill: try again.
            self.stop_now();
            assert!(Instant::now() < deadline, "postgres did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_until_ready(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(server) = &mut self.server {
                if server.try_wait().ok().flatten().is_some() {
                    return false;
                }
            }
            let probe = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_millis(500))
                .connect(&self.url())
                .await;
            if let Ok(pool) = probe {
                pool.close().await;
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Kills the server as a crash would: an immediate shutdown (`SIGQUIT`: no checkpoint,
    /// every backend ends at once, crash recovery at the next start).
    pub(crate) fn stop_now(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = Command::new("kill")
                .args(["-QUIT", &server.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while server.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    /// Stops the server and every backend (`SIGSTOP` to the postmaster and its children, by
    /// process id: each backend is a session of its own) without closing their sockets: it accepts nothing and
    /// answers nothing until [`resume`](Self::resume).
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server run again.
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    /// Sends `signal` to the server's processes, its backends first. A backend that exited
    /// since it was listed is no failure; the server itself must take the signal.
    fn signal(&self, signal: &str) {
        if let Some(server) = &self.server {
            assert!(
                try_signal(signal, server.id()),
                "the server took no {signal}"
            );
        }
    }
}

/// Sends `signal` to the backends of the server `pid`, then to the server; whether the
/// server took it.
fn try_signal(signal: &str, pid: u32) -> bool {
    for child in children(pid) {
        let _ = Command::new("kill")
            .arg(signal)
            .arg(child.to_string())
            .stderr(Stdio::null())
            .status();
    }
    Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Never a panic here: the test's own outcome is what counts.
        if let Some(server) = &self.server {
            try_signal("-CONT", server.id());
        }
        self.stop_now();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The processes whose parent is `parent` (from `/proc`).
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`: the command may hold spaces and parentheses.
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

/// Where `initdb` and `postgres` are: `PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn binaries() -> Option<PathBuf> {
    if let Ok(bin) = std::env::var("PG_BIN") {
        return Some(PathBuf::from(bin));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// initdb and postgres refuse to run as root: when the tests run as root, they run as the
/// `postgres` user (uid, gid), which the Debian package creates.
fn server_user() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid: u32 = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    if uid != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
            .flatten()
    })
}

fn as_user(mut command: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        use std::os::unix::process::CommandExt as _;
        command.uid(uid).gid(gid);
    }
    command
}

fn chown(dir: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown the cluster directory");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
