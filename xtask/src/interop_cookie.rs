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

use std::{
    fs::File,
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime},
};

use crate::{
    http,
    interop::shared::{node_available, npm_ci},
    smoke::{self, free_loopback_addr, target_dir, wait_until_listening, KillOnDrop},
    Result,
};

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

/// A counter and a login continue across the two servers, begun on either side.
fn both_directions(checks: &mut Checks, node: &App, rs: &App) -> Result {
    let mut ann = Jar::default();
    checks.expect(node, &ann.get(node, "/login?user=ann")?, "user=ann")?;
    checks.expect(node, &ann.get(node, "/")?, "count=0")?;
    checks.expect(rs, &ann.get(rs, "/whoami")?, "user=ann")?;
    checks.expect(rs, &ann.get(rs, "/")?, "count=1")?;
    checks.expect(node, &ann.get(node, "/")?, "count=2")?;
    checks.expect(rs, &ann.get(rs, "/peek")?, "count=2")?;
    checks.expect(node, &ann.get(node, "/whoami")?, "user=ann")?;

    let mut bob = Jar::default();
    checks.expect(rs, &bob.get(rs, "/login?user=bob")?, "user=bob")?;
    checks.expect(rs, &bob.get(rs, "/")?, "count=0")?;
    checks.expect(node, &bob.get(node, "/whoami")?, "user=bob")?;
    checks.expect(node, &bob.get(node, "/")?, "count=1")?;
    checks.expect(rs, &bob.get(rs, "/")?, "count=2")?;
    checks.expect(node, &bob.get(node, "/peek")?, "count=2")
}

/// Both sides write the same cookies for the same session: a login, a counter continued from
/// a cookie Node wrote, and "remember me".
fn same_bytes(checks: &mut Checks, node: &App, rs: &App) -> Result {
    let (mut on_node, mut on_rust) = (Jar::default(), Jar::default());
    let by_node = on_node.get(node, "/login?user=cy")?;
    let by_rust = on_rust.get(rs, "/login?user=cy")?;
    checks.expect(node, &by_node, "user=cy")?;
    checks.expect(rs, &by_rust, "user=cy")?;
    checks.same_cookies(&by_node, &by_rust, "a login")?;

    let by_node = on_node.clone().get(node, "/")?;
    let by_rust = on_node.clone().get(rs, "/")?;
    checks.expect(node, &by_node, "count=0")?;
    checks.expect(rs, &by_rust, "count=0")?;
    checks.same_cookies(&by_node, &by_rust, "a counter on a cookie Node wrote")?;

    let by_node = on_node.clone().get(node, "/remember")?;
    let by_rust = on_node.clone().get(rs, "/remember")?;
    checks.expect(node, &by_node, "ok")?;
    checks.expect(rs, &by_rust, "ok")?;
    checks.same_cookies(&by_node, &by_rust, "remember me")?;
    let month = Duration::from_secs(30 * 24 * 3600);
    checks.that(
        by_rust
            .set_cookies
            .iter()
            .all(|c| expires(c).is_some_and(|at| near(at, SystemTime::now() + month))),
        "remember me makes both cookies last 30 days",
    )
}

/// A logout on either side clears both cookies in the browser (cookie-session's
/// `req.session = null`), so that the other side sees an anonymous visitor next.
fn logouts(checks: &mut Checks, node: &App, rs: &App) -> Result {
    let mut cid = Jar::default();
    checks.expect(rs, &cid.get(rs, "/login?user=cid")?, "user=cid")?;
    checks.expect(node, &cid.get(node, "/logout")?, "bye")?;
    checks.that(
        cid.cookies.is_empty(),
        "Express's logout clears both cookies",
    )?;
    checks.expect(rs, &cid.get(rs, "/whoami")?, "user=none")?;

    let mut dee = Jar::default();
    checks.expect(node, &dee.get(node, "/login?user=dee")?, "user=dee")?;
    checks.expect(rs, &dee.get(rs, "/logout")?, "bye")?;
    checks.that(dee.cookies.is_empty(), "Rust's logout clears both cookies")?;
    checks.expect(node, &dee.get(node, "/whoami")?, "user=none")
}

