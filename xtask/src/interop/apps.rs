//! The servers of the live interop tests, whatever the store: Node's tools, the Express app
//! and the Rust examples, started on one backend with one cookie name and one secret.

use std::{
    fs::File,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Mutex, PoisonError},
    time::Duration,
};

use crate::{
    smoke::{free_loopback_addr, target_dir, wait_until_listening, KillOnDrop},
    Result,
};

/// The secret every app starts with.
pub(super) const OLD: &str = "interop secret (old) of at least thirty-two bytes";
/// The secret that rotated apps put before [`OLD`].
pub(super) const NEW: &str = "interop secret (new) of at least thirty-two bytes";
/// The session cookie's name on both sides.
pub(super) const COOKIE: &str = "interop.sid";
/// How long the Rust app started with an absolute timeout keeps a session.
pub(super) const ABSOLUTE_TIMEOUT: Duration = Duration::from_millis(2_000);

/// Whether `node` and `npm` are installed.
pub(crate) fn node_available() -> Result {
    for tool in ["node", "npm"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Err(format!("`{tool}` is not installed"));
        }
    }
    Ok(())
}

/// `npm ci` in `app_dir`, once per run: `cargo xtask ci` runs the connect-redis and the
/// cookie-session interop tests from the same directory, and `npm ci` reinstalls
/// `node_modules` from scratch every time.
pub(crate) fn npm_ci(app_dir: &Path) -> Result {
    static INSTALLED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if installed.iter().any(|dir| dir == app_dir) {
        return Ok(());
    }
    println!("\n$ npm ci   (in {})", app_dir.display());
    let status = Command::new("npm")
        .args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(app_dir)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`npm ci` in {} failed ({status})",
            app_dir.display()
        ));
    }
    installed.push(app_dir.to_owned());
    Ok(())
}

/// One server of the test: an address and the process behind it.
pub(super) struct App {
    pub(super) name: String,
    pub(super) addr: SocketAddr,
    _process: KillOnDrop,
}

/// Where the apps of one run keep their sessions: the `STORE` variables every app gets,
/// the Express app's directory, and a way to look at the stored rows.
pub(crate) struct Backend<'a> {
    /// `STORE` and the variables that point at the store (`REDIS_URL`, `DATABASE_URL`, ...).
    pub(crate) env: Vec<(&'static str, String)>,
    /// What one example adds to `env` (by its name).
    pub(crate) example_env: fn(&str) -> Vec<(&'static str, String)>,
    /// The Express app (`interop/express`, `interop/express-pg`).
    pub(crate) app_dir: PathBuf,
    /// The stored sessions, by id.
    pub(crate) rows: &'a mut dyn Rows,
}

/// What the checks look at in the store: the stored session JSON of a session id.
pub(crate) trait Rows {
    /// The stored session JSON of `id`, if it is live.
    fn get(&mut self, id: &str) -> Result<Option<String>>;

    /// Whether `id` is stored and live.
    fn exists(&mut self, id: &str) -> Result<bool> {
        self.get(id).map(|json| json.is_some())
    }
}

/// Starts an app with the shared session settings, the backend's variables and `secret`.
fn start(
    name: &str,
    mut command: Command,
    env: &[(&'static str, String)],
    secret: &str,
) -> Result<App> {
    let addr = free_loopback_addr()?;
    let log_dir = target_dir().join("interop-logs");
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let log_path = log_dir.join(format!("{name}.log"));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let child = command
        .env("HOST", "127.0.0.1")
        .env("PORT", addr.port().to_string())
        .env("SECRET", secret)
        .env("COOKIE_NAME", COOKIE)
        .env("MAX_AGE_MS", "1800000")
        .env("ROLLING", "false")
        .env("RESAVE", "false")
        .env("SAVE_UNINITIALIZED", "true")
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let process = KillOnDrop(child);
    wait_until_listening(addr, name).map_err(|e| format!("{e} (log: {})", log_path.display()))?;
    Ok(App {
        name: name.to_owned(),
        addr,
        _process: process,
    })
}

/// The Express app of `backend`, named `name`.
pub(super) fn express(backend: &Backend<'_>, name: &str, secret: &str) -> Result<App> {
    let mut command = Command::new("node");
    command.arg("app.js").current_dir(&backend.app_dir);
    start(name, command, &backend.env, secret)
}

/// The built `example`, named `name`.
pub(super) fn rust(backend: &Backend<'_>, example: &str, name: &str, secret: &str) -> Result<App> {
    start(
        name,
        Command::new(rust_binary(example)),
        &backend.env,
        secret,
    )
}

/// The example with an absolute timeout of [`ABSOLUTE_TIMEOUT`].
pub(super) fn rust_with_absolute_timeout(backend: &Backend<'_>, example: &str) -> Result<App> {
    let mut command = Command::new(rust_binary(example));
    command.env(
        "ABSOLUTE_TIMEOUT_MS",
        ABSOLUTE_TIMEOUT.as_millis().to_string(),
    );
    start(&format!("{example}-absolute"), command, &backend.env, OLD)
}

fn rust_binary(example: &str) -> PathBuf {
    target_dir().join("debug").join(example)
}
