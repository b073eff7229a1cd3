//! `Partitioned` (CHIPS), with `SameSite=None; Secure`: the cookie set on a first-hand visit
//! lives in the app's own partition and is not sent when another site embeds the app; what
//! the app sets while embedded lives in the embedding site's partition and is sent back only
//! there. Chromium keeps this working under its default third-party cookie blocking, which is
//! the point of the attribute.

use super::{caption, the_cookie, Ctx, SID};
use crate::{app::App, cookies, page::Page, Result};

const SITE: &str = "chips.test";
const EMBED: &str = "embed.test";

/// The partition checks.
pub(crate) fn run(ctx: &mut Ctx) -> Result {
    let env = [
        ("SAME_SITE", "none"),
        ("SECURE", "always"),
        ("PARTITIONED", "true"),
    ];
    let app = ctx.app("partitioned", true, &env)?;
    let mut browser = ctx.fresh_browser("partitioned")?;
    let mut page = browser.new_page()?;
    let own_partition = format!("https://{SITE}");

    let visit = page.goto(&app.url(SITE, "/"))?;
    let jar = page.cookies()?;
    let first = the_cookie(&jar, SITE, SID)?.ok_or("no cookie on the first visit")?;
    ctx.report.check(
        "the browser kept the cookie Partitioned, in the app's own partition",
        first.partition.as_deref() == Some(own_partition.as_str()) && first.secure,
        first.describe(),
    );
    let lines = vec![format!("GET / -> {}", visit.body)];
    ctx.report
        .shot(&mut page, "first-hand", &caption(&lines, &jar, SITE))?;

    embedded(ctx, &mut page, &app)?;

    let visit = page.goto(&app.url(SITE, "/"))?;
    ctx.report.check(
        "first-hand again, the app's own session goes on untouched",
        visit.body == "count=1",
        &visit.body,
    );
    let jar = page.cookies()?;
    let lines = vec![format!("GET / first-hand -> {}", visit.body)];
    ctx.report
        .shot(&mut page, "first-hand-again", &caption(&lines, &jar, SITE))?;
    drop(page);
    browser.quit().map(drop)
}

/// The app as an image on another site, twice: the second request carries what the first
/// set, from the embedding site's partition, and nothing from the app's own.
fn embedded(ctx: &mut Ctx, page: &mut Page<'_>, app: &App) -> Result {
    let embed_partition = format!("https://{EMBED}");
    page.goto(&app.url(EMBED, "/health"))?;
    let first = page.load_image(&app.url(SITE, "/"))?;
    let jar = page.cookies()?;
    let partitions: Vec<Option<String>> = cookies::named(&jar, SITE, SID)
        .iter()
        .map(|c| c.partition.clone())
        .collect();
    ctx.report.check(
        "embedded in another site, the first-hand cookie is not sent",
        !first.sent(SID),
        first.describe().join("; "),
    );
    ctx.report.check(
        "the cookie set while embedded went into the embedding site's partition",
        first.refused.is_empty()
            && partitions.len() == 2
            && partitions.contains(&Some(embed_partition.clone())),
        format!("{partitions:?}"),
    );
    let again = page.load_image(&app.url(SITE, "/?again"))?;
    let sent_partition = again
        .sent
        .iter()
        .find(|(name, _)| name == SID)
        .and_then(|(_, partition)| partition.clone());
    ctx.report.check(
        "embedded again, only the embedded partition's cookie is sent",
        again.sent.len() == 1 && sent_partition.as_deref() == Some(embed_partition.as_str()),
        again.describe().join("; "),
    );
    let lines = [
        vec![format!(
            "the page is on {EMBED} and shows two images from {SITE}"
        )],
        first.describe(),
        again.describe(),
    ]
    .concat();
    ctx.report
        .shot(page, "embedded", &caption(&lines, &jar, SITE))?;
    Ok(())
}