/// Keys rotated to `new,old` on both sides: a cookie signed with the old key on either side
/// is read on the other, which renews the signature alone with the new key, as the first side
/// renews it once rotated; the renewed cookie is read without renewal on both rotated sides
/// and refused where only the old key is known.
fn rotation(
    checks: &mut Checks,
    [node, node_rotated]: [&App; 2],
    [rs, rs_rotated]: [&App; 2],
) -> Result {
    for (user, signer, reader, peer) in [
        ("eve", node, rs_rotated, node_rotated),
        ("fay", rs, node_rotated, rs_rotated),
    ] {
        let wanted = format!("user={user}");
        let mut old_signed = Jar::default();
        checks.expect(
            signer,
            &old_signed.get(signer, &format!("/login?user={user}"))?,
            &wanted,
        )?;
        let mut jar = old_signed.clone();
        let renewed = jar.get(reader, "/whoami")?;
        checks.expect(reader, &renewed, &wanted)?;
        let by_peer = old_signed.clone().get(peer, "/whoami")?;
        checks.expect(peer, &by_peer, &wanted)?;
        checks.that(
            names(&renewed) == [SIGNATURE] && names(&by_peer) == [SIGNATURE],
            &format!("{} renews the signature alone", reader.name),
        )?;
        // The value only: Node's `cookies` renews with `path=/; httponly` alone, whatever the
        // session's attributes; the Rust side keeps them (here `SameSite=Lax`), so that the
        // renewal replaces the signature cookie rather than adding a second one.
        checks.that(
            renewed.set_cookies.first().map(|c| pair(c))
                == by_peer.set_cookies.first().map(|c| pair(c)),
            &format!(
                "{} and {} renew the signature alike: {:?}, {:?}",
                reader.name, peer.name, renewed.set_cookies, by_peer.set_cookies
            ),
        )?;
        checks.that(
            jar.value(SIGNATURE) != old_signed.value(SIGNATURE)
                && jar.value(NAME) == old_signed.value(NAME),
            "the renewal changes the signature and leaves the value",
        )?;
        for rotated in [reader, peer] {
            let read = jar.clone().get(rotated, "/whoami")?;
            checks.expect(rotated, &read, &wanted)?;
            checks.that(
                read.set_cookies.is_empty(),
                &format!(
                    "{} reads the renewed cookie without renewing it",
                    rotated.name
                ),
            )?;
        }
        for old_only in [node, rs] {
            checks.expect(
                old_only,
                &jar.clone().get(old_only, "/whoami")?,
                "user=none",
            )?;
        }
    }
    Ok(())
}

/// A session grown on Node until its cookie passes a browser's limit (Node writes it anyway,
/// and a browser would drop it): from the last cookie under the limit, the Rust side reads
/// it, and answers the same growth with a `413` and no cookie.
fn too_large(checks: &mut Checks, node: &App, rs: &App) -> Result {
    let mut jar = Jar::default();
    checks.expect(node, &jar.get(node, "/")?, "count=0")?;
    for n in 0..200 {
        let path = format!("/bump?key=k{n:0>31}");
        let before = jar.clone();
        let grown = jar.get(node, &path)?;
        // Counted once, below: these requests only grow the session.
        Checks::default().expect(node, &grown, &format!("k{n:0>31}=1"))?;
        let size = jar
            .value(NAME)
            .map_or(0, |value| NAME.len() + 1 + value.len());
        if size <= COOKIE_LIMIT {
            continue;
        }
        checks.that(
            n > 50,
            &format!("Node's cookie passes {COOKIE_LIMIT} bytes after {n} keys, not sooner"),
        )?;
        checks.expect(rs, &before.clone().get(rs, "/peek")?, "count=0")?;
        let refused = before.clone().get(rs, &path)?;
        return checks.that(
            refused.status == 413 && refused.set_cookies.is_empty(),
            &format!(
                "{} answers 413 with no cookie to a session of a {size}-byte cookie \
                 (answered {} {:?})",
                rs.name, refused.status, refused.body
            ),
        );
    }
    Err("interop: Node's session never outgrew a cookie".to_owned())
}

/// The names of the cookies a response sets.
fn names(response: &http::Response) -> Vec<&str> {
    response
        .set_cookies
        .iter()
        .map(|header| pair(header).0)
        .collect()
}

/// The `name` and `value` of a `Set-Cookie` header.
fn pair(header: &str) -> (&str, &str) {
    let first = header.split(';').next().unwrap_or_default();
    let (name, value) = first.split_once('=').unwrap_or((first, ""));
    (name.trim(), value.trim())
}

