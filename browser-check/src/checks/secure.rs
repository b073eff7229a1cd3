//! `Secure`: the cookie an HTTPS app sets is never sent over plain HTTP to the same host, nor
//! overwritten from there; an app told `SECURE=always` but reached over plain HTTP sends no
//! cookie at all (express-session's rule), so the browser has nothing to drop.
//!
//! The host is a `*.test` name: Chromium treats `localhost` as a secure origin even over
//! plain HTTP (it keeps a `Secure` cookie set by `http://localhost`), so there these rules
//! would not show.

use super::{caption, the_cookie, Ctx, SID};
use crate::{app::App, cookies::Cookie, page::Page, Result};

const HOST: &str = "mixed.test";
const PLAIN: &str = "plain.test";

/// The three `Secure` checks.
pub(crate) fn run(ctx: &mut Ctx) -> Result {
    let https = ctx.app("secure-https", true, &[])?;
    let http = ctx.app("secure-http", false, &[])?;
    let always = ctx.app("secure-always-over-http", false, &[("SECURE", "always")])?;
    let mut browser = ctx.fresh_browser("secure")?;
    let mut page = browser.new_page()?;

    page.goto(&https.url(HOST, "/"))?;
    let jar = page.cookies()?;
    let secure = the_cookie(&jar, HOST, SID)?.ok_or("no cookie over HTTPS")?;
    ctx.report.check(
        "over HTTPS the cookie is Secure",
        secure.secure,
        secure.describe(),
    );
    from_plain_http(ctx, &mut page, &http, &secure)?;
    always_over_plain_http(ctx, &mut page, &always)?;
    drop(page);
    browser.quit().map(drop)
}

/// Plain HTTP to the host of the `Secure` cookie: not sent, not overwritten.
fn from_plain_http(ctx: &mut Ctx, page: &mut Page<'_>, http: &App, secure: &Cookie) -> Result {
    let visit = page.goto(&http.url(HOST, "/health"))?;
    let reasons = visit.exchange.withheld(SID);
    ctx.report.check(
        "the Secure cookie is not sent over plain HTTP to the same host",
        !visit.exchange.sent(SID) && reasons.iter().any(|r| r == "SecureOnly"),
        visit.exchange.describe().join("; "),
    );
    let jar = page.cookies()?;
    let intro = format!("after HTTPS on {HOST}, plain HTTP to the same host (another port):");
    let lines = [vec![intro], visit.exchange.describe()].concat();
    ctx.report
        .shot(page, "not-sent-over-http", &caption(&lines, &jar, HOST))?;

    let visit = page.goto(&http.url(HOST, "/"))?;
    let jar = page.cookies()?;
    let kept = the_cookie(&jar, HOST, SID)?;
    let refused = visit.exchange.refused.iter().any(|(line, reasons)| {
        line.starts_with(SID) && reasons.iter().any(|r| r == "OverwriteSecure")
    });
    ctx.report.check(
        "a plain-HTTP app cannot overwrite the Secure cookie",
        refused && kept.as_ref().map(|c| &c.value) == Some(&secure.value),
        visit.exchange.describe().join("; "),
    );
    let intro = format!("GET / over plain HTTP -> {}", visit.body);
    let lines = [vec![intro], visit.exchange.describe()].concat();
    ctx.report.shot(
        page,
        "not-overwritten-over-http",
        &caption(&lines, &jar, HOST),
    )
}

/// `SECURE=always` behind plain HTTP: the app sends no cookie (express-session's rule).
fn always_over_plain_http(ctx: &mut Ctx, page: &mut Page<'_>, always: &App) -> Result {
    let visit = page.goto(&always.url(PLAIN, "/"))?;
    let jar = page.cookies()?;
    ctx.report.check(
        "SECURE=always over plain HTTP: no Set-Cookie, so nothing for the browser to drop",
        visit.exchange.set_cookies.is_empty() && the_cookie(&jar, PLAIN, SID)?.is_none(),
        visit.exchange.set_cookies.join("; "),
    );
    let intro = format!("SECURE=always, GET / over plain HTTP -> {}", visit.body);
    let lines = [vec![intro], visit.exchange.describe()].concat();
    ctx.report.shot(
        page,
        "secure-always-over-http",
        &caption(&lines, &jar, PLAIN),
    )
}
