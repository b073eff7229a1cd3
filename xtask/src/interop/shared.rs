//! The checks of the live interop tests, whatever the store: the Express app and the Rust
//! examples (started by `apps.rs` on one backend, one cookie name and one secret) share
//! sessions in both directions (see `interop.rs` for the list).

use std::time::{Duration, Instant};

use crate::{
    http,
    smoke::{self, target_dir},
    Result,
};

use super::apps::{
    express, rust, rust_with_absolute_timeout, App, Backend, Rows, ABSOLUTE_TIMEOUT, COOKIE, NEW,
    OLD,
};

/// Runs every check for every example against the Express app, all on `backend`; returns
/// how many passed. `tag` names the backend in the progress lines.
pub(crate) fn run_checks(tag: &str, backend: &mut Backend<'_>) -> Result<u32> {
    let rotated = format!("{NEW},{OLD}");
    let node = express(backend, &format!("express-{tag}"), OLD)?;
    let node_rotated = express(backend, &format!("express-{tag}-rotated"), &rotated)?;
    let mut checks = Checks::default();
    for example in smoke::EXAMPLES {
        let example_started = Instant::now();
        let rs = rust(backend, example, &format!("{example}-{tag}"), OLD)?;
        let rs_rotated = rust(
            backend,
            example,
            &format!("{example}-{tag}-rotated"),
            &rotated,
        )?;
        let rs_absolute = rust_with_absolute_timeout(backend, example)?;
        let before = checks.passed;
        let rows = &mut *backend.rows;
        both_directions(&mut checks, rows, &node, &rs)?;
        logouts(&mut checks, rows, &node, &rs)?;
        logouts_everywhere(&mut checks, example, &node, &rs)?;
        absolute_timeout(&mut checks, rows, &node, &rs_absolute)?;
        rotation(&mut checks, &node, &node_rotated, &rs, &rs_rotated)?;
        let extra: Vec<String> = (backend.example_env)(example)
            .into_iter()
            .map(|(name, value)| format!(", {name}={value}"))
            .collect();
        println!(
            "interop: {example} <-> express ({tag}{}): {} checks passed in {:.1?}",
            extra.concat(),
            checks.passed - before,
            example_started.elapsed()
        );
    }
    Ok(checks.passed)
}

/// Express → Rust and Rust → Express: login, counter, data intact, the record in the store.
fn both_directions(checks: &mut Checks, rows: &mut dyn Rows, node: &App, rs: &App) -> Result {
    let mut ann = Browser::default();
    checks.expect(node, ann.get(node, "/login?user=ann")?, "user=ann")?;
    checks.expect(node, ann.get(node, "/")?, "count=0")?;
    checks.expect(node, ann.get(node, "/")?, "count=1")?;
    checks.that(
        rows.exists(ann.id()?)?,
        "the Express login is in the store under its id",
    )?;
    checks.expect(rs, ann.get(rs, "/whoami")?, "user=ann")?;
    checks.expect(rs, ann.get(rs, "/")?, "count=2")?;
    checks.expect(node, ann.get(node, "/peek")?, "count=2")?;
    checks.expect(node, ann.get(node, "/whoami")?, "user=ann")?;

    let mut bob = Browser::default();
    checks.expect(rs, bob.get(rs, "/login?user=bob")?, "user=bob")?;
    checks.expect(rs, bob.get(rs, "/")?, "count=0")?;
    checks.that(
        rows.exists(bob.id()?)?,
        "the Rust login is in the store under its id",
    )?;
    checks.expect(node, bob.get(node, "/whoami")?, "user=bob")?;
    checks.expect(node, bob.get(node, "/")?, "count=1")?;
    checks.expect(rs, bob.get(rs, "/")?, "count=2")?;
    checks.expect(node, bob.get(node, "/peek")?, "count=2")
}

