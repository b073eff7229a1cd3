//! The live interop test: the Express app of `interop/express/` (express-session +
//! connect-redis from npm) and every Rust example, all with `STORE=redis` on one Redis, one
//! cookie name and one secret, share sessions in both directions.
//!
//! For every example: a session begun on Express continues on Rust with its data and user, a
//! counter advanced on Rust is seen by Express, a logout on either side ends the session on
//! both, and a cookie signed with the old secret by one side verifies on the other side after
//! it rotated to `SECRET=new,old`. Every key is made under a unique prefix and deleted at the
//! end.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::{
    http, services,
    smoke::{self, free_loopback_addr, target_dir, wait_until_listening, KillOnDrop},
    Result,
};

const OLD: &str = "interop secret (old) of at least thirty-two bytes";
const NEW: &str = "interop secret (new) of at least thirty-two bytes";
const COOKIE: &str = "interop.sid";

/// Runs the interop checks against the Redis that CI provides; `None` means CI found no Redis
/// and already said so.
pub(crate) fn run(redis: Option<&services::Redis>) -> Result {
    let Some(redis) = redis else {
        println!("interop: NOTICE: no Redis; the Express interop test is SKIPPED");
        return Ok(());
    };
    let app_dir = crate::root().join("interop").join("express");
    if let Err(reason) = node_available() {
        if crate::strict() {
            return Err(format!(
                "the interop test needs Node.js under CI=true: {reason}"
            ));
        }
        println!(
            "interop: NOTICE: {reason}; the Express interop test is SKIPPED (install node and npm)"
        );
        return Ok(());
    }
    let installed = Instant::now();
    npm_ci(&app_dir)?;
    println!("interop: npm ci took {:.1?}", installed.elapsed());

    let started = Instant::now();
    let prefix = format!(
        "interop:{}-{}:",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let outcome = run_checks(&redis.url, &prefix, &app_dir);
    let cleaned = Redis::connect(&redis.url).and_then(|mut r| r.delete_prefixed(&prefix));
    let passed = outcome?;
    let deleted = cleaned?;
    println!(
        "interop: {passed} checks passed for {} example(s) against Express in {:.1?} \
         (Redis-backed part); deleted {deleted} keys under {prefix:?}",
        smoke::EXAMPLES.len(),
        started.elapsed()
    );
    Ok(())
}

/// `cargo xtask interop`: builds the examples, finds or starts a Redis, runs the checks.
pub(crate) fn run_alone() -> Result {
    smoke::build_all()?;
    let redis = services::redis()?;
    run(redis.as_ref())
}

fn node_available() -> Result {
    for tool in ["node", "npm"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Err(format!("`{tool}` is not installed"));
        }
    }
    Ok(())
}

