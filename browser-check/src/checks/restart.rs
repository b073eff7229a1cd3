//! Quitting and starting the browser again on the same profile: a remembered session
//! (`/remember`, a 30-day cookie) is still there; a browser-session cookie (`MAX_AGE_MS=`
//! empty) is gone — unless the profile says "continue where you left off", which makes
//! Chromium restore session cookies (the full run shows that too).

use std::path::Path;

use serde_json::{json, Value};

use super::{caption, the_cookie, Ctx, SID};
use crate::{app::App, chromium, cookies::Cookie, page::Page, Result};

const REMEMBERED: &str = "remember.test";
const TRANSIENT: &str = "transient.test";
/// Thirty days, in seconds.
const THIRTY_DAYS: f64 = 30.0 * 86_400.0;

/// Remember-me survives a restart; a browser-session cookie does not.
pub(crate) fn remember_me(ctx: &mut Ctx) -> Result {
    let remembered = ctx.app("restart-remember", false, &[])?;
    let transient = ctx.app("restart-browser-session", false, &[("MAX_AGE_MS", "")])?;
    let profile = ctx.fresh_profile("restart")?;
    let mut browser = ctx.start(&profile, "restart-before")?;
    let kept = before_restart(ctx, &mut browser.new_page()?, &remembered, &transient)?;
    let took = browser.quit()?;
    println!("  the browser quit cleanly in {took:.1?}");
    note_restore_setting(ctx, &profile);
    let mut browser = ctx.start(&profile, "restart-after")?;
    after_restart(
        ctx,
        &mut browser.new_page()?,
        &remembered,
        &transient,
        &kept,
    )?;
    browser.quit().map(drop)
}

/// `/remember` on one app, a visit to the browser-session app; the remembered cookie.
fn before_restart(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    remembered: &App,
    transient: &App,
) -> Result<Cookie> {
    page.goto(&remembered.url(REMEMBERED, "/"))?;
    let visit = page.goto(&remembered.url(REMEMBERED, "/remember"))?;
    let jar = page.cookies()?;
    let kept = the_cookie(&jar, REMEMBERED, SID)?.ok_or("no cookie after /remember")?;
    ctx.report.check(
        "/remember made the cookie last 30 days",
        !kept.session && (THIRTY_DAYS - 60.0..=THIRTY_DAYS).contains(&kept.expires_in()),
        kept.describe(),
    );
    let lines = vec![format!("GET /remember -> {}", visit.body)];
    ctx.report
        .shot(page, "remember-me", &caption(&lines, &jar, REMEMBERED))?;

    let visit = page.goto(&transient.url(TRANSIENT, "/"))?;
    let jar = page.cookies()?;
    let session = the_cookie(&jar, TRANSIENT, SID)?.ok_or("no browser-session cookie")?;
    ctx.report.check(
        "with MAX_AGE_MS empty the cookie is a browser-session cookie",
        session.session,
        session.describe(),
    );
    let lines = vec![format!("GET / (MAX_AGE_MS empty) -> {}", visit.body)];
    ctx.report
        .shot(page, "browser-session", &caption(&lines, &jar, TRANSIENT))?;
    Ok(kept)
}

/// The same profile started again: what the jar kept, and what the apps then see.
fn after_restart(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    remembered: &App,
    transient: &App,
    kept: &Cookie,
) -> Result {
    let jar = page.cookies()?;
    let survived = the_cookie(&jar, REMEMBERED, SID)?;
    ctx.report.check(
        "after the restart the remembered cookie is still in the jar",
        survived.as_ref().map(|c| &c.value) == Some(&kept.value),
        format!("{:?}", survived.map(|c| c.describe())),
    );
    ctx.report.check(
        "after the restart the browser-session cookie is gone",
        the_cookie(&jar, TRANSIENT, SID)?.is_none(),
        "still there",
    );
    let visit = page.goto(&remembered.url(REMEMBERED, "/"))?;
    ctx.report.check(
        "the remembered session goes on",
        visit.body == "count=1",
        &visit.body,
    );
    let lines = vec![format!("after a restart: GET / -> {}", visit.body)];
    ctx.report.shot(
        page,
        "remembered-after-restart",
        &caption(&lines, &jar, REMEMBERED),
    )?;
    let visit = page.goto(&transient.url(TRANSIENT, "/"))?;
    ctx.report.check(
        "the browser session started over",
        visit.body == "count=0",
        &visit.body,
    );
    let jar = page.cookies()?;
    let lines = vec![format!("after a restart: GET / -> {}", visit.body)];
    ctx.report.shot(
        page,
        "browser-session-gone",
        &caption(&lines, &jar, TRANSIENT),
    )
}

/// With "continue where you left off" (`session.restore_on_startup` = 1), what Chromium does
/// with a browser-session cookie across a restart: its rule, reported as seen.
pub(crate) fn continue_where_left_off(ctx: &mut Ctx) -> Result {
    let transient = ctx.app("restore-browser-session", false, &[("MAX_AGE_MS", "")])?;
    let profile = ctx.fresh_profile("restore")?;
    chromium::write_preferences(&profile, &json!({ "session": { "restore_on_startup": 1 } }))?;
    let mut browser = ctx.start(&profile, "restore-before")?;
    let mut page = browser.new_page()?;
    page.goto(&transient.url(TRANSIENT, "/"))?;
    drop(page);
    browser.quit()?;

    let mut browser = ctx.start(&profile, "restore-after")?;
    let reopened = browser.open_pages()?;
    let mut page = browser.new_page()?;
    let jar = page.cookies()?;
    let restored = the_cookie(&jar, TRANSIENT, SID)?.is_some();
    let visit = page.goto(&transient.url(TRANSIENT, "/peek"))?;
    ctx.report.note(format!(
        "\"continue where you left off\": Chromium {} the browser-session cookie across a \
         restart (tabs reopened: {}; GET /peek -> {})",
        if restored { "restored" } else { "dropped" },
        reopened.join(", "),
        visit.body
    ));
    ctx.report.check(
        "the app follows the browser: a restored cookie continues its session",
        restored == (visit.body != "count=none"),
        &visit.body,
    );
    let lines = vec![
        "profile set to \"continue where you left off\", browser restarted".to_owned(),
        format!("GET /peek -> {}", visit.body),
    ];
    ctx.report.shot(
        &mut page,
        "restored-session-cookie",
        &caption(&lines, &jar, TRANSIENT),
    )?;
    drop(page);
    browser.quit().map(drop)
}

/// Notes what the default profile says about restoring the last session.
fn note_restore_setting(ctx: &mut Ctx, profile: &Path) {
    let preferences = std::fs::read_to_string(profile.join("Default").join("Preferences"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let setting = preferences
        .as_ref()
        .and_then(|p| p["session"]["restore_on_startup"].as_i64());
    ctx.report.note(format!(
        "a new profile's session.restore_on_startup is {} (not 1, \"continue where you left off\"), \
         so Chromium drops browser-session cookies when it quits",
        setting.map_or("unset, i.e. the default new-tab page".to_owned(), |v| v.to_string())
    ));
}
