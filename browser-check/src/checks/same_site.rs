//! `SameSite`, judged by the browser between two sites on this machine: the app's host and
//! `embed.test`, a page on another site that embeds an image from the app, links to it and
//! posts a form to it. (`a.test` and `b.test` are different sites, as `127.0.0.1` and
//! `localhost` are; `*.test` names keep the loopback exceptions out of the way.)
//!
//! Covered: a cross-site subresource, a cross-site top-level `GET` (a link) and `POST` (a
//! form), and a same-site navigation. Not covered: cross-site iframes and redirects, and
//! the two-minute "Lax-allowing-unsafe" grace Chromium gives cookies without a `SameSite`
//! attribute (the app always sends one).

use serde_json::json;

use super::{caption, the_cookie, Ctx, SID};
use crate::{app::App, chromium, page::Page, Result};

const EMBED: &str = "embed.test";

/// `SameSite=Lax` (the default): no cookie on a cross-site image or form post, the cookie on
/// a cross-site link.
pub(crate) fn lax(ctx: &mut Ctx) -> Result {
    let site = "lax.test";
    let app = ctx.app("same-site-lax", true, &[])?;
    let mut browser = ctx.fresh_browser("lax")?;
    let mut page = browser.new_page()?;
    set_cookie(ctx, &mut page, &app, site, "Lax")?;

    page.goto(&app.url(EMBED, "/health"))?;
    let image = page.load_image(&app.url(site, "/health"))?;
    ctx.report.check(
        "Lax: not sent with a cross-site image",
        !image.sent(SID) && same_site_reason(&image.withheld(SID)),
        image.describe().join("; "),
    );
    shot(ctx, &mut page, "cross-site-image", &image.describe(), site)?;

    let post = page.post_form(&app.url(site, "/peek"))?;
    ctx.report.check(
        "Lax: not sent with a cross-site form POST",
        !post.exchange.sent(SID) && same_site_reason(&post.exchange.withheld(SID)),
        post.exchange.describe().join("; "),
    );
    shot(
        ctx,
        &mut page,
        "cross-site-post",
        &post.exchange.describe(),
        site,
    )?;

    page.goto(&app.url(EMBED, "/health"))?;
    let link = page.click_link(&app.url(site, "/peek"))?;
    ctx.report.check(
        "Lax: sent when a link on another site is followed (top-level GET)",
        link.exchange.sent(SID) && link.body == "count=0",
        format!("{}; {}", link.body, link.exchange.describe().join("; ")),
    );
    let lines = [
        vec![format!("GET /peek -> {}", link.body)],
        link.exchange.describe(),
    ]
    .concat();
    shot(ctx, &mut page, "cross-site-link", &lines, site)?;
    drop(page);
    browser.quit().map(drop)
}

/// `SameSite=Strict`: not even a cross-site link carries the cookie; a typed URL does.
pub(crate) fn strict(ctx: &mut Ctx) -> Result {
    let site = "strict.test";
    let app = ctx.app("same-site-strict", true, &[("SAME_SITE", "strict")])?;
    let mut browser = ctx.fresh_browser("strict")?;
    let mut page = browser.new_page()?;
    set_cookie(ctx, &mut page, &app, site, "Strict")?;

    page.goto(&app.url(EMBED, "/health"))?;
    let image = page.load_image(&app.url(site, "/health"))?;
    ctx.report.check(
        "Strict: not sent with a cross-site image",
        !image.sent(SID) && same_site_reason(&image.withheld(SID)),
        image.describe().join("; "),
    );
    let link = page.click_link(&app.url(site, "/health"))?;
    ctx.report.check(
        "Strict: not sent when a link on another site is followed",
        !link.exchange.sent(SID) && same_site_reason(&link.exchange.withheld(SID)),
        link.exchange.describe().join("; "),
    );
    shot(
        ctx,
        &mut page,
        "cross-site-link",
        &link.exchange.describe(),
        site,
    )?;
    let typed = page.goto(&app.url(site, "/peek"))?;
    ctx.report.check(
        "Strict: sent on a navigation the user started (typed URL)",
        typed.exchange.sent(SID) && typed.body == "count=0",
        &typed.body,
    );
    drop(page);
    browser.quit().map(drop)
}

/// `SameSite=None; Secure`: sent with a cross-site image when the profile allows
/// third-party cookies; under Chromium's default third-party blocking it is held back for
/// that reason (not for `SameSite`).
pub(crate) fn none(ctx: &mut Ctx) -> Result {
    let site = "none.test";
    let env = [("SAME_SITE", "none"), ("SECURE", "always")];
    let app = ctx.app("same-site-none", true, &env)?;
    for allow_third_party in [false, true] {
        let name = if allow_third_party {
            "none-3p-allowed"
        } else {
            "none"
        };
        let profile = ctx.fresh_profile(name)?;
        if allow_third_party {
            let allow = json!({ "profile": { "cookie_controls_mode": 0 } });
            chromium::write_preferences(&profile, &allow)?;
        }
        let mut browser = ctx.start(&profile, name)?;
        let mut page = browser.new_page()?;
        set_cookie(ctx, &mut page, &app, site, "None")?;
        page.goto(&app.url(EMBED, "/health"))?;
        let image = page.load_image(&app.url(site, "/health"))?;
        if allow_third_party {
            ctx.report.check(
                "None: sent with a cross-site image when third-party cookies are allowed",
                image.sent(SID),
                image.describe().join("; "),
            );
        } else {
            let reasons = image.withheld(SID);
            ctx.report.note(format!(
                "None: with the default profile a cross-site image went {} ({})",
                if image.sent(SID) {
                    "with the cookie"
                } else {
                    "without the cookie"
                },
                reasons.join(", ")
            ));
            ctx.report.check(
                "None: never held back for SameSite",
                !same_site_reason(&reasons),
                reasons.join(", "),
            );
        }
        shot(
            ctx,
            &mut page,
            &format!("{name}-cross-site-image"),
            &image.describe(),
            site,
        )?;
        drop(page);
        browser.quit()?;
    }
    Ok(())
}

/// Visits `site` first-hand and checks that the cookie carries `SameSite=<same_site>`.
fn set_cookie(
    ctx: &mut Ctx,
    page: &mut Page<'_>,
    app: &App,
    site: &str,
    same_site: &str,
) -> Result {
    let visit = page.goto(&app.url(site, "/"))?;
    let jar = page.cookies()?;
    let cookie = the_cookie(&jar, site, SID)?.ok_or("no cookie on the first visit")?;
    ctx.report.check(
        &format!("the browser kept the cookie with SameSite={same_site}"),
        visit.body == "count=0" && cookie.same_site.as_deref() == Some(same_site),
        cookie.describe(),
    );
    Ok(())
}

/// Whether the browser named a `SameSite` rule among `reasons`.
fn same_site_reason(reasons: &[String]) -> bool {
    reasons.iter().any(|r| r.contains("SameSite"))
}

fn shot(ctx: &mut Ctx, page: &mut Page<'_>, step: &str, lines: &[String], site: &str) -> Result {
    let jar = page.cookies()?;
    let mut lines = lines.to_vec();
    lines.insert(
        0,
        format!("started from a page on {EMBED}; the app is on {site}"),
    );
    ctx.report.shot(page, step, &caption(&lines, &jar, site))
}
