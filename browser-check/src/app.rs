//! The reference app on axum (`target/debug/example-axum`), started with the settings a check
//! needs, over HTTP or (with the test certificate) HTTPS.

use std::{
    fs::File,
    net::{SocketAddr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{tls::Tls, Result};

/// The secret every app of a run signs with (cookie mode needs 32 bytes or more).
const SECRET: &str = "browser-check secret of at least thirty-two bytes";

/// The app's settings (`examples/README.md`): none is inherited from this environment, so
/// each app runs with the defaults and what its check sets.
const SETTINGS: &[&str] = &[
    "HOST",
    "PORT",
    "SECRET",
    "ALLOW_SHORT_SECRET",
    "COOKIE_NAME",
    "MAX_AGE_MS",
    "ROLLING",
    "RESAVE",
    "SAVE_UNINITIALIZED",
    "SECURE",
    "SAME_SITE",
    "PARTITIONED",
    "TRUST_PROXY",
    "UNSET",
    "ABSOLUTE_TIMEOUT_MS",
    "SERIALIZE_REQUESTS",
    "ON_CONFLICT",
    "STORE",
    "COOKIE_MODE",
    "TLS_CERT",
    "TLS_KEY",
];

/// A running app, stopped when dropped.
pub(crate) struct App {
    child: Child,
    port: u16,
    scheme: &'static str,
}

impl App {
    /// Starts `binary` with `env` (over the defaults of `examples/README.md`), serving HTTPS
    /// with `tls` if given; its output goes to `app-<name>.log` in `logs`.
    pub(crate) fn start(
        binary: &Path,
        logs: &Path,
        name: &str,
        tls: Option<&Tls>,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let port = free_port()?;
        let log_path = logs.join(format!("app-{name}.log"));
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut command = Command::new(binary);
        for var in SETTINGS {
            command.env_remove(var);
        }
        command
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("SECRET", SECRET)
            .envs(env.iter().copied())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .stdin(Stdio::null());
        if let Some(tls) = tls {
            command.env("TLS_CERT", &tls.cert).env("TLS_KEY", &tls.key);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let app = Self {
            child,
            port,
            scheme: if tls.is_some() { "https" } else { "http" },
        };
        app.wait_until_listening(&log_path)?;
        Ok(app)
    }

    /// `path` on this app under the name `host` (every `*.test` name is this machine).
    pub(crate) fn url(&self, host: &str, path: &str) -> String {
        format!("{}://{host}:{}{path}", self.scheme, self.port)
    }

    fn wait_until_listening(&self, log: &Path) -> Result {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "the app did not listen on {addr} within 20 s (see {})",
            log.display()
        ))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| e.to_string())
}