/// The attributes of a `Set-Cookie` header but `Expires`, lower-cased and sorted: what
/// both sides must agree on (Node writes `path=/`, Rust `Path=/`).
fn attributes(header: &str) -> Vec<String> {
    let mut attributes: Vec<String> = header
        .split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_ascii_lowercase())
        .filter(|attribute| !attribute.starts_with("expires="))
        .collect();
    attributes.sort();
    attributes
}

/// The `Expires` of a `Set-Cookie` header.
fn expires(header: &str) -> Option<SystemTime> {
    header.split(';').find_map(|attribute| {
        let (name, value) = attribute.trim().split_once('=')?;
        name.eq_ignore_ascii_case("expires")
            .then(|| parse_http_date(value.trim()))
            .flatten()
    })
}

/// Whether two times are within 3 s of each other (the two responses are not sent at once).
fn near(a: SystemTime, b: SystemTime) -> bool {
    let gap = a
        .duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default();
    gap <= Duration::from_secs(3)
}

/// An IMF-fixdate (`Tue, 01 Dec 2026 05:13:36 GMT`), the only form either side writes.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    let clock: Vec<u64> = time
        .split(':')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = clock.as_slice() else {
        return None;
    };
    // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
    let secs = days * 86_400 + hours * 3600 + minutes * 60 + seconds;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[derive(Default)]
struct Checks {
    passed: u32,
}

impl Checks {
    fn expect(&mut self, app: &App, response: &http::Response, wanted: &str) -> Result {
        if response.status == 200 && response.body == wanted {
            self.passed += 1;
            Ok(())
        } else {
            Err(format!(
                "interop: {} answered {} {:?}, expected 200 {wanted:?} (logs in {})",
                app.name,
                response.status,
                response.body,
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

    /// Node's and Rust's `Set-Cookie` headers for the same session are the same: names and
    /// values byte for byte, attributes but for the case of their names, `Expires` within
    /// seconds.
    fn same_cookies(&mut self, node: &http::Response, rust: &http::Response, what: &str) -> Result {
        let same = node.set_cookies.len() == rust.set_cookies.len()
            && node
                .set_cookies
                .iter()
                .zip(&rust.set_cookies)
                .all(|(n, r)| {
                    pair(n) == pair(r)
                        && attributes(n) == attributes(r)
                        && match (expires(n), expires(r)) {
                            (Some(n), Some(r)) => near(n, r),
                            (n, r) => n.is_none() && r.is_none(),
                        }
                });
        self.that(
            same,
            &format!(
                "{what} sets the same cookies on both sides; Node: {:?}, Rust: {:?}",
                node.set_cookies, rust.set_cookies
            ),
        )
    }
}

/// A browser's cookies for the one domain both apps serve.
#[derive(Default, Clone)]
struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(held, _)| held == name)
            .map(|(_, value)| value.as_str())
    }

    /// `GET path` on `app` with every cookie held, keeping what `Set-Cookie` says (a cookie
    /// with an empty value or expired in 1970 is dropped).
    fn get(&mut self, app: &App, path: &str) -> Result<http::Response> {
        let header = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = http::get(app.addr, path, (!header.is_empty()).then_some(&*header))?;
        for set_cookie in &response.set_cookies {
            let (name, value) = pair(set_cookie);
            self.cookies.retain(|(held, _)| held != name);
            if !value.is_empty() && !set_cookie.contains("1970") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_both_sides_write() {
        let node = "session=eyJjb3VudCI6MH0=; path=/; expires=Tue, 01 Dec 2026 05:23:36 GMT; \
                    samesite=lax; httponly";
        let rust = "session=eyJjb3VudCI6MH0=; Path=/; Expires=Tue, 01 Dec 2026 05:23:37 GMT; \
                    HttpOnly; SameSite=Lax";
        assert_eq!(pair(node), ("session", "eyJjb3VudCI6MH0="));
        assert_eq!(attributes(node), attributes(rust));
        let (at_node, at_rust) = (expires(node).unwrap(), expires(rust).unwrap());
        assert!(near(at_node, at_rust));
        let since_epoch = at_node.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since_epoch.as_secs(), 1_796_102_616);
        assert_eq!(
            expires("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(SystemTime::UNIX_EPOCH)
        );
    }
}
