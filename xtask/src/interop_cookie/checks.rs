//! The cookie-mode interop checks: sessions continue both ways, both sides write the same
//! cookies, logouts clear them, rotated keys renew the signature alike, and a session too
//! large for its cookie is refused.

use std::time::{Duration, SystemTime};

use crate::{http, smoke::target_dir, Result};

use super::{
    jar::{attributes, expires, names, near, pair, Jar},
    App, COOKIE_LIMIT, NAME, SIGNATURE,
};

/// A counter and a login continue across the two servers, begun on either side.
pub(super) fn both_directions(checks: &mut Checks, node: &App, rs: &App) -> Result {
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
pub(super) fn same_bytes(checks: &mut Checks, node: &App, rs: &App) -> Result {
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
pub(super) fn logouts(checks: &mut Checks, node: &App, rs: &App) -> Result {
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
pub(super) fn rotation(
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
pub(super) fn too_large(checks: &mut Checks, node: &App, rs: &App) -> Result {
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

#[derive(Default)]
pub(super) struct Checks {
    pub(super) passed: u32,
}

impl Checks {
    pub(super) fn expect(&mut self, app: &App, response: &http::Response, wanted: &str) -> Result {
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

    pub(super) fn that(&mut self, holds: bool, what: &str) -> Result {
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
    pub(super) fn same_cookies(
        &mut self,
        node: &http::Response,
        rust: &http::Response,
        what: &str,
    ) -> Result {
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
