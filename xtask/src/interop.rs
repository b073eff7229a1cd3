//! The live interop test: the Express app of `interop/express/` (express-session +
//! connect-redis from npm) and every Rust example, all with `STORE=redis` on one Redis, one
//! cookie name and one secret, share sessions in both directions (`interop_pg.rs` does the same
//! on PostgreSQL with connect-pg-simple; the checks are in `interop/shared.rs`).
//!
//! For every example: a session begun on Express continues on Rust with its data and user, a
//! counter advanced on Rust is seen by Express, a logout on either side ends the session on
//! both, "log out everywhere" on either side ends the user's sessions on both, the creation
//! time of the absolute timeout survives a write by Express, and a cookie signed with the old
//! secret by one side verifies on the other side after it rotated to `SECRET=new,old`. Every
//! key is made under a unique prefix and deleted at the end. The axum and warp examples run
//! with session-redis's near cache on (`REDIS_NEAR_CACHE=true`), the others without.

pub(crate) mod apps;
pub(crate) mod shared;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::{services, smoke, Result};

use self::{
    apps::{node_available, npm_ci, Backend, Rows},
    shared::run_checks,
};

/// Half the examples run with session-redis's near cache (`REDIS_NEAR_CACHE=true`), half
/// without, so that both ways of reading the store share sessions with Express.
fn near_cache_on_half(example: &str) -> Vec<(&'static str, String)> {
    match example {
        "example-axum" | "example-warp" => vec![("REDIS_NEAR_CACHE", "true".to_owned())],
        _ => Vec::new(),
    }
}

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
    let outcome = Redis::connect(&redis.url).and_then(|connection| {
        let mut rows = RedisRows {
            redis: connection,
            prefix: prefix.clone(),
        };
        let mut backend = Backend {
            env: vec![
                ("STORE", "redis".to_owned()),
                ("REDIS_URL", redis.url.clone()),
                ("REDIS_PREFIX", prefix.clone()),
            ],
            example_env: near_cache_on_half,
            app_dir,
            rows: &mut rows,
        };
        run_checks("redis", &mut backend)
    });
    // The sessions, and the users' listings the Rust side keeps beside them
    // (session-redis's default user-index prefix: `users:` + the session prefix).
    let cleaned = Redis::connect(&redis.url).and_then(|mut r| {
        Ok(r.delete_prefixed(&prefix)? + r.delete_prefixed(&format!("users:{prefix}"))?)
    });
    let passed = outcome?;
    let deleted = cleaned?;
    println!(
        "interop: {passed} checks passed for {} example(s) against Express in {:.1?} \
         (Redis-backed part); deleted {deleted} keys under {prefix:?} and its users' listings",
        smoke::EXAMPLES.len(),
        started.elapsed()
    );
    Ok(())
}

/// `cargo xtask interop`: builds the examples, finds or starts Redis and PostgreSQL, runs the
/// checks on both.
pub(crate) fn run_alone() -> Result {
    smoke::build_all()?;
    let redis = services::redis()?;
    run(redis.as_ref())?;
    let postgres = services::postgres()?;
    crate::interop_pg::run(postgres.as_ref())
}

/// The sessions in Redis: `prefix + id`.
struct RedisRows {
    redis: Redis,
    prefix: String,
}

impl Rows for RedisRows {
    fn get(&mut self, id: &str) -> Result<Option<String>> {
        self.redis.get(&format!("{}{id}", self.prefix))
    }

    fn exists(&mut self, id: &str) -> Result<bool> {
        self.redis.exists(&format!("{}{id}", self.prefix))
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

    fn get(&mut self, key: &str) -> Result<Option<String>> {
        match self.command(&["GET", key])? {
            Reply::Bulk(value) => Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned())),
            _ => Err("unexpected GET reply".to_owned()),
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
