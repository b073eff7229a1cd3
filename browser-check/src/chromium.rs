//! Starting Chromium headless on a profile, and quitting it the way a person closes the
//! browser (so that it writes its cookies to the profile).
//!
//! The DevTools connection is `--remote-debugging-pipe` (Chromium reads commands from fd 3
//! and writes to fd 4): `sh` moves this process's pipes to those descriptors and `exec`s the
//! browser, so no port is opened and no WebSocket client is needed.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::{cdp::Cdp, page::Page, Result};

/// The flags of every start. The background-networking, component-update and sync flags keep
/// the browser from calling out (this machine's network is closed); the resolver rules send
/// every `*.test` name to this machine and fail every other name, so a page can only ever
/// reach the apps under test.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
    "--password-store=basic",
    "--remote-debugging-pipe",
    "--window-size=1000,640",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

/// How long a clean quit may take.
const QUIT_TIMEOUT: Duration = Duration::from_secs(20);

/// How to start the browser.
#[derive(Debug, Clone)]
pub(crate) struct Chromium {
    /// The browser binary.
    pub(crate) binary: PathBuf,
    /// The base64 SHA-256 of the test certificate's public key: Chromium accepts that
    /// certificate (and only that one) although no authority signed it.
    pub(crate) spki: String,
    /// Where each start's output is kept.
    pub(crate) logs: PathBuf,
}

/// A running browser.
pub(crate) struct Browser {
    child: Child,
    cdp: Cdp,
    running: bool,
}

impl Chromium {
    /// Starts the browser on the profile in `profile` (created when missing) and waits until
    /// it answers; its output goes to `chromium-<log_name>.log`.
    pub(crate) fn start(&self, profile: &Path, log_name: &str) -> Result<Browser> {
        std::fs::create_dir_all(profile).map_err(|e| format!("{}: {e}", profile.display()))?;
        let log_path = self.logs.join(format!("chromium-{log_name}.log"));
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >&2"#)
            .arg(&self.binary)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!(
                "--ignore-certificate-errors-spki-list={}",
                self.spki
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let (Some(to_browser), Some(from_browser)) = (child.stdin.take(), child.stdout.take())
        else {
            return Err("the browser's pipes were not set up".into());
        };
        let mut browser = Browser {
            child,
            cdp: Cdp::new(to_browser, from_browser),
            running: true,
        };
        browser
            .cdp
            .call(None, "Browser.getVersion", json!({}))
            .map_err(|e| format!("{e} (see {})", log_path.display()))?;
        Ok(browser)
    }
}

impl Browser {
    /// The browser's product and version, as `Chrome/156.0.…`.
    pub(crate) fn version(&mut self) -> Result<String> {
        let version = self.cdp.call(None, "Browser.getVersion", json!({}))?;
        Ok(version["product"].as_str().unwrap_or("unknown").to_owned())
    }

    /// Opens a new tab and attaches to it.
    pub(crate) fn new_page(&mut self) -> Result<Page<'_>> {
        let target = self
            .cdp
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let session = self.cdp.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        )?;
        let session = session["sessionId"]
            .as_str()
            .ok_or("Target.attachToTarget gave no session")?
            .to_owned();
        Page::attach(&mut self.cdp, session)
    }

    /// The pages the browser has open (restored tabs show up here).
    pub(crate) fn open_pages(&mut self) -> Result<Vec<String>> {
        let targets = self.cdp.call(None, "Target.getTargets", json!({}))?;
        let pages = targets["targetInfos"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(pages
            .iter()
            .filter(|t| t["type"] == "page")
            .filter_map(|t| t["url"].as_str().map(str::to_owned))
            .collect())
    }

    /// Quits as a person closing the window does (`Browser.close`), which writes the cookie
    /// store to the profile, and waits for the process to end. A browser that does not end
    /// in time is killed and the quit is an error.
    pub(crate) fn quit(mut self) -> Result<Duration> {
        let started = Instant::now();
        self.cdp.send("Browser.close")?;
        while started.elapsed() < QUIT_TIMEOUT {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.running = false;
                    return if status.success() {
                        Ok(started.elapsed())
                    } else {
                        Err(format!("the browser quit with {status}"))
                    };
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(format!("waiting for the browser: {e}")),
            }
        }
        Err(format!("the browser did not quit within {QUIT_TIMEOUT:?}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.running {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Writes Chromium's `Preferences` file into a new profile before its first start.
pub(crate) fn write_preferences(profile: &Path, preferences: &Value) -> Result {
    let dir = profile.join("Default");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("Preferences");
    std::fs::write(&path, preferences.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}
