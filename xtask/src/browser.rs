//! `cargo xtask browser`: the axum reference app in a real browser. Finds Debian's Chromium
//! (installing it with `apt-get` when it is missing), builds the app and `browser-check`, and
//! runs the checks: over HTTP and over HTTPS (a certificate made for the run), the first visit
//! and the counter, login with `regenerate()`, logout, remember-me across a browser restart
//! and a browser-session cookie that does not survive one, `Secure`, `SameSite` and
//! `Partitioned` as Chromium applies them, and a cookie-mode session at the 4 KB limit. A
//! captioned screenshot of each step goes to `target/browser/`; the crate's docs
//! (`browser-check/src/main.rs`) say how it drives the browser.
//!
//! `cargo xtask ci` runs the short list (`cargo xtask browser --short` runs it alone). Without Chromium and without a way to install it the
//! checks are skipped with a notice, except under `CI=true`, where that is a failure.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use crate::{ci::cargo, cmd, smoke::target_dir, Result};

/// Where Debian puts the browser itself (`/usr/bin/chromium` is a shell wrapper that adds
/// flags from `/etc/chromium.d`, such as extension loading, that a test does not want).
const DEBIAN_CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// `cargo xtask browser [--short]`: every check, or only those `ci` runs.
pub(crate) fn run_alone(args: &[String]) -> Result {
    match args {
        [] => run(true),
        [short] if short == "--short" => run(false),
        _ => Err("usage: cargo xtask browser [--short]".to_owned()),
    }
}

/// The short pass of `cargo xtask ci`.
pub(crate) fn run_ci() -> Result {
    run(false)
}

fn run(full: bool) -> Result {
    let Some(chromium) = find_or_install()? else {
        return Ok(());
    };
    cmd::run(
        &cargo(),
        &[
            "build",
            "--bins",
            "-p",
            "example-axum",
            "-p",
            "browser-check",
        ],
        &[],
    )?;
    let bin = target_dir().join("debug");
    let (checker, app, out) = (
        bin.join("browser-check"),
        bin.join("example-axum"),
        target_dir().join("browser"),
    );
    let mut args = vec![
        "--chromium".to_owned(),
        display(&chromium),
        "--app".to_owned(),
        display(&app),
        "--out".to_owned(),
        display(&out),
    ];
    if full {
        args.push("--full".to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cmd::run(&display(&checker), &args, &[])
}

/// The browser: `CHROMIUM` if set, else Debian's, else `chromium` on the `PATH`; installed
/// from Debian's packages when none is found. `None` when skipped.
fn find_or_install() -> Result<Option<PathBuf>> {
    if let Some(found) = find() {
        return Ok(Some(found));
    }
    match install() {
        Ok(()) => find()
            .map(Some)
            .ok_or_else(|| "chromium was installed but is not where Debian puts it".to_owned()),
        Err(reason) if crate::strict() => Err(format!(
            "the browser checks need Chromium under CI=true: {reason}"
        )),
        Err(reason) => {
            println!("\nbrowser: skipped, no Chromium ({reason}; `apt-get install chromium`)");
            Ok(None)
        }
    }
}

fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let debian = PathBuf::from(DEBIAN_CHROMIUM);
    if debian.is_file() {
        return Some(debian);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("chromium"))
        .find(|path| path.is_file())
}

/// `apt-get install chromium` (without the recommended `chromium-sandbox`: the checks run
/// with `--no-sandbox`, and `chromium-driver` is not needed, they speak DevTools directly).
/// When the package lists are stale, updates them and tries once more.
fn install() -> Result {
    let started = Instant::now();
    println!("\nbrowser: installing Debian's chromium with apt-get");
    let install = ["install", "-y", "--no-install-recommends", "chromium"];
    if apt_get(&install).is_err() {
        apt_get(&["update"])?;
        apt_get(&install)?;
    }
    println!("browser: chromium installed in {:.0?}", started.elapsed());
    Ok(())
}

fn apt_get(args: &[&str]) -> Result {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
