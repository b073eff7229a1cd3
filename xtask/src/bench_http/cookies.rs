//! The cookies of each scenario: sessions made on the server under test before the load, and
//! checked on it before and after.

use std::net::SocketAddr;

use crate::{http, Result};

use super::{servers::is_bare, settings::Scenario};

/// The cookies that `scenario`'s requests carry to `server`: for a bare server, cookies of
/// the same size as ours with no session behind them; for the others, new sessions, the
/// first of which must count `1` on its second visit.
pub(super) fn for_scenario(
    addr: SocketAddr,
    server: &str,
    scenario: Scenario,
) -> Result<Vec<String>> {
    if is_bare(server) {
        // Same request size as ours, and no session behind it.
        return Ok((0..scenario.cookies())
            .map(|i| format!("connect.sid=s%3A{i:032}.{i:043}"))
            .collect());
    }
    let cookies = new_sessions(addr, scenario.cookies())?;
    if let Some(first) = cookies.first() {
        expect_count(
            addr,
            first,
            |count| count == 1,
            "count=1 on its second visit",
        )?;
    }
    Ok(cookies)
}

/// A note when the first of `cookies` is no longer honoured by `server` after the load.
pub(super) fn not_honoured_after_the_run(
    addr: SocketAddr,
    server: &str,
    cookies: &[String],
) -> Option<String> {
    let first = cookies.first().filter(|_| !is_bare(server))?;
    // A session that survived the load answers count>=1; a cookie that stopped being
    // honoured (a store that lost it, a cookie the server no longer accepts) gets count=0.
    let reason = expect_count(addr, first, |count| count >= 1, "count>=1").err()?;
    Some(format!("cookie not honoured after the run: {reason}"))
}

/// `count` new sessions: the `name=value` of the cookie that each of `count` cookie-less
/// `GET /` got.
fn new_sessions(addr: SocketAddr, count: usize) -> Result<Vec<String>> {
    (0..count)
        .map(|_| {
            let http::Response {
                status,
                set_cookies,
                body,
            } = http::get(addr, "/", None)?;
            if status != 200 || body != "count=0" {
                return Err(format!(
                    "a new visitor got {status} {body:?}, expected 200 \"count=0\""
                ));
            }
            set_cookies
                .first()
                .and_then(|header| header.split(';').next().map(str::to_owned))
                .ok_or_else(|| "a new visitor got no Set-Cookie".to_owned())
        })
        .collect()
}

/// `GET /` with `cookie` must answer `count=N` with `wanted(N)`.
fn expect_count(
    addr: SocketAddr,
    cookie: &str,
    wanted: impl Fn(u64) -> bool,
    what: &str,
) -> Result {
    let http::Response { status, body, .. } = http::get(addr, "/", Some(cookie))?;
    let count = body.strip_prefix("count=").and_then(|n| n.parse().ok());
    match count {
        Some(count) if status == 200 && wanted(count) => Ok(()),
        _ => Err(format!(
            "a returning visitor got {status} {body:?}, expected {what}"
        )),
    }
}
