//! `browser-check`: the axum reference app in a real browser. `cargo xtask browser` finds or
//! installs Debian's Chromium, builds the app and this crate, and runs
//!
//! ```text
//! browser-check --chromium PATH --app target/debug/example-axum --out target/browser [--full]
//! ```
//!
//! which drives headless Chromium over the DevTools protocol (`cdp.rs`, `chromium.rs`,
//! `page.rs`) against the app over HTTP and over HTTPS with a certificate made for the run
//! (`tls.rs`), checks what the browser stored, sent and refused (`cookies.rs`, `network.rs`,
//! `checks/`), and writes a captioned screenshot of each step to `--out`. Without `--full`
//! it runs the short list `cargo xtask ci` uses. It exits non-zero when a check failed.
//!
//! It is its own crate so that xtask keeps no dependencies: this one needs JSON, base64 and a
//! certificate generator (rcgen, on the ring that rustls already builds), and no async
//! runtime or WebSocket client (the DevTools connection is a pipe).

mod app;
mod cdp;
mod checks;
mod chromium;
mod cookies;
mod network;
mod page;
mod report;
mod tls;

use std::{path::PathBuf, process::ExitCode, time::Instant};

/// What a step returns: `Err` holds a one-line reason.
type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: browser-check --chromium PATH --app PATH --out DIR [--full]";

/// The command line.
struct Args {
    chromium: PathBuf,
    app: PathBuf,
    out: PathBuf,
    full: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("browser-check: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the checks; `Ok(false)` when one failed.
fn run() -> Result<bool> {
    let started = Instant::now();
    let args = parse_args(std::env::args().skip(1))?;
    prepare(&args.out)?;
    let logs = args.out.join("logs");
    let tls = tls::Tls::generate(&args.out.join("tls"))?;
    let mut ctx = checks::Ctx {
        chromium: chromium::Chromium {
            binary: args.chromium,
            spki: tls.spki_sha256.clone(),
            logs,
        },
        app_binary: args.app,
        out: args.out.clone(),
        tls,
        report: report::Report::new(&args.out),
    };
    checks::run(&mut ctx, args.full);
    println!("{}", ctx.report.summary());
    println!(
        "browser-check: {} run in {:.1?}",
        if args.full { "full" } else { "short" },
        started.elapsed()
    );
    Ok(ctx.report.failures().is_empty())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args> {
    let (mut chromium, mut app, mut out, mut full) = (None, None, None, false);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--chromium" => chromium = args.next().map(PathBuf::from),
            "--app" => app = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            "--full" => full = true,
            _ => return Err(USAGE.to_owned()),
        }
    }
    match (chromium, app, out) {
        (Some(chromium), Some(app), Some(out)) => Ok(Args {
            chromium,
            app,
            out,
            full,
        }),
        _ => Err(USAGE.to_owned()),
    }
}

/// Empties the output directory of the last run's screenshots, profiles and logs.
fn prepare(out: &std::path::Path) -> Result {
    for dir in ["profiles", "logs", "tls"] {
        let path = out.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    std::fs::create_dir_all(out.join("logs")).map_err(|e| format!("{}: {e}", out.display()))?;
    let entries = std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "png") {
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}
