//! Cookie mode near the browser's 4 KB limit: the page grows its session one counter at a
//! time (`fetch('/bump?key=…')`, long keys, then one-letter keys to close in) until the app
//! answers `413`. Every cookie up to there must be stored by the browser and sent back, and
//! the `413` must come with no cookie, so the browser keeps the last good one: no session
//! is ever silently dropped.

use serde_json::Value;

use super::{caption, the_cookie, Ctx};
use crate::{network::Exchange, page::Page, Result};

/// The largest name and value our cookies may have together (`MAX_COOKIE_BYTES` counts the
/// `=` too); Chromium's own limit is 4096.
const OUR_LIMIT: usize = 4092;
/// How close to the limit the largest session must come (the one-letter step is 8 bytes).
const NEAR: usize = 24;

/// Fills the session: 32-character keys until the first `413`, then one-letter keys until
/// the second. Answers `[key, status]` pairs in order.
const FILL: &str = r"(async () => {
  const steps = [];
  const bump = async key => {
    const answer = await fetch('/bump?key=' + key);
    steps.push([key, answer.status]);
    return answer.status;
  };
  for (let i = 0; i < 200; i++) {
    if (await bump('k' + String(i).padStart(31, '0')) !== 200) break;
  }
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') {
    if (await bump(c) !== 200) break;
  }
  return steps;
})()";

/// The sealed cookie (`COOKIE_MODE=encrypted`), over HTTPS.
pub(crate) fn encrypted(ctx: &mut Ctx) -> Result {
    fill(
        ctx,
        "size-encrypted",
        true,
        &[("STORE", "cookie")],
        "connect.sid",
    )
}

/// cookie-session's format (`session` and `session.sig`), over HTTP.
pub(crate) fn cookie_session(ctx: &mut Ctx) -> Result {
    let env = [
        ("STORE", "cookie"),
        ("COOKIE_MODE", "cookie-session"),
        ("COOKIE_NAME", "session"),
    ];
    fill(ctx, "size-cookie-session", false, &env, "session")
}

fn fill(ctx: &mut Ctx, name: &str, https: bool, env: &[(&str, &str)], cookie: &str) -> Result {
    let host = "jar.test";
    let app = ctx.app(name, https, env)?;
    let mut browser = ctx.fresh_browser(name)?;
    let mut page = browser.new_page()?;
    page.goto(&app.url(host, "/"))?;
    let mark = page.mark();
    let steps = parse_steps(&page.eval(FILL)?)?;
    let accepted: Vec<&str> = steps
        .iter()
        .filter(|(_, status)| *status == 200)
        .map(|(key, _)| key.as_str())
        .collect();
    let refused: Vec<&(String, u16)> = steps.iter().filter(|(_, s)| *s != 200).collect();
    ctx.report.check(
        "both rounds ended in 413 Payload Too Large",
        refused.len() == 2 && refused.iter().all(|(_, status)| *status == 413),
        format!("{refused:?}"),
    );
    let (Some(first), Some(last), Some((too_many, _))) =
        (accepted.first(), accepted.last(), refused.last())
    else {
        return Err(format!("the session did not grow: {steps:?}"));
    };

    let mut exchanges = Vec::new();
    for (key, _) in &steps {
        exchanges.push(page.exchange(mark, &app.url(host, &format!("/bump?key={key}")))?);
    }
    let dropped: Vec<&Exchange> = exchanges.iter().filter(|x| !x.refused.is_empty()).collect();
    ctx.report.check(
        "the browser stored every cookie the app sent",
        dropped.is_empty(),
        dropped
            .iter()
            .flat_map(|x| x.describe())
            .collect::<Vec<_>>()
            .join("; "),
    );
    ctx.report.check(
        "every 413 came without a cookie",
        exchanges
            .iter()
            .filter(|x| x.status == Some(413))
            .all(|x| x.set_cookies.is_empty()),
        "a 413 carried Set-Cookie",
    );

    let jar = page.cookies()?;
    let kept = the_cookie(&jar, host, cookie)?.ok_or("no session cookie after filling")?;
    ctx.report.check(
        &format!("the largest session came within {NEAR} bytes of the limit"),
        (OUR_LIMIT - NEAR..=OUR_LIMIT).contains(&kept.size),
        kept.describe(),
    );
    ctx.report.note(format!(
        "the largest {cookie} cookie the app wrote is {} bytes of name and value \
         (ours: at most {OUR_LIMIT}; Chromium: at most 4096); {} counters",
        kept.size,
        accepted.len()
    ));
    read_back(ctx, &mut page, &app, host, first, last)?;
    over_limit(
        ctx,
        &mut page,
        &app.url(host, &format!("/bump?key={too_many}")),
        host,
        &kept,
    )?;
    drop(page);
    browser.quit().map(drop)
}

/// The browser sends the largest cookie back and the app reads the first and last counter.
fn read_back(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    app: &crate::app::App,
    host: &str,
    first: &str,
    last: &str,
) -> Result {
    let oldest = page.goto(&app.url(host, &format!("/peek?key={first}")))?;
    let newest = page.goto(&app.url(host, &format!("/peek?key={last}")))?;
    ctx.report.check(
        "the browser sends the largest cookie back, with every counter in it",
        oldest.body == format!("{first}=1") && newest.body == format!("{last}=1"),
        format!("{} / {}", oldest.body, newest.body),
    );
    let jar = page.cookies()?;
    let lines = vec![
        format!("GET /peek?key={first} -> {}", oldest.body),
        format!("GET /peek?key={last} -> {}", newest.body),
    ];
    ctx.report
        .shot(page, "near-limit", &caption(&lines, &jar, host))
}

/// One counter more, as a page: `413`, and the browser still holds the last good cookie.
fn over_limit(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    url: &str,
    host: &str,
    kept: &crate::cookies::Cookie,
) -> Result {
    let visit = page.goto(url)?;
    let jar = page.cookies()?;
    let still = jar.iter().find(|c| c.name == kept.name && c.domain == host);
    ctx.report.check(
        "over the limit: 413, and the browser keeps the last good cookie",
        visit.exchange.status == Some(413)
            && visit.exchange.set_cookies.is_empty()
            && still.map(|c| &c.value) == Some(&kept.value),
        format!("{:?} {}", visit.exchange.status, visit.body),
    );
    let lines = [
        vec![format!("GET {url} -> {}", visit.body)],
        visit.exchange.describe(),
    ]
    .concat();
    ctx.report
        .shot(page, "over-limit", &caption(&lines, &jar, host))
}

fn parse_steps(value: &Value) -> Result<Vec<(String, u16)>> {
    value
        .as_array()
        .ok_or("the fill script returned no steps")?
        .iter()
        .map(|step| {
            let key = step[0].as_str().ok_or("a step without a key")?;
            let status = step[1].as_u64().and_then(|s| u16::try_from(s).ok());
            Ok((key.to_owned(), status.ok_or("a step without a status")?))
        })
        .collect()
}
