//! The checks, one file per subject, and what they share: the run's context (where the
//! browser, the app and the certificate are) and the list of what the short and full runs
//! do.

mod basics;
mod partitioned;
mod restart;
mod same_site;
mod secure;
mod size;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use crate::{
    app::App,
    chromium::{Browser, Chromium},
    cookies::{self, Cookie},
    report::Report,
    tls::Tls,
    Result,
};

/// The session cookie's name in the app's default configuration.
pub(crate) const SID: &str = "connect.sid";

/// Everything a check needs.
pub(crate) struct Ctx {
    pub(crate) chromium: Chromium,
    /// `target/debug/example-axum`.
    pub(crate) app_binary: PathBuf,
    /// `target/browser`.
    pub(crate) out: PathBuf,
    pub(crate) tls: Tls,
    pub(crate) report: Report,
}

/// One subject's checks.
type Check = fn(&mut Ctx) -> Result;

/// What `cargo xtask ci` runs (and `cargo xtask browser` too).
const SHORT: &[(&str, Check)] = &[
    ("http", basics::over_http),
    ("https", basics::over_https),
    ("restart", restart::remember_me),
    ("secure", secure::run),
    ("lax", same_site::lax),
    ("partitioned", partitioned::run),
    ("size-encrypted", size::encrypted),
];

/// What only `cargo xtask browser` adds.
const FULL: &[(&str, Check)] = &[
    ("cookie-mode", basics::cookie_mode),
    ("strict", same_site::strict),
    ("none", same_site::none),
    ("restore", restart::continue_where_left_off),
    ("size-cookie-session", size::cookie_session),
];

/// Runs the short list, and the full one too if `full`; a check that cannot go on is a
/// failure of its subject, and the next subject still runs.
pub(crate) fn run(ctx: &mut Ctx, full: bool) {
    let extra = if full { FULL } else { &[] };
    for (name, check) in SHORT.iter().chain(extra) {
        ctx.report.begin(name);
        let started = Instant::now();
        if let Err(error) = check(ctx) {
            ctx.report.abort(&error);
        }
        println!("  ({name}: {:.1?})", started.elapsed());
    }
}

impl Ctx {
    /// Starts the app with `env`, over HTTPS if `https`.
    pub(crate) fn app(&self, name: &str, https: bool, env: &[(&str, &str)]) -> Result<App> {
        let tls = https.then_some(&self.tls);
        App::start(&self.app_binary, &self.chromium.logs, name, tls, env)
    }

    /// An empty profile called `name` (under `target/browser/profiles`).
    pub(crate) fn fresh_profile(&self, name: &str) -> Result<PathBuf> {
        let profile = self.out.join("profiles").join(name);
        if profile.exists() {
            std::fs::remove_dir_all(&profile).map_err(|e| format!("{}: {e}", profile.display()))?;
        }
        Ok(profile)
    }

    /// Starts the browser on `profile`; `log` names its log file.
    pub(crate) fn start(&self, profile: &Path, log: &str) -> Result<Browser> {
        self.chromium.start(profile, log)
    }

    /// Starts the browser on a new, empty profile called `name`.
    pub(crate) fn fresh_browser(&self, name: &str) -> Result<Browser> {
        let profile = self.fresh_profile(name)?;
        self.start(&profile, name)
    }
}

/// The one cookie named `name` for `host` in `jar` (an error if there are several).
pub(crate) fn the_cookie(jar: &[Cookie], host: &str, name: &str) -> Result<Option<Cookie>> {
    match cookies::named(jar, host, name).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        many => Err(format!("{} cookies named {name} for {host}", many.len())),
    }
}

/// A caption: the step's lines, then the jar's cookies for `host`.
pub(crate) fn caption(lines: &[String], jar: &[Cookie], host: &str) -> Vec<String> {
    let mut caption = lines.to_vec();
    caption.extend(cookies::describe_jar(jar, host));
    caption
}