fn npm_ci(app_dir: &Path) -> Result {
    println!("\n$ npm ci   (in interop/express)");
    let status = Command::new("npm")
        .args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(app_dir)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm ci` in interop/express failed ({status})"))
    }
}

/// One server of the test: an address and the process behind it.
struct App {
    name: String,
    addr: SocketAddr,
    _process: KillOnDrop,
}

/// Starts an app with the shared session settings and `secret`.
fn start(
    name: &str,
    mut command: Command,
    redis_url: &str,
    prefix: &str,
    secret: &str,
) -> Result<App> {
    let addr = free_loopback_addr()?;
    let log_dir = target_dir().join("interop-logs");
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let log_path = log_dir.join(format!("{name}.log"));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let child = command
        .env("HOST", "127.0.0.1")
        .env("PORT", addr.port().to_string())
        .env("SECRET", secret)
        .env("COOKIE_NAME", COOKIE)
        .env("MAX_AGE_MS", "1800000")
        .env("ROLLING", "false")
        .env("RESAVE", "false")
        .env("SAVE_UNINITIALIZED", "true")
        .env("STORE", "redis")
        .env("REDIS_URL", redis_url)
        .env("REDIS_PREFIX", prefix)
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let process = KillOnDrop(child);
    wait_until_listening(addr, name).map_err(|e| format!("{e} (log: {})", log_path.display()))?;
    Ok(App {
        name: name.to_owned(),
        addr,
        _process: process,
    })
}

fn express(app_dir: &Path, name: &str, url: &str, prefix: &str, secret: &str) -> Result<App> {
    let mut command = Command::new("node");
    command.arg("app.js").current_dir(app_dir);
    start(name, command, url, prefix, secret)
}

fn rust(example: &str, name: &str, url: &str, prefix: &str, secret: &str) -> Result<App> {
    let binary: PathBuf = target_dir().join("debug").join(example);
    start(name, Command::new(binary), url, prefix, secret)
}

fn run_checks(url: &str, prefix: &str, app_dir: &Path) -> Result<u32> {
    let mut redis = Redis::connect(url)?;
    let rotated = format!("{NEW},{OLD}");
    let node = express(app_dir, "express", url, prefix, OLD)?;
    let node_rotated = express(app_dir, "express-rotated", url, prefix, &rotated)?;
    let mut checks = Checks::default();
    for example in smoke::EXAMPLES {
        let example_started = Instant::now();
        let rs = rust(example, example, url, prefix, OLD)?;
        let rs_rotated = rust(
            example,
            &format!("{example}-rotated"),
            url,
            prefix,
            &rotated,
        )?;
        let before = checks.passed;
        both_directions(&mut checks, &mut redis, prefix, &node, &rs)?;
        logouts(&mut checks, &mut redis, prefix, &node, &rs)?;
        rotation(&mut checks, &node, &node_rotated, &rs, &rs_rotated)?;
        println!(
            "interop: {example} <-> express: {} checks passed in {:.1?}",
            checks.passed - before,
            example_started.elapsed()
        );
    }
    Ok(checks.passed)
}

/// Express → Rust and Rust → Express: login, counter, data intact, the key in Redis.
fn both_directions(
    checks: &mut Checks,
    redis: &mut Redis,
    prefix: &str,
    node: &App,
    rs: &App,
) -> Result {
    let mut ann = Browser::default();
    checks.expect(node, ann.get(node, "/login?user=ann")?, "user=ann")?;
    checks.expect(node, ann.get(node, "/")?, "count=0")?;
    checks.expect(node, ann.get(node, "/")?, "count=1")?;
    checks.that(
        redis.exists(&ann.key(prefix)?)?,
        "the Express login is in Redis under prefix + id",
    )?;
    checks.expect(rs, ann.get(rs, "/whoami")?, "user=ann")?;
    checks.expect(rs, ann.get(rs, "/")?, "count=2")?;
    checks.expect(node, ann.get(node, "/peek")?, "count=2")?;
    checks.expect(node, ann.get(node, "/whoami")?, "user=ann")?;

    let mut bob = Browser::default();
    checks.expect(rs, bob.get(rs, "/login?user=bob")?, "user=bob")?;
    checks.expect(rs, bob.get(rs, "/")?, "count=0")?;
    checks.that(
        redis.exists(&bob.key(prefix)?)?,
        "the Rust login is in Redis under prefix + id",
    )?;
    checks.expect(node, bob.get(node, "/whoami")?, "user=bob")?;
    checks.expect(node, bob.get(node, "/")?, "count=1")?;
    checks.expect(rs, bob.get(rs, "/")?, "count=2")?;
    checks.expect(node, bob.get(node, "/peek")?, "count=2")
}

/// A logout on either side ends the session on both.
fn logouts(checks: &mut Checks, redis: &mut Redis, prefix: &str, node: &App, rs: &App) -> Result {
    let mut cid = Browser::default();
    checks.expect(rs, cid.get(rs, "/login?user=cid")?, "user=cid")?;
    checks.expect(node, cid.get(node, "/logout")?, "bye")?;
    // express-session leaves the cookie in the browser: it names a session that is gone.
    checks.that(
        !redis.exists(&cid.key(prefix)?)?,
        "Express logout deleted the key",
    )?;
    checks.expect(rs, cid.clone().get(rs, "/whoami")?, "user=none")?;
    checks.expect(node, cid.clone().get(node, "/whoami")?, "user=none")?;

    let mut dee = Browser::default();
    checks.expect(node, dee.get(node, "/login?user=dee")?, "user=dee")?;
    let stolen = dee.clone(); // the cookie as it was before the logout
    checks.expect(rs, dee.get(rs, "/logout")?, "bye")?;
    checks.that(dee.cookie.is_none(), "Rust logout clears the cookie")?;
    checks.that(
        !redis.exists(&stolen.key(prefix)?)?,
        "Rust logout deleted the key",
    )?;
    checks.expect(node, stolen.clone().get(node, "/whoami")?, "user=none")?;
    checks.expect(rs, stolen.clone().get(rs, "/whoami")?, "user=none")
}

/// A cookie signed with the old secret verifies on the other side after it rotated; a cookie
/// signed with the new secret does not verify where only the old one is known.
fn rotation(
    checks: &mut Checks,
    node: &App,
    node_rotated: &App,
    rs: &App,
    rs_rotated: &App,
) -> Result {
    let mut eve = Browser::default();
    checks.expect(node, eve.get(node, "/login?user=eve")?, "user=eve")?;
    let signed_old = eve.cookie.clone();
    checks.expect(rs_rotated, eve.get(rs_rotated, "/whoami")?, "user=eve")?;
    checks.that(
        eve.cookie == signed_old,
        "a cookie verified by an old secret is not re-signed",
    )?;

    let mut fay = Browser::default();
    checks.expect(rs, fay.get(rs, "/login?user=fay")?, "user=fay")?;
    checks.expect(node_rotated, fay.get(node_rotated, "/whoami")?, "user=fay")?;

    let mut gus = Browser::default();
    checks.expect(
        node_rotated,
        gus.get(node_rotated, "/login?user=gus")?,
        "user=gus",
    )?;
    checks.expect(
        rs_rotated,
        gus.clone().get(rs_rotated, "/whoami")?,
        "user=gus",
    )?;
    checks.expect(rs, gus.get(rs, "/whoami")?, "user=none")
}

#[derive(Default)]
struct Checks {
    passed: u32,
}

impl Checks {
    fn expect(&mut self, app: &App, (status, body): (u16, String), wanted: &str) -> Result {
        if status == 200 && body == wanted {
            self.passed += 1;
            Ok(())
        } else {
            Err(format!(
                "interop: {} answered {status} {body:?}, expected 200 {wanted:?} \
                 (logs in {})",
                app.name,
                target_dir().join("interop-logs").display()
            ))
        }
    }

    fn that(&mut self, holds: bool, what: &str) -> Result {
        if holds {
            self.passed += 1;
            Ok(())
        } else {
            Err(format!("interop: expected that {what}"))
        }
    }
}

/// Keeps the session cookie between requests, like a browser on one domain with both apps.
#[derive(Default, Clone)]
struct Browser {
    /// The cookie value, percent-encoded as received.
    cookie: Option<String>,
}

impl Browser {
    /// `GET path` on `app`: returns status and body, and keeps what `Set-Cookie` says.
    fn get(&mut self, app: &App, path: &str) -> Result<(u16, String)> {
        let cookie = self
            .cookie
            .as_ref()
            .map(|value| format!("{COOKIE}={value}"));
        let response = http::get(app.addr, path, cookie.as_deref())?;
        let (status, body) = (response.status, response.body.clone());
        if let Some(header) = response.cookie(COOKIE) {
            let value = header
                .split(';')
                .next()
                .and_then(|pair| pair.split_once('='))
                .map(|(_, value)| value.trim().to_owned())
                .unwrap_or_default();
            let removal = value.is_empty() || header.contains("1970");
            self.cookie = (!removal).then_some(value);
        }
        Ok((status, body))
    }

    /// The Redis key of the session the cookie names: prefix + the unsigned id.
    fn key(&self, prefix: &str) -> Result<String> {
        let id = self
            .cookie
            .as_deref()
            .and_then(|value| value.strip_prefix("s%3A"))
            .and_then(|signed| signed.rsplit_once('.'))
            .map(|(id, _)| id)
            .ok_or("the browser holds no signed session cookie")?;
        Ok(format!("{prefix}{id}"))
    }
}

/// Just enough of a Redis client (RESP2 over TCP) to look at keys and clean up.
struct Redis {
    reader: BufReader<TcpStream>,
}

enum Reply {
    Simple(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Redis {
    /// Connects to a `redis://[[user:]password@]host[:port][/db]` URL.
    fn connect(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| format!("the interop test needs a redis:// URL, not {url:?}"))?;
        let (authority, db) = rest.split_once('/').unwrap_or((rest, ""));
        let (auth, host_port) = match authority.rsplit_once('@') {
            Some((auth, host)) => (Some(auth), host),
            None => (None, authority),
        };
        let address = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:6379")
        };
        let stream =
            TcpStream::connect(&address).map_err(|e| format!("connect to Redis {address}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut redis = Self {
            reader: BufReader::new(stream),
        };
        if let Some(auth) = auth {
            match auth.split_once(':') {
                Some(("", password)) => redis.command(&["AUTH", password])?,
                Some((user, password)) => redis.command(&["AUTH", user, password])?,
                None => redis.command(&["AUTH", auth])?,
            };
        }
        let db = db.split('?').next().unwrap_or_default();
        if !db.is_empty() {
            redis.command(&["SELECT", db])?;
        }
        Ok(redis)
    }

    fn command(&mut self, args: &[&str]) -> Result<Reply> {
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| format!("Redis: {e}"))?;
        self.read()
    }

    fn read(&mut self) -> Result<Reply> {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| format!("Redis: {e}"))?;
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line
            .split_at_checked(1)
            .ok_or("Redis closed the connection")?;
        let number = || {
            rest.parse::<i64>()
                .map_err(|_| format!("bad RESP line {line:?}"))
        };
        match kind {
            "+" => Ok(Reply::Simple(rest.to_owned())),
            "-" => Err(format!("Redis answered an error: {rest}")),
            ":" => Ok(Reply::Int(number()?)),
            "$" => {
                let Ok(len) = usize::try_from(number()?) else {
                    return Ok(Reply::Bulk(None));
                };
                let mut data = vec![0; len + 2];
                self.reader
                    .read_exact(&mut data)
                    .map_err(|e| format!("Redis: {e}"))?;
                data.truncate(len);
                Ok(Reply::Bulk(Some(data)))
            }
            "*" => {
                let len = usize::try_from(number()?).unwrap_or(0);
                (0..len)
                    .map(|_| self.read())
                    .collect::<Result<_>>()
                    .map(Reply::Array)
            }
            _ => Err(format!("bad RESP line {line:?}")),
        }
    }

    fn exists(&mut self, key: &str) -> Result<bool> {
        match self.command(&["EXISTS", key])? {
            Reply::Int(n) => Ok(n > 0),
            _ => Err("unexpected EXISTS reply".to_owned()),
        }
    }

    /// Deletes every key under `prefix` with SCAN + DEL (never FLUSH); returns how many.
    fn delete_prefixed(&mut self, prefix: &str) -> Result<usize> {
        let pattern = format!("{prefix}*");
        let mut cursor = "0".to_owned();
        let mut deleted = 0;
        loop {
            let Reply::Array(parts) =
                self.command(&["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"])?
            else {
                return Err("unexpected SCAN reply".to_owned());
            };
            let mut parts = parts.into_iter();
            let (Some(Reply::Bulk(Some(next))), Some(Reply::Array(keys))) =
                (parts.next(), parts.next())
            else {
                return Err("unexpected SCAN reply".to_owned());
            };
            let keys: Vec<String> = keys
                .into_iter()
                .filter_map(|key| match key {
                    Reply::Bulk(Some(key)) => String::from_utf8(key).ok(),
                    Reply::Simple(key) => Some(key),
                    _ => None,
                })
                .collect();
            if !keys.is_empty() {
                let mut args = vec!["DEL"];
                args.extend(keys.iter().map(String::as_str));
                self.command(&args)?;
                deleted += keys.len();
            }
            cursor = String::from_utf8_lossy(&next).into_owned();
            if cursor == "0" {
                return Ok(deleted);
            }
        }
    }
}
