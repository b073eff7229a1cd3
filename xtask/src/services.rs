//! The services some tests need. Redis: `REDIS_URL` when set, else a private `redis-server`
//! on a free port (stopped when CI ends), else the Redis tests are skipped with a notice —
//! except under `CI=true`, where a missing Redis fails the run. PostgreSQL: `DATABASE_URL`
//! when set, else the machine's at 127.0.0.1:5432 (trust, user `postgres`, database `test`),
//! else a private cluster made with `initdb` in a temporary directory (stopped and removed
//! when CI ends), else skipped with a notice, and a failure under `CI=true`.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
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

/// A PostgreSQL the tests can use.
pub(crate) struct Postgres {
    /// Its URL, handed to the tests as `DATABASE_URL`.
    pub(crate) url: String,
    /// The private cluster, when this run started one: the server and its directory.
    private: Option<(Child, PathBuf)>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some((child, dir)) = &mut self.private {
            // SIGTERM: a smart shutdown would wait for clients; SIGINT is "fast" (disconnects).
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The machine's PostgreSQL with trust authentication for user `postgres`, database `test`.
const LOCAL_POSTGRES: (&str, u16, &str, &str) = ("127.0.0.1", 5432, "postgres", "test");

/// Finds or starts a PostgreSQL: `DATABASE_URL` when set, else the machine's at
/// 127.0.0.1:5432 (trust, user `postgres`, database `test`), else a private cluster made with
/// `initdb` when the server binaries are installed; `None` (with a notice) when there is none
/// and CI is not strict.
pub(crate) fn postgres() -> Result<Option<Postgres>> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        println!("services: using DATABASE_URL={}", redact(&url));
        return Ok(Some(Postgres { url, private: None }));
    }
    let (host, port, user, database) = LOCAL_POSTGRES;
    if startup_accepted(port, user, database) {
        let url = format!("postgres://{user}@{host}:{port}/{database}");
        println!("services: using the machine's PostgreSQL at {url}");
        return Ok(Some(Postgres { url, private: None }));
    }
    match start_private_postgres() {
        Ok(postgres) => {
            println!(
                "services: started a private PostgreSQL cluster at {}",
                postgres.url
            );
            Ok(Some(postgres))
        }
        Err(reason) if crate::strict() => Err(format!(
            "PostgreSQL is required under CI=true: {reason} (install postgresql or set DATABASE_URL)"
        )),
        Err(reason) => {
            println!("services: NOTICE: {reason}; the PostgreSQL-backed tests are SKIPPED (install postgresql or set DATABASE_URL)");
            Ok(None)
        }
    }
}

/// Whether a server on 127.0.0.1:`port` lets `user` into `database` without a password: the
/// protocol's startup message, answered by `AuthenticationOk` and then `ReadyForQuery`.
fn startup_accepted(port: u16, user: &str, database: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut body = 196_608u32.to_be_bytes().to_vec(); // protocol 3.0
    for part in ["user", user, "database", database] {
        body.extend_from_slice(part.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = u32::try_from(body.len() + 4)
        .unwrap_or(0)
        .to_be_bytes()
        .to_vec();
    message.extend_from_slice(&body);
    let accepted = stream.write_all(&message).is_ok() && ready_for_query(&mut stream);
    let _ = stream.write_all(&[b'X', 0, 0, 0, 4]);
    accepted
}

/// Reads the server's messages after a startup message: `true` at `ReadyForQuery` (the
/// session is open), `false` at an error (authentication, a missing database) or anything else.
fn ready_for_query(stream: &mut TcpStream) -> bool {
    for _ in 0..64 {
        let mut header = [0u8; 5];
        if stream.read_exact(&mut header).is_err() {
            return false;
        }
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let mut body = vec![0u8; usize::try_from(len).unwrap_or(0).saturating_sub(4)];
        if stream.read_exact(&mut body).is_err() {
            return false;
        }
        match header[0] {
            b'Z' => return true,
            // Authentication: only "OK" (0) goes on; any request for a password ends here.
            b'R' if body.get(..4) != Some(&[0, 0, 0, 0]) => return false,
            b'R' | b'S' | b'K' | b'N' => {}
            _ => return false,
        }
    }
    false
}

fn start_private_postgres() -> Result<Postgres> {
    let bin = postgres_binaries().ok_or("no PostgreSQL server binaries (initdb, postgres)")?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let dir = std::env::temp_dir().join(format!("xtask-postgres-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let user = server_user();
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e}", dir.display()))?;
    }
    let data = dir.join("data");
    let status = as_user(Command::new(bin.join("initdb")), user)
        .args(["-D", &data.to_string_lossy()])
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!("initdb failed ({status})"));
    }
    let child = as_user(Command::new(bin.join("postgres")), user)
        .args(["-D", &data.to_string_lossy()])
        .args(["-p", &port.to_string(), "-k", &dir.to_string_lossy()])
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let postgres = Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        private: Some((child, dir)),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if startup_accepted(port, "postgres", "postgres") {
            return Ok(postgres);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the private postgres on port {port} did not accept connections"
    ))
}

/// Where `initdb` and `postgres` are: `PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn postgres_binaries() -> Option<PathBuf> {
    if let Ok(bin) = std::env::var("PG_BIN") {
        return Some(PathBuf::from(bin));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(std::result::Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// initdb and postgres refuse to run as root: as root, they run as the `postgres` user.
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
        if fields.first() != Some(&"postgres") {
            return None;
        }
        Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
    })
}

fn as_user(mut command: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        use std::os::unix::process::CommandExt as _;
        command.uid(uid).gid(gid);
    }
    command
}

/// `url` without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) => {
            let user = rest.split([':', '@']).next().unwrap_or_default();
            format!("{scheme}://{user}:***@{}", &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://app:pw@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }

    /// The fallback CI uses when the machine has no PostgreSQL of its own.
    #[test]
    fn a_private_cluster_starts_answers_and_is_removed() {
        if postgres_binaries().is_none() {
            println!("NOTICE: no PostgreSQL server binaries; private cluster test SKIPPED");
            return;
        }
        let postgres = start_private_postgres().expect("private cluster");
        let port: u16 = postgres
            .url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .expect("a port in the URL");
        assert!(startup_accepted(port, "postgres", "postgres"));
        assert!(!startup_accepted(port, "postgres", "no_such_database"));
        let dir = postgres.private.as_ref().map(|(_, dir)| dir.clone());
        drop(postgres);
        assert!(!startup_accepted(port, "postgres", "postgres"));
        assert!(dir.is_some_and(|dir| !dir.exists()));
    }
}