/// A logout on either side ends the session on both.
fn logouts(checks: &mut Checks, rows: &mut dyn Rows, node: &App, rs: &App) -> Result {
    let mut cid = Browser::default();
    checks.expect(rs, cid.get(rs, "/login?user=cid")?, "user=cid")?;
    checks.expect(node, cid.get(node, "/logout")?, "bye")?;
    // express-session leaves the cookie in the browser: it names a session that is gone.
    checks.that(
        !rows.exists(cid.id()?)?,
        "Express logout deleted the record",
    )?;
    checks.expect(rs, cid.clone().get(rs, "/whoami")?, "user=none")?;
    checks.expect(node, cid.clone().get(node, "/whoami")?, "user=none")?;

    let mut dee = Browser::default();
    checks.expect(node, dee.get(node, "/login?user=dee")?, "user=dee")?;
    let stolen = dee.clone(); // the cookie as it was before the logout
    checks.expect(rs, dee.get(rs, "/logout")?, "bye")?;
    checks.that(dee.cookie.is_none(), "Rust logout clears the cookie")?;
    checks.that(
        !rows.exists(stolen.id()?)?,
        "Rust logout deleted the record",
    )?;
    checks.expect(node, stolen.clone().get(node, "/whoami")?, "user=none")?;
    checks.expect(rs, stolen.clone().get(rs, "/whoami")?, "user=none")
}

/// "Log out everywhere" on either side ends every session of the user on both sides: Rust
/// finds the user's sessions in its listing (including one Express wrote to since), Express by
/// reading every session in the store, which the Rust listing stays out of.
fn logouts_everywhere(checks: &mut Checks, example: &str, node: &App, rs: &App) -> Result {
    let ivy = format!("ivy-{example}");
    let login = format!("/login?user={ivy}");
    let whoami = format!("user={ivy}");
    let (mut laptop, mut phone) = (Browser::default(), Browser::default());
    checks.expect(rs, laptop.get(rs, &login)?, &whoami)?;
    checks.expect(rs, phone.get(rs, &login)?, &whoami)?;
    checks.expect(node, phone.get(node, "/")?, "count=0")?;
    checks.expect(rs, laptop.get(rs, "/logout-everywhere")?, "revoked=2")?;
    checks.that(
        laptop.cookie.is_none(),
        "Rust's log-out-everywhere clears the cookie",
    )?;
    checks.expect(node, phone.clone().get(node, "/whoami")?, "user=none")?;
    checks.expect(rs, phone.get(rs, "/whoami")?, "user=none")?;

    let jay = format!("jay-{example}");
    let login = format!("/login?user={jay}");
    let whoami = format!("user={jay}");
    let (mut on_rust, mut on_node) = (Browser::default(), Browser::default());
    checks.expect(rs, on_rust.get(rs, &login)?, &whoami)?;
    checks.expect(node, on_node.get(node, &login)?, &whoami)?;
    checks.expect(node, on_node.get(node, "/logout-everywhere")?, "revoked=2")?;
    checks.expect(rs, on_rust.clone().get(rs, "/whoami")?, "user=none")?;
    checks.expect(node, on_rust.get(node, "/whoami")?, "user=none")
}

/// The creation time that the absolute timeout needs survives a write by Express, and the
/// session ends on time on the Rust side however much Express used it.
fn absolute_timeout(checks: &mut Checks, rows: &mut dyn Rows, node: &App, rs: &App) -> Result {
    let started = Instant::now();
    let mut kim = Browser::default();
    checks.expect(rs, kim.get(rs, "/login?user=kim")?, "user=kim")?;
    let stamped = rows.get(kim.id()?)?.unwrap_or_default();
    let created = created_at(&stamped).ok_or("no __createdAt in the Rust-written record")?;
    checks.expect(node, kim.get(node, "/")?, "count=0")?;
    let rewritten = rows.get(kim.id()?)?.unwrap_or_default();
    checks.that(
        rewritten.contains("\"count\":0") && created_at(&rewritten) == Some(created),
        "Express's write keeps the creation time",
    )?;
    checks.expect(rs, kim.get(rs, "/whoami")?, "user=kim")?;
    std::thread::sleep(
        (ABSOLUTE_TIMEOUT + Duration::from_millis(500)).saturating_sub(started.elapsed()),
    );
    checks.expect(rs, kim.clone().get(rs, "/whoami")?, "user=none")?;
    checks.expect(node, kim.get(node, "/whoami")?, "user=none")
}

/// The `__createdAt` number of a stored session's JSON.
fn created_at(json: &str) -> Option<u64> {
    let rest = &json[json.find("\"__createdAt\":")? + "\"__createdAt\":".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
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

    /// The id of the session the cookie names (the unsigned id).
    fn id(&self) -> Result<&str> {
        let id = self
            .cookie
            .as_deref()
            .and_then(|value| value.strip_prefix("s%3A"))
            .and_then(|signed| signed.rsplit_once('.'))
            .map(|(id, _)| id)
            .ok_or("the browser holds no signed session cookie")?;
        Ok(id)
    }
}
