//! What the Redis tests share: finding the shared Redis (`REDIS_URL`), unique key prefixes
//! and their cleanup, and a private `redis-server` that a test may kill and restart.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU32, Ordering},
        Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use fred::prelude::{Client, ClientLike, Config, KeysInterface};
use session_redis::RedisStore;

/// Whether a missing service is a failure (`SESSION_REQUIRE_SERVICES=1`, set by
/// `cargo xtask ci` under `CI=true`).
fn required() -> bool {
    std::env::var("SESSION_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// Says on the terminal (past the test harness's capture) that `test` is skipped, or fails
/// when services are required.
pub(crate) fn skip(test: &str, reason: &str) {
    assert!(
        !required(),
        "{test}: {reason}, and SESSION_REQUIRE_SERVICES=1 forbids skipping"
    );
    let line = format!("\nNOTICE: session-redis test `{test}` SKIPPED: {reason}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The shared Redis of `REDIS_URL`, or `None` (with a notice) when it is not set.
pub(crate) fn shared_url(test: &str) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(
                test,
                "REDIS_URL is not set (run `cargo xtask ci`, or set REDIS_URL=redis://127.0.0.1:6379)",
            );
            None
        }
    }
}

/// A key prefix no other run or test uses.
pub(crate) fn unique_prefix(tag: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "test:session-redis:{tag}:{}-{nanos}-{}:",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on `url` under `prefix`, with a generous connection wait for a busy test machine.
pub(crate) fn store(url: &str, prefix: &str) -> RedisStore {
    builder(url, prefix).build().expect("store")
}

/// [`store`] with a near cache.
pub(crate) fn near_store(url: &str, prefix: &str) -> RedisStore {
    builder(url, prefix)
        .near_cache(session_redis::NearCache::new())
        .build()
        .expect("store")
}

fn builder(url: &str, prefix: &str) -> session_redis::RedisStoreBuilder {
    RedisStore::builder(url)
        .prefix(prefix)
        .connect_wait(Duration::from_secs(2))
}

/// What connect-redis sends for `store.set`: `SET key value EX ttl`.
pub(crate) async fn express_set(client: &Client, key: &str, value: &str) {
    let _: () = client
        .set(
            key,
            value,
            Some(fred::types::Expiration::EX(3600)),
            None,
            false,
        )
        .await
        .expect("SET");
}

/// A plain client for looking at what the store wrote.
pub(crate) async fn admin(url: &str) -> Client {
    let client = Client::new(Config::from_url(url).expect("url"), None, None, None);
    tokio::time::timeout(Duration::from_secs(5), client.init())
        .await
        .expect("admin connect in time")
        .expect("admin connect");
    client
}

/// Deletes every key under `prefix` and under the default user-index prefix that goes with it
/// (SCAN + DEL; never FLUSH).
pub(crate) async fn clean(url: &str, prefix: &str) {
    let client = admin(url).await;
    for pattern in [format!("{prefix}*"), format!("users:{prefix}*")] {
        delete_matching(&client, pattern).await;
    }
    let _ = client.quit().await;
}

/// Deletes every key that matches `pattern`.
async fn delete_matching(client: &Client, pattern: String) {
    let mut cursor = "0".to_owned();
    loop {
        let (next, keys): (String, Vec<String>) = client
            .scan_page(cursor, pattern.clone(), Some(1000), None)
            .await
            .expect("scan");
        if !keys.is_empty() {
            let _: i64 = client.del(keys).await.expect("del");
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
}

/// A `redis-server` of this test's own on a free port, without persistence, that the test may
/// kill and restart on the same port. Killed when dropped.
pub(crate) struct PrivateRedis {
    /// Its port.
    pub(crate) port: u16,
    child: Option<Child>,
    /// Extra `redis-server` arguments (e.g. `--rename-command`).
    args: Vec<String>,
    /// The cluster's node file, removed on drop.
    cluster_file: Option<std::path::PathBuf>,
}

impl PrivateRedis {
    /// A free port with no server on it yet, or `None` (with a notice) when `redis-server` is
    /// not installed.
    pub(crate) fn reserve(test: &str) -> Option<Self> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            skip(test, "redis-server is not installed");
            return None;
        }
        Some(Self {
            port: unique_free_port(),
            child: None,
            args: Vec::new(),
            cluster_file: None,
        })
    }

    /// A running private server, or `None` (with a notice) without `redis-server`.
    pub(crate) fn start(test: &str) -> Option<Self> {
        let mut redis = Self::reserve(test)?;
        redis.restart();
        Some(redis)
    }

    /// A running private Redis Cluster of one node that holds every slot, or `None` as
    /// [`Self::start`].
    pub(crate) fn start_cluster(test: &str) -> Option<Self> {
        let mut redis = Self::reserve(test)?;
        let nodes = std::env::temp_dir().join(format!(
            "session-redis-test-nodes-{}-{}.conf",
            std::process::id(),
            redis.port
        ));
        let _ = std::fs::remove_file(&nodes);
        redis.args = vec![
            "--cluster-enabled".into(),
            "yes".into(),
            "--cluster-config-file".into(),
            nodes.display().to_string(),
            "--cluster-announce-ip".into(),
            "127.0.0.1".into(),
        ];
        redis.restart();
        assert!(redis
            .command(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            .starts_with("+OK"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !redis
            .command(&["CLUSTER", "INFO"])
            .contains("cluster_state:ok")
        {
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis.cluster_file = Some(nodes);
        Some(redis)
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and waits until it answers `PING`.
    pub(crate) fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut child = Command::new("redis-server")
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(&self.args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            while Instant::now() < deadline {
                if self.ping() {
                    self.child = Some(child);
                    return;
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // exited (port still held?); try again
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends one command on a fresh connection and returns the raw reply.
    pub(crate) fn command(&self, args: &[&str]) -> String {
        command_on(self.port, args)
    }

    /// How many times the server ran `command` since the last `CONFIG RESETSTAT`.
    pub(crate) fn calls(&self, command: &str) -> u64 {
        let info = self.command(&["INFO", "commandstats"]);
        let wanted = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|line| line.strip_prefix(&wanted))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

/// A free port that no other test of this process was given: a private server's port stays
/// reserved while it is down between a kill and a restart.
pub(crate) fn unique_free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Sends one command to the server on `port` (127.0.0.1) on a fresh connection and returns
/// the raw reply.
pub(crate) fn command_on(port: u16, args: &[&str]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    // Enough for the short replies these tests read: stop once a full reply arrived.
    loop {
        let n = stream.read(&mut buf).expect("read");
        reply.extend_from_slice(&buf[..n]);
        if n == 0 || reply_complete(&reply) {
            break;
        }
    }
    String::from_utf8_lossy(&reply).into_owned()
}

fn reply_complete(reply: &[u8]) -> bool {
    match reply.first() {
        Some(b'$') => {
            let Some(eol) = reply.windows(2).position(|w| w == b"\r\n") else {
                return false;
            };
            let len: i64 = String::from_utf8_lossy(&reply[1..eol]).parse().unwrap_or(0);
            len < 0 || reply.len() >= eol + 2 + len as usize + 2
        }
        Some(_) => reply.ends_with(b"\r\n"),
        None => false,
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        if let Some(file) = &self.cluster_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Runs `call` and fails the test if it takes longer than `limit`: nothing may hang.
pub(crate) async fn within<T>(limit: Duration, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let result = tokio::time::timeout(limit, call)
        .await
        .unwrap_or_else(|_| panic!("call did not return within {limit:?}"));
    assert!(started.elapsed() <= limit);
    result
}

/// Polls `ping` until the store answers again; fails after `limit`.
pub(crate) async fn wait_until_recovered(store: &RedisStore, limit: Duration) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if store.ping().await.is_ok() {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store did not recover within {limit:?}");
}

/// A fresh random session id.
pub(crate) fn new_id() -> session_core::SessionId {
    session_core::IdGenerator::Random
        .generate()
        .expect("OS RNG")
}

/// A record holding `data` (a JSON object) with default cookie state.
pub(crate) fn record(data: serde_json::Value) -> session_core::Record {
    let serde_json::Value::Object(data) = data else {
        panic!("record data must be an object");
    };
    session_core::Record::new(data)
}

/// An hour from now.
pub(crate) fn in_an_hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

/// Creates `record` under `id` until `expires_at`, listed under `owner`, or panics; returns
/// its version.
pub(crate) async fn create(
    store: &RedisStore,
    id: &session_core::SessionId,
    record: &session_core::Record,
    expires_at: SystemTime,
    owner: Option<&str>,
) -> session_core::Version {
    use session_core::{Created, Store, Write};
    let write = Write::new(record, expires_at).owned_by(owner);
    match store.create(id, write).await.expect("create") {
        Created::Written(version) => version,
        Created::IdTaken => panic!("a fresh id was taken"),
    }
}

/// The version the store gives a stored value: the SHA-1 of its bytes.
pub(crate) fn version_of(bytes: &[u8]) -> session_core::Version {
    use sha1::Digest;
    session_core::Version::from_bytes(&sha1::Sha1::digest(bytes))
}

/// A TCP proxy in front of a server that delivers everything the server sends `delay` after it
/// arrived (requests pass at once), so that each round trip a call makes costs `delay`: a call
/// that took one `delay` (and less than two) made exactly one round trip.
pub(crate) struct SlowLink {
    /// The port to connect to instead of the server's.
    pub(crate) port: u16,
    delay: Duration,
    task: tokio::task::JoinHandle<()>,
}

impl SlowLink {
    /// A link to the server on `upstream` (a port on 127.0.0.1).
    pub(crate) async fn start(upstream: u16, delay: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                tokio::spawn(relay(client, server, delay));
            }
        });
        Self { port, delay, task }
    }

    /// The URL of the server through the link.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// How many round trips `call` made: the whole delays it took.
    pub(crate) async fn round_trips<T>(
        &self,
        call: impl std::future::Future<Output = T>,
    ) -> (T, u128) {
        let started = Instant::now();
        let result = call.await;
        (
            result,
            started.elapsed().as_millis() / self.delay.as_millis(),
        )
    }
}

impl Drop for SlowLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Relays one connection: requests at once, replies each `delay` after it arrived (a delay
/// line, so replies that arrive together are delivered together).
async fn relay(client: tokio::net::TcpStream, server: tokio::net::TcpStream, delay: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (replies, mut due) = tokio::sync::mpsc::unbounded_channel();
    let requests = tokio::io::copy(&mut client_read, &mut server_write);
    let read_replies = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = server_read.read(&mut buf).await {
            let at = tokio::time::Instant::now() + delay;
            if replies.send((at, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    };
    let deliver_replies = async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if client_write.write_all(&chunk).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        _ = requests => {}
        () = async { tokio::join!(read_replies, deliver_replies); } => {}
    }
}
