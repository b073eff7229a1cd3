//! A person's first visit, the counter, login with `regenerate()`, and logout, over HTTP,
//! over HTTPS (rustls, HTTP/2), and in cookie mode.

use super::{caption, the_cookie, Ctx, SID};
use crate::{page::Page, Result};

const HOST: &str = "app.test";

/// The walk over plain HTTP (memory store).
pub(crate) fn over_http(ctx: &mut Ctx) -> Result {
    walk(ctx, "http", false, &[])
}

/// The walk over HTTPS: the cookie must also be `Secure`.
pub(crate) fn over_https(ctx: &mut Ctx) -> Result {
    walk(ctx, "https", true, &[])
}

/// The walk over HTTPS with the session sealed in the cookie (`STORE=cookie`).
pub(crate) fn cookie_mode(ctx: &mut Ctx) -> Result {
    walk(ctx, "cookie-mode", true, &[("STORE", "cookie")])
}

fn walk(ctx: &mut Ctx, name: &str, https: bool, env: &[(&str, &str)]) -> Result {
    let app = ctx.app(name, https, env)?;
    let mut browser = ctx.fresh_browser(name)?;
    println!("  using {}", browser.version()?);
    let mut page = browser.new_page()?;
    let url = |path: &str| app.url(HOST, path);

    let first = first_visit(ctx, &mut page, &url("/"), https)?;
    let visit = page.goto(&url("/"))?;
    let jar = page.cookies()?;
    let again = the_cookie(&jar, HOST, SID)?;
    ctx.report.check(
        "the second visit counts on",
        visit.body == "count=1",
        &visit.body,
    );
    let in_cookie = env.contains(&("STORE", "cookie"));
    ctx.report.check(
        "the browser sent the cookie back",
        visit.exchange.sent(SID),
        visit.exchange.describe().join("; "),
    );
    if !in_cookie {
        // In cookie mode the cookie carries the counter, so it changes with every visit.
        ctx.report.check(
            "the cookie stayed the same (same session, no rolling)",
            again.as_ref().map(|c| &c.value) == Some(&first.value),
            format!("{:?}", again.map(|c| c.describe())),
        );
    }
    let lines = [
        vec![format!("GET / -> {}", visit.body)],
        visit.exchange.describe(),
    ]
    .concat();
    ctx.report
        .shot(&mut page, "counter", &caption(&lines, &jar, HOST))?;

    let logged_in = login(ctx, &mut page, &url, &first)?;
    logout(ctx, &mut page, &url, &logged_in, in_cookie)
}

/// `GET /` on a new profile: `count=0` and a cookie with the safe defaults.
fn first_visit(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    url: &str,
    https: bool,
) -> Result<crate::cookies::Cookie> {
    let visit = page.goto(url)?;
    ctx.report.check(
        "the first visit starts the counter",
        visit.body == "count=0",
        &visit.body,
    );
    if https {
        ctx.report.note(format!(
            "HTTPS with the generated certificate was served over {}",
            visit.exchange.protocol.as_deref().unwrap_or("?")
        ));
    }
    let jar = page.cookies()?;
    let cookie = the_cookie(&jar, HOST, SID)?.ok_or("the browser kept no session cookie")?;
    ctx.report.check(
        "the browser kept the cookie as sent: HttpOnly, SameSite=Lax, Secure exactly over HTTPS",
        cookie.http_only && cookie.same_site.as_deref() == Some("Lax") && cookie.secure == https,
        cookie.describe(),
    );
    let expires_in = cookie.expires_in();
    ctx.report.check(
        "it expires with the session, 30 minutes from now",
        !cookie.session && (1_790.0..=1_800.0).contains(&expires_in),
        cookie.describe(),
    );
    let lines = [
        vec![format!("GET / -> {}", visit.body)],
        visit.exchange.describe(),
    ]
    .concat();
    ctx.report
        .shot(page, "first-visit", &caption(&lines, &jar, HOST))?;
    Ok(cookie)
}

/// `/login` regenerates: a new id, and the old cookie (replayed) is not logged in.
fn login(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    url: &dyn Fn(&str) -> String,
    before: &crate::cookies::Cookie,
) -> Result<crate::cookies::Cookie> {
    let visit = page.goto(&url("/login?user=ann"))?;
    ctx.report
        .check("login answers", visit.body == "user=ann", &visit.body);
    let jar = page.cookies()?;
    let after = the_cookie(&jar, HOST, SID)?.ok_or("no session cookie after login")?;
    ctx.report.check(
        "login gave the browser a new session id (regenerate)",
        after.session_id() != before.session_id(),
        format!(
            "{} before, {} after",
            before.session_id(),
            after.session_id()
        ),
    );
    let whoami = page.goto(&url("/whoami"))?;
    ctx.report.check(
        "the new cookie is logged in",
        whoami.body == "user=ann",
        &whoami.body,
    );
    let lines = vec![
        format!("GET /login?user=ann -> {}", visit.body),
        format!("GET /whoami -> {}", whoami.body),
        format!(
            "session id {} -> {}",
            before.session_id(),
            after.session_id()
        ),
    ];
    ctx.report
        .shot(page, "login", &caption(&lines, &jar, HOST))?;

    page.set_cookie(before)?;
    let replayed = page.goto(&url("/whoami"))?;
    ctx.report.check(
        "the pre-login cookie, replayed, is not logged in",
        replayed.body == "user=none",
        &replayed.body,
    );
    let jar = page.cookies()?;
    let lines = vec![
        "the pre-login cookie put back into the jar (a fixation attempt)".to_owned(),
        format!("GET /whoami -> {}", replayed.body),
    ];
    ctx.report
        .shot(page, "old-cookie-replayed", &caption(&lines, &jar, HOST))?;
    page.set_cookie(&after)?;
    Ok(after)
}

/// `/logout` destroys the session and the browser drops the cookie; with a store, a copy of
/// the cookie is worth nothing afterwards.
fn logout(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    url: &dyn Fn(&str) -> String,
    logged_in: &crate::cookies::Cookie,
    in_cookie: bool,
) -> Result {
    let whoami = page.goto(&url("/whoami"))?;
    ctx.report.check(
        "with the login cookie back, the user is back",
        whoami.body == "user=ann",
        &whoami.body,
    );
    let visit = page.goto(&url("/logout"))?;
    let jar = page.cookies()?;
    let left = the_cookie(&jar, HOST, SID)?;
    ctx.report.check(
        "logout cleared the cookie in the browser",
        visit.body == "bye" && left.is_none(),
        format!("{} / {:?}", visit.body, left.map(|c| c.describe())),
    );
    let lines = [
        vec![format!("GET /logout -> {}", visit.body)],
        visit.exchange.set_cookies.clone(),
    ]
    .concat();
    ctx.report
        .shot(page, "logout", &caption(&lines, &jar, HOST))?;

    page.set_cookie(logged_in)?;
    let replayed = page.goto(&url("/whoami"))?;
    if in_cookie {
        ctx.report.note(format!(
            "cookie mode: the logged-in cookie, replayed after logout, answers {} (a copied \
             cookie outlives logout in cookie mode; use a store when logout must hold)",
            replayed.body
        ));
    } else {
        ctx.report.check(
            "the logged-out cookie, replayed, is not logged in",
            replayed.body == "user=none",
            &replayed.body,
        );
    }
    Ok(())
}
